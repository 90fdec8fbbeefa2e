//! `alternator fit`: train an ALS model (explicit ratings, or implicit feedback).

use std::path::PathBuf;
use std::time::Instant;

use alternator::{Als, IterationReport};

use crate::common::{self, ConfidenceArg, InputArgs, SolverArg};
use crate::paths;

/// Flags of `alternator fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training interactions (user, item, value[, timestamp])
    #[arg(long)]
    pub train: PathBuf,
    /// Where to write the model (atomically; a symbolic link is written through)
    #[arg(long)]
    pub model: PathBuf,
    /// Wait until the model is on disk (fsync the file and its directory) so that it survives
    /// a power cut [default: off; on with ALTERNATOR_FSYNC=1]
    #[arg(long)]
    pub fsync: bool,
    /// Number of latent factors (Spark rank, implicit factors) [default: 10 (Spark); 100 with
    /// --implicit-prefs (implicit), 10 with --confidence spark]
    #[arg(long)]
    pub rank: Option<usize>,
    /// Number of iterations (Spark maxIter, implicit iterations) [default: 10; 15 with
    /// --implicit-prefs, 10 with --confidence spark]
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Regularization λ (Spark regParam, implicit regularization); explicit and --confidence
    /// spark scale it per row by the number of ratings (ALS-WR) [default: 0.1; 0.01 with
    /// --implicit-prefs, 0.1 with --confidence spark]
    #[arg(long, allow_negative_numbers = true)]
    pub reg_param: Option<f32>,
    /// Seed of the factor initialisation
    #[arg(long, default_value_t = alternator::AlsParams::default().seed)]
    pub seed: u64,
    /// Constrain factors to be non-negative (Spark nonnegative)
    #[arg(long)]
    pub nonnegative: bool,
    /// Worker threads [default: one per core]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Learn a global mean and user/item biases (explicit only)
    #[arg(long)]
    pub biases: bool,
    /// Clamp predictions to the training value range
    #[arg(long)]
    pub clip_predictions: bool,
    /// Implicit feedback (Spark implicitPrefs): values are confidences, not ratings
    #[arg(long)]
    pub implicit_prefs: bool,
    /// Confidence scale α for implicit feedback
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub alpha: f32,
    /// Implicit confidence convention: `implicit` (c = α·r) or `spark` (c = 1 + α·r, λ·n)
    #[arg(long, value_enum, default_value_t = ConfidenceArg::Implicit)]
    pub confidence: ConfidenceArg,
    /// Implicit solver: conjugate gradient or exact Cholesky (explicit ratings are always
    /// solved exactly) [default: cg]
    #[arg(long, value_enum)]
    pub solver: Option<SolverArg>,
    /// Conjugate-gradient steps per row and half-iteration
    #[arg(long, default_value_t = 3)]
    pub cg_steps: usize,
    /// Compute the training loss after every iteration (implicit; explicit always reports RMSE)
    #[arg(long)]
    pub loss: bool,
    /// Print every iteration's time and training RMSE / loss on stderr
    #[arg(long)]
    pub verbose: bool,
    /// Print a JSON summary on stdout instead of the text summary on stderr
    #[arg(long)]
    pub json: bool,
    /// How to read the training file
    #[command(flatten)]
    pub input: InputArgs,
}

impl Args {
    /// The library's estimator from the flags (its defaults for what is not given).
    pub fn als<'a>(&self) -> Als<'a> {
        let mut als = if self.implicit_prefs { Als::implicit() } else { Als::explicit() };
        als = als
            .seed(self.seed)
            .nonnegative(self.nonnegative)
            .alpha(self.alpha)
            .confidence(self.confidence.into())
            .cg_steps(self.cg_steps)
            .biases(self.biases)
            .clip_predictions(self.clip_predictions)
            .compute_loss(self.loss || (self.verbose && self.implicit_prefs));
        if let Some(r) = self.rank {
            als = als.rank(r);
        }
        if let Some(m) = self.max_iter {
            als = als.max_iter(m);
        }
        if let Some(r) = self.reg_param {
            als = als.reg_param(r);
        }
        if let Some(s) = self.solver {
            als = als.solver(s.into());
        }
        if let Some(d) = self.input.duplicates() {
            als = als.duplicates(d);
        }
        als
    }
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    paths::refuse_stdout("--model", &a.model, "a model is a file, not a stream")?;
    paths::refuse_overwrite(&[("--train", Some(&a.train))], &[("--model", Some(&a.model))])?;
    let params = a.als().params()?;
    common::init_threads(a.threads)?;
    let start = Instant::now();
    // Training never uses times: a timestamp column is read only when --time-col names it.
    let data = a.input.read_untimed(&a.train)?;
    let read_seconds = start.elapsed().as_secs_f64();

    let pb = common::progress(params.max_iter as u64, "iterations");
    let verbose = a.verbose;
    let implicit = a.implicit_prefs;
    let on_iter = |r: &IterationReport| {
        pb.inc(1);
        if verbose {
            let what = if implicit { "loss" } else { "train RMSE" };
            let loss = r.loss.map_or_else(|| "-".to_string(), |l| format!("{l:.6}"));
            pb.suspend(|| {
                eprintln!("iteration {:>3}: {:.3}s  {what} {loss}", r.iteration, r.seconds)
            });
        }
    };
    // The fit takes the data: its triplets are freed once the training matrix is built.
    let model = a.als().on_iteration(on_iter).fit_owned(data)?;
    pb.finish_and_clear();
    model.save_with(&a.model, paths::save_options(a.fsync))?;
    let summary = model.summary();
    let final_loss = summary.history.last().copied();
    if a.json {
        let out = serde_json::json!({
            "model": a.model.display().to_string(),
            "train": a.train.display().to_string(),
            "users": model.users().len(),
            "items": model.items().len(),
            "interactions": summary.interactions,
            "stored_entries": model.training_matrix().nnz(),
            "rank": params.rank,
            "iterations": params.max_iter,
            "implicit_prefs": params.implicit_prefs,
            "read_seconds": read_seconds,
            "fit_seconds": summary.fit_seconds,
            "final_loss": final_loss,
            "loss_kind": if implicit { "loss" } else { "train_rmse" },
            "history": summary.history,
            "params": params,
        });
        println!("{out}");
    } else {
        let loss = match final_loss {
            Some(l) if implicit => format!(", final loss {l:.6}"),
            Some(l) => format!(", final train RMSE {l:.4}"),
            None => String::new(),
        };
        eprintln!(
            "{}: {} users, {} items, {} interactions; {} iterations in {:.3}s{loss}",
            a.model.display(),
            model.users().len(),
            model.items().len(),
            summary.interactions,
            params.max_iter,
            summary.fit_seconds,
        );
    }
    Ok(())
}
