//! `alternator similar`: the items (or users) closest to one item (or user) by cosine
//! similarity of their factors (`implicit`'s similar_items / similar_users). The query itself
//! is left out unless `--include-self`; scores are in [−1, 1].

use std::io::Write;
use std::path::PathBuf;

use alternator::recommend::{self, Entity, RecommendOptions};
use serde_json::json;

use super::recommend::{Format, MetaArgs, id_set, load_model, output, print_list};
use crate::common::{self, usage};

/// Flags of `alternator similar`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`)
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
    /// Print one JSON document
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

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let (entity, id) = match (&a.item, &a.user) {
        (Some(i), None) => (Entity::Item, i),
        (None, Some(u)) => (Entity::User, u),
        (None, None) => return usage("say what to compare: --item ID or --user ID"),
        (Some(_), Some(_)) => return usage("--item and --user are alternatives; give one"),
    };
    if a.n == 0 {
        return usage("-n must be at least 1");
    }
    common::init_threads(a.threads)?;
    let model = load_model(&a.model)?;
    let meta = a.meta.load()?;
    let (ids, kind) = match entity {
        Entity::Item => (&model.items, "item"),
        Entity::User => (&model.users, "user"),
    };
    let index = match (ids.get(id), entity) {
        (Some(i), _) => i,
        (None, Entity::Item) => return Err(recommend::unknown_item(id).into()),
        (None, Entity::User) => {
            return Err(alternator::Error::UnknownId {
                kind: "user",
                id: id.clone(),
                hint: "the model has no factors for this user (not in the training data)".into(),
            }
            .into());
        }
    };
    let filter = a.filter.as_deref().map(|p| id_set(p, ids, kind)).transpose()?;
    let candidates = a.candidates.as_deref().map(|p| id_set(p, ids, kind)).transpose()?;
    let opts = RecommendOptions {
        n: a.n,
        include_seen: true,
        filter: filter.as_ref(),
        candidates: candidates.as_ref(),
    };
    let list = recommend::similar(&model, entity, index, a.include_self, &opts)?;
    if list.items.len() < a.n {
        eprintln!("only {} {kind}(s) were eligible; returning {}", list.eligible, list.items.len());
    }
    // Titles apply to items only.
    let meta = if entity == Entity::Item { meta.as_ref() } else { None };
    let mut subject = json!({});
    subject[kind] = json!(id);
    let mut heading = format!("{} {kind}s most similar to {kind} {id}", a.n);
    if let Some(m) = meta.and_then(|m| m.get(id)) {
        subject["title"] = json!(m.title);
        heading = format!("{} items most similar to item {id}: {}", a.n, m.label());
    }
    let mut w = output(a.out.as_deref())?;
    let format = Format::from_flags(a.json, a.csv);
    print_list(&mut *w, format, subject, &heading, ids, &list, meta, "similarity", kind)?;
    w.flush()?;
    Ok(())
}
