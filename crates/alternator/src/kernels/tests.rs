use super::blas::{axpy_g, dot_g, gemv_n_g, gemv_t_g, symv_g};
use super::explicit_row::{explicit_row_g, explicit_row_general_g};
use super::nnls::nnls_g;
use super::prefetch::{PREFETCH_AHEAD, prefetch_row};
use super::*;

/// The straightforward CG row (one dot and one axpy per entry and CG step, `YᵀY·p` by row
/// dots): the reference the blocked [`implicit_cg_row_g`] is tested against.
#[allow(clippy::too_many_arguments)]
fn implicit_cg_row_ref_g<const FMA: bool>(
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
    let (r, p, ap) = (&mut s.r[..k], &mut s.p[..k], &mut s.ap[..k]);
    // r = b − A x
    symv_g::<FMA>(yty, x, r);
    for (rj, xj) in r.iter_mut().zip(x.iter()) {
        *rj = -madd::<FMA>(diag, *xj, *rj);
    }
    for (n, (&i, &v)) in idx.iter().zip(vals).enumerate() {
        prefetch_row(y, idx, n + PREFETCH_AHEAD, k);
        if v == 0.0 {
            continue;
        }
        let (wa, wb) = conf.weights(v);
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        let t = wb - wa * dot_g::<FMA>(yi, x);
        axpy_g::<FMA>(t, yi, r);
    }
    p.copy_from_slice(r);
    let mut rsold = dot_g::<FMA>(r, r);
    if rsold < 1e-20 {
        return;
    }
    for _ in 0..steps {
        symv_g::<FMA>(yty, p, ap);
        axpy_g::<FMA>(diag, p, ap);
        for (&i, &v) in idx.iter().zip(vals) {
            if v == 0.0 {
                continue;
            }
            let (wa, _) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            let t = wa * dot_g::<FMA>(yi, p);
            axpy_g::<FMA>(t, yi, ap);
        }
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

#[test]
fn small_explicit_rows_match_the_general_path() {
    for k in 1..=SMALL_RANK_MAX {
        for biased in [false, true] {
            for (n, reg) in [(3usize, 0.1f32), (40, 0.05), (300, 0.2), (k / 2, 0.0)] {
                let items = 50;
                let y: Vec<f32> = (0..items * k).map(|i| val(i, 3 + k as u64) * 0.8).collect();
                let ib: Vec<f32> = (0..items).map(|i| val(i, 99) * 0.3).collect();
                let idx: Vec<u32> = (0..n).map(|e| ((e * 7 + k) % items) as u32).collect();
                let vals: Vec<f32> = (0..n).map(|e| 1.0 + (e % 5) as f32).collect();
                let p = ExplicitRow {
                    y: &y,
                    k,
                    idx: &idx,
                    vals: &vals,
                    biases: biased.then_some((3.1, &ib[..])),
                    reg,
                    reg_bias: reg * 0.5,
                    nonnegative: false,
                };
                let mut s = Scratch::new(k + 2);
                let (mut xs, mut bs) = (vec![0f32; k], 0f32);
                let (mut xg, mut bg) = (vec![0f32; k], 0f32);
                let small = explicit_row_g::<false>(&p, &mut xs, &mut bs, &mut s);
                let general = explicit_row_general_g::<false>(&p, &mut xg, &mut bg, &mut s);
                let what = format!("k {k} biases {biased} n {n} reg {reg}");
                assert_eq!(small.is_some(), general.is_some(), "{what}");
                let (Some(es), Some(eg)) = (small, general) else {
                    assert!(xs.iter().all(|v| v.is_nan()), "{what}");
                    continue;
                };
                assert!((es - eg).abs() <= 1e-6 * (1.0 + eg), "{what}: sse {es} vs {eg}");
                for (a, b) in xs.iter().zip(&xg).chain([(&bs, &bg)]) {
                    assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{what}: {xs:?} vs {xg:?}");
                }
                // The dispatched (SIMD) build agrees too.
                let (mut xd, mut bd) = (vec![0f32; k], 0f32);
                assert!(explicit_row(&p, &mut xd, &mut bd, &mut s).is_some());
                for (a, b) in xd.iter().zip(&xg) {
                    assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{what}: {xd:?} vs {xg:?}");
                }
            }
        }
    }
}

#[test]
fn dot_matches_naive_for_all_lengths() {
    for n in 0..70 {
        let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
        assert!((f64::from(dot(&a, &b)) - naive).abs() < 1e-4, "n = {n}");
        assert!((f64::from(dot_g::<false>(&a, &b)) - naive).abs() < 1e-4);
    }
}

#[test]
fn cholesky_solves_spd_system() {
    // A = M Mᵀ + I for a fixed M.
    let k = 7;
    let m: Vec<f64> = (0..k * k).map(|i| ((i * 7 + 3) % 11) as f64 / 5.0 - 1.0).collect();
    let mut a = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            a[i * k + j] = (0..k).map(|t| m[i * k + t] * m[j * k + t]).sum::<f64>()
                + if i == j { 1.0 } else { 0.0 };
        }
    }
    let x_true: Vec<f64> = (0..k).map(|i| i as f64 - 3.0).collect();
    let mut b: Vec<f64> = (0..k).map(|i| (0..k).map(|j| a[i * k + j] * x_true[j]).sum()).collect();
    let mut l = a.clone();
    assert!(cholesky_solve(&mut l, &mut b));
    for (x, t) in b.iter().zip(&x_true) {
        assert!((x - t).abs() < 1e-9);
    }
    let mut sing = vec![1.0, 0.0, 1.0, 1.0];
    let mut bb = vec![1.0, 1.0];
    assert!(!cholesky_solve(&mut sing, &mut bb));
}

/// A deterministic pseudo-random value in `[-0.5, 0.5)` for test data.
fn val(i: usize, salt: u64) -> f32 {
    let mut z = (i as u64).wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

#[test]
fn gemv_t_matches_naive() {
    for (rows, cols, stride) in [(0, 5, 5), (3, 64, 64), (17, 40, 41), (9, 7, 7), (40, 33, 40)] {
        let m: Vec<f32> = (0..rows * stride).map(|i| val(i, 1)).collect();
        let coef: Vec<f32> = (0..rows).map(|i| val(i, 2)).collect();
        let init: Vec<f32> = (0..cols).map(|i| val(i, 3)).collect();
        for fma in [false, true] {
            let mut out = init.clone();
            if fma {
                gemv_t_g::<true>(&m, stride, &coef, &mut out);
            } else {
                gemv_t_g::<false>(&m, stride, &coef, &mut out);
            }
            for c in 0..cols {
                let naive: f64 = f64::from(init[c])
                    + (0..rows)
                        .map(|r| f64::from(coef[r]) * f64::from(m[r * stride + c]))
                        .sum::<f64>();
                assert!((f64::from(out[c]) - naive).abs() < 1e-4, "{rows}x{cols} c={c}");
            }
        }
    }
}

#[test]
fn gemv_n_matches_naive() {
    for (rows, k) in [(0, 8), (1, 64), (7, 64), (9, 10), (13, 3), (4, 17)] {
        let g: Vec<f32> = (0..rows * k).map(|i| val(i, 4)).collect();
        let p: Vec<f32> = (0..k).map(|i| val(i, 5)).collect();
        let mut t = vec![f32::NAN; rows];
        gemv_n_g::<false>(&g, &p, &mut t);
        let mut t2 = vec![f32::NAN; rows];
        gemv_n_g::<true>(&g, &p, &mut t2);
        for r in 0..rows {
            let naive: f64 = (0..k).map(|c| f64::from(g[r * k + c]) * f64::from(p[c])).sum();
            assert!((f64::from(t[r]) - naive).abs() < 1e-4, "{rows}x{k} r={r}");
            assert!((f64::from(t2[r]) - naive).abs() < 1e-4, "{rows}x{k} r={r}");
        }
    }
}

#[test]
fn blocked_cg_row_matches_reference() {
    for (k, n, items) in [(64, 45, 200), (10, 3, 30), (13, 0, 20), (8, 1, 5), (37, 90, 120)] {
        let y: Vec<f32> = (0..items * k).map(|i| val(i, 7) * 0.3).collect();
        let mut yty = vec![0f32; k * k];
        for r in 0..items {
            for a in 0..k {
                for b in 0..k {
                    yty[a * k + b] += y[r * k + a] * y[r * k + b];
                }
            }
        }
        let idx: Vec<u32> = (0..n).map(|e| ((e * 7 + 3) % items) as u32).collect();
        // Some stored zeros, some negative values.
        let vals: Vec<f32> = (0..n)
            .map(|e| {
                if e % 9 == 4 {
                    0.0
                } else if e % 11 == 5 {
                    -2.0
                } else {
                    1.0 + e as f32
                }
            })
            .collect();
        for conf in
            [ImplicitWeights::Implicit { alpha: 2.0 }, ImplicitWeights::Spark { alpha: 0.5 }]
        {
            let x0: Vec<f32> = (0..k).map(|i| val(i, 9) * 0.01).collect();
            let mut xa = x0.clone();
            let mut xb = x0.clone();
            let mut s = Scratch::new(k);
            implicit_cg_row(&yty, 0.1, &y, &idx, &vals, conf, 3, &mut xa, &mut s);
            // Run twice with a reused scratch, after a longer row, to catch stale state.
            let mut xa2 = x0.clone();
            implicit_cg_row(&yty, 0.1, &y, &idx, &vals, conf, 3, &mut xa2, &mut s);
            implicit_cg_row_ref_g::<false>(&yty, 0.1, &y, &idx, &vals, conf, 3, &mut xb, &mut s);
            assert_eq!(xa, xa2);
            let scale = xb.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
            for (a, b) in xa.iter().zip(&xb) {
                assert!((a - b).abs() <= 1e-3 * scale, "k={k} n={n}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn nnls_matches_brute_force_on_2x2() {
    // min ½xᵀAx − bᵀx, x >= 0, A = [[2,1],[1,2]], b = [1,-3]: unconstrained solution
    // (5/3, -7/3) is infeasible; with x2 = 0, x1 = b1/A11 = 0.5 and the gradient of x2
    // there is 1·0.5 + 3 > 0, so (0.5, 0) is optimal.
    let a = [2.0, 1.0, 1.0, 2.0];
    let b = [1.0, -3.0];
    let mut x = [0.0, 0.0];
    let mut g = [0.0, 0.0];
    nnls_g::<false>(&a, &b, &mut x, &mut g, 2);
    assert!((x[0] - 0.5).abs() < 1e-9 && x[1] == 0.0, "{x:?}");
}
