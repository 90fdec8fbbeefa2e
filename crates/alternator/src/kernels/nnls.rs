//! Non-negative least squares on the normal equations (explicit rows with `nonnegative`).

use super::blas::{axpy64_g, dot64_g};

/// Non-negative least squares on normal equations: minimises `½ xᵀA x − bᵀx` subject to
/// `x_j >= 0` for `j < constrained` (later coordinates are free), by cyclic coordinate descent
/// with exact coordinate minimisation (convergent for positive definite `A`). `a` is the full
/// symmetric matrix (both triangles), `x` the start (and result), `g` scratch of length k.
#[inline(always)]
pub(super) fn nnls_g<const FMA: bool>(
    a: &[f64],
    b: &[f64],
    x: &mut [f64],
    g: &mut [f64],
    constrained: usize,
) {
    let k = b.len();
    // g = A x − b
    for j in 0..k {
        g[j] = dot64_g::<FMA>(&a[j * k..(j + 1) * k], x) - b[j];
    }
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-300);
    for _sweep in 0..2000 {
        let mut max_step = 0f64;
        for j in 0..k {
            let ajj = a[j * k + j];
            if ajj <= 0.0 {
                continue;
            }
            let mut nx = x[j] - g[j] / ajj;
            if j < constrained && nx < 0.0 {
                nx = 0.0;
            }
            let delta = nx - x[j];
            if delta != 0.0 {
                x[j] = nx;
                axpy64_g::<FMA>(delta, &a[j * k..(j + 1) * k], g);
                max_step = max_step.max((delta * ajj).abs());
            }
        }
        if max_step <= 1e-12 * scale {
            break;
        }
    }
}
