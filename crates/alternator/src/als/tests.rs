//! Unit tests of the solvers (integration tests on real data live in `tests/als_*.rs`).

use super::*;
use crate::model::TrainingSummary;
use crate::params::Solver;

/// A small deterministic problem: `users × items` with about `per_user` entries each.
pub(crate) fn toy(users: usize, items: usize, per_user: usize, seed: u64, ratings: bool) -> Csr {
    let mut g = SplitMix64::new(seed);
    let (mut r, mut c, mut v) = (vec![], vec![], vec![]);
    for u in 0..users {
        for _ in 0..per_user {
            r.push(u as u32);
            c.push(g.below(items as u64) as u32);
            v.push(if ratings { 1.0 + g.below(5) as f32 } else { 1.0 + g.below(4) as f32 });
        }
    }
    Csr::from_triplets(
        users,
        items,
        &r,
        &c,
        &v,
        if ratings { Duplicates::Keep } else { Duplicates::Sum },
    )
}

#[test]
fn explicit_fit_reduces_training_error() {
    let m = toy(60, 40, 12, 3, true);
    let p = AlsParams { rank: 4, max_iter: 8, ..AlsParams::default() };
    let out = fit(&m, &p, &mut |_| {}).unwrap();
    assert_eq!(out.history.len(), 8);
    assert!(out.history[7] < out.history[0], "{:?}", out.history);
    assert!(out.history[7] < 0.9);
}

#[test]
fn reported_rmse_equals_the_direct_training_rmse() {
    // The half-steps report each user's error from the Gram (Σt² − 2zᵀb + zᵀA₀z); it must
    // match the RMSE computed entry by entry, with and without biases, at ranks on both sides
    // of the 8-wide tiles.
    for (rank, biases, nonnegative) in
        [(3, false, false), (7, true, false), (8, false, true), (17, true, false)]
    {
        let m = toy(50, 70, 30, 11, true);
        let p = AlsParams { rank, max_iter: 3, biases, nonnegative, ..AlsParams::default() };
        let out = fit(&m, &p, &mut |_| {}).unwrap();
        let b = out.biases.as_ref().map(|b| (b.global, &b.user[..], &b.item[..]));
        let direct = explicit::train_rmse(&m, &out.user_factors, &out.item_factors, b);
        let reported = *out.history.last().unwrap();
        assert!(
            (reported - direct).abs() <= 1e-5 * direct,
            "rank {rank} biases {biases}: reported {reported} vs direct {direct}"
        );
    }
}

#[test]
fn empty_and_non_finite_inputs_are_errors() {
    let empty = Csr::from_triplets(2, 2, &[], &[], &[], Duplicates::Keep);
    assert!(matches!(fit(&empty, &AlsParams::default(), &mut |_| {}), Err(Error::Invalid(_))));
    let nan = Csr::from_triplets(1, 1, &[0], &[0], &[f32::NAN], Duplicates::Keep);
    assert!(matches!(fit(&nan, &AlsParams::default(), &mut |_| {}), Err(Error::Invalid(_))));
    let bad = AlsParams { rank: 0, ..AlsParams::default() };
    assert!(matches!(
        fit(&toy(3, 3, 2, 1, true), &bad, &mut |_| {}),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn reg_zero_singular_rows_diverge_with_a_cause() {
    // Rank 5 with users rating 2 items and λ = 0: singular normal equations.
    let m = toy(10, 8, 2, 5, true);
    let p = AlsParams { rank: 5, reg_param: 0.0, max_iter: 2, ..AlsParams::default() };
    match fit(&m, &p, &mut |_| {}) {
        Err(Error::Diverged { message }) => assert!(message.contains("reg_param"), "{message}"),
        other => panic!("expected Diverged, got {other:?}"),
    }
}

#[test]
fn implicit_cg_and_cholesky_agree_when_cg_converges() {
    let m = toy(50, 30, 6, 9, false);
    for confidence in [Confidence::Implicit, Confidence::Spark] {
        let base = AlsParams {
            rank: 5,
            max_iter: 6,
            reg_param: 0.1,
            implicit_prefs: true,
            alpha: 2.0,
            confidence,
            ..AlsParams::default()
        };
        let chol =
            fit(&m, &AlsParams { solver: Solver::Cholesky, ..base.clone() }, &mut |_| {}).unwrap();
        let cg =
            fit(&m, &AlsParams { solver: Solver::Cg, cg_steps: 20, ..base }, &mut |_| {}).unwrap();
        for (a, b) in chol.user_factors.as_slice().iter().zip(cg.user_factors.as_slice()) {
            assert!((a - b).abs() < 1e-3, "{confidence:?}: {a} vs {b}");
        }
    }
}

#[test]
fn implicit_loss_decreases() {
    let m = toy(80, 50, 8, 4, false);
    let p = AlsParams {
        rank: 6,
        max_iter: 6,
        implicit_prefs: true,
        compute_loss: true,
        solver: Solver::Cholesky,
        ..AlsParams::default()
    };
    let out = fit(&m, &p, &mut |_| {}).unwrap();
    assert_eq!(out.history.len(), 6);
    assert!(out.history[5] <= out.history[1] + 1e-9, "{:?}", out.history);
    assert!(out.history.iter().all(|l| l.is_finite() && *l > 0.0));
}

/// A model around `fit`'s output (ids are not needed by fold-in).
fn model_of(m: &Csr, p: &AlsParams) -> Model {
    let out = fit(m, p, &mut |_| {}).unwrap();
    Model {
        params: p.clone(),
        users: crate::ids::IdMap::default(),
        items: crate::ids::IdMap::default(),
        user_factors: out.user_factors,
        item_factors: out.item_factors,
        biases: out.biases,
        clip_predictions: false,
        seen: m.clone(),
        summary: TrainingSummary::default(),
        bounds: Default::default(),
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let d = |x: &[f32], y: &[f32]| -> f64 {
        x.iter().zip(y).map(|(p, q)| f64::from(*p) * f64::from(*q)).sum()
    };
    let (na, nb) = (d(a, a).sqrt(), d(b, b).sqrt());
    if na == 0.0 && nb == 0.0 { 1.0 } else { d(a, b) / (na * nb) }
}

/// Fold-in of every user (or item) from its own training row against the model must
/// reproduce the trained factors.
fn assert_fold_in_reproduces(model: &Model, items_side: bool) {
    let csr = if items_side { model.seen.transpose() } else { model.seen.clone() };
    for r in 0..csr.nrows() {
        let (idx, vals) = csr.row(r);
        if idx.is_empty() {
            continue;
        }
        let (x, b) = if items_side {
            fold_in_item(model, idx, vals).unwrap()
        } else {
            fold_in_user(model, idx, vals).unwrap()
        };
        let want = if items_side { model.item_factors.row(r) } else { model.user_factors.row(r) };
        let c = cosine(&x, want);
        assert!(c >= 0.999, "row {r}: cosine {c} ({:?})", model.params);
        if let Some(bias) = &model.biases {
            let wb = if items_side { bias.item[r] } else { bias.user[r] };
            assert!((b.unwrap() - wb).abs() < 1e-3, "row {r}: bias {b:?} vs {wb}");
        } else {
            assert!(b.is_none());
        }
    }
}

#[test]
fn fold_in_reproduces_explicit_user_factors() {
    let m = toy(40, 30, 10, 7, true);
    for (biases, nonnegative) in [(false, false), (true, false), (false, true)] {
        let p = AlsParams { rank: 4, max_iter: 6, biases, nonnegative, ..AlsParams::default() };
        assert_fold_in_reproduces(&model_of(&m, &p), false);
    }
}

#[test]
fn fold_in_reproduces_implicit_factors() {
    let m = toy(40, 30, 8, 11, false);
    for (confidence, solver) in [
        (Confidence::Spark, Solver::Cholesky),
        (Confidence::Implicit, Solver::Cholesky),
        (Confidence::Implicit, Solver::Cg),
        (Confidence::Spark, Solver::Cg),
    ] {
        let p = AlsParams {
            rank: 4,
            max_iter: 25,
            reg_param: 0.1,
            implicit_prefs: true,
            alpha: 2.0,
            confidence,
            solver,
            ..AlsParams::default()
        };
        let model = model_of(&m, &p);
        // Spark solves users last, `implicit` items last: check both sides.
        assert_fold_in_reproduces(&model, false);
        assert_fold_in_reproduces(&model, true);
    }
}

#[test]
fn fold_in_rejects_bad_input() {
    let m = toy(10, 8, 4, 1, true);
    let model = model_of(&m, &AlsParams { rank: 2, max_iter: 2, ..AlsParams::default() });
    assert!(fold_in_user(&model, &[0, 1], &[1.0]).is_err());
    assert!(fold_in_user(&model, &[8], &[1.0]).is_err());
    assert!(fold_in_item(&model, &[10], &[1.0]).is_err());
    assert!(fold_in_user(&model, &[0], &[f32::INFINITY]).is_err());
    let (x, _) = fold_in_user(&model, &[], &[]).unwrap();
    assert_eq!(x, vec![0.0; 2]);
}

#[test]
fn same_factors_bit_for_bit_at_one_and_two_threads() {
    let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
    let (one, two) = (pool(1), pool(2));
    let explicit = toy(300, 120, 10, 2, true);
    let implicit = toy(300, 120, 10, 2, false);
    let cases = [
        (&explicit, AlsParams { rank: 6, max_iter: 3, ..AlsParams::default() }),
        (
            &explicit,
            AlsParams {
                rank: 6,
                max_iter: 3,
                biases: true,
                nonnegative: true,
                ..AlsParams::default()
            },
        ),
        (
            &implicit,
            AlsParams {
                rank: 6,
                max_iter: 3,
                implicit_prefs: true,
                solver: Solver::Cg,
                compute_loss: true,
                ..AlsParams::default()
            },
        ),
        (
            &implicit,
            AlsParams {
                rank: 6,
                max_iter: 3,
                implicit_prefs: true,
                confidence: Confidence::Spark,
                solver: Solver::Cholesky,
                ..AlsParams::default()
            },
        ),
    ];
    for (m, p) in cases {
        let a = one.install(|| fit(m, &p, &mut |_| {})).unwrap();
        let b = two.install(|| fit(m, &p, &mut |_| {})).unwrap();
        let bits = |f: &Factors| f.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.user_factors), bits(&b.user_factors), "{p:?}");
        assert_eq!(bits(&a.item_factors), bits(&b.item_factors), "{p:?}");
        assert_eq!(a.biases, b.biases);
        assert_eq!(a.history, b.history);
    }
}

/// A 3 × 3 example with `--confidence spark`, worked on paper. Rank 1, the item factors are
/// fixed at y = (1, 2, 1), α = 1, λ = 0.1, so YᵀY = 1 + 4 + 1 = 6 and each user's half-step is
/// x = b / A with A = YᵀY + Σ_obs α|r|·y² + λ·n⁺ and b = Σ_{r>0} (1 + αr)·y:
///
/// * user 0 rates item 0 with 1 and item 1 with 2: c = (2, 3), n⁺ = 2,
///   A = 6 + 1·1 + 2·4 + 0.2 = 15.2, b = 2·1 + 3·2 = 8, x = 8 / 15.2.
/// * user 1 rates item 2 with 3: c = 4, n⁺ = 1, A = 6 + 3·1 + 0.1 = 9.1, b = 4·1, x = 4 / 9.1.
/// * user 2 rates item 0 with −1 (confidence 2, preference 0) and item 1 with 1 (c = 2):
///   n⁺ = 1, A = 6 + 1·1 + 1·4 + 0.1 = 11.1, b = 2·2 = 4, x = 4 / 11.1.
#[test]
fn hand_computed_spark_half_step() {
    let ratings = Csr::from_triplets(
        3,
        3,
        &[0, 0, 1, 2, 2],
        &[0, 1, 2, 0, 1],
        &[1.0, 2.0, 3.0, -1.0, 1.0],
        Duplicates::Sum,
    );
    let p = AlsParams {
        rank: 1,
        reg_param: 0.1,
        alpha: 1.0,
        implicit_prefs: true,
        confidence: Confidence::Spark,
        solver: Solver::Cholesky,
        ..AlsParams::default()
    };
    let model = Model {
        params: p.clone(),
        users: crate::ids::IdMap::default(),
        items: crate::ids::IdMap::default(),
        user_factors: Factors::zeros(3, 1),
        item_factors: Factors::from_vec(3, 1, vec![1.0, 2.0, 1.0]).unwrap(),
        biases: None,
        clip_predictions: false,
        seen: ratings.clone(),
        summary: TrainingSummary::default(),
        bounds: Default::default(),
    };
    let want = [8.0 / 15.2, 4.0 / 9.1, 4.0 / 11.1];
    for (u, w) in want.iter().enumerate() {
        let (idx, vals) = ratings.row(u);
        let (x, _) = fold_in_user(&model, idx, vals).unwrap();
        assert!((f64::from(x[0]) - w).abs() < 1e-6, "user {u}: {} vs {w}", x[0]);
        // One CG step solves a 1 × 1 system exactly, from any start.
        let mut xc = [0.3f32];
        let mut s = Scratch::new(1);
        let yty = [6.0f32];
        kernels::implicit_cg_row(
            &yty,
            row_diag_of(&p, vals),
            model.item_factors.as_slice(),
            idx,
            vals,
            weights(&p),
            1,
            &mut xc,
            &mut s,
        );
        assert!((f64::from(xc[0]) - w).abs() < 1e-6, "cg user {u}: {} vs {w}", xc[0]);
    }
}

fn row_diag_of(p: &AlsParams, vals: &[f32]) -> f32 {
    implicit::row_diag(p, vals)
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// A random row problem: k, item factors (n × k), a row of distinct items with values.
    fn problem() -> impl Strategy<Value = (usize, Vec<f32>, Vec<u32>, Vec<f32>)> {
        // Small ranks, and ranks past the 8-wide tiles and the rank-16 switch to the
        // matrix-product / f32-Cholesky path.
        (prop_oneof![1usize..7, 7usize..40], 1usize..60).prop_flat_map(|(k, n)| {
            (
                Just(k),
                proptest::collection::vec(-1.0f32..1.0, n * k),
                proptest::collection::btree_map(0u32..n as u32, 1.0f32..5.0, 1..=n),
            )
                .prop_map(|(k, y, row)| {
                    let (idx, vals): (Vec<u32>, Vec<f32>) = row.into_iter().unzip();
                    (k, y, idx, vals)
                })
        })
    }

    /// The row's implicit normal equations built naively in f64: (A, b).
    fn normal_equations(
        k: usize,
        y: &[f32],
        yty: &[f32],
        diag: f32,
        idx: &[u32],
        vals: &[f32],
        conf: ImplicitWeights,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut a: Vec<f64> = yty.iter().map(|v| f64::from(*v)).collect();
        let mut b = vec![0f64; k];
        for j in 0..k {
            a[j * k + j] += f64::from(diag);
        }
        for (&i, &v) in idx.iter().zip(vals) {
            let (wa, wb) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            for r in 0..k {
                b[r] += f64::from(wb) * f64::from(yi[r]);
                for c in 0..k {
                    a[r * k + c] += f64::from(wa) * f64::from(yi[r]) * f64::from(yi[c]);
                }
            }
        }
        (a, b)
    }

    fn residual(k: usize, a: &[f64], b: &[f64], x: &[f32]) -> f64 {
        let mut worst = 0f64;
        let scale = b.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
        for r in 0..k {
            let ax: f64 = (0..k).map(|c| a[r * k + c] * f64::from(x[c])).sum();
            worst = worst.max((ax - b[r]).abs() / scale);
        }
        worst
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn cholesky_and_cg_solve_the_row_normal_equations(
            (k, y, idx, vals) in problem(),
            alpha in 1.0f32..3.0,
            reg in 0.05f32..1.0,
            spark in any::<bool>(),
        ) {
            let n = y.len() / k;
            let src = Factors::from_vec(n, k, y.clone()).unwrap();
            let yty = gram(&src);
            let p = AlsParams {
                rank: k, reg_param: reg, alpha, implicit_prefs: true,
                confidence: if spark { Confidence::Spark } else { Confidence::Implicit },
                ..AlsParams::default()
            };
            let conf = weights(&p);
            let diag = implicit::row_diag(&p, &vals);
            let (a, b) = normal_equations(k, &y, &yty, diag, &idx, &vals, conf);
            let mut s = Scratch::new(k);
            let mut x = vec![0f32; k];
            prop_assert!(kernels::implicit_cholesky_row(&yty, diag, &y, &idx, &vals, conf, &mut x, &mut s));
            prop_assert!(residual(k, &a, &b, &x) < 1e-4, "cholesky residual {}", residual(k, &a, &b, &x));
            // CG with as many steps as the rank reaches the same solution (exact arithmetic:
            // exactly; in f32 up to rounding, so run a second pass warm-started). At larger
            // ranks f32 CG stalls on the ill-conditioned draws, so only small ranks compare.
            if k > 8 {
                return Ok(());
            }
            let mut xc = vec![0f32; k];
            kernels::implicit_cg_row(&yty, diag, &y, &idx, &vals, conf, k, &mut xc, &mut s);
            kernels::implicit_cg_row(&yty, diag, &y, &idx, &vals, conf, k, &mut xc, &mut s);
            for (c, e) in xc.iter().zip(&x) {
                prop_assert!((c - e).abs() <= 1e-3 * (1.0 + e.abs()), "cg {xc:?} vs cholesky {x:?}");
            }
        }

        #[test]
        fn explicit_row_solves_als_wr_normal_equations(
            (k, y, idx, vals) in problem(),
            reg in 0.01f32..1.0,
        ) {
            let mut s = Scratch::new(k + 1);
            let mut x = vec![0f32; k];
            let mut bias = 0f32;
            let row = kernels::ExplicitRow { y: &y, k, idx: &idx, vals: &vals, biases: None, reg, reg_bias: reg, nonnegative: false };
            prop_assert!(kernels::explicit_row(&row, &mut x, &mut bias, &mut s).is_some());
            let n = idx.len() as f64;
            let mut a = vec![0f64; k * k];
            let mut b = vec![0f64; k];
            for j in 0..k { a[j * k + j] = f64::from(reg) * n; }
            for (&i, &v) in idx.iter().zip(&vals) {
                let yi = &y[i as usize * k..(i as usize + 1) * k];
                for r in 0..k {
                    b[r] += f64::from(v) * f64::from(yi[r]);
                    for c in 0..k { a[r * k + c] += f64::from(yi[r]) * f64::from(yi[c]); }
                }
            }
            prop_assert!(residual(k, &a, &b, &x) < 1e-4);
            // The non-negative solve is feasible and satisfies the KKT conditions.
            let row = kernels::ExplicitRow { nonnegative: true, ..row };
            prop_assert!(kernels::explicit_row(&row, &mut x, &mut bias, &mut s).is_some());
            let scale = b.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
            for r in 0..k {
                let g: f64 = (0..k).map(|c| a[r * k + c] * f64::from(x[c])).sum::<f64>() - b[r];
                prop_assert!(x[r] >= 0.0);
                if x[r] > 1e-6 { prop_assert!(g.abs() < 1e-4 * scale, "gradient {g} at free {r}"); }
                else { prop_assert!(g > -1e-4 * scale, "gradient {g} at bound {r}"); }
            }
        }
    }
}

/// `Als::fit_owned` frees the triplets early but trains the same model as `Als::fit`, bit for
/// bit, explicit and implicit (with duplicates, which the implicit fit sums).
#[test]
fn fit_owned_equals_fit() {
    let mut g = SplitMix64::new(7);
    let mut text = String::new();
    for _ in 0..3000 {
        let (u, i, r) = (g.below(200), g.below(90), 1 + g.below(5));
        text.push_str(&format!("u{u}\ti{i}\t{r}\n"));
    }
    for als in [Als::explicit(), Als::implicit()] {
        let mut als = als.rank(6).max_iter(4);
        let data = crate::ReaderBuilder::new().from_bytes(text.as_bytes(), "mem").unwrap();
        let a = als.fit(&data).unwrap();
        let b = als.fit_owned(data).unwrap();
        assert_eq!(a.user_factors().as_slice(), b.user_factors().as_slice());
        assert_eq!(a.item_factors().as_slice(), b.item_factors().as_slice());
        assert_eq!(a.users(), b.users());
        assert_eq!(a.summary().interactions, b.summary().interactions);
        assert_eq!(a.summary().value_max, b.summary().value_max);
        assert_eq!(a.training_matrix(), b.training_matrix());
    }
}
