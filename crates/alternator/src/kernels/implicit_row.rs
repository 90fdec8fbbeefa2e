//! The implicit-feedback row kernels: the confidence weights, the conjugate-gradient and the
//! Cholesky row solves, and a row's share of the training loss.

use super::blas::{axpy_g, dot_g, gemv_n_g, gemv_t_g, symv_g, syr_lower_g};
use super::cholesky::{cholesky_solve_g, llt_solve_f32};
use super::prefetch::{PREFETCH_AHEAD, prefetch_row};
use super::{Scratch, madd};

/// The implicit-feedback confidence convention of a row solve, with α applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ImplicitWeights {
    /// `implicit`: `c = α·|r|`; `A += (c − 1)·y yᵀ`; `b += c·y` when `r > 0`.
    Implicit {
        /// α.
        alpha: f32,
    },
    /// Spark: `c = 1 + α·|r|`; `A += (c − 1)·y yᵀ`; `b += c·y` when `r > 0`.
    Spark {
        /// α.
        alpha: f32,
    },
}

impl ImplicitWeights {
    /// `(wA, wb)` for a stored value `r`: the weight of `y yᵀ` added to `A` and of `y` added
    /// to `b`. Zeros are never passed here (they are ignored).
    #[inline(always)]
    pub fn weights(self, r: f32) -> (f32, f32) {
        match self {
            ImplicitWeights::Implicit { alpha } => {
                let c = alpha * r;
                if c > 0.0 { (c - 1.0, c) } else { (-c - 1.0, 0.0) }
            }
            ImplicitWeights::Spark { alpha } => {
                let c1 = alpha * r.abs();
                (c1, if r > 0.0 { 1.0 + c1 } else { 0.0 })
            }
        }
    }
}

/// Gathers the factor rows of a row's non-zero entries once: `G` (`n × k`, row-major, in
/// `s.g`) and the weights `wA` (in `s.wa`) and `wb` (in `s.wb`). Returns `n`.
#[inline(always)]
fn gather_row(
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    k: usize,
    s: &mut Scratch,
) -> usize {
    let n = vals.iter().filter(|&&v| v != 0.0).count();
    if s.g.len() < n * k {
        s.g.resize(n * k, 0.0);
    }
    if s.wa.len() < n {
        s.wa.resize(n, 0.0);
        s.wb.resize(n, 0.0);
        s.t.resize(n, 0.0);
    }
    let g = &mut s.g[..n * k];
    let mut r = 0;
    for (e, (&i, &v)) in idx.iter().zip(vals).enumerate() {
        prefetch_row(y, idx, e + PREFETCH_AHEAD, k);
        if v == 0.0 {
            continue;
        }
        let (wa, wb) = conf.weights(v);
        s.wa[r] = wa;
        s.wb[r] = wb;
        g[r * k..(r + 1) * k].copy_from_slice(&y[i as usize * k..(i as usize + 1) * k]);
        r += 1;
    }
    n
}

/// One implicit-feedback row by conjugate gradient, exactly as `implicit`'s
/// `least_squares_cg`: the system is `A x = b` with `A = YᵀY + d·I + Σ_obs wA·y yᵀ`,
/// `b = Σ_obs wb·y`; `x` is warm-started from its current value; `steps` CG steps, stopping
/// early when `rᵀr < 1e-20`. `yty` is the full symmetric `YᵀY` (f32).
///
/// The entries' factor rows are gathered once into a contiguous block `G`; every product with
/// the sparse part is then two small GEMVs, `t = G p` (four rows at a time) and
/// `Aₚ += Gᵀ(wA ∘ t)` (reduction-free row axpys), and `YᵀY·p` is computed as `Σ_j p_j·(YᵀY)_j`
/// (symmetric, so rows are columns).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn implicit_cg_row_g<const FMA: bool>(
    yty: &[f32],
    diag: f32,
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    steps: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    let k = x.len();
    s.ensure(k);
    let np = gather_row(y, idx, vals, conf, k, s);
    let yty = &yty[..k * k];
    let g = &s.g[..np * k];
    let (wa, wb, t) = (&s.wa[..np], &s.wb[..np], &mut s.t[..np]);
    let (r, p, ap) = (&mut s.r[..k], &mut s.p[..k], &mut s.ap[..k]);
    // r = b − A x = Gᵀ(wb − wA ∘ (G x)) − (YᵀY + d·I) x
    for (rj, xj) in r.iter_mut().zip(x.iter()) {
        *rj = -diag * *xj;
    }
    ap.fill(0.0);
    gemv_t_g::<FMA>(yty, k, x, ap);
    for (rj, aj) in r.iter_mut().zip(ap.iter()) {
        *rj -= *aj;
    }
    gemv_n_g::<FMA>(g, x, t);
    for ((tv, &a), &b) in t.iter_mut().zip(wa).zip(wb) {
        *tv = b - a * *tv;
    }
    gemv_t_g::<FMA>(g, k, t, r);
    p.copy_from_slice(r);
    let mut rsold = dot_g::<FMA>(r, r);
    if rsold < 1e-20 {
        return;
    }
    for _ in 0..steps {
        // ap = (YᵀY + d·I) p + Gᵀ(wA ∘ (G p))
        for (aj, pj) in ap.iter_mut().zip(p.iter()) {
            *aj = diag * *pj;
        }
        gemv_t_g::<FMA>(yty, k, p, ap);
        gemv_n_g::<FMA>(g, p, t);
        for (tv, &a) in t.iter_mut().zip(wa) {
            *tv *= a;
        }
        gemv_t_g::<FMA>(g, k, t, ap);
        let alpha = rsold / dot_g::<FMA>(p, ap);
        axpy_g::<FMA>(alpha, p, x);
        axpy_g::<FMA>(-alpha, ap, r);
        let rsnew = dot_g::<FMA>(r, r);
        if rsnew < 1e-20 {
            break;
        }
        let beta = rsnew / rsold;
        for (pj, rj) in p.iter_mut().zip(r.iter()) {
            *pj = madd::<FMA>(beta, *pj, *rj);
        }
        rsold = rsnew;
    }
}

dispatch! {
    /// Conjugate-gradient solve of one implicit row (see the module docs of `als`):
    /// `(YᵀY + diag·I + Σ_obs wA·y yᵀ) x = Σ_obs wb·y`, warm-started from `x`, `steps` steps,
    /// early exit when `rᵀr < 1e-20` (as `implicit`). `yty`: full `k × k` f32 `YᵀY`.
    #[allow(clippy::too_many_arguments)]
    pub fn implicit_cg_row / implicit_cg_row_avx => implicit_cg_row_g(
        yty: &[f32], diag: f32, y: &[f32], idx: &[u32], vals: &[f32],
        conf: ImplicitWeights, steps: usize, x: &mut [f32], s: &mut Scratch,
    )
}

/// From this rank on, the implicit Cholesky row builds its matrix with one matrix product.
pub(super) const GEMM_MIN_RANK: usize = 16;

/// One implicit row solved exactly: builds `A = YᵀY + d·I + Σ_obs wA·y yᵀ` (f32 lower
/// triangle), `b = Σ_obs wb·y`, and solves by Cholesky in f64. Returns `false` when `A` is
/// not positive definite (then `x` is filled with NaN).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn implicit_cholesky_row_g<const FMA: bool>(
    yty: &[f32],
    diag: f32,
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    x: &mut [f32],
    s: &mut Scratch,
) -> bool {
    let k = x.len();
    s.ensure(k);
    let a = &mut s.a32[..k * k];
    a.copy_from_slice(&yty[..k * k]);
    let b = &mut s.r[..k];
    b.fill(0.0);
    if k >= GEMM_MIN_RANK {
        // Gather the entries' rows once (G, and H = diag(wA)·G), then A += GᵀH as one
        // matrix product: far faster than one rank-1 update per entry at larger ranks.
        s.g.clear();
        s.h.clear();
        for (n, (&i, &v)) in idx.iter().zip(vals).enumerate() {
            prefetch_row(y, idx, n + PREFETCH_AHEAD, k);
            if v == 0.0 {
                continue;
            }
            let (wa, wb) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            s.g.extend_from_slice(yi);
            s.h.extend(yi.iter().map(|&t| wa * t));
            if wb != 0.0 {
                axpy_g::<FMA>(wb, yi, b);
            }
        }
        let n = s.g.len() / k;
        if n > 0 {
            let dst = faer::MatMut::from_row_major_slice_mut(a, k, k);
            let lhs = faer::MatRef::from_column_major_slice(&s.g[..n * k], k, n);
            let rhs = faer::MatRef::from_row_major_slice(&s.h[..n * k], n, k);
            faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, 1.0f32, faer::Par::Seq);
        }
        // Both triangles of A are set, so the row-major buffer reads as its own transpose.
        let ok = llt_solve_f32(a, k, diag, b, &mut s.p[..k], &mut s.llt);
        for (xv, bv) in x.iter_mut().zip(b.iter()) {
            *xv = if ok { *bv } else { f32::NAN };
        }
        return ok;
    } else {
        for (n, (&i, &v)) in idx.iter().zip(vals).enumerate() {
            prefetch_row(y, idx, n + PREFETCH_AHEAD, k);
            if v == 0.0 {
                continue;
            }
            let (wa, wb) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            syr_lower_g::<FMA>(a, wa, yi);
            if wb != 0.0 {
                axpy_g::<FMA>(wb, yi, b);
            }
        }
    }
    let a64 = &mut s.a64[..k * k];
    for j in 0..k {
        for c in 0..=j {
            a64[j * k + c] = f64::from(a[j * k + c]);
        }
        a64[j * k + j] += f64::from(diag);
    }
    let b64 = &mut s.b64[..k];
    for (d, v) in b64.iter_mut().zip(b.iter()) {
        *d = f64::from(*v);
    }
    let ok = cholesky_solve_g::<FMA>(a64, b64, &mut s.x64[..k], &mut s.f64v[..k]);
    for (xv, bv) in x.iter_mut().zip(b64.iter()) {
        *xv = if ok { *bv as f32 } else { f32::NAN };
    }
    ok
}

dispatch! {
    /// Exact (Cholesky) solve of one implicit row:
    /// `(YᵀY + diag·I + Σ_obs wA·y yᵀ) x = Σ_obs wb·y`. `yty`: the full symmetric `k × k`
    /// f32 `YᵀY`. Below rank 16 the matrix is built by rank-1 updates and factored in f64;
    /// from rank 16 on it is built by one matrix product and factored in f32 by faer (as
    /// `implicit` does with LAPACK's `sposv`). Returns `false` (and NaN factors) when the
    /// matrix is not positive definite.
    #[allow(clippy::too_many_arguments)]
    pub fn implicit_cholesky_row / implicit_cholesky_row_avx => implicit_cholesky_row_g(
        yty: &[f32], diag: f32, y: &[f32], idx: &[u32], vals: &[f32],
        conf: ImplicitWeights, x: &mut [f32], s: &mut Scratch,
    ) -> bool
}

/// One user's part of `implicit`'s `calculate_training_loss`:
/// `xᵀ(YᵀY + Σ_obs wA·y yᵀ)x − 2·Σ_obs wb·(y·x) + Σ_obs c` where `c` is the entry's confidence;
/// also returns `Σ_obs c`. The caller adds the regularization term and normalises.
#[inline(always)]
fn implicit_loss_row_g<const FMA: bool>(
    yty: &[f32],
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    x: &[f32],
    s: &mut Scratch,
) -> (f64, f64) {
    let k = x.len();
    s.ensure(k);
    let r = &mut s.r[..k];
    symv_g::<FMA>(yty, x, r);
    let mut loss = 0f64;
    let mut total_conf = 0f64;
    for (&i, &v) in idx.iter().zip(vals) {
        if v == 0.0 {
            continue;
        }
        let (wa, wb) = conf.weights(v);
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        let t = -2.0 * wb + wa * dot_g::<FMA>(yi, x);
        axpy_g::<FMA>(t, yi, r);
        let c = f64::from(wa) + 1.0;
        total_conf += c;
        // `implicit` adds the confidence of every stored entry; with Spark's convention only
        // entries with preference 1 contribute c·p².
        if wb != 0.0 || matches!(conf, ImplicitWeights::Implicit { .. }) {
            loss += c;
        }
    }
    loss += f64::from(dot_g::<FMA>(r, x));
    (loss, total_conf)
}

dispatch! {
    /// One row's share of the implicit training loss (see `als`): returns
    /// `(xᵀA₀x − 2bᵀx + Σ c, Σ c)` with `A₀ = YᵀY + Σ_obs wA·y yᵀ`, `b = Σ_obs wb·y`.
    pub fn implicit_loss_row / implicit_loss_row_avx => implicit_loss_row_g(
        yty: &[f32], y: &[f32], idx: &[u32], vals: &[f32], conf: ImplicitWeights,
        x: &[f32], s: &mut Scratch,
    ) -> (f64, f64)
}
