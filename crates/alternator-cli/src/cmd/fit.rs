//! `alternator fit`: train an ALS model (explicit ratings, or implicit feedback).

use std::path::PathBuf;
use std::time::Instant;

use alternator::als::{IterationReport, train_model};
use alternator::params::AlsParams;

use crate::common::{self, ConfidenceArg, InputArgs, SolverArg};

/// Flags of `alternator fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training interactions (user, item, value[, timestamp])
    #[arg(long)]
    pub train: PathBuf,
    /// Where to write the model
    #[arg(long)]
    pub model: PathBuf,
    /// Number of latent factors (Spark rank)
    #[arg(long, default_value_t = 10)]
    pub rank: usize,
    /// Number of iterations (Spark maxIter)
    #[arg(long, default_value_t = 10)]
    pub max_iter: usize,
    /// Regularization λ (Spark regParam); explicit and --confidence spark scale it per row by
    /// the number of ratings (ALS-WR)
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub reg_param: f32,
    /// Seed of the factor initialisation
    #[arg(long, default_value_t = AlsParams::default().seed)]
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
    /// Implicit solver: conjugate gradient or exact Cholesky
    #[arg(long, value_enum, default_value_t = SolverArg::Cg)]
    pub solver: SolverArg,
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
    /// The library's hyper-parameters from the flags.
    pub fn params(&self) -> AlsParams {
        AlsParams {
            rank: self.rank,
            max_iter: self.max_iter,
            reg_param: self.reg_param,
            seed: self.seed,
            nonnegative: self.nonnegative,
            implicit_prefs: self.implicit_prefs,
            alpha: self.alpha,
            confidence: self.confidence.into(),
            solver: self.solver.for_data(self.implicit_prefs),
            cg_steps: self.cg_steps,
            biases: self.biases,
            compute_loss: self.loss || (self.verbose && self.implicit_prefs),
        }
    }
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let params = a.params();
    params.validate()?;
    common::init_threads(a.threads)?;
    let start = Instant::now();
    // Training never uses times: a timestamp column is read only when --time-col names it.
    let data = a.input.read_with(&a.train, |o| o.ignore_times = true)?;
    let read_seconds = start.elapsed().as_secs_f64();
    let dup = a.input.duplicates(a.implicit_prefs);

    let pb = common::progress(params.max_iter as u64, "iterations");
    let verbose = a.verbose;
    let implicit = a.implicit_prefs;
    let mut on_iter = |r: &IterationReport| {
        pb.inc(1);
        if verbose {
            let what = if implicit { "loss" } else { "train RMSE" };
            let loss = r.loss.map_or_else(|| "-".to_string(), |l| format!("{l:.6}"));
            pb.suspend(|| {
                eprintln!("iteration {:>3}: {:.3}s  {what} {loss}", r.iteration, r.seconds)
            });
        }
    };
    let model = train_model(&data, dup, &params, a.clip_predictions, &mut on_iter)?;
    pb.finish_and_clear();
    alternator::modelfile::save(&model, &a.model)?;
    let final_loss = model.summary.history.last().copied();
    if a.json {
        let out = serde_json::json!({
            "model": a.model.display().to_string(),
            "train": a.train.display().to_string(),
            "users": model.users.len(),
            "items": model.items.len(),
            "interactions": model.summary.interactions,
            "stored_entries": model.seen.nnz(),
            "rank": params.rank,
            "iterations": params.max_iter,
            "implicit_prefs": params.implicit_prefs,
            "read_seconds": read_seconds,
            "fit_seconds": model.summary.fit_seconds,
            "final_loss": final_loss,
            "loss_kind": if implicit { "loss" } else { "train_rmse" },
            "history": model.summary.history,
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
            model.users.len(),
            model.items.len(),
            model.summary.interactions,
            params.max_iter,
            model.summary.fit_seconds,
        );
    }
    Ok(())
}
