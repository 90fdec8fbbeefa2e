//! `alternator similar`: the items (or users) closest to one item (or user) by cosine
//! similarity of their factors (`implicit`'s similar_items / similar_users). The query itself
//! is left out unless `--include-self`; scores are in [−1, 1].

use std::path::PathBuf;

use alternator::{IdKind, RecommendOptions};
use serde_json::json;

use super::output::{
    List, ListKind, MetaArgs, OutputArgs, SupportArgs, filter_sets, load_model, note_short,
    print_list,
};
use crate::common::{self, usage};

/// Flags of `alternator similar`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("json", |a| a.help("Print one JSON document")))]
pub struct Args {
    /// The model file (from `alternator fit`) or a Spark ALSModel directory
    #[arg(long)]
    pub model: PathBuf,
    /// Items similar to this item id
    #[arg(long)]
    pub item: Option<String>,
    /// Users similar to this user id
    #[arg(long)]
    pub user: Option<String>,
    /// Number of results
    #[arg(short = 'n', long = "num", default_value_t = 10)]
    pub n: usize,
    /// Keep the query itself in the results (similarity 1)
    #[arg(long)]
    pub include_self: bool,
    /// Never return the ids in FILE (one per line, or the first column)
    #[arg(long, value_name = "FILE")]
    pub filter: Option<PathBuf>,
    /// Rank only the ids in FILE (one per line, or the first column)
    #[arg(long, value_name = "FILE")]
    pub candidates: Option<PathBuf>,
    #[command(flatten)]
    pub meta: MetaArgs,
    #[command(flatten)]
    pub support: SupportArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let (kind, id) = match (&a.item, &a.user) {
        (Some(i), None) => (IdKind::Item, i),
        (None, Some(u)) => (IdKind::User, u),
        (None, None) => return usage("say what to compare: --item ID or --user ID"),
        (Some(_), Some(_)) => return usage("--item and --user are alternatives; give one"),
    };
    if a.n == 0 {
        return usage("-n must be at least 1");
    }
    if a.output.parquet() {
        return usage("similar prints one list: --format parquet is for recommend's batches");
    }
    a.output.refuse_overwrite(&[
        ("--model", Some(&a.model)),
        ("--filter", a.filter.as_deref()),
        ("--candidates", a.candidates.as_deref()),
        ("--items-meta", a.meta.items_meta.as_deref()),
    ])?;
    common::init_threads(a.output.threads)?;
    let model = load_model(&a.model)?;
    let meta = a.meta.load()?;
    let (filter, candidates) =
        filter_sets(a.filter.as_deref(), a.candidates.as_deref(), &model, kind)?;
    let filter = match kind {
        IdKind::Item => a.support.apply(&model, filter),
        IdKind::User if a.support.min_item_interactions > 0 => {
            return usage("--min-item-interactions applies to item lists; use it with --item");
        }
        IdKind::User => filter,
    };
    let opts = RecommendOptions {
        n: a.n,
        include_seen: true,
        filter: filter.as_ref(),
        candidates: candidates.as_ref(),
    };
    let (items, users);
    let list = match kind {
        IdKind::Item => {
            items = model.similar_items_with(id, &opts, a.include_self)?;
            List::items(&items)
        }
        IdKind::User => {
            users = model.similar_users_with(id, &opts, a.include_self)?;
            List::users(&users)
        }
    };
    let kind = kind.as_str();
    note_short(&list, a.n, kind);
    // Titles apply to items only.
    let meta = if kind == "item" { meta.as_ref() } else { None };
    let mut subject = json!({});
    subject[kind] = json!(id);
    subject["n"] = json!(a.n);
    let mut heading = format!("{} {kind}s most similar to {kind} {id}", a.n);
    if let Some(m) = meta.and_then(|m| m.get(id)) {
        subject["title"] = json!(m.title);
        heading = format!("{} items most similar to item {id}: {}", a.n, m.label());
    }
    let mut w = a.output.open()?;
    let list_kind = if kind == "item" { ListKind::SimilarItems } else { ListKind::SimilarUsers };
    print_list(&mut *w, a.output.format(), subject, &heading, &list, meta, list_kind)?;
    w.finish()?;
    Ok(())
}
