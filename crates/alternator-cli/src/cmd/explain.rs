//! `alternator explain`: why a user gets an item. The score splits into one share per item
//! the user interacted with (`implicit`'s explain: the user's least-squares solve written as
//! weights over their items); the largest shares are listed, and all of them add up to the
//! score. A known user is explained from their training items (`--user`), a new user from
//! the items they liked (`--liked`, as `recommend --liked`).

use std::io::Write;
use std::path::PathBuf;

use alternator::meta::Metadata;
use alternator::recommend::ItemExplanation;
use alternator::{IdKind, NewUser};
use serde_json::json;

use super::output::{MetaArgs, load_model, num};
use super::recommend::add_liked_specs;
use crate::common::{self, usage};

/// Flags of `alternator explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`)
    #[arg(long)]
    pub model: PathBuf,
    /// The user whose score is explained (a user of the training data)
    #[arg(long)]
    pub user: Option<String>,
    /// A new user's liked items instead: ID or ID:value, comma separated (repeatable)
    #[arg(long, value_name = "ID[:V],...")]
    pub liked: Vec<String>,
    /// The item whose score is explained
    #[arg(long)]
    pub item: String,
    /// Number of contributing items listed
    #[arg(short = 'n', long = "num", default_value_t = 10)]
    pub n: usize,
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Print one JSON document (the shape of GET /v1/explain)
    #[arg(long)]
    pub json: bool,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let known = a.user.is_some();
    let new = !a.liked.is_empty();
    if known == new {
        return usage("say whose score to explain: --user ID, or --liked ID,... for a new user");
    }
    if a.n == 0 {
        return usage("-n must be at least 1");
    }
    let model = load_model(&a.model)?;
    let meta = a.meta.load()?;
    let e = match &a.user {
        Some(user) => match model.explain_user(user, &a.item, a.n) {
            Err(e @ alternator::Error::UnknownId { kind: IdKind::User, .. }) => {
                return Err(common::with_hint(e, common::UNKNOWN_USER_HINT));
            }
            other => other?,
        },
        None => {
            let mut who = NewUser::new();
            add_liked_specs(&model, &a.liked, &mut who)?;
            if who.is_empty() {
                return usage("--liked names no item");
            }
            let folded = model.fold_in(&who, None)?;
            if !folded.ignored.is_empty() {
                eprintln!(
                    "ignored liked item id(s) not in the model: {}",
                    folded.ignored.join(", ")
                );
            }
            model.explain_folded(&folded, &a.item, a.n)?
        }
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        let doc = to_json(&e, a.user.as_deref(), meta.as_ref());
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        print_table(&mut out, &e, a.user.as_deref(), meta.as_ref())?;
    }
    Ok(())
}

/// The explanation as JSON, in the shape of the HTTP API's `GET /v1/explain`.
fn to_json(e: &ItemExplanation, user: Option<&str>, meta: Option<&Metadata>) -> serde_json::Value {
    let title = |id: &str| meta.and_then(|m| m.title(id));
    let contributions: Vec<serde_json::Value> = e
        .contributions
        .iter()
        .map(|c| {
            let mut v = json!({"item": c.item, "value": num(c.value), "share": c.share});
            if let Some(t) = title(&c.item) {
                v["title"] = json!(t);
            }
            v
        })
        .collect();
    let mut doc = json!({
        "user": user,
        "item": e.item,
        "score": e.score,
        "contributions": contributions,
        "others": e.others,
        "others_count": e.others_count,
    });
    if let Some(t) = title(&e.item) {
        doc["title"] = json!(t);
    }
    doc
}

/// The explanation as a table: the score, then one line per listed item.
fn print_table(
    out: &mut dyn Write,
    e: &ItemExplanation,
    user: Option<&str>,
    meta: Option<&Metadata>,
) -> anyhow::Result<()> {
    let name = |id: &str| match meta.and_then(|m| m.title(id)) {
        Some(t) => format!("{id}  {t}"),
        None => id.to_string(),
    };
    let who = user.map_or_else(|| "the new user".to_string(), |u| format!("user {u}"));
    writeln!(out, "score of item {} for {who}: {:.4}", name(&e.item), e.score)?;
    writeln!(out, "{:>10} {:>7} {:>7}  item", "share", "%", "value")?;
    let pct =
        |s: f64| if e.score != 0.0 { format!("{:.1}", 100.0 * s / e.score) } else { "-".into() };
    for c in &e.contributions {
        writeln!(out, "{:>10.4} {:>7} {:>7}  {}", c.share, pct(c.share), c.value, name(&c.item))?;
    }
    if e.others_count > 0 {
        writeln!(
            out,
            "{:>10.4} {:>7} {:>7}  ({} other items)",
            e.others,
            pct(e.others),
            "",
            e.others_count
        )?;
    }
    Ok(())
}
