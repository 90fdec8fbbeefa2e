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
use alternator::data::{Delimiter, detect_delimiter, split_fields};
use alternator::meta::Metadata;
use alternator::recommend::{self, RecommendOptions};
use clap::ValueEnum;
use serde_json::json;

use super::output::{
    MetaArgs, OutputArgs, csv_field, filter_sets, known_ids, load_model, note_short, num,
    print_list,
};
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
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--fallback` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Fallback {
    /// Items ranked by number of training interactions
    Popular,
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
    common::init_threads(a.output.threads)?;
    let model = load_model(&a.model)?;
    let meta = a.meta.load()?;
    let (filter, candidates) =
        filter_sets(a.filter_items.as_deref(), a.candidates.as_deref(), &model.items, "item")?;
    let opts = RecommendOptions {
        n: a.n,
        include_seen: a.include_seen,
        filter: filter.as_ref(),
        candidates: candidates.as_ref(),
    };

    if a.all_users || a.users.is_some() {
        return run_batch(&a, &model, meta.as_ref(), &opts);
    }

    let mut w = a.output.open()?;
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
    note_short(&list, a.n, "item");
    print_list(
        &mut *w,
        a.output.format(),
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
        known_ids(path, &model.users, "user", recommend::unknown_user)?
    };
    let header = (!a.output.json)
        .then(|| format!("user,rank,item,score{}", if meta.is_some() { ",title" } else { "" }));
    let mut line = String::new();
    // Every item's CSV field, quoted once rather than once per line.
    let item_fields: Vec<std::borrow::Cow<'_, str>> = if a.output.json {
        Vec::new()
    } else {
        (0..model.items.len() as u32).map(|i| csv_field(model.items.id(i).unwrap_or(""))).collect()
    };
    a.output.stream(
        header,
        users.len(),
        "user",
        "item",
        opts.n,
        |sink| recommend::recommend_batch(model, &users, opts, sink),
        |w, u, list| {
            let uid = model.users.id(u).unwrap_or("");
            if a.output.json {
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
                    // `{uid},{rank},{item},{score}` without the formatting machinery but for
                    // the score (`f32`'s shortest round-trip form, as before).
                    line.push_str(&uid);
                    line.push(',');
                    push_uint(&mut line, k + 1);
                    line.push(',');
                    line.push_str(item_fields.get(i as usize).map_or("", |f| f));
                    line.push(',');
                    let _ = write!(line, "{s}");
                    if let Some(m) = meta {
                        let id = model.items.id(i).unwrap_or("");
                        let _ = write!(line, ",{}", csv_field(m.title(id).unwrap_or("")));
                    }
                    line.push('\n');
                }
                w.write_all(line.as_bytes())
            }
        },
    )
}

/// Appends the decimal digits of `v`.
fn push_uint(s: &mut String, mut v: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        s.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn push_uint_writes_decimal() {
        for v in [0usize, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut s = String::from("x");
            super::push_uint(&mut s, v);
            assert_eq!(s, format!("x{v}"));
        }
    }
}
