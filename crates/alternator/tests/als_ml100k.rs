//! ALS on real MovieLens 100K (ua.base / ua.test): Spark's explicit accuracy and `implicit`'s
//! ranking accuracy. Skipped (passing) when the data is not present.

use std::path::{Path, PathBuf};

use alternator::als::{FitOutput, fit};
use alternator::data::{Interactions, ReadOptions, read_interactions};
use alternator::model::Factors;
use alternator::params::{AlsParams, Confidence, Solver};
use alternator::sparse::{Csr, Duplicates};

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml-100k");
    if d.join("ua.base").exists() {
        Some(d)
    } else {
        println!("skipping: ../shared/data/ml-100k not found");
        None
    }
}

struct Split {
    train: Interactions,
    /// Test triples mapped to training indices; cold-start pairs dropped.
    test: Vec<(u32, u32, f32)>,
}

fn load(dir: &Path) -> Split {
    let train = read_interactions(dir.join("ua.base"), &ReadOptions::default()).unwrap();
    let test = read_interactions(dir.join("ua.test"), &ReadOptions::default()).unwrap();
    let mut t = Vec::new();
    for k in 0..test.len() {
        let u = test.users.id(test.user_idx[k]).and_then(|s| train.users.get(s));
        let i = test.items.id(test.item_idx[k]).and_then(|s| train.items.get(s));
        if let (Some(u), Some(i)) = (u, i) {
            t.push((u, i, test.values[k]));
        }
    }
    Split { train, test: t }
}

fn rmse(out: &FitOutput, test: &[(u32, u32, f32)]) -> f64 {
    let dot = |a: &[f32], b: &[f32]| -> f64 {
        a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
    };
    let mut sse = 0.0;
    for &(u, i, r) in test {
        let mut p = dot(out.user_factors.row(u as usize), out.item_factors.row(i as usize));
        if let Some(b) = &out.biases {
            p += f64::from(b.global + b.user[u as usize] + b.item[i as usize]);
        }
        sse += (f64::from(r) - p).powi(2);
    }
    (sse / test.len() as f64).sqrt()
}

fn explicit(split: &Split, p: AlsParams) -> (FitOutput, f64) {
    let csr = split.train.to_csr(Duplicates::Keep);
    let out = fit(&csr, &p, &mut |_| {}).unwrap();
    let e = rmse(&out, &split.test);
    (out, e)
}

#[test]
fn explicit_rank10_matches_spark() {
    let Some(dir) = data_dir() else { return };
    let split = load(&dir);
    let (_, e) = explicit(
        &split,
        AlsParams { rank: 10, max_iter: 10, reg_param: 0.1, ..AlsParams::default() },
    );
    println!("explicit rank 10 test RMSE {e:.4}");
    // Spark 0.9533 / 0.9589 depending on its seed.
    assert!((0.9433..=0.9689).contains(&e), "test RMSE {e}");
}

#[test]
fn explicit_nonnegative_is_nonnegative_and_close() {
    let Some(dir) = data_dir() else { return };
    let split = load(&dir);
    let base = AlsParams { rank: 10, max_iter: 10, reg_param: 0.1, ..AlsParams::default() };
    let (_, e) = explicit(&split, base.clone());
    let (out, enn) = explicit(&split, AlsParams { nonnegative: true, ..base });
    println!("nonnegative test RMSE {enn:.4} vs {e:.4}");
    assert!(
        out.user_factors.as_slice().iter().chain(out.item_factors.as_slice()).all(|&v| v >= 0.0)
    );
    assert!(enn <= e + 0.03, "{enn} vs {e}");
}

#[test]
fn explicit_biases_rank50() {
    let Some(dir) = data_dir() else { return };
    let split = load(&dir);
    let (_, e) = explicit(
        &split,
        AlsParams { rank: 50, max_iter: 10, reg_param: 0.1, biases: true, ..AlsParams::default() },
    );
    println!("biases rank 50 test RMSE {e:.4}");
    assert!(e <= 0.935, "test RMSE {e}");
}

/// precision@K and ndcg@K (binary gains) over users with test items, train items filtered.
pub fn ranking(
    uf: &Factors,
    itf: &Factors,
    train: &Csr,
    test: &[Vec<u32>],
    k: usize,
) -> (f64, f64) {
    let (mut hits, mut denom, mut ndcg_sum, mut n_users) = (0usize, 0usize, 0f64, 0usize);
    let mut scores = vec![0f32; itf.rows()];
    for (u, rel) in test.iter().enumerate() {
        if rel.is_empty() {
            continue;
        }
        let x = uf.row(u);
        for (i, s) in scores.iter_mut().enumerate() {
            *s = x.iter().zip(itf.row(i)).map(|(a, b)| a * b).sum();
        }
        for &i in train.row(u).0 {
            scores[i as usize] = f32::NEG_INFINITY;
        }
        let mut order: Vec<u32> = (0..itf.rows() as u32).collect();
        order.sort_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]).then(a.cmp(&b)));
        let m = k.min(rel.len());
        let (mut dcg, mut idcg) = (0f64, 0f64);
        for (r, &i) in order.iter().take(k).enumerate() {
            if rel.contains(&i) {
                hits += 1;
                dcg += 1.0 / ((r + 2) as f64).log2();
            }
        }
        for r in 0..m {
            idcg += 1.0 / ((r + 2) as f64).log2();
        }
        denom += m;
        ndcg_sum += dcg / idcg;
        n_users += 1;
    }
    (hits as f64 / denom as f64, ndcg_sum / n_users as f64)
}

fn implicit_metrics(solver: Solver) -> Option<(f64, f64)> {
    let dir = data_dir()?;
    let opts = ReadOptions { binary: true, ..ReadOptions::default() };
    let train = read_interactions(dir.join("ua.base"), &opts).unwrap();
    let test = read_interactions(dir.join("ua.test"), &opts).unwrap();
    // Test-only items get an index (zero factors); test-only users cannot be scored.
    let mut items = train.items.clone();
    let mut rel: Vec<Vec<u32>> = vec![Vec::new(); train.users.len()];
    for k in 0..test.len() {
        let Some(u) = test.users.id(test.user_idx[k]).and_then(|s| train.users.get(s)) else {
            continue;
        };
        let Some(id) = test.items.id(test.item_idx[k]) else { continue };
        let i = items.get_or_insert(id);
        if !rel[u as usize].contains(&i) {
            rel[u as usize].push(i);
        }
    }
    let csr = Csr::from_triplets(
        train.users.len(),
        items.len(),
        &train.user_idx,
        &train.item_idx,
        &train.values,
        Duplicates::Sum,
    );
    let p = AlsParams {
        rank: 64,
        max_iter: 15,
        reg_param: 0.05,
        alpha: 1.0,
        implicit_prefs: true,
        confidence: Confidence::Implicit,
        solver,
        ..AlsParams::default()
    };
    let out = fit(&csr, &p, &mut |_| {}).unwrap();
    Some(ranking(&out.user_factors, &out.item_factors, &csr, &rel, 10))
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

#[test]
fn explicit_rank100_matches_spark() {
    let Some(dir) = data_dir() else { return };
    let split = load(&dir);
    let (_, e) = explicit(
        &split,
        AlsParams { rank: 100, max_iter: 20, reg_param: 0.1, ..AlsParams::default() },
    );
    println!("explicit rank 100 test RMSE {e:.4}");
    // Spark 0.9472; the issue asks for <= 0.957.
    assert!(e <= 0.957, "test RMSE {e}");
}
