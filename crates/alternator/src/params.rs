//! Training hyper-parameters, named after Spark MLlib's `ALS` (in snake case).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How implicit feedback values become confidences (see [`AlsParams::confidence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The `implicit` library's convention: an observed entry with value `r` has confidence
    /// `c = α·|r|`, every unobserved entry `c = 1`, and λ is not scaled. The default, because
    /// it is what most implicit-feedback users (play counts, clicks) expect and tune for.
    #[default]
    Implicit,
    /// Spark's `implicitPrefs = true`: `c = 1 + α·|r|`, and λ is multiplied by the row's
    /// number of positive entries (ALS-WR).
    Spark,
}

/// Which linear solver computes each row's factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// Exact solve of the row's normal equations by Cholesky factorisation.
    #[default]
    Cholesky,
    /// Conjugate gradient, warm-started from the previous factors (`implicit`'s default).
    Cg,
}

/// Hyper-parameters of one ALS training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlsParams {
    /// Number of latent factors (Spark `rank`, `implicit` `factors`). Default 10.
    pub rank: usize,
    /// Number of full iterations (each solves items, then users). Default 10.
    pub max_iter: usize,
    /// Regularization λ (Spark `regParam`). Default 0.1.
    pub reg_param: f32,
    /// Seed of the factor initialisation.
    pub seed: u64,
    /// Constrain factors to be non-negative (Spark `nonnegative`).
    pub nonnegative: bool,
    /// Implicit feedback (Spark `implicitPrefs`): fit preferences with confidences.
    pub implicit_prefs: bool,
    /// Confidence scale α for implicit feedback. Default 1.0.
    pub alpha: f32,
    /// Implicit-feedback confidence convention.
    pub confidence: Confidence,
    /// Linear solver. Explicit ALS always solves exactly; this picks the implicit solver.
    pub solver: Solver,
    /// Conjugate-gradient steps per row per half-iteration (`implicit`'s `cg_steps`). Default 3.
    pub cg_steps: usize,
    /// Learn a global mean and user/item biases jointly with the factors (explicit only).
    pub biases: bool,
    /// Compute the training loss after every iteration (costs one extra pass).
    pub compute_loss: bool,
}

impl Default for AlsParams {
    fn default() -> Self {
        AlsParams {
            rank: 10,
            max_iter: 10,
            reg_param: 0.1,
            seed: 42,
            nonnegative: false,
            implicit_prefs: false,
            alpha: 1.0,
            confidence: Confidence::Implicit,
            solver: Solver::Cholesky,
            cg_steps: 3,
            biases: false,
            compute_loss: false,
        }
    }
}

/// Upper bound on `max_iter`: anything larger is almost surely a typo.
pub const MAX_ITER_LIMIT: usize = 10_000;
/// Upper bound on `rank`.
pub const MAX_RANK: usize = 4096;

impl AlsParams {
    /// Checks every parameter, naming the offending flag.
    pub fn validate(&self) -> Result<()> {
        if self.rank == 0 || self.rank > MAX_RANK {
            return Err(Error::param(
                "--rank",
                format!("must be between 1 and {MAX_RANK}, got {}", self.rank),
            ));
        }
        if self.max_iter > MAX_ITER_LIMIT {
            return Err(Error::param(
                "--max-iter",
                format!("must be at most {MAX_ITER_LIMIT}, got {}", self.max_iter),
            ));
        }
        if !self.reg_param.is_finite() || self.reg_param < 0.0 {
            return Err(Error::param(
                "--reg-param",
                format!("must be a finite number >= 0, got {}", self.reg_param),
            ));
        }
        if !self.alpha.is_finite() || self.alpha <= 0.0 {
            return Err(Error::param(
                "--alpha",
                format!("must be a finite number > 0, got {}", self.alpha),
            ));
        }
        if self.cg_steps == 0 || self.cg_steps > MAX_RANK {
            return Err(Error::param(
                "--cg-steps",
                format!("must be between 1 and {MAX_RANK}, got {}", self.cg_steps),
            ));
        }
        if self.biases && self.implicit_prefs {
            return Err(Error::param(
                "--biases",
                "bias terms are for explicit ratings; drop --biases or --implicit-prefs",
            ));
        }
        Ok(())
    }
}
