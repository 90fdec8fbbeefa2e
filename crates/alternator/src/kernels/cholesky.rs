//! Cholesky solves: the small right-looking f64 factorisation and faer's blocked f32 `llt`
//! (the larger implicit rows), plus the portable reference solve.

use super::blas::{axpy64_g, dot64_g};

/// In-place Cholesky `A = L Lᵀ` of the lower triangle of a row-major `k × k` f64 matrix
/// (right-looking: each column is scaled, then the trailing lower triangle gets a rank-1
/// update with contiguous axpys, which vectorise without horizontal reductions), then solves
/// `L Lᵀ x = b` in place of `b`. `col` and `diag0` are scratch of length `k`.
/// Returns `false` (leaving garbage) when `A` is not numerically positive definite (a pivot
/// at or below `1e-12` times its original diagonal entry: a pivot lost to rounding means a
/// singular matrix, e.g. λ = 0 with fewer ratings than the rank).
#[inline(always)]
pub(super) fn cholesky_solve_g<const FMA: bool>(
    a: &mut [f64],
    b: &mut [f64],
    col: &mut [f64],
    diag0: &mut [f64],
) -> bool {
    let k = b.len();
    let (col, diag0) = (&mut col[..k], &mut diag0[..k]);
    for (j, d) in diag0.iter_mut().enumerate() {
        *d = a[j * k + j].abs();
    }
    for j in 0..k {
        let d = a[j * k + j];
        if d.is_nan() || d <= diag0[j] * 1e-12 {
            return false;
        }
        let l = d.sqrt();
        a[j * k + j] = l;
        // The pivot's check value is not needed any more: keep 1/l for the solves.
        let inv = 1.0 / l;
        diag0[j] = inv;
        for i in j + 1..k {
            let v = a[i * k + j] * inv;
            a[i * k + j] = v;
            col[i] = v;
        }
        for i in j + 1..k {
            let ci = col[i];
            axpy64_g::<FMA>(-ci, &col[j + 1..=i], &mut a[i * k + j + 1..=i * k + i]);
        }
    }
    // Forward: L z = b.
    for i in 0..k {
        let s = b[i] - dot64_g::<FMA>(&a[i * k..i * k + i], &b[..i]);
        b[i] = s * diag0[i];
    }
    // Backward: Lᵀ x = z, column-oriented so that only rows of L are read.
    for i in (0..k).rev() {
        b[i] *= diag0[i];
        let xi = b[i];
        axpy64_g::<FMA>(-xi, &a[i * k..i * k + i], &mut b[..i]);
    }
    true
}

/// Adds `diag` to the diagonal of the symmetric `k × k` f32 matrix `a`, factors it
/// `A = L Lᵀ` in place with faer's blocked Cholesky (the same single-precision solve as the
/// `implicit` library's `posv`), and solves `A x = b` in place of `b`. Returns `false` when a
/// pivot is not positive or lost to rounding (`l_jj² ≤ 1e-6·A_jj`: a singular matrix).
/// `diag0` (length `k`) and `buf` are scratch.
pub(super) fn llt_solve_f32(
    a: &mut [f32],
    k: usize,
    diag: f32,
    b: &mut [f32],
    diag0: &mut [f32],
    buf: &mut Vec<std::mem::MaybeUninit<u8>>,
) -> bool {
    use faer::linalg::cholesky::llt;
    for (j, d) in diag0.iter_mut().enumerate() {
        a[j * k + j] += diag;
        *d = a[j * k + j].abs();
    }
    // faer factors up to 64 columns unblocked; splitting at 32 (the trailing update one GEMM)
    // is faster for rank 64 (measured, as were the other thresholds tried: BENCHMARKS.md).
    let mut params: llt::factor::LltParams = <llt::factor::LltParams as faer::Auto<f32>>::auto();
    params.recursion_threshold = 32;
    let need = llt::factor::cholesky_in_place_scratch::<f32>(k, faer::Par::Seq, params.into())
        .unaligned_bytes_required();
    if buf.len() < need {
        buf.resize(need, std::mem::MaybeUninit::new(0));
    }
    let stack = dyn_stack::MemStack::new(&mut buf[..]);
    let factored = llt::factor::cholesky_in_place(
        faer::MatMut::from_column_major_slice_mut(&mut a[..k * k], k, k),
        Default::default(),
        faer::Par::Seq,
        stack,
        params.into(),
    );
    if factored.is_err()
        || (0..k).any(|j| {
            let l = a[j * k + j];
            l.is_nan() || l * l <= 1e-6 * diag0[j]
        })
    {
        return false;
    }
    let stack = dyn_stack::MemStack::new(&mut buf[..]);
    llt::solve::solve_in_place(
        faer::MatRef::from_column_major_slice(&a[..k * k], k, k),
        faer::MatMut::from_column_major_slice_mut(&mut b[..k], k, 1),
        faer::Par::Seq,
        stack,
    );
    b.iter().all(|v| v.is_finite())
}

/// Portable reference Cholesky solve (f64) of the lower triangle of `a` (`k × k`), in place of
/// `b`; `false` when not positive definite. Exposed for tests and one-off solves.
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64]) -> bool {
    let k = b.len();
    if a.len() < k * k {
        return false;
    }
    let (mut col, mut diag0) = (vec![0f64; k], vec![0f64; k]);
    cholesky_solve_g::<false>(a, b, &mut col, &mut diag0)
}
