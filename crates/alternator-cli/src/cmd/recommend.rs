//! `alternator recommend`: top-N items for one user, for all users or a list of users
//! (Spark's recommendForAllUsers / recommendForUserSubset), or for a new user who names a few
//! liked items (fold-in).
//!
//! Batch mode (`--all-users`, `--users FILE`) writes CSV `user,rank,item,score[,title]` (or JSON
//! lines with `--json`) to `--out` or stdout. Unknown ids in `--users FILE` are reported on
//! stderr and skipped; the command fails (exit 2) only when none of the ids is known.

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::meta::Metadata;
use alternator::{IdKind, Model, NewUser, RecommendOptions};
use clap::ValueEnum;
use serde_json::json;

use super::output::{
    List, ListKind, MetaArgs, OutputArgs, SupportArgs, csv_field, filter_sets, known_ids,
    load_model, note_short, print_list, stream_parquet, with_train,
};
use crate::common::{self, usage};
use crate::idfile;

/// Flags of `alternator recommend`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`) or a Spark ALSModel directory
    #[arg(long)]
    pub model: PathBuf,
    /// Training interactions whose items each user has seen (left out unless
    /// --include-seen); for models that keep none, such as Spark's
    #[arg(long, value_name = "FILE")]
    pub train: Option<PathBuf>,
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
    #[command(flatten)]
    pub support: SupportArgs,
    /// When the user is unknown, recommend the most popular items instead of failing
    #[arg(long, value_enum)]
    pub fallback: Option<Fallback>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub train_input: crate::common::InputArgs,
}

/// `--fallback` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Fallback {
    /// Items ranked by number of training interactions
    Popular,
}

/// Adds `--liked` specs to `who`: each spec is a comma-separated list of `ID` or `ID:value`
/// tokens. An id the model knows verbatim wins over splitting at the last `:` (so ids holding
/// `:` work); a value that is not a finite number is an error.
pub(crate) fn add_liked_specs(
    model: &Model,
    specs: &[String],
    who: &mut NewUser,
) -> anyhow::Result<()> {
    for tok in specs.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if tok.is_empty() {
            continue;
        }
        if model.items().get(tok).is_some() {
            who.like(tok);
            continue;
        }
        let Some((id, v)) = tok.rsplit_once(':') else {
            who.like(tok);
            continue;
        };
        let Some(value) = v.trim().parse::<f32>().ok().filter(|x| x.is_finite()) else {
            return usage(format!("--liked {tok:?}: the value after ':' must be a finite number"));
        };
        who.rate(id.trim(), value);
    }
    Ok(())
}

/// Reports on stderr how the new user's items and titles were resolved.
fn report_fold_in(folded: &alternator::recommend::FoldedUser, meta: Option<&Metadata>) {
    for t in &folded.titles {
        let names: Vec<&str> = t.candidates.iter().map(|c| c.1.as_str()).collect();
        eprintln!("Found possible matches: {}", names.join(", "));
        for id in &t.used {
            eprintln!("using {} (item {id})", meta.and_then(|m| m.title(id)).unwrap_or(id));
        }
    }
    if !folded.ignored.is_empty() {
        eprintln!(
            "ignored {} liked item id(s) not in the model: {}",
            folded.ignored.len(),
            folded.ignored.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        );
    }
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
    let batch = a.all_users || a.users.is_some();
    if a.output.parquet() && !batch {
        return usage("Parquet output is for batches: --all-users or --users FILE");
    }
    a.output.refuse_overwrite(&[
        ("--model", Some(&a.model)),
        ("--train", a.train.as_deref()),
        ("--users", a.users.as_deref()),
        ("--liked-file", a.liked_file.as_deref()),
        ("--filter-items", a.filter_items.as_deref()),
        ("--candidates", a.candidates.as_deref()),
        ("--items-meta", a.meta.items_meta.as_deref()),
    ])?;
    common::init_threads(a.output.threads)?;
    let model = load_model(&a.model)?;
    let seen = a.include_seen || liked_mode;
    let model = with_train(model, &a.model, a.train.as_deref(), &a.train_input, seen, "user")?;
    let meta = a.meta.load()?;
    let (filter, candidates) =
        filter_sets(a.filter_items.as_deref(), a.candidates.as_deref(), &model, IdKind::Item)?;
    let filter = a.support.apply(&model, filter);
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
    let mut kind = ListKind::Items;
    let (ranked, subject, heading) = if let Some(user) = &a.user {
        match model.recommend_with(user, &opts) {
            Ok(list) => (
                list,
                json!({"user": user, "n": a.n}),
                format!("top {} items for user {user}", a.n),
            ),
            Err(alternator::Error::UnknownId { kind: IdKind::User, .. })
                if matches!(a.fallback, Some(Fallback::Popular)) =>
            {
                eprintln!(
                    "user {user:?} is not in the model: recommending the most popular items \
                     (the count column is their number of training interactions)"
                );
                kind = ListKind::Popular;
                (
                    model.popular_items(&opts)?,
                    json!({"user": user, "n": a.n, "fallback": "popular"}),
                    format!("top {} popular items (user {user} is unknown)", a.n),
                )
            }
            Err(e @ alternator::Error::UnknownId { kind: IdKind::User, .. }) => {
                return Err(common::with_hint(e, common::UNKNOWN_USER_HINT));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        if !a.liked_title.is_empty() && meta.is_none() {
            return usage("--liked-title needs --items-meta FILE (the titles to search)");
        }
        let mut who = NewUser::new();
        add_liked_specs(&model, &a.liked, &mut who)?;
        if let Some(p) = &a.liked_file {
            let known = |id: &str| model.items().get(id).is_some();
            for (id, value) in idfile::read_liked(p, known)? {
                match value {
                    Some(v) => who.rate(id, v),
                    None => who.like(id),
                };
            }
        }
        for t in &a.liked_title {
            who.like_title(t.as_str());
        }
        who.all_matches(a.all_matches);
        let folded = match model.fold_in(&who, meta.as_ref()) {
            Ok(f) => f,
            Err(e @ alternator::Error::NoKnownItems { .. }) => {
                return Err(common::with_hint(e, "give item ids from the training data"));
            }
            Err(e) => return Err(e.into()),
        };
        report_fold_in(&folded, meta.as_ref());
        let list = model.recommend_folded(&folded, &opts)?;
        let heading =
            format!("top {} items for a new user who liked {} item(s)", a.n, folded.liked.len());
        let mut subject = alternator::json::fold_in(&folded, meta.as_ref());
        subject.insert("n".into(), json!(a.n));
        (list, serde_json::Value::Object(subject), heading)
    };
    let list = List::items(&ranked);
    note_short(&list, a.n, "item");
    print_list(&mut *w, a.output.format(), subject, &heading, &list, meta.as_ref(), kind)?;
    w.finish()?;
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
        (0..model.users().len() as u32).collect()
    } else {
        let path = a.users.as_deref().unwrap_or(Path::new(""));
        known_ids(path, model, IdKind::User)?
    };
    if a.output.parquet() {
        return stream_parquet(&a.output, model, IdKind::User, |sink| {
            model.recommend_batch(&users, opts, sink)
        });
    }
    let json = a.output.format() == super::output::Format::Json;
    let header = (!json)
        .then(|| format!("user,rank,item,score{}", if meta.is_some() { ",title" } else { "" }));
    // Every item's CSV field, quoted once rather than once per line.
    let item_fields: Vec<std::borrow::Cow<'_, str>> =
        if json { Vec::new() } else { model.items().ids().map(csv_field).collect() };
    a.output.stream(
        header,
        users.len(),
        "user",
        "item",
        opts.n,
        |map, sink| model.recommend_batch_map(&users, opts, map, sink),
        |out, u, list| {
            let uid = model.id_at(IdKind::User, u);
            if json {
                let rows: Vec<serde_json::Value> = list
                    .items
                    .iter()
                    .map(|&(i, s)| alternator::json::item(model.id_at(IdKind::Item, i), s, meta))
                    .collect();
                let _ = writeln!(out, "{}", json!({"user": uid, "items": rows}));
            } else {
                let uid = csv_field(uid);
                for (k, &(i, s)) in list.items.iter().enumerate() {
                    // `{uid},{rank},{item},{score}` without the formatting machinery but for
                    // the score (`f32`'s shortest round-trip form, as before).
                    out.extend_from_slice(uid.as_bytes());
                    out.push(b',');
                    push_uint(out, k + 1);
                    out.push(b',');
                    out.extend_from_slice(item_fields.get(i as usize).map_or("", |f| f).as_bytes());
                    out.push(b',');
                    let _ = write!(out, "{s}");
                    if let Some(m) = meta {
                        let id = model.id_at(IdKind::Item, i);
                        let _ = write!(out, ",{}", csv_field(m.title(id).unwrap_or("")));
                    }
                    out.push(b'\n');
                }
            }
        },
    )
}

/// Appends the decimal digits of `v`.
fn push_uint(s: &mut Vec<u8>, mut v: usize) {
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
    s.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn push_uint_writes_decimal() {
        for v in [0usize, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut s = b"x".to_vec();
            super::push_uint(&mut s, v);
            assert_eq!(s, format!("x{v}").into_bytes());
        }
    }
}
