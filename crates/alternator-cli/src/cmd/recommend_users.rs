//! `alternator recommend-users`: the users most likely to want an item (Spark's
//! recommendForAllItems / recommendForItemSubset), ranked by `x_uᵀ y_i (+ μ + b_u + b_i)`.
//! Users who interacted with the item in training are excluded unless `--include-seen`.
//!
//! One item (`--item`) prints a table, CSV or JSON document; `--all-items` / `--items FILE`
//! stream CSV `item,rank,user,score[,title]` (or JSON lines with `--json`). Unknown ids in
//! `--items FILE` are reported on stderr and skipped; exit 2 only when none is known.

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::{IdKind, RecommendOptions};
use serde_json::json;

use super::output::{
    List, ListKind, MetaArgs, OutputArgs, SupportArgs, csv_field, filter_sets, known_ids,
    load_model, note_short, print_list, stream_parquet, with_train,
};
use crate::common::{self, usage};

/// Flags of `alternator recommend-users`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`) or a Spark ALSModel directory
    #[arg(long)]
    pub model: PathBuf,
    /// Training interactions: each item's users in it are left out unless --include-seen
    /// (for models that keep none, such as Spark's)
    #[arg(long, value_name = "FILE")]
    pub train: Option<PathBuf>,
    /// Rank users for this item id
    #[arg(long)]
    pub item: Option<String>,
    /// Rank users for every item of the model (Spark's recommendForAllItems)
    #[arg(long)]
    pub all_items: bool,
    /// Rank users for the item ids in FILE, one per line (recommendForItemSubset)
    #[arg(long, value_name = "FILE")]
    pub items: Option<PathBuf>,
    /// Number of users per item
    #[arg(short = 'n', long = "num", default_value_t = 10)]
    pub n: usize,
    /// Keep users who interacted with the item in training
    #[arg(long)]
    pub include_seen: bool,
    /// Never return the user ids in FILE (one per line, or the first column)
    #[arg(long, value_name = "FILE")]
    pub filter_users: Option<PathBuf>,
    /// Rank only the user ids in FILE (one per line, or the first column)
    #[arg(long, value_name = "FILE")]
    pub candidates: Option<PathBuf>,
    #[command(flatten)]
    pub meta: MetaArgs,
    #[command(flatten)]
    pub support: SupportArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub train_input: crate::common::InputArgs,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let modes = [a.item.is_some(), a.all_items, a.items.is_some()];
    match modes.iter().filter(|&&m| m).count() {
        0 => return usage("say which items: --item ID, --all-items or --items FILE"),
        1 => {}
        _ => return usage("--item, --all-items and --items are alternatives; give one"),
    }
    if a.n == 0 {
        return usage("-n must be at least 1");
    }
    if a.output.parquet() && a.item.is_some() {
        return usage("Parquet output is for batches: --all-items or --items FILE");
    }
    a.output.refuse_overwrite(&[
        ("--model", Some(&a.model)),
        ("--train", a.train.as_deref()),
        ("--items", a.items.as_deref()),
        ("--filter-users", a.filter_users.as_deref()),
        ("--candidates", a.candidates.as_deref()),
        ("--items-meta", a.meta.items_meta.as_deref()),
    ])?;
    common::init_threads(a.output.threads)?;
    let model = load_model(&a.model)?;
    let model =
        with_train(model, &a.model, a.train.as_deref(), &a.train_input, a.include_seen, "item")?;
    let meta = a.meta.load()?;
    let (filter, candidates) =
        filter_sets(a.filter_users.as_deref(), a.candidates.as_deref(), &model, IdKind::User)?;
    let opts = RecommendOptions {
        n: a.n,
        include_seen: a.include_seen,
        filter: filter.as_ref(),
        candidates: candidates.as_ref(),
    };
    let rare = (a.support.min_item_interactions > 0)
        .then(|| model.rare_items(a.support.min_item_interactions));
    let items: Vec<u32> = if let Some(id) = &a.item {
        if let Some(r) = &rare {
            if model.items().get(id).is_some_and(|i| r.contains(i)) {
                return usage(format!(
                    "item {id:?} has fewer than {} training interactions (--min-item-interactions)",
                    a.support.min_item_interactions
                ));
            }
        }
        let ranked = model.recommend_users_with(id, &opts)?;
        let list = List::users(&ranked);
        note_short(&list, a.n, "user");
        let mut subject = json!({"item": id, "n": a.n});
        let mut heading = format!("top {} users for item {id}", a.n);
        if let Some(m) = meta.as_ref().and_then(|m| m.get(id)) {
            subject["title"] = json!(m.title);
            heading = format!("top {} users for item {id}: {}", a.n, m.label());
        }
        let mut w = a.output.open()?;
        let format = a.output.format();
        print_list(&mut *w, format, subject, &heading, &list, None, ListKind::Users)?;
        w.finish()?;
        return Ok(());
    } else if a.all_items {
        (0..model.items().len() as u32).collect()
    } else {
        let path = a.items.as_deref().unwrap_or(Path::new(""));
        known_ids(path, &model, IdKind::Item)?
    };
    let items = match &rare {
        None => items,
        Some(r) => {
            let kept: Vec<u32> = items.iter().copied().filter(|&i| !r.contains(i)).collect();
            if kept.len() < items.len() {
                eprintln!(
                    "skipped {} item(s) with fewer than {} training interactions \
                     (--min-item-interactions)",
                    items.len() - kept.len(),
                    a.support.min_item_interactions
                );
            }
            kept
        }
    };

    if a.output.parquet() {
        return stream_parquet(&a.output, &model, IdKind::Item, |sink| {
            model.recommend_users_batch(&items, &opts, sink)
        });
    }
    let json = a.output.format() == super::output::Format::Json;
    let meta = meta.as_ref();
    let header = (!json)
        .then(|| format!("item,rank,user,score{}", if meta.is_some() { ",title" } else { "" }));
    a.output.stream(
        header,
        items.len(),
        "item",
        "user",
        opts.n,
        |map, sink| model.recommend_users_batch_map(&items, &opts, map, sink),
        |out, i, list| {
            let iid = model.id_at(IdKind::Item, i);
            let title = meta.and_then(|m| m.title(iid));
            if json {
                let rows: Vec<serde_json::Value> = list
                    .items
                    .iter()
                    .map(|&(u, s)| alternator::json::user(model.id_at(IdKind::User, u), s))
                    .collect();
                let mut doc = json!({"item": iid, "users": rows});
                if let Some(t) = title {
                    doc["title"] = json!(t);
                }
                let _ = writeln!(out, "{doc}");
            } else {
                let iid = csv_field(iid);
                let title = title.map(csv_field);
                for (k, &(u, s)) in list.items.iter().enumerate() {
                    let uid = model.id_at(IdKind::User, u);
                    let _ = write!(out, "{iid},{},{},{s}", k + 1, csv_field(uid));
                    if let Some(t) = &title {
                        let _ = write!(out, ",{t}");
                    } else if meta.is_some() {
                        out.push(b',');
                    }
                    out.push(b'\n');
                }
            }
        },
    )
}
