//! Unit tests of the solvers (integration tests on real data live in `tests/als_*.rs`).

use super::*;
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
        Err(Error::Diverged { message }) => assert!(message.contains("reg-param"), "{message}"),
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
