//! `alternator recommend`: top-N items for one user, for all users or a list of users
//! (Spark's recommendForAllUsers / recommendForUserSubset), or for a new user who names a few
//! liked items (fold-in).
//!
//! Batch mode (`--all-users`, `--users FILE`) writes CSV `user,rank,item,score[,title]` (or JSON
//! lines with `--json`) to `--out` or stdout. Unknown ids in `--users FILE` are reported on
//! stderr and skipped; the command fails (exit 2) only when none of the ids is known.

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::Model;
use alternator::data::{Column, Delimiter, detect_delimiter, split_fields};
use alternator::meta::{MetaOptions, Metadata, read_metadata};
use alternator::recommend::{self, IndexSet, RecommendOptions, Recommendations, read_id_list};
use anyhow::Context;
use clap::ValueEnum;
use serde_json::json;

use crate::common::{self, usage};

/// Flags of `alternator recommend`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`)
    #[arg(long)]
    pub model: PathBuf,
    /// Recommend for this user id
    #[arg(long)]
    pub user: Option<String>,
    /// Recommend for every user of the model (Spark's recommendForAllUsers)
    #[arg(long)]
    pub all_users: bool,
    /// Recommend for the user ids in FILE, one per line (recommendForUserSubset)
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// A new user's liked items: ID or ID:value, comma separated (repeatable)
    #[arg(long, value_name = "ID[:V],...")]
    pub liked: Vec<String>,
    /// A new user's liked items from FILE: one `ID` or `ID,value` per line
    #[arg(long, value_name = "FILE")]
    pub liked_file: Option<PathBuf>,
    /// A liked item by title, fuzzy-matched in --items-meta (repeatable)
    #[arg(long, value_name = "TITLE")]
    pub liked_title: Vec<String>,
    /// With --liked-title, use every matching title, not only the best
    #[arg(long)]
    pub all_matches: bool,
    /// Number of recommendations
    #[arg(short = 'n', long = "num", default_value_t = 10)]
    pub n: usize,
    /// Keep the user's training items in the ranking
    #[arg(long)]
    pub include_seen: bool,
    /// Never recommend the item ids in FILE (one per line, or the first column)
    #[arg(long, value_name = "FILE")]
    pub filter_items: Option<PathBuf>,
    /// Rank only the item ids in FILE (one per line, or the first column)
    #[arg(long, value_name = "FILE")]
    pub candidates: Option<PathBuf>,
    #[command(flatten)]
    pub meta: MetaArgs,
    /// When the user is unknown, recommend the most popular items instead of failing
    #[arg(long, value_enum)]
    pub fallback: Option<Fallback>,
    /// Print JSON (one document; JSON lines in batch mode)
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header
    #[arg(long)]
    pub csv: bool,
    /// Write to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Worker threads [default: one per core]
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Item metadata flags shared by `recommend`, `recommend-users` and `similar`.
#[derive(Debug, Clone, clap::Args)]
pub struct MetaArgs {
    /// Item metadata for titles and genres: MovieLens u.item, movies.csv, or any CSV/TSV
    #[arg(long, value_name = "FILE")]
    pub items_meta: Option<PathBuf>,
    /// Id column of --items-meta: name or 0-based position
    #[arg(long, value_name = "C")]
    pub meta_id_col: Option<String>,
    /// Title column of --items-meta: name or 0-based position
    #[arg(long, value_name = "C")]
    pub meta_title_col: Option<String>,
}

impl MetaArgs {
    /// Reads the metadata when `--items-meta` is given, reporting skipped lines.
    pub fn load(&self) -> anyhow::Result<Option<Metadata>> {
        let Some(path) = &self.items_meta else {
            if self.meta_id_col.is_some() || self.meta_title_col.is_some() {
                return usage("--meta-id-col / --meta-title-col need --items-meta FILE");
            }
            return Ok(None);
        };
        let opts = MetaOptions {
            id_col: self.meta_id_col.as_deref().map(Column::parse),
            title_col: self.meta_title_col.as_deref().map(Column::parse),
        };
        let m = read_metadata(path, &opts)?;
        if m.skipped > 0 {
            eprintln!("{}: skipped {} malformed metadata line(s)", path.display(), m.skipped);
        }
        Ok(Some(m))
    }
}

/// `--fallback` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Fallback {
    /// Items ranked by number of training interactions
    Popular,
}

/// Loads a model file, checking it is internally consistent.
pub fn load_model(path: &Path) -> anyhow::Result<Model> {
    let m = alternator::modelfile::load(path)?;
    recommend::check_model(&m)?;
    Ok(m)
}

/// An f32 as a JSON number with its shortest decimal (`0.1`, not `0.10000000149011612`);
/// `null` when not finite.
pub fn num(v: f32) -> serde_json::Value {
    if v.is_finite() {
        v.to_string().parse::<f64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::Null)
    } else {
        serde_json::Value::Null
    }
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Opens `--out` (buffered) or stdout.
pub fn output(out: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match out {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// Reads an id file and maps its ids to indices of `ids`, warning about unknown ones.
pub fn id_set(path: &Path, ids: &alternator::IdMap, what: &str) -> anyhow::Result<IndexSet> {
    let list = read_id_list(path)?;
    let mut unknown = Vec::new();
    let idx: Vec<u32> = list
        .iter()
        .filter_map(|s| {
            let i = ids.get(s);
            if i.is_none() {
                unknown.push(s.as_str());
            }
            i
        })
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "{}: {} {what} id(s) not in the model were ignored (first: {})",
            path.display(),
            unknown.len(),
            unknown.iter().take(5).copied().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(IndexSet::from_indices(ids.len(), idx))
}

/// Title and genres of an item, empty when unknown.
fn title_of<'a>(meta: Option<&'a Metadata>, id: &str) -> (&'a str, &'a [String]) {
    match meta.and_then(|m| m.get(id)) {
        Some(m) => (m.title.as_str(), &m.genres[..]),
        None => ("", &[]),
    }
}

/// Prints one ranked list (human table, CSV or JSON).
#[allow(clippy::too_many_arguments)]
pub fn print_list(
    w: &mut dyn Write,
    format: Format,
    subject: serde_json::Value,
    heading: &str,
    ids: &alternator::IdMap,
    list: &Recommendations,
    meta: Option<&Metadata>,
    score_name: &str,
    entity: &str,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = list
                .items
                .iter()
                .enumerate()
                .map(|(k, &(i, s))| {
                    let id = ids.id(i).unwrap_or("");
                    let mut v = json!({"rank": k + 1});
                    v[entity] = json!(id);
                    v[score_name] = num(s);
                    if let Some(m) = meta.and_then(|m| m.get(id)) {
                        v["title"] = json!(m.title);
                        v["genres"] = json!(m.genres);
                    }
                    v
                })
                .collect();
            let mut doc = subject;
            doc["eligible"] = json!(list.eligible);
            doc["results"] = json!(rows);
            writeln!(w, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Csv => {
            write!(w, "rank,{entity},{score_name}")?;
            if meta.is_some() {
                write!(w, ",title,genres")?;
            }
            writeln!(w)?;
            for (k, &(i, s)) in list.items.iter().enumerate() {
                let id = ids.id(i).unwrap_or("");
                write!(w, "{},{},{}", k + 1, csv_field(id), s)?;
                if meta.is_some() {
                    let (t, g) = title_of(meta, id);
                    write!(w, ",{},{}", csv_field(t), csv_field(&g.join("|")))?;
                }
                writeln!(w)?;
            }
        }
        Format::Human => {
            writeln!(w, "{heading}")?;
            let idw = list
                .items
                .iter()
                .map(|&(i, _)| ids.id(i).unwrap_or("").chars().count())
                .max()
                .unwrap_or(0)
                .max(entity.len());
            write!(w, "{:>4}  {:<idw$}  {:>10}", "rank", entity, score_name)?;
            if meta.is_some() {
                write!(w, "  title (genres)")?;
            }
            writeln!(w)?;
            for (k, &(i, s)) in list.items.iter().enumerate() {
                let id = ids.id(i).unwrap_or("");
                write!(w, "{:>4}  {:<idw$}  {:>10.4}", k + 1, id, s)?;
                if let Some(m) = meta {
                    let label = m.get(id).map(|m| m.label()).unwrap_or_else(|| "?".into());
                    write!(w, "  {label}")?;
                }
                writeln!(w)?;
            }
        }
    }
    Ok(())
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table.
    Human,
    /// CSV with a header.
    Csv,
    /// JSON.
    Json,
}

impl Format {
    /// From the `--json` / `--csv` flags.
    pub fn from_flags(json: bool, csv: bool) -> Format {
        if json {
            Format::Json
        } else if csv {
            Format::Csv
        } else {
            Format::Human
        }
    }
}

/// Reads `--liked-file`: `ID` or `ID<sep>value` per line.
fn read_liked_file(
    model: &Model,
    path: &Path,
    default: f32,
    out: &mut Vec<(u32, f32)>,
    unknown: &mut Vec<String>,
) -> anyhow::Result<()> {
    let text = std::fs::read(path).map_err(|e| alternator::Error::io(path, e))?;
    let text: String = match String::from_utf8(text) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&c| c as char).collect(),
    };
    let mut delim: Option<Delimiter> = None;
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let d = *delim.get_or_insert_with(|| detect_delimiter(line));
        let fields = split_fields(line, d);
        let Some(id) = fields.first().map(|f| f.trim()) else { continue };
        let value = match fields.get(1).map(|f| f.trim()) {
            None | Some("") => default,
            Some(v) => match v.parse::<f32>() {
                Ok(x) if x.is_finite() => x,
                _ if k == 0 => continue, // a header line
                _ => {
                    return Err(alternator::Error::Parse {
                        path: path.into(),
                        line: k as u64 + 1,
                        column: Some("1".into()),
                        message: format!("{v:?} is not a finite number"),
                    }
                    .into());
                }
            },
        };
        match model.items.get(id) {
            Some(i) => out.push((i, value)),
            None if k == 0 && fields.len() > 1 => {} // a header line
            None => unknown.push(id.to_string()),
        }
    }
    Ok(())
}

/// Resolves `--liked-title` values to item indices by fuzzy title search.
fn resolve_titles(
    model: &Model,
    meta: Option<&Metadata>,
    titles: &[String],
    all: bool,
    default: f32,
    out: &mut Vec<(u32, f32)>,
) -> anyhow::Result<()> {
    if titles.is_empty() {
        return Ok(());
    }
    let Some(meta) = meta else {
        return usage("--liked-title needs --items-meta FILE (the titles to search)");
    };
    for title in titles {
        let r = recommend::match_liked_title(model, meta, title, all)?;
        let names: Vec<&str> = r
            .candidates
            .iter()
            .filter_map(|&k| meta.items.get(k))
            .map(|m| m.title.as_str())
            .collect();
        eprintln!("Found possible matches: {}", names.join(", "));
        for &i in &r.used {
            let id = model.items.id(i).unwrap_or("");
            eprintln!("using {} (item {id})", meta.title(id).unwrap_or(id));
            out.push((i, default));
        }
    }
    Ok(())
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let liked_mode = !a.liked.is_empty() || a.liked_file.is_some() || !a.liked_title.is_empty();
    let modes = [a.user.is_some(), a.all_users, a.users.is_some(), liked_mode];
    match modes.iter().filter(|&&m| m).count() {
        0 => {
            return usage(
                "say whom to recommend for: --user ID, --all-users, --users FILE, or --liked ID,... for a new user",
            );
        }
        1 => {}
        _ => {
            return usage(
                "--user, --all-users, --users and --liked/--liked-file/--liked-title are alternatives; give one",
            );
        }
    }
    if a.n == 0 {
        return usage("-n must be at least 1");
    }
    if a.all_matches && a.liked_title.is_empty() {
        return usage("--all-matches goes with --liked-title");
    }
    common::init_threads(a.threads)?;
    let model = load_model(&a.model)?;
    let meta = a.meta.load()?;
    let filter = a.filter_items.as_deref().map(|p| id_set(p, &model.items, "item")).transpose()?;
    let candidates =
        a.candidates.as_deref().map(|p| id_set(p, &model.items, "item")).transpose()?;
    let opts = RecommendOptions {
        n: a.n,
        include_seen: a.include_seen,
        filter: filter.as_ref(),
        candidates: candidates.as_ref(),
    };
    let format = Format::from_flags(a.json, a.csv);

    if a.all_users || a.users.is_some() {
        return run_batch(&a, &model, meta.as_ref(), &opts);
    }

    let mut w = output(a.out.as_deref())?;
    let (list, subject, heading) = if let Some(user) = &a.user {
        match model.users.get(user) {
            Some(u) => {
                let list = recommend::recommend_user(&model, u, &opts)?;
                (list, json!({"user": user}), format!("top {} items for user {user}", a.n))
            }
            None => match a.fallback {
                Some(Fallback::Popular) => {
                    eprintln!(
                        "user {user:?} is not in the model: recommending the most popular items"
                    );
                    let list = recommend::popular_items(&model, &opts)?;
                    (
                        list,
                        json!({"user": user, "fallback": "popular"}),
                        format!("top {} popular items (user {user} is unknown)", a.n),
                    )
                }
                None => return Err(recommend::unknown_user(user).into()),
            },
        }
    } else {
        let default = recommend::default_liked_value(&model);
        let recommend::Liked { items: mut liked, mut unknown } =
            recommend::parse_liked(&model, &a.liked, default)?;
        if let Some(p) = &a.liked_file {
            read_liked_file(&model, p, default, &mut liked, &mut unknown)?;
        }
        resolve_titles(&model, meta.as_ref(), &a.liked_title, a.all_matches, default, &mut liked)?;
        if !unknown.is_empty() {
            eprintln!(
                "ignored {} liked item id(s) not in the model: {}",
                unknown.len(),
                unknown.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
            );
        }
        if liked.is_empty() {
            return Err(alternator::Error::UnknownId {
                kind: "item",
                id: unknown.first().cloned().unwrap_or_default(),
                hint: "none of the liked items is known to the model; give item ids from the training data".into(),
            }
            .into());
        }
        let list = recommend::recommend_for_liked(&model, &liked, &opts)?;
        let mut liked_idx: Vec<u32> = Vec::with_capacity(liked.len());
        for &(i, _) in &liked {
            if !liked_idx.contains(&i) {
                liked_idx.push(i);
            }
        }
        let liked_ids: Vec<&str> = liked_idx.iter().filter_map(|&i| model.items.id(i)).collect();
        (
            list,
            json!({"user": null, "liked": liked_ids}),
            format!("top {} items for a new user who liked {} item(s)", a.n, liked_ids.len()),
        )
    };
    if list.items.len() < a.n {
        eprintln!("only {} item(s) were eligible; returning {}", list.eligible, list.items.len());
    }
    print_list(
        &mut *w,
        format,
        subject,
        &heading,
        &model.items,
        &list,
        meta.as_ref(),
        "score",
        "item",
    )?;
    w.flush()?;
    Ok(())
}

/// `--all-users` / `--users FILE`: streaming CSV or JSON lines.
fn run_batch(
    a: &Args,
    model: &Model,
    meta: Option<&Metadata>,
    opts: &RecommendOptions<'_>,
) -> anyhow::Result<()> {
    let users: Vec<u32> = if a.all_users {
        (0..model.users.len() as u32).collect()
    } else {
        let path = a.users.as_deref().unwrap_or(Path::new(""));
        let list = read_id_list(path)?;
        let mut known = Vec::with_capacity(list.len());
        let mut unknown = Vec::new();
        for id in &list {
            match model.users.get(id) {
                Some(u) => known.push(u),
                None => unknown.push(id.as_str()),
            }
        }
        if !unknown.is_empty() {
            eprintln!(
                "{}: {} unknown user id(s) skipped (first: {})",
                path.display(),
                unknown.len(),
                unknown.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            );
        }
        if known.is_empty() {
            return Err(match unknown.first() {
                Some(id) => recommend::unknown_user(id).into(),
                None => {
                    alternator::Error::Empty { path: path.into(), message: "no user ids".into() }
                        .into()
                }
            });
        }
        known
    };
    let mut w = output(a.out.as_deref())?;
    if !a.json {
        writeln!(w, "user,rank,item,score{}", if meta.is_some() { ",title" } else { "" })?;
    }
    let pb = common::progress(users.len() as u64, "users");
    let mut short = 0usize;
    let mut line = String::new();
    recommend::recommend_batch(model, &users, opts, |u, list| {
        pb.inc(1);
        if list.items.len() < opts.n {
            short += 1;
        }
        let uid = model.users.id(u).unwrap_or("");
        let res = if a.json {
            let rows: Vec<serde_json::Value> = list
                .items
                .iter()
                .map(|&(i, s)| {
                    let id = model.items.id(i).unwrap_or("");
                    match meta.and_then(|m| m.title(id)) {
                        Some(t) => json!({"item": id, "score": num(s), "title": t}),
                        None => json!({"item": id, "score": num(s)}),
                    }
                })
                .collect();
            writeln!(w, "{}", json!({"user": uid, "recommendations": rows}))
        } else {
            line.clear();
            let uid = csv_field(uid);
            for (k, &(i, s)) in list.items.iter().enumerate() {
                use std::fmt::Write as _;
                let id = model.items.id(i).unwrap_or("");
                let _ = write!(line, "{uid},{},{},{s}", k + 1, csv_field(id));
                if let Some(m) = meta {
                    let _ = write!(line, ",{}", csv_field(m.title(id).unwrap_or("")));
                }
                line.push('\n');
            }
            w.write_all(line.as_bytes())
        };
        res.map_err(|e| {
            alternator::Error::io(a.out.clone().unwrap_or_else(|| "<stdout>".into()), e)
        })
    })?;
    pb.finish_and_clear();
    w.flush()?;
    if short > 0 {
        eprintln!("{short} user(s) had fewer than {} eligible items", opts.n);
    }
    Ok(())
}
