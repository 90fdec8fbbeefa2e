//! Alternating least squares training: explicit (Spark ALS-WR) and implicit (Hu, Koren & Volinsky).
//!
//! # Explicit ratings (Spark MLlib semantics)
//!
//! Both sides start from seeded standard-normal rows scaled to unit length (Spark's
//! `XORShiftRandom` gaussian divided by the row's norm; here a SplitMix64 stream per row,
//! so the start does not depend on the thread count). Each iteration solves every item from the
//! user factors, then every user from the item factors. User `u` with rated items `I_u`
//! (`n_u = |I_u|`, repeated ratings counted separately) solves the ALS-WR normal equations
//!
//! ```text
//! (Σ_{i∈I_u} y_i y_iᵀ + λ·n_u·I) x_u = Σ_{i∈I_u} r_ui y_i
//! ```
//!
//! by Cholesky (Gram and right-hand side accumulated in f64, like Spark's `NormalEquation`),
//! or by non-negative least squares of the same quadratic with `nonnegative`. Rows without
//! ratings get zero factors.
//!
//! With `biases`, the model is `r̂ = μ + b_u + b_i + x_uᵀy_i` with `μ` the training mean:
//! the user unknowns are `[x_u, b_u]`, the item features `[y_i, 1]` and the target
//! `r − μ − b_i` (symmetrically for items); the bias coordinate is regularized by
//! `λ·`[`BIAS_REG_SCALE`]`·n_u`.
//!
//! # Implicit feedback
//!
//! Minimises `Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + reg` with `p_ui = 1` when `r_ui > 0`, else 0,
//! without forming the dense matrix: `YᵀY` is computed once per half-iteration and each row
//! adds its observed corrections, `A = YᵀY + Σ_obs (c − 1) y yᵀ + λ_row I`,
//! `b = Σ_{obs, r>0} c·y`. Stored zeros are ignored.
//!
//! * [`Confidence::Implicit`] (the `implicit` library 0.7): `c = α·|r|`, `λ_row = λ`; factors
//!   start uniform in `[0, 0.01)`; each iteration solves users, then items.
//! * [`Confidence::Spark`]: `c = 1 + α·|r|`, `λ_row = λ·n⁺` (`n⁺` = the row's entries with
//!   `r > 0`, Spark's `numExplicits`); unit-norm normal start; items, then users.
//!
//! [`Solver::Cg`](crate::Solver::Cg) runs `cg_steps` conjugate-gradient steps warm-started from the previous
//! factors (exactly `implicit`'s `least_squares_cg`); [`Solver::Cholesky`](crate::Solver::Cholesky) solves exactly.
//!
//! The training loss (`compute_loss`) is `implicit`'s `calculate_training_loss`:
//! `[Σ_u (x_uᵀA₀x_u − 2b_uᵀx_u + Σ_obs c) + λ(‖X‖² + ‖Y‖²)] / (Σ_obs c + |U|·|I| − nnz)`
//! (with Spark's convention the penalty is `λ(Σ n⁺_u‖x_u‖² + Σ n⁺_i‖y_i‖²)`). Explicit
//! training reports the training RMSE.
//!
//! Every half-iteration runs rows in parallel on the caller's rayon pool; each row's solve is
//! independent and every reduction has a fixed order, so a seed gives bit-identical factors at
//! any thread count.

mod builder;
mod explicit;
mod implicit;
pub mod observe;
mod warm;

pub use builder::{Als, MAX_THREADS};
pub use warm::training_loss;

use std::time::Instant;

use rayon::prelude::*;

use crate::data::Interactions;
use crate::error::{Error, IdKind, Result};
use crate::kernels::{self, ImplicitWeights, Scratch};
use crate::model::{Biases, Factors, Model, TrainingSummary};
use crate::params::{AlsParams, Confidence};
use crate::rng::SplitMix64;
use crate::sparse::{Csr, Duplicates};

/// The bias coordinate's regularization relative to the factors': with biases, `b_u` is
/// penalised by `λ·BIAS_REG_SCALE·n_u` (and `b_i` likewise).
pub const BIAS_REG_SCALE: f32 = 1.0;

/// What one iteration did, passed to the caller's callback after every iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationReport {
    /// 1-based iteration number.
    pub iteration: usize,
    /// Wall time of this iteration in seconds (including the loss, when computed).
    pub seconds: f64,
    /// Training RMSE (explicit) or training loss (implicit, with `compute_loss`).
    pub loss: Option<f64>,
}

/// The result of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FitOutput {
    /// `users × rank` user factors.
    pub user_factors: Factors,
    /// `items × rank` item factors.
    pub item_factors: Factors,
    /// Global mean and biases, with `biases`.
    pub biases: Option<Biases>,
    /// The loss of every iteration where it was computed (see [`IterationReport::loss`]).
    pub history: Vec<f64>,
}

/// Trains ALS factors on `user_items` (users × items, duplicates already combined per the
/// caller's policy) with `params`, calling `on_iter` after every iteration.
///
/// Errors: invalid parameters ([`Error::InvalidParameter`]), no interactions or non-finite
/// values ([`Error::Invalid`]), non-finite factors ([`Error::Diverged`], naming the likely cause).
#[cfg(test)]
pub(crate) fn fit(
    user_items: &Csr,
    params: &AlsParams,
    on_iter: &mut dyn FnMut(&IterationReport),
) -> Result<FitOutput> {
    observe::fit_with(user_items, params, &mut |r, _| {
        on_iter(r);
        std::ops::ControlFlow::Continue(())
    })
}

/// The checks of [`fit`]: valid parameters, some interactions, finite values.
fn check_inputs(user_items: &Csr, params: &AlsParams) -> Result<()> {
    params.validate()?;
    if user_items.nnz() == 0 {
        return Err(Error::Invalid("no interactions to train on".into()));
    }
    if let Some(v) = user_items.values().iter().find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("training values must be finite, found {v}")));
    }
    Ok(())
}

/// The interactions a fit trains on: borrowed ([`Als::fit`]) or taken ([`Als::fit_owned`],
/// whose per-interaction arrays are dropped once the training matrix is built).
pub(crate) enum Source<'a> {
    /// The caller keeps the data.
    Borrowed(&'a Interactions),
    /// The fit takes the data.
    Owned(Box<Interactions>),
}

impl Source<'_> {
    /// The interactions, whichever way they are held.
    pub(crate) fn interactions(&self) -> &Interactions {
        match self {
            Source::Borrowed(d) => d,
            Source::Owned(d) => d,
        }
    }
}

/// Builds the complete [`Model`] from ingested data ([`Als::fit`], [`Als::fit_owned`]):
/// combines duplicates per `dup`, trains with [`fit`], and records the ids, the training CSR
/// (`seen`), the value range, the number of interactions, the fit time, the loss history, the
/// time of training and the source path. Owned data keeps only its ids past the CSR build.
/// Training starts from `start` when given (checked by the caller), and stops with
/// [`Error::Cancelled`] when `on_iter` breaks.
pub(crate) fn train_model(
    data: Source<'_>,
    dup: Duplicates,
    params: &AlsParams,
    clip_predictions: bool,
    start: Option<(Factors, Factors)>,
    on_iter: &mut dyn FnMut(&IterationReport) -> std::ops::ControlFlow<()>,
) -> Result<Model> {
    params.validate()?;
    let t0 = Instant::now();
    let d = data.interactions();
    let csr = d.to_csr(dup);
    let (value_min, value_max) = d.value_range();
    let interactions = d.len();
    let source = d.path.display().to_string();
    let (users, items) = match data {
        Source::Borrowed(d) => (d.users.clone(), d.items.clone()),
        // The triplets, times and line numbers go here, before the transpose is built.
        Source::Owned(d) => {
            let d = *d;
            (d.users, d.items)
        }
    };
    let mut cancelled = None;
    let out = observe::fit_from(&csr, params, start, &mut |r, _| {
        let flow = on_iter(r);
        if flow.is_break() {
            cancelled = Some(r.iteration);
        }
        flow
    })?;
    if let Some(iteration) = cancelled {
        return Err(Error::Cancelled { iteration });
    }
    let fit_seconds = t0.elapsed().as_secs_f64();
    let trained_at_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(Model {
        params: params.clone(),
        users,
        items,
        user_factors: out.user_factors,
        item_factors: out.item_factors,
        biases: out.biases,
        clip_predictions,
        seen: csr,
        summary: TrainingSummary {
            interactions,
            value_min,
            value_max,
            fit_seconds,
            history: out.history,
            trained_at_unix,
            source,
        },
        bounds: Default::default(),
    })
}

/// Folds in a new user (`implicit`'s `recalculate_user`): one exact least-squares solve of
/// the user's row against the model's fixed item factors, with the objective and
/// regularization the model was trained with — explicit ALS-WR (`λ·n`, biases and
/// non-negativity as trained) or the implicit normal equations of the model's confidence
/// convention. `items` are item indices, `values` their ratings / counts. Returns the factors
/// and, for a model with biases, the user bias.
pub(crate) fn fold_in_user(
    model: &Model,
    items: &[u32],
    values: &[f32],
) -> Result<(Vec<f32>, Option<f32>)> {
    let other_bias = model.biases.as_ref().map(|b| (b.global, b.item.as_slice()));
    fold_in(model, &model.item_factors, other_bias, items, values, IdKind::Item)
}

/// Folds in a new item against the model's fixed user factors (see [`fold_in_user`]).
/// `users` are user indices. Returns the item factors and, with biases, the item bias.
pub(crate) fn fold_in_item(
    model: &Model,
    users: &[u32],
    values: &[f32],
) -> Result<(Vec<f32>, Option<f32>)> {
    let other_bias = model.biases.as_ref().map(|b| (b.global, b.user.as_slice()));
    fold_in(model, &model.user_factors, other_bias, users, values, IdKind::User)
}

fn fold_in(
    model: &Model,
    src: &Factors,
    other_bias: Option<(f32, &[f32])>,
    idx: &[u32],
    vals: &[f32],
    kind: IdKind,
) -> Result<(Vec<f32>, Option<f32>)> {
    let params = &model.params;
    let k = src.rank();
    if idx.len() != vals.len() {
        return Err(Error::Invalid(format!(
            "fold-in needs one value per {kind}: got {} {kind}s and {} values",
            idx.len(),
            vals.len()
        )));
    }
    if let Some(&bad) = idx.iter().find(|&&i| i as usize >= src.rows()) {
        return Err(Error::IndexOutOfRange { kind, index: u64::from(bad), len: src.rows() as u64 });
    }
    if let Some(v) = vals.iter().find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("fold-in values must be finite, found {v}")));
    }
    let mut x = vec![0f32; k];
    let mut scratch = Scratch::new(k + 1);
    let singular = || Error::Singular { reg_param: params.reg_param };
    if params.implicit_prefs {
        if vals.iter().all(|&v| v == 0.0) {
            return Ok((x, None));
        }
        let yty = gram(src);
        let conf = weights(params);
        let diag = implicit::row_diag(params, vals);
        if !kernels::implicit_cholesky_row(
            &yty,
            diag,
            src.as_slice(),
            idx,
            vals,
            conf,
            &mut x,
            &mut scratch,
        ) {
            return Err(singular());
        }
        Ok((x, None))
    } else {
        let mut bias = 0f32;
        let row = kernels::ExplicitRow {
            y: src.as_slice(),
            k,
            idx,
            vals,
            biases: other_bias,
            reg: params.reg_param,
            reg_bias: params.reg_param * BIAS_REG_SCALE,
            nonnegative: params.nonnegative,
        };
        if kernels::explicit_row(&row, &mut x, &mut bias, &mut scratch).is_none() {
            return Err(singular());
        }
        Ok((x, other_bias.map(|_| bias)))
    }
}

/// The implicit confidence weights of `params`.
fn weights(params: &AlsParams) -> ImplicitWeights {
    match params.confidence {
        Confidence::Implicit => ImplicitWeights::Implicit { alpha: params.alpha },
        Confidence::Spark => ImplicitWeights::Spark { alpha: params.alpha },
    }
}

/// Rows per block of the `YᵀY` reduction: fixed, so the sum order never depends on threads.
const GRAM_BLOCK: usize = 1024;

/// Full symmetric `YᵀY` (f32, `k × k`), summed in f64 over fixed blocks of rows in order.
fn gram(y: &Factors) -> Vec<f32> {
    let k = y.rank();
    let partials: Vec<Vec<f32>> = y
        .as_slice()
        .par_chunks(GRAM_BLOCK * k.max(1))
        .map(|block| {
            let mut g = vec![0f32; k * k];
            kernels::gram_lower(block, k, &mut g);
            g
        })
        .collect();
    let mut acc = vec![0f64; k * k];
    for p in &partials {
        for (a, v) in acc.iter_mut().zip(p) {
            *a += f64::from(*v);
        }
    }
    let mut full = vec![0f32; k * k];
    for i in 0..k {
        for j in 0..=i {
            let v = acc[i * k + j] as f32;
            full[i * k + j] = v;
            full[j * k + i] = v;
        }
    }
    full
}

/// Seeded start: for `side` 0 (users) / 1 (items), row `r` uses stream `2r + side` of `seed`.
/// `unit_normal`: standard normal scaled to unit length (Spark); otherwise uniform `[0, 0.01)`
/// (`implicit`).
fn init_factors(rows: usize, k: usize, seed: u64, side: u64, unit_normal: bool) -> Factors {
    let mut f = Factors::zeros(rows, k);
    f.as_mut_slice().par_chunks_mut(k).enumerate().for_each(|(r, row)| {
        let mut g = SplitMix64::stream(seed, 2 * r as u64 + side);
        if unit_normal {
            let mut norm = 0f64;
            for v in row.iter_mut() {
                let z = g.next_normal();
                *v = z as f32;
                norm += f64::from(*v) * f64::from(*v);
            }
            let norm = norm.sqrt();
            if norm > 0.0 {
                for v in row.iter_mut() {
                    *v = (f64::from(*v) / norm) as f32;
                }
            }
        } else {
            for v in row.iter_mut() {
                *v = (g.next_f64() * 0.01) as f32;
            }
        }
    });
    f
}

/// The `Diverged` error for non-finite factors, with the likely cause.
fn diverged(params: &AlsParams, data: &Csr, what: &str, iteration: usize) -> Error {
    let max_abs = data.values().iter().fold(0f32, |m, v| m.max(v.abs()));
    let cause = if params.reg_param == 0.0 {
        "reg_param is 0, so rows with fewer interactions than the rank have singular normal \
         equations; use reg_param > 0 (e.g. 0.1)"
            .to_string()
    } else if max_abs > 1e6 {
        format!("the values are very large (max |value| = {max_abs:e}); rescale them")
    } else if params.implicit_prefs
        && params.confidence == Confidence::Implicit
        && data.values().iter().any(|&v| v != 0.0 && params.alpha * v.abs() < 1.0)
    {
        format!(
            "with the implicit confidence convention an entry's confidence α·|r| below 1 makes \
             its weight negative (α = {}); raise alpha, use the Spark convention, or scale the \
             values",
            params.alpha
        )
    } else {
        "the normal equations became ill-conditioned; try a larger reg_param".to_string()
    };
    Error::Diverged { message: format!("non-finite {what} after iteration {iteration}: {cause}") }
}

#[cfg(test)]
mod tests;
