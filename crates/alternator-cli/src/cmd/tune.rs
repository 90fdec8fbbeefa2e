//! `alternator tune`: grid search with cross-validation, learning curves, early stopping and
//! plots (Spark's ParamGridBuilder + CrossValidator / TrainValidationSplit in one verb).

mod plot;

use std::path::PathBuf;
use std::time::Instant;

use alternator::tune::{Grid, Metric, TuneOptions, TuneReport, Validation, als_trainer, tune};
use alternator::{Als, AlsParams};
use anyhow::Context;

use crate::common::{self, ConfidenceArg, InputArgs, SolverArg};
use crate::paths;

/// Flags of `alternator tune`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training interactions (user, item, value[, timestamp])
    #[arg(long)]
    pub train: PathBuf,
    /// Validate on this file (TrainValidationSplit with a fixed split)
    #[arg(long, conflicts_with_all = ["folds", "validation_fraction"])]
    pub validation: Option<PathBuf>,
    /// K-fold cross-validation (CrossValidator) [default: 3 when no validation is given]
    #[arg(long, conflicts_with = "validation_fraction")]
    pub folds: Option<usize>,
    /// Validate on a random fraction of the training interactions (TrainValidationSplit)
    #[arg(long)]
    pub validation_fraction: Option<f64>,
    /// Ranks to try, comma-separated [default: fit's: 10, or 100 with --implicit-prefs]
    #[arg(long, value_delimiter = ',')]
    pub rank: Vec<usize>,
    /// Regularizations λ to try, comma-separated [default: fit's: 0.1, or 0.01 with
    /// --implicit-prefs]
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub reg_param: Vec<f32>,
    /// Confidence scales α to try (implicit feedback), comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1.0", allow_negative_numbers = true)]
    pub alpha: Vec<f32>,
    /// Iteration counts to try, comma-separated [default: fit's: 10, or 15 with
    /// --implicit-prefs]
    #[arg(long, value_delimiter = ',')]
    pub max_iter: Vec<usize>,
    /// Bias settings to try: true, false or true,false (explicit only)
    #[arg(long, value_delimiter = ',', default_value = "false", action = clap::ArgAction::Set)]
    pub biases: Vec<bool>,
    /// Validation metric: rmse, mae, r2, precision@K, ndcg@K or map@K
    /// [default: rmse, or ndcg@10 with --implicit-prefs]
    #[arg(long)]
    pub metric: Option<String>,
    /// Seed of the folds and of the factor initialisation
    #[arg(long, default_value_t = AlsParams::default().seed)]
    pub seed: u64,
    /// Train this many configurations at once (threads are shared out between them)
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Total worker threads [default: one per core]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop a configuration when the validation metric has not improved for --patience iterations
    #[arg(long)]
    pub early_stopping: bool,
    /// Iterations without improvement before early stopping
    #[arg(long, default_value_t = 3)]
    pub patience: usize,
    /// Refit the best configuration on all of the training data and save it here
    #[arg(long)]
    pub save_best: Option<PathBuf>,
    /// With --save-best: wait until the model is on disk (fsync) [default: off; on with
    /// ALTERNATOR_FSYNC=1]
    #[arg(long)]
    pub fsync: bool,
    /// Draw learning curves and a rank × reg-param heat map (FILE.svg or FILE.png)
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print the full results as JSON on stdout instead of the table
    #[arg(long)]
    pub json: bool,
    /// Implicit feedback (Spark implicitPrefs)
    #[arg(long)]
    pub implicit_prefs: bool,
    /// Implicit confidence convention
    #[arg(long, value_enum, default_value_t = ConfidenceArg::Implicit)]
    pub confidence: ConfidenceArg,
    /// Implicit solver [default: cg]
    #[arg(long, value_enum)]
    pub solver: Option<SolverArg>,
    /// Conjugate-gradient steps per row and half-iteration
    #[arg(long, default_value_t = 3)]
    pub cg_steps: usize,
    /// Constrain factors to be non-negative
    #[arg(long)]
    pub nonnegative: bool,
    /// Clamp predictions to the training value range (when scoring and in the saved model)
    #[arg(long)]
    pub clip_predictions: bool,
    /// How to read the training and validation files
    #[command(flatten)]
    pub input: Box<InputArgs>,
}

impl Args {
    /// The estimator every configuration starts from: the kind's defaults, with the flags
    /// that are not searched.
    fn base(&self) -> Als<'static> {
        let mut als = if self.implicit_prefs { Als::implicit() } else { Als::explicit() };
        als = als
            .seed(self.seed)
            .nonnegative(self.nonnegative)
            .confidence(self.confidence.into())
            .cg_steps(self.cg_steps)
            .clip_predictions(self.clip_predictions);
        if let Some(s) = self.solver {
            als = als.solver(s.into());
        }
        if let Some(d) = self.input.duplicates() {
            als = als.duplicates(d);
        }
        als
    }
}

/// The listed values, or the default alone.
fn or_default<T: Copy>(v: &[T], default: T) -> Vec<T> {
    if v.is_empty() { vec![default] } else { v.to_vec() }
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    if a.jobs == 0 {
        return common::usage("--jobs must be at least 1");
    }
    if a.early_stopping && a.patience == 0 {
        return common::usage("--patience must be at least 1");
    }
    if let Some(p) = &a.plot {
        plot::check_path(p)?;
    }
    if let Some(p) = &a.save_best {
        paths::refuse_stdout("--save-best", p, "a model is a file, not a stream")?;
    }
    paths::refuse_overwrite(
        &[("--train", Some(&a.train)), ("--validation", a.validation.as_deref())],
        &[("--save-best", a.save_best.as_deref()), ("--plot", a.plot.as_deref())],
    )?;
    let metric = match &a.metric {
        Some(m) => Metric::parse(m)?,
        None if a.implicit_prefs => Metric::Ndcg(10),
        None => Metric::Rmse,
    };
    let base_als = a.base();
    let base = base_als.params()?;
    let grid = Grid {
        ranks: or_default(&a.rank, base.rank),
        reg_params: or_default(&a.reg_param, base.reg_param),
        alphas: a.alpha.clone(),
        max_iters: or_default(&a.max_iter, base.max_iter),
        biases: a.biases.clone(),
    };
    let configs = grid.configs(&base)?;
    common::init_threads(a.threads)?;

    let data = a.input.read_untimed(&a.train)?;
    let holdout = a.validation.as_ref().map(|p| a.input.read_untimed(p)).transpose()?;
    let validation = match (&holdout, a.folds, a.validation_fraction) {
        (Some(v), _, _) => Validation::Holdout(v),
        (None, _, Some(f)) => Validation::Fraction(f),
        (None, k, None) => Validation::Folds(k.unwrap_or(3)),
    };
    let dup = base_als.duplicates_policy();
    let opts = TuneOptions {
        metric,
        seed: a.seed,
        jobs: a.jobs,
        threads: a.threads.unwrap_or(0),
        patience: a.early_stopping.then_some(a.patience),
        duplicates: dup,
        clip_predictions: a.clip_predictions,
    };
    let nf = match validation {
        Validation::Folds(k) => k,
        _ => 1,
    };
    let start = Instant::now();
    let pb = common::progress((configs.len() * nf) as u64, "tune");
    let report = tune(&data, &validation, &configs, &opts, &als_trainer, &|p| {
        pb.set_position(p.done as u64)
    })?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let what = match validation {
        Validation::Holdout(v) => format!("validation file {}", v.path().display()),
        Validation::Folds(k) => format!("{k}-fold cross-validation"),
        Validation::Fraction(f) => format!("a random {:.0}% validation split", f * 100.0),
    };
    if let Some(p) = &a.plot {
        plot::draw(&report, p).with_context(|| format!("could not draw {}", p.display()))?;
    }
    let best = report.best().context("no configuration was scored")?;
    let mut saved = None;
    if let Some(path) = &a.save_best {
        let params = AlsParams { max_iter: best.best_iteration, ..best.params.clone() };
        let model = Als::from_params(&params)
            .clip_predictions(a.clip_predictions)
            .duplicates(dup)
            .fit(&data)?;
        model.save_with(path, paths::save_options(a.fsync))?;
        saved = Some((path.clone(), params));
    }
    if a.json {
        let out = serde_json::json!({
            "train": a.train.display().to_string(),
            "validation": what,
            "seconds": seconds,
            "report": &report,
            "best": best,
            "saved_model": saved.as_ref().map(|(p, _)| p.display().to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", table(&report, &a, &what, data.len(), seconds));
        if let Some((p, params)) = &saved {
            println!(
                "saved the best configuration ({}), refit on all {} training interactions for {} iterations, to {}",
                describe(params, &a),
                data.len(),
                params.max_iter,
                p.display()
            );
        }
        if let Some(p) = &a.plot {
            println!("plot: {}", p.display());
        }
    }
    Ok(())
}

/// `rank=.. reg-param=..` plus the dimensions that vary.
fn describe(p: &AlsParams, a: &Args) -> String {
    let mut s = format!("rank={} reg-param={}", p.rank, p.reg_param);
    if a.implicit_prefs {
        s.push_str(&format!(" alpha={}", p.alpha));
    }
    if a.max_iter.len() > 1 {
        s.push_str(&format!(" max-iter={}", p.max_iter));
    }
    if a.biases.len() > 1 || p.biases {
        s.push_str(&format!(" biases={}", p.biases));
    }
    s
}

/// Formats a metric value.
pub fn fmt_metric(v: f64) -> String {
    if v.is_nan() { "NaN".into() } else { format!("{v:.4}") }
}

fn table(r: &TuneReport, a: &Args, what: &str, n: usize, seconds: f64) -> String {
    let mut out = String::new();
    let dir = if r.larger_is_better { "larger is better" } else { "smaller is better" };
    out.push_str(&format!(
        "tune: {} configurations on {} ({n} interactions), {what}, metric {} ({dir}), {seconds:.1}s\n",
        r.results.len(),
        a.train.display(),
        r.metric,
    ));
    if r.dropped > 0 && !r.metric.is_ranking() {
        out.push_str(&format!(
            "({} validation pairs with a user or item absent from training were left out of regression metrics)\n",
            r.dropped
        ));
    }
    let show_alpha = a.implicit_prefs;
    let show_iter = a.max_iter.len() > 1;
    let show_bias = a.biases.len() > 1 || a.biases.iter().any(|&b| b);
    let mut head = format!("  {:>5} {:>10}", "rank", "reg-param");
    if show_alpha {
        head.push_str(&format!(" {:>8}", "alpha"));
    }
    if show_iter {
        head.push_str(&format!(" {:>8}", "max-iter"));
    }
    if show_bias {
        head.push_str(&format!(" {:>6}", "biases"));
    }
    let mname =
        if r.folds > 1 { format!("{} (mean ± std)", r.metric) } else { r.metric.to_string() };
    head.push_str(&format!("  {mname:<22} {:>9}", "best iter"));
    if a.early_stopping {
        head.push_str(&format!(" {:>10}", "stopped at"));
    }
    head.push_str(&format!(" {:>10}\n", "time/fold"));
    out.push_str(&head);
    for (pos, &i) in r.ranking.iter().enumerate() {
        let Some(c) = r.results.get(i) else { continue };
        let p = &c.params;
        let mark = if pos == 0 { '*' } else { ' ' };
        let mut line = format!("{mark} {:>5} {:>10}", p.rank, p.reg_param);
        if show_alpha {
            line.push_str(&format!(" {:>8}", p.alpha));
        }
        if show_iter {
            line.push_str(&format!(" {:>8}", p.max_iter));
        }
        if show_bias {
            line.push_str(&format!(" {:>6}", p.biases));
        }
        let m = if r.folds > 1 {
            format!("{} ± {}", fmt_metric(c.mean), fmt_metric(c.std))
        } else {
            fmt_metric(c.mean)
        };
        line.push_str(&format!("  {m:<22} {:>9}", c.best_iteration));
        if a.early_stopping {
            let stops: Vec<String> = c
                .folds
                .iter()
                .map(|f| f.stopped_at.map_or_else(|| "-".to_string(), |s| s.to_string()))
                .collect();
            line.push_str(&format!(" {:>10}", stops.join(",")));
        }
        line.push_str(&format!(" {:>9.2}s\n", c.seconds));
        out.push_str(&line);
    }
    if let Some(b) = r.best() {
        out.push_str(&format!(
            "best: {} with {} {}{}\n",
            describe(&b.params, a),
            r.metric,
            fmt_metric(b.mean),
            if r.folds > 1 { format!(" ± {}", fmt_metric(b.std)) } else { String::new() }
        ));
    }
    out
}
