//! ALS on real MovieLens 100K (ua.base / ua.test) through the library's front door: Spark's
//! explicit accuracy and `implicit`'s ranking accuracy. Skipped (passing, with a notice) when
//! the data is not present.

use std::path::{Path, PathBuf};

use alternator::{Als, ColdStart, Interactions, Model, ReaderBuilder, Solver};

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml-100k");
    if d.join("ua.base").exists() {
        Some(d)
    } else {
        println!("skipping: ../shared/data/ml-100k not found");
        None
    }
}

fn read(dir: &Path, name: &str, binary: bool) -> Interactions {
    ReaderBuilder::new().binary(binary).from_path(dir.join(name)).unwrap()
}

/// Test RMSE with Spark's `coldStartStrategy="drop"`.
fn explicit(dir: &Path, als: Als<'_>) -> (Model, f64) {
    let mut als = als;
    let model = als.fit(&read(dir, "ua.base", false)).unwrap();
    let m = model.evaluate(&read(dir, "ua.test", false), ColdStart::Drop).unwrap();
    assert_eq!(m.dropped, 2);
    (model, m.rmse)
}

#[test]
fn explicit_rank10_matches_spark() {
    let Some(dir) = data_dir() else { return };
    let (_, e) = explicit(&dir, Als::explicit().rank(10).max_iter(10).reg_param(0.1));
    println!("explicit rank 10 test RMSE {e:.4}");
    // Spark 0.9533 / 0.9589 depending on its seed.
    assert!((0.9433..=0.9689).contains(&e), "test RMSE {e}");
}

#[test]
fn explicit_nonnegative_is_nonnegative_and_close() {
    let Some(dir) = data_dir() else { return };
    let (_, e) = explicit(&dir, Als::explicit().rank(10));
    let (m, enn) = explicit(&dir, Als::explicit().rank(10).nonnegative(true));
    println!("nonnegative test RMSE {enn:.4} vs {e:.4}");
    let all = m.user_factors().as_slice().iter().chain(m.item_factors().as_slice());
    assert!(all.copied().all(|v| v >= 0.0));
    assert!(enn <= e + 0.03, "{enn} vs {e}");
}

#[test]
fn explicit_biases_rank50() {
    let Some(dir) = data_dir() else { return };
    let (_, e) = explicit(&dir, Als::explicit().rank(50).biases(true));
    println!("biases rank 50 test RMSE {e:.4}");
    assert!(e <= 0.935, "test RMSE {e}");
}

#[test]
fn explicit_rank100_matches_spark() {
    let Some(dir) = data_dir() else { return };
    let (_, e) = explicit(&dir, Als::explicit().rank(100).max_iter(20));
    println!("explicit rank 100 test RMSE {e:.4}");
    // Spark 0.9472; the issue asked for <= 0.957.
    assert!(e <= 0.957, "test RMSE {e}");
}

/// precision@10 and ndcg@10 of `implicit`'s protocol (binary data, training items filtered).
fn implicit_metrics(solver: Solver) -> Option<(f64, f64)> {
    let dir = data_dir()?;
    let model = Als::implicit()
        .rank(64)
        .max_iter(15)
        .reg_param(0.05)
        .alpha(1.0)
        .solver(solver)
        .fit(&read(&dir, "ua.base", true))
        .unwrap();
    let m = model.evaluate_ranking(&read(&dir, "ua.test", true), 10, None).unwrap();
    Some((m.precision, m.ndcg))
}

#[test]
fn implicit_cg_matches_implicit_library() {
    let Some((prec, ndcg)) = implicit_metrics(Solver::Cg) else { return };
    println!("implicit cg precision@10 {prec:.4} ndcg@10 {ndcg:.4}");
    assert!((prec / 0.2291 - 1.0).abs() <= 0.03, "precision@10 {prec}");
    assert!((ndcg / 0.2577 - 1.0).abs() <= 0.03, "ndcg@10 {ndcg}");
}

#[test]
fn implicit_cholesky_matches_implicit_library() {
    let Some((prec, ndcg)) = implicit_metrics(Solver::Cholesky) else { return };
    println!("implicit cholesky precision@10 {prec:.4} ndcg@10 {ndcg:.4}");
    assert!((prec / 0.2291 - 1.0).abs() <= 0.03, "precision@10 {prec}");
    assert!((ndcg / 0.2577 - 1.0).abs() <= 0.03, "ndcg@10 {ndcg}");
}
