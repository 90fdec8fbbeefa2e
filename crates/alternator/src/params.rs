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

/// The resolved hyper-parameters of one ALS training run, as a trained model records them.
///
/// Build them with [`Als`](crate::Als), which fills in the defaults of the kind of feedback
/// and validates them; [`AlsParams::explicit`] and [`AlsParams::implicit`] are those defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlsParams {
    /// Number of latent factors (Spark `rank`, `implicit` `factors`).
    pub rank: usize,
    /// Number of full iterations (each solves both sides).
    pub max_iter: usize,
    /// Regularization λ (Spark `regParam`, `implicit` `regularization`).
    #[serde(serialize_with = "crate::json::serialize_f32")]
    pub reg_param: f32,
    /// Seed of the factor initialisation.
    pub seed: u64,
    /// Constrain factors to be non-negative (Spark `nonnegative`).
    pub nonnegative: bool,
    /// Implicit feedback (Spark `implicitPrefs`): fit preferences with confidences.
    pub implicit_prefs: bool,
    /// Confidence scale α for implicit feedback.
    #[serde(serialize_with = "crate::json::serialize_f32")]
    pub alpha: f32,
    /// Implicit-feedback confidence convention.
    pub confidence: Confidence,
    /// Linear solver. Explicit ALS always solves exactly; this picks the implicit solver.
    pub solver: Solver,
    /// Conjugate-gradient steps per row per half-iteration (`implicit`'s `cg_steps`).
    pub cg_steps: usize,
    /// Learn a global mean and user/item biases jointly with the factors (explicit only).
    pub biases: bool,
    /// Compute the training loss after every iteration (costs one extra pass).
    pub compute_loss: bool,
}

impl Default for AlsParams {
    /// [`AlsParams::explicit`].
    fn default() -> Self {
        AlsParams::explicit()
    }
}

/// The seed used when none is given: training is deterministic by default.
pub const DEFAULT_SEED: u64 = 42;
/// Upper bound on `max_iter`: anything larger is almost surely a typo.
pub const MAX_ITER_LIMIT: usize = 10_000;
/// Upper bound on `rank`.
pub const MAX_RANK: usize = 4096;

impl AlsParams {
    /// Spark MLlib's `ALS()` defaults: rank 10, 10 iterations, λ = 0.1 (ALS-WR), exact solves.
    pub fn explicit() -> AlsParams {
        AlsParams {
            rank: 10,
            max_iter: 10,
            reg_param: 0.1,
            seed: DEFAULT_SEED,
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

    /// `implicit`'s `AlternatingLeastSquares()` defaults (0.7): 100 factors, 15 iterations,
    /// λ = 0.01, α = 1, its confidence convention, conjugate gradient with 3 steps.
    pub fn implicit() -> AlsParams {
        AlsParams {
            rank: 100,
            max_iter: 15,
            reg_param: 0.01,
            implicit_prefs: true,
            solver: Solver::Cg,
            ..AlsParams::explicit()
        }
    }

    /// Spark's `ALS(implicitPrefs=True)` defaults: rank 10, 10 iterations, λ = 0.1 scaled
    /// per row, `c = 1 + α·|r|`, conjugate gradient.
    pub fn spark_implicit() -> AlsParams {
        AlsParams {
            implicit_prefs: true,
            confidence: Confidence::Spark,
            solver: Solver::Cg,
            ..AlsParams::explicit()
        }
    }

    /// Checks every parameter, naming the offending one.
    pub fn validate(&self) -> Result<()> {
        if self.rank == 0 || self.rank > MAX_RANK {
            return Err(Error::param(
                "rank",
                format!("must be between 1 and {MAX_RANK}, got {}", self.rank),
            ));
        }
        if self.max_iter > MAX_ITER_LIMIT {
            return Err(Error::param(
                "max_iter",
                format!("must be at most {MAX_ITER_LIMIT}, got {}", self.max_iter),
            ));
        }
        if !self.reg_param.is_finite() || self.reg_param < 0.0 {
            return Err(Error::param(
                "reg_param",
                format!("must be a finite number >= 0, got {}", self.reg_param),
            ));
        }
        if !self.alpha.is_finite() || self.alpha <= 0.0 {
            return Err(Error::param(
                "alpha",
                format!("must be a finite number > 0, got {}", self.alpha),
            ));
        }
        if self.cg_steps == 0 || self.cg_steps > MAX_RANK {
            return Err(Error::param(
                "cg_steps",
                format!("must be between 1 and {MAX_RANK}, got {}", self.cg_steps),
            ));
        }
        if self.biases && self.implicit_prefs {
            return Err(Error::param(
                "biases",
                "bias terms are for explicit ratings; turn off biases or implicit feedback",
            ));
        }
        Ok(())
    }
}
