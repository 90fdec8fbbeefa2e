//! Vector and small matrix operations: dot products, axpys, symmetric products and rank-1
//! updates, the Gram `YᵀY`, and the two GEMVs of the CG row (`Gᵀc` and `G·p`).

use super::implicit_row::GEMM_MIN_RANK;
#[cfg(target_arch = "x86_64")]
use super::simd_enabled;
use super::{madd, madd64};

const LANES: usize = 16;

/// Dot product `Σ a_j b_j` over the common length, in f32, with a fixed reduction order.
#[inline(always)]
pub(super) fn dot_g<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] = madd::<FMA>(x[l], y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ta.iter().zip(tb).enumerate() {
        acc[l] = madd::<FMA>(*x, *y, acc[l]);
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0]
}

/// Dot product in f64 with a fixed reduction order.
#[inline(always)]
pub(super) fn dot64_g<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    const L: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f64; L];
    let ca = a.chunks_exact(L);
    let cb = b.chunks_exact(L);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..L {
            acc[l] = madd64::<FMA>(x[l], y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ta.iter().zip(tb).enumerate() {
        acc[l] = madd64::<FMA>(*x, *y, acc[l]);
    }
    let mut w = L;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0]
}

/// `y += alpha·x` (f32).
#[inline(always)]
pub(super) fn axpy_g<const FMA: bool>(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv = madd::<FMA>(alpha, *xv, *yv);
    }
}

/// `y += alpha·x` (f64).
#[inline(always)]
pub(super) fn axpy64_g<const FMA: bool>(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv = madd64::<FMA>(alpha, *xv, *yv);
    }
}

/// `out = A·x` for a full (both triangles stored) symmetric row-major `k × k` matrix.
#[inline(always)]
pub(super) fn symv_g<const FMA: bool>(a: &[f32], x: &[f32], out: &mut [f32]) {
    let k = out.len();
    for (j, o) in out.iter_mut().enumerate() {
        *o = dot_g::<FMA>(&a[j * k..(j + 1) * k], x);
    }
}

/// Lower-triangle rank-1 update `A += w·f fᵀ` (f32).
#[inline(always)]
pub(super) fn syr_lower_g<const FMA: bool>(a: &mut [f32], w: f32, f: &[f32]) {
    let k = f.len();
    for (j, &fj) in f.iter().enumerate() {
        axpy_g::<FMA>(w * fj, &f[..=j], &mut a[j * k..j * k + j + 1]);
    }
}

/// Accumulates the lower triangle of `Σ_r y_r y_rᵀ` over the rows of a row-major `n × k` block
/// into `out` (f32, `k × k`, lower triangle only, added to).
#[inline(always)]
fn gram_lower_g<const FMA: bool>(y: &[f32], k: usize, out: &mut [f32]) {
    if k >= GEMM_MIN_RANK {
        // One matrix product `out += YᵀY` (faer, sequential: a fixed summation order for a
        // given block); both triangles are written, the lower one is the result.
        let n = y.len() / k;
        if n > 0 {
            let dst = faer::MatMut::from_row_major_slice_mut(&mut out[..k * k], k, k);
            let lhs = faer::MatRef::from_column_major_slice(&y[..n * k], k, n);
            let rhs = faer::MatRef::from_row_major_slice(&y[..n * k], n, k);
            faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, 1.0f32, faer::Par::Seq);
        }
        return;
    }
    for row in y.chunks_exact(k) {
        syr_lower_g::<FMA>(out, 1.0, row);
    }
}

dispatch! {
    /// Adds `YᵀY = Σ_r y_r y_rᵀ` over the rows of the row-major `n × k` block `y` to `out`
    /// (`k × k`, f32): at least the lower triangle is updated (for `k >= 16` both, by one
    /// matrix product). The caller sums blocks in a fixed order and reads the lower triangle.
    pub fn gram_lower / gram_lower_avx => gram_lower_g(y: &[f32], k: usize, out: &mut [f32])
}

dispatch! {
    /// `Σ_j a_j b_j` (f32, fixed reduction order).
    pub fn dot / dot_avx => dot_g(a: &[f32], b: &[f32]) -> f32
}

/// `out[c] += Σ_r coef[r]·m[r·stride + c]` for `c < out.len()`, over the rows `r < coef.len()`
/// of a row-major matrix: a transposed GEMV written as a sequence of row axpys, so it needs no
/// horizontal reduction. Columns are processed in register blocks of 32 (then 8, then single
/// columns); the sum over rows runs in row order for every column.
#[inline(always)]
pub(super) fn gemv_t_g<const FMA: bool>(m: &[f32], stride: usize, coef: &[f32], out: &mut [f32]) {
    let ncols = out.len();
    let mut c0 = 0;
    // Up to eight independent accumulator chains; the sum over rows runs in row order for
    // every column whichever block it falls in.
    while c0 + 64 <= ncols {
        gemv_t_block::<FMA, 8>(m, stride, c0, coef, out);
        c0 += 64;
    }
    while c0 + 32 <= ncols {
        gemv_t_block::<FMA, 4>(m, stride, c0, coef, out);
        c0 += 32;
    }
    while c0 + 8 <= ncols {
        gemv_t_block::<FMA, 1>(m, stride, c0, coef, out);
        c0 += 8;
    }
    for (c, o) in out.iter_mut().enumerate().skip(c0) {
        let mut acc = *o;
        for (r, &w) in coef.iter().enumerate() {
            acc = madd::<FMA>(w, m[r * stride + c], acc);
        }
        *o = acc;
    }
}

/// One block of `B·8` columns of [`gemv_t_g`], starting at column `c0`, held in registers.
#[inline(always)]
fn gemv_t_block<const FMA: bool, const B: usize>(
    m: &[f32],
    stride: usize,
    c0: usize,
    coef: &[f32],
    out: &mut [f32],
) {
    let mut acc = [[0f32; 8]; B];
    for (b, a) in acc.iter_mut().enumerate() {
        a.copy_from_slice(&out[c0 + 8 * b..c0 + 8 * b + 8]);
    }
    for (r, &w) in coef.iter().enumerate() {
        let row = &m[r * stride + c0..r * stride + c0 + 8 * B];
        for (a, seg) in acc.iter_mut().zip(row.chunks_exact(8)) {
            for l in 0..8 {
                a[l] = madd::<FMA>(w, seg[l], a[l]);
            }
        }
    }
    for (b, a) in acc.iter().enumerate() {
        out[c0 + 8 * b..c0 + 8 * b + 8].copy_from_slice(a);
    }
}

/// `t[r] = G_r·p` for every row `r < t.len()` of the row-major `G` (row stride `k = p.len()`):
/// four rows at a time with independent 8-lane accumulators (each lane summing the columns
/// `≡ l mod 8` in order, then reduced pairwise), so consecutive FMAs never wait on each other.
#[inline(always)]
pub(super) fn gemv_n_g<const FMA: bool>(g: &[f32], p: &[f32], t: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if FMA && simd_enabled() && g.len() >= t.len() * p.len() {
        // SAFETY: the CPU has AVX2 and FMA (checked), and `g` holds the `t.len()` rows read.
        unsafe { gemv_n_avx(g, p, t) };
        return;
    }
    let k = p.len();
    let kv = k / 8 * 8;
    let reduce = |a: [f32; 8]| ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
    let tail = |row: &[f32]| {
        let mut acc = 0f32;
        for (a, b) in row[kv..k].iter().zip(&p[kv..k]) {
            acc = madd::<FMA>(*a, *b, acc);
        }
        acc
    };
    let mut quads = t.chunks_exact_mut(4);
    let mut r0 = 0;
    for tq in &mut quads {
        let rows = &g[r0 * k..(r0 + 4) * k];
        let (g0, rest) = rows.split_at(k);
        let (g1, rest) = rest.split_at(k);
        let (g2, g3) = rest.split_at(k);
        let mut acc = [[0f32; 8]; 4];
        for c in (0..kv).step_by(8) {
            let pv = &p[c..c + 8];
            for (a, gr) in acc.iter_mut().zip([g0, g1, g2, g3]) {
                let gv = &gr[c..c + 8];
                for l in 0..8 {
                    a[l] = madd::<FMA>(gv[l], pv[l], a[l]);
                }
            }
        }
        for (tv, (a, gr)) in tq.iter_mut().zip(acc.into_iter().zip([g0, g1, g2, g3])) {
            *tv = reduce(a) + tail(gr);
        }
        r0 += 4;
    }
    for tv in quads.into_remainder() {
        let gr = &g[r0 * k..(r0 + 1) * k];
        let mut a = [0f32; 8];
        for c in (0..kv).step_by(8) {
            for l in 0..8 {
                a[l] = madd::<FMA>(gr[c + l], p[c + l], a[l]);
            }
        }
        *tv = reduce(a) + tail(gr);
        r0 += 1;
    }
}

/// [`gemv_n_g`] written with AVX2/FMA intrinsics (the compiler's vectorisation of the portable
/// loop interleaved the rows into 2-lane pieces and spilled its accumulators): eight rows at a
/// time (eight independent FMA chains), then four, then one, with the same per-row order of
/// operations as the portable build — 8 lanes over the columns `≡ l mod 8`, reduced pairwise,
/// plus the columns past the last multiple of 8 in order.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `g.len() >= t.len() * p.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemv_n_avx(g: &[f32], p: &[f32], t: &mut [f32]) {
    use std::arch::x86_64::*;
    let k = p.len();
    let kv = k / 8 * 8;
    let n = t.len();
    let (gp, pp) = (g.as_ptr(), p.as_ptr());
    // ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), as `reduce` in `gemv_n_g`.
    let reduce = |a: __m256| {
        let s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
        let u = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps::<0b01>(u, u)))
    };
    let tail = |row: usize| {
        let mut acc = 0f32;
        for c in kv..k {
            // SAFETY: row < n and c < k, so the index is below n·k <= g.len().
            acc = unsafe { (*gp.add(row * k + c)).mul_add(*pp.add(c), acc) };
        }
        acc
    };
    let mut r = 0;
    macro_rules! rows {
        ($m:literal) => {
            while n - r >= $m {
                let mut acc = [_mm256_setzero_ps(); $m];
                let mut c = 0;
                while c < kv {
                    // SAFETY: c + 8 <= kv <= k and every row read is below n.
                    let pv = unsafe { _mm256_loadu_ps(pp.add(c)) };
                    for (q, a) in acc.iter_mut().enumerate() {
                        // SAFETY: (r + q)·k + c + 8 <= n·k <= g.len().
                        let gv = unsafe { _mm256_loadu_ps(gp.add((r + q) * k + c)) };
                        *a = _mm256_fmadd_ps(gv, pv, *a);
                    }
                    c += 8;
                }
                for (q, a) in acc.into_iter().enumerate() {
                    t[r + q] = reduce(a) + tail(r + q);
                }
                r += $m;
            }
        };
    }
    rows!(8);
    rows!(4);
    rows!(1);
}
