//! Implicit-feedback ALS (Hu, Koren & Volinsky) with `implicit`'s or Spark's conventions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::observe::{Observer, Snapshot};
use super::{FitOutput, IterationReport, diverged, gram, init_factors, weights};
use crate::error::Result;
use crate::kernels::{self, ImplicitWeights, Scratch};
use crate::model::Factors;
use crate::params::{AlsParams, Confidence, Solver};
use crate::sparse::Csr;

/// Rows per rayon task at least.
const MIN_ROWS_PER_TASK: usize = 16;

/// The diagonal regularization of one row: `λ` (`implicit`) or `λ·n⁺` (Spark, `n⁺` = entries
/// with a positive value).
pub(super) fn row_diag(params: &AlsParams, vals: &[f32]) -> f32 {
    match params.confidence {
        Confidence::Implicit => params.reg_param,
        Confidence::Spark => params.reg_param * vals.iter().filter(|&&v| v > 0.0).count() as f32,
    }
}

pub(super) fn fit(
    user_items: &Csr,
    params: &AlsParams,
    start: Option<(Factors, Factors)>,
    observe: &mut Observer<'_>,
) -> Result<FitOutput> {
    let k = params.rank;
    let item_users = user_items.transpose();
    let (nu, ni) = (user_items.nrows(), user_items.ncols());
    let spark = params.confidence == Confidence::Spark;
    let (mut uf, mut itf) = start.unwrap_or_else(|| {
        (init_factors(nu, k, params.seed, 0, spark), init_factors(ni, k, params.seed, 1, spark))
    });
    let conf = weights(params);
    let mut history = Vec::new();
    for it in 1..=params.max_iter {
        let t0 = Instant::now();
        let bad = if spark {
            // Spark: items from users, then users from items.
            half(&item_users, &uf, &mut itf, params, conf)
                .or(half(user_items, &itf, &mut uf, params, conf))
        } else {
            // implicit: users from items, then items from users.
            half(user_items, &itf, &mut uf, params, conf).or(half(
                &item_users,
                &uf,
                &mut itf,
                params,
                conf,
            ))
        };
        if bad.is_some() || !uf.all_finite() || !itf.all_finite() {
            return Err(diverged(params, user_items, "factors", it));
        }
        let loss =
            params.compute_loss.then(|| training_loss(user_items, &item_users, &uf, &itf, params));
        if let Some(l) = loss {
            if !l.is_finite() {
                return Err(diverged(params, user_items, "training loss", it));
            }
            history.push(l);
        }
        let report = IterationReport { iteration: it, seconds: t0.elapsed().as_secs_f64(), loss };
        let snapshot =
            Snapshot { iteration: it, user_factors: &uf, item_factors: &itf, biases: None };
        if observe(&report, &snapshot).is_break() {
            break;
        }
    }
    Ok(FitOutput { user_factors: uf, item_factors: itf, biases: None, history })
}

/// Solves every row of `rows` against the fixed `src`; returns the first row whose Cholesky
/// failed, if any.
fn half(
    rows: &Csr,
    src: &Factors,
    dst: &mut Factors,
    params: &AlsParams,
    conf: ImplicitWeights,
) -> Option<usize> {
    let k = params.rank;
    let yty = gram(src);
    let y = src.as_slice();
    let first_bad = AtomicUsize::new(usize::MAX);
    let prefetch = kernels::next_row_prefetch_pays();
    dst.as_mut_slice().par_chunks_mut(k).enumerate().with_min_len(MIN_ROWS_PER_TASK).for_each_init(
        || Scratch::new(k),
        |s, (r, x)| {
            let (idx, vals) = rows.row(r);
            // Start fetching the next row's factor rows while this one computes (rows run in
            // index order within a task): the gathers are bound by memory latency (where it
            // pays: see `next_row_prefetch_pays`).
            if prefetch && r + 1 < rows.nrows() {
                kernels::prefetch_rows_l2(y, rows.row(r + 1).0, k);
            }
            if vals.iter().all(|&v| v == 0.0) {
                x.fill(0.0);
                return;
            }
            let diag = row_diag(params, vals);
            match params.solver {
                Solver::Cg => {
                    kernels::implicit_cg_row(&yty, diag, y, idx, vals, conf, params.cg_steps, x, s)
                }
                Solver::Cholesky => {
                    if !kernels::implicit_cholesky_row(&yty, diag, y, idx, vals, conf, x, s) {
                        first_bad.fetch_min(r, Ordering::Relaxed);
                    }
                }
            }
        },
    );
    let bad = first_bad.into_inner();
    (bad != usize::MAX).then_some(bad)
}

/// `implicit`'s `calculate_training_loss` (see the module docs of `als`).
pub(super) fn training_loss(
    user_items: &Csr,
    item_users: &Csr,
    uf: &Factors,
    itf: &Factors,
    params: &AlsParams,
) -> f64 {
    let k = params.rank;
    let conf = weights(params);
    let yty = gram(itf);
    let y = itf.as_slice();
    let per_user: Vec<(f64, f64, f64)> = (0..user_items.nrows())
        .into_par_iter()
        .with_min_len(64)
        .map_init(
            || Scratch::new(k),
            |s, u| {
                let (idx, vals) = user_items.row(u);
                let x = uf.row(u);
                let (l, c) = kernels::implicit_loss_row(&yty, y, idx, vals, conf, x, s);
                let norm = f64::from(kernels::dot(x, x));
                let w = match params.confidence {
                    Confidence::Implicit => 1.0,
                    Confidence::Spark => vals.iter().filter(|&&v| v > 0.0).count() as f64,
                };
                (l, c, w * norm)
            },
        )
        .collect();
    let item_norms: Vec<f64> = (0..itf.rows())
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let yi = itf.row(i);
            let w = match params.confidence {
                Confidence::Implicit => 1.0,
                Confidence::Spark => {
                    item_users.row(i).1.iter().filter(|&&v| v > 0.0).count() as f64
                }
            };
            w * f64::from(kernels::dot(yi, yi))
        })
        .collect();
    let (mut loss, mut total_conf, mut user_norm) = (0f64, 0f64, 0f64);
    for (l, c, n) in &per_user {
        loss += l;
        total_conf += c;
        user_norm += n;
    }
    let item_norm: f64 = item_norms.iter().sum();
    let nonzero = user_items.values().iter().filter(|&&v| v != 0.0).count() as f64;
    loss += f64::from(params.reg_param) * (item_norm + user_norm);
    let cells = user_items.nrows() as f64 * user_items.ncols() as f64;
    loss / (total_conf + cells - nonzero)
}
