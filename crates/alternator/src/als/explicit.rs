//! Explicit ALS-WR (Spark MLlib), optionally with biases and non-negativity.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::observe::{BiasesRef, Observer, Snapshot};
use super::{BIAS_REG_SCALE, FitOutput, IterationReport, diverged, init_factors};
use crate::error::Result;
use crate::kernels::{self, ExplicitRow, Scratch};
use crate::model::{Biases, Factors};
use crate::params::AlsParams;
use crate::sparse::Csr;

/// Rows per rayon task at least (keeps scheduling overhead small on short rows).
const MIN_ROWS_PER_TASK: usize = 16;

pub(super) fn fit(
    user_items: &Csr,
    params: &AlsParams,
    start: Option<(Factors, Factors)>,
    observe: &mut Observer<'_>,
) -> Result<FitOutput> {
    let k = params.rank;
    let item_users = user_items.transpose();
    let (nu, ni) = (user_items.nrows(), user_items.ncols());
    let (mut uf, mut itf) = start.unwrap_or_else(|| {
        (init_factors(nu, k, params.seed, 0, true), init_factors(ni, k, params.seed, 1, true))
    });
    let mu = if params.biases {
        let s: f64 = user_items.values().iter().map(|&v| f64::from(v)).sum();
        (s / user_items.nnz() as f64) as f32
    } else {
        0.0
    };
    // User biases start at each user's mean deviation from μ (the first half-step solves the
    // items against them); item biases are solved first, so their start does not matter.
    let mut ub: Vec<f32> = if params.biases {
        (0..nu)
            .map(|u| {
                let vals = user_items.row(u).1;
                let s: f64 = vals.iter().map(|&v| f64::from(v) - f64::from(mu)).sum();
                if vals.is_empty() { 0.0 } else { (s / vals.len() as f64) as f32 }
            })
            .collect()
    } else {
        vec![0f32; nu]
    };
    let mut ib = vec![0f32; ni];
    let mut history = Vec::with_capacity(params.max_iter);
    let mut sse = vec![0f64; nu.max(ni)];
    for it in 1..=params.max_iter {
        let t0 = Instant::now();
        let bad_items = half(&item_users, &uf, &ub, mu, &mut itf, &mut ib, params, &mut sse);
        // The user half-step solves against the new item factors, so its rows' errors are
        // the training errors of this iteration's model.
        let bad_users = half(user_items, &itf, &ib, mu, &mut uf, &mut ub, params, &mut sse);
        if bad_items.is_some()
            || bad_users.is_some()
            || !uf.all_finite()
            || !itf.all_finite()
            || !ub.iter().chain(&ib).all(|v| v.is_finite())
        {
            return Err(diverged(params, user_items, "factors", it));
        }
        let rmse = (sse.iter().sum::<f64>() / user_items.nnz().max(1) as f64).sqrt();
        history.push(rmse);
        let report = IterationReport {
            iteration: it,
            seconds: t0.elapsed().as_secs_f64(),
            loss: Some(rmse),
        };
        let snapshot = Snapshot {
            iteration: it,
            user_factors: &uf,
            item_factors: &itf,
            biases: params.biases.then_some(BiasesRef { global: mu, user: &ub, item: &ib }),
        };
        if observe(&report, &snapshot).is_break() {
            break;
        }
    }
    let biases = params.biases.then_some(Biases { global: mu, user: ub, item: ib });
    Ok(FitOutput { user_factors: uf, item_factors: itf, biases, history })
}

/// Solves every row of `rows` (dst side) against `src`, writing each row's training error
/// (see [`kernels::explicit_row`]) to `sse[row]`. Returns the first row whose normal
/// equations were singular, if any (deterministic: the minimum such row).
#[allow(clippy::too_many_arguments)]
fn half(
    rows: &Csr,
    src: &Factors,
    src_bias: &[f32],
    mu: f32,
    dst: &mut Factors,
    dst_bias: &mut [f32],
    params: &AlsParams,
    sse: &mut Vec<f64>,
) -> Option<usize> {
    let k = params.rank;
    let first_bad = AtomicUsize::new(usize::MAX);
    let y = src.as_slice();
    sse.resize(rows.nrows(), 0.0);
    dst.as_mut_slice()
        .par_chunks_mut(k)
        .zip(dst_bias.par_iter_mut())
        .zip(sse.par_iter_mut())
        .enumerate()
        .with_min_len(MIN_ROWS_PER_TASK)
        .for_each_init(
            || Scratch::new(k + 2),
            |s, (r, ((x, b), e))| {
                let (idx, vals) = rows.row(r);
                let p = ExplicitRow {
                    y,
                    k,
                    idx,
                    vals,
                    biases: params.biases.then_some((mu, src_bias)),
                    reg: params.reg_param,
                    reg_bias: params.reg_param * BIAS_REG_SCALE,
                    nonnegative: params.nonnegative,
                };
                match kernels::explicit_row(&p, x, b, s) {
                    Some(v) => *e = v,
                    None => {
                        *e = f64::NAN;
                        first_bad.fetch_min(r, Ordering::Relaxed);
                    }
                }
            },
        );
    let bad = first_bad.into_inner();
    (bad != usize::MAX).then_some(bad)
}

/// Training RMSE `sqrt(Σ (r − r̂)² / nnz)` computed directly from the factors, summed per user
/// then in user order: the test oracle of the error the half-steps report.
#[cfg(test)]
pub(super) fn train_rmse(
    user_items: &Csr,
    uf: &Factors,
    itf: &Factors,
    biases: Option<(f32, &[f32], &[f32])>,
) -> f64 {
    let per_row: Vec<f64> = (0..user_items.nrows())
        .into_par_iter()
        .with_min_len(64)
        .map(|u| {
            let (idx, vals) = user_items.row(u);
            let (offset, other) = match biases {
                Some((mu, ub, ib)) => (mu + ub.get(u).copied().unwrap_or(0.0), Some(ib)),
                None => (0.0, None),
            };
            kernels::explicit_sse_row(uf.row(u), itf.as_slice(), idx, vals, offset, other)
        })
        .collect();
    let sse: f64 = per_row.iter().sum();
    (sse / user_items.nnz().max(1) as f64).sqrt()
}
