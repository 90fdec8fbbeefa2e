//! `alternator evaluate`: regression metrics (Spark's RegressionEvaluator) of a model on a
//! test file, or ranking metrics at K (`implicit.evaluation.ranking_metrics_at_k`) with
//! `--ranking`.

use std::path::PathBuf;

use alternator::{ColdStart, Model, RankingMetrics};

use crate::cmd::predict::ColdStartArg;
use crate::common::{self, InputArgs, usage};

/// Flags of `alternator evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`) or a Spark ALSModel directory
    #[arg(long)]
    pub model: PathBuf,
    /// The test interactions
    #[arg(long)]
    pub test: PathBuf,
    /// Regression metrics to print, comma-separated: rmse, mae, mse, r2
    #[arg(long, value_delimiter = ',', default_value = "rmse,mae,mse,r2")]
    pub metrics: Vec<String>,
    /// Test pairs with a user or item unknown to the model: predict NaN (metrics become NaN,
    /// as in Spark) or leave them out
    #[arg(long, value_enum, default_value_t = ColdStartArg::Nan)]
    pub cold_start_strategy: ColdStartArg,
    /// Ranking metrics at K (precision, MAP, NDCG, AUC, recall, hit rate) instead of regression
    #[arg(long)]
    pub ranking: bool,
    /// The cut-off K of the ranking metrics
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// With --ranking: the training file whose items are filtered out of each user's
    /// recommendations [default: the training interactions stored in the model]
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Print the metrics as one JSON object
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

const METRICS: [&str; 4] = ["rmse", "mae", "mse", "r2"];

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let metrics: Vec<String> = a.metrics.iter().map(|m| m.trim().to_ascii_lowercase()).collect();
    if let Some(bad) = metrics.iter().find(|m| !METRICS.contains(&m.as_str())) {
        return usage(format!(
            "unknown metric {bad:?} in --metrics; choose from rmse, mae, mse, r2"
        ));
    }
    if a.ranking && a.k == 0 {
        return usage("--k must be at least 1");
    }
    if !a.ranking && a.train.is_some() {
        return usage("--train is only used with --ranking");
    }
    let model = Model::load(&a.model)?;
    if a.ranking {
        return run_ranking(&a, &model);
    }
    if model.is_implicit() {
        eprintln!(
            "note: {} was trained on implicit feedback: its scores are preferences (near 0 to 1), \
             not predicted values, so RMSE/MAE/R² against the test file's values are not \
             meaningful; use --ranking for precision/NDCG/MAP at K",
            a.model.display()
        );
    }
    let test = a.input.read_untimed(&a.test)?;
    let cold = ColdStart::from(a.cold_start_strategy);
    let m = model.evaluate(&test, cold)?;
    let unknown = m.unknown;
    if unknown == test.len() {
        return common::usage(format!(
            "{}: none of the {} test pairs has both its user and its item in the model {} \
             (check the file, its columns and --delimiter)",
            test.path().display(),
            test.len(),
            a.model.display()
        ));
    }
    if unknown > 0 {
        match cold {
            ColdStart::Nan => eprintln!(
                "{unknown} of {} test pair(s) have a user or item unknown to the model: their \
                 prediction is NaN, so the metrics are NaN (as in Spark); use \
                 --cold-start-strategy drop to leave them out",
                test.len()
            ),
            ColdStart::Drop => eprintln!(
                "dropped {unknown} of {} test pair(s) with a user or item unknown to the model",
                test.len()
            ),
        }
    }
    let value = |name: &str| match name {
        "rmse" => m.rmse,
        "mae" => m.mae,
        "mse" => m.mse,
        _ => m.r2,
    };
    if a.json {
        let mut obj = serde_json::Map::new();
        for name in &metrics {
            obj.insert(name.clone(), json_f64(value(name)));
        }
        obj.insert("scored".into(), m.scored.into());
        obj.insert("dropped".into(), m.dropped.into());
        obj.insert("unknown".into(), unknown.into());
        println!("{}", serde_json::Value::Object(obj));
    } else {
        for name in &metrics {
            println!("{name}\t{}", fmt(value(name)));
        }
        println!("scored\t{}", m.scored);
        println!("dropped\t{}", m.dropped);
    }
    Ok(())
}

fn run_ranking(a: &Args, model: &Model) -> anyhow::Result<()> {
    let test = a.input.read_untimed(&a.test)?;
    let train = a.train.as_deref().map(|p| a.input.read_untimed(p)).transpose()?;
    let r = model.evaluate_ranking(&test, a.k, train.as_ref())?;
    if r.users == 0 && r.unknown_users == test.users().len() {
        return common::usage(format!(
            "{}: none of the {} test users is in the model {} (check the file, its columns and \
             --delimiter)",
            test.path().display(),
            test.users().len(),
            a.model.display()
        ));
    }
    if r.unknown_users > 0 {
        eprintln!(
            "{} test user(s) ({} pair(s)) are unknown to the model and are not evaluated",
            r.unknown_users, r.unknown_user_pairs
        );
    }
    if r.unknown_item_pairs > 0 {
        eprintln!(
            "{} test pair(s) name {} item(s) unknown to the model: they count as relevant but can \
             never be recommended (as in implicit)",
            r.unknown_item_pairs, r.test_only_items
        );
    }
    print_ranking(&r, a.json);
    Ok(())
}

fn print_ranking(r: &RankingMetrics, json: bool) {
    let k = r.k;
    let rows = [
        ("precision", r.precision),
        ("map", r.map),
        ("ndcg", r.ndcg),
        ("auc", r.auc),
        ("recall", r.recall),
        ("hit_rate", r.hit_rate),
    ];
    if json {
        let mut obj = serde_json::Map::new();
        for (name, v) in rows {
            obj.insert(format!("{name}@{k}"), json_f64(v));
        }
        obj.insert("users".into(), r.users.into());
        println!("{}", serde_json::Value::Object(obj));
    } else {
        for (name, v) in rows {
            println!("{name}@{k}\t{}", fmt(v));
        }
        println!("users\t{}", r.users);
    }
}

/// A metric as JSON: NaN (not representable in JSON) becomes `null`.
fn json_f64(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn fmt(v: f64) -> String {
    if v.is_nan() { "NaN".into() } else { format!("{v:.6}") }
}
