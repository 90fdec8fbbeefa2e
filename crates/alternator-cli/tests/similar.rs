//! Runs the real `alternator similar` binary on a hand-made model with known cosines.

mod common;

use std::path::{Path, PathBuf};

use alternator::Csr;
use alternator::Factors;
use alternator::Model;
use common::{alternator, fit, ml100k, ok};

/// Items a = (1, 0), b = (0.9, 0.1), c = (0, 1), d = (0.5, 0.5), e = (−1, 0), z = (0, 0);
/// users u1 = (1, 0), u2 = (2, 0), u3 = (0, 0).
fn toy_model(dir: &Path) -> PathBuf {
    let model = Model::from_parts(alternator::ModelParts {
        params: alternator::AlsParams { rank: 2, ..Default::default() },
        users: ["u1", "u2", "u3"].into_iter().collect(),
        items: ["a", "b", "c", "d", "e", "z"].into_iter().collect(),
        user_factors: Factors::from_vec(3, 2, vec![1.0, 0.0, 2.0, 0.0, 0.0, 0.0]).unwrap(),
        item_factors: Factors::from_vec(
            6,
            2,
            vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.5, 0.5, -1.0, 0.0, 0.0, 0.0],
        )
        .unwrap(),
        biases: None,
        clip_predictions: false,
        training: Csr::from_triplets(3, 6, &[], &[], &[], alternator::Duplicates::Sum),
        summary: Default::default(),
    })
    .unwrap();
    let p = dir.join("toy.alt");
    model.save(&p).unwrap();
    p
}

fn rows(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_string(), f[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn similar_items_by_cosine() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let r = rows(&ok(&alternator(&["similar", "--model", m, "--item", "a", "-n", "10", "--csv"])));
    let ids: Vec<&str> = r.iter().map(|x| x.0.as_str()).collect();
    // cos(a,b) ≈ 0.9939, cos(a,d) ≈ 0.7071, c and z 0 (z has zero norm), e −1.
    assert_eq!(ids, ["b", "d", "c", "z", "e"]);
    assert!((r[0].1 - 0.9 / 0.81f64.add_sq(0.01)).abs() < 1e-5);
    assert!((r[1].1 - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-5);
    assert_eq!(r[4].1, -1.0);
    assert!(r.iter().all(|x| (-1.0..=1.0).contains(&x.1)));

    let r = rows(&ok(&alternator(&[
        "similar",
        "--model",
        m,
        "--item",
        "a",
        "-n",
        "2",
        "--csv",
        "--include-self",
    ])));
    assert_eq!(r[0].0, "a");
    assert!((r[0].1 - 1.0).abs() < 1e-6);

    // A zero vector: every similarity is 0, never NaN.
    let r = rows(&ok(&alternator(&["similar", "--model", m, "--item", "z", "-n", "3", "--csv"])));
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|x| x.1 == 0.0));
}

trait AddSq {
    fn add_sq(self, other: f64) -> f64;
}
impl AddSq for f64 {
    fn add_sq(self, other: f64) -> f64 {
        (self + other).sqrt()
    }
}

#[test]
fn similar_users_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&alternator(&[
        "similar", "--model", m, "--user", "u1", "-n", "5", "--json",
    ])))
    .unwrap();
    assert_eq!(v["user"], "u1");
    assert_eq!(v["users"][0]["user"], "u2");
    assert_eq!(v["users"][0]["score"], 1.0);
    assert_eq!(v["users"].as_array().unwrap().len(), 2);

    for args in [
        &["similar", "--model", m, "--item", "nope"][..],
        &["similar", "--model", m, "--user", "nope"],
        &["similar", "--model", m],
        &["similar", "--model", m, "--item", "a", "--user", "u1"],
    ] {
        let out = alternator(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn similar_movielens_seven() {
    let Some(ml) = ml100k() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ml.alt");
    let m = model.to_str().unwrap();
    fit(&ml.join("ua.base"), &model, &["--rank", "8", "--max-iter", "3", "--seed", "1"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&alternator(&[
        "similar",
        "--model",
        m,
        "--item",
        "11",
        "-n",
        "10",
        "--json",
        "--items-meta",
        ml.join("u.item").to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(v["title"], "Seven (Se7en) (1995)");
    let res = v["items"].as_array().unwrap();
    assert_eq!(res.len(), 10);
    let s: Vec<f64> = res.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(s.iter().all(|x| (-1.0..=1.0).contains(x)));
    assert!(s.windows(2).all(|w| w[0] >= w[1]));
    assert!(res.iter().all(|r| r["item"] != "11"));
}
