//! Runs the real `alternator export` binary and reads the files back.

mod common;

use std::path::{Path, PathBuf};

use alternator::{Biases, Csr, Factors};
use common::{alternator, ok};

fn model(dir: &Path, biases: bool) -> PathBuf {
    let m = alternator::Model::from_parts(alternator::ModelParts {
        params: alternator::AlsParams { rank: 3, ..Default::default() },
        users: ["u1", "user,2"].into_iter().collect(),
        items: ["a", "b", "c"].into_iter().collect(),
        user_factors: Factors::from_vec(2, 3, vec![0.1, -2.5, 3.0, 1e-7, 0.0, 7.25]).unwrap(),
        item_factors: Factors::from_vec(3, 3, (0..9).map(|k| k as f32 * 0.5 - 1.0).collect())
            .unwrap(),
        biases: biases.then(|| Biases {
            global: 3.5,
            user: vec![0.25, -0.5],
            item: vec![0.1, 0.2, -0.3],
        }),
        clip_predictions: false,
        training: Csr::from_triplets(2, 3, &[0], &[1], &[4.0], alternator::Duplicates::Sum),
        summary: Default::default(),
    })
    .unwrap();
    let p = dir.join(if biases { "b.alt" } else { "nb.alt" });
    m.save(&p).unwrap();
    p
}

#[test]
fn export_csv_round_trips_values() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), false);
    let out = dir.path().join("csv");
    ok(&alternator(&["export", "--model", m.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    let text = std::fs::read_to_string(out.join("user_factors.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["id,f0,f1,f2", "u1,0.1,-2.5,3", "\"user,2\",0.0000001,0,7.25"]);
    let text = std::fs::read_to_string(out.join("item_factors.csv")).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert_eq!(text.lines().nth(3), Some("c,2,2.5,3"));
    assert!(!out.join("user_biases.csv").exists());
    assert!(!out.join("global_mean.txt").exists());
}

#[test]
fn export_jsonl_with_biases() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), true);
    let out = dir.path().join("j");
    ok(&alternator(&[
        "export",
        "--model",
        m.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "jsonl",
    ]));
    let text = std::fs::read_to_string(out.join("user_factors.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["id"], "user,2");
    assert_eq!(rows[0]["features"], serde_json::json!([0.1, -2.5, 3.0]));
    let text = std::fs::read_to_string(out.join("item_biases.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows[2], serde_json::json!({"id": "c", "bias": -0.3}));
    assert_eq!(std::fs::read_to_string(out.join("global_mean.txt")).unwrap().trim(), "3.5");
    assert!(out.join("user_biases.jsonl").exists());

    ok(&alternator(&["export", "--model", m.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    let text = std::fs::read_to_string(out.join("user_biases.csv")).unwrap();
    assert_eq!(text, "id,bias\nu1,0.25\n\"user,2\",-0.5\n");
}

#[test]
fn export_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.alt");
    std::fs::write(&bad, b"not a model").unwrap();
    let out = alternator(&[
        "export",
        "--model",
        bad.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = alternator(&[
        "export",
        "--model",
        "/nonexistent.alt",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
