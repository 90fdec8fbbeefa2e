//! Runs the real `alternator` binary: generate, inspect, and ingestion errors.

mod common;

use std::path::Path;

use common::{alternator, json, ml100k};

#[test]
fn inspect_movielens() {
    let Some(dir) = ml100k() else { return };
    let v = json(&alternator(&["inspect", dir.join("u.data").to_str().unwrap(), "--json"]));
    assert_eq!(v["users"], 943);
    assert_eq!(v["items"], 1682);
    assert_eq!(v["interactions"], 100_000);
    let v = json(&alternator(&["inspect", dir.join("ua.base").to_str().unwrap(), "--json"]));
    assert_eq!(v["interactions"], 90_570);
    let text = alternator(&["inspect", dir.join("u.data").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("interactions  100000"));
}

#[test]
fn generate_is_deterministic_and_sized() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tsv");
    let b = dir.path().join("b.tsv");
    let args = |out: &Path| {
        let out = out.to_str().unwrap().to_string();
        let mut v: Vec<String> = [
            "generate", "--users", "2000", "--items", "500", "--nnz", "100000", "--seed", "7",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(out);
        v
    };
    for p in [&a, &b] {
        let v = args(p);
        let out = alternator(&v.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let v = json(&alternator(&["inspect", a.to_str().unwrap(), "--json"]));
    let n = v["interactions"].as_u64().unwrap();
    assert!((99_000..=101_000).contains(&n), "{n}");
    assert_eq!(v["duplicates"], 0);
    // Counts with a split.
    let c = dir.path().join("c.tsv");
    let out = alternator(&[
        "generate",
        "--users",
        "300",
        "--items",
        "100",
        "--nnz",
        "3000",
        "--kind",
        "counts",
        "--seed",
        "3",
        "--test-fraction",
        "0.25",
        "--out",
        c.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let tr = json(&alternator(&["inspect", &format!("{}.train", c.display()), "--json"]));
    let te = json(&alternator(&["inspect", &format!("{}.test", c.display()), "--json"]));
    assert_eq!(tr["interactions"].as_u64().unwrap() + te["interactions"].as_u64().unwrap(), 3000);
    assert!(tr["value_min"].as_f64().unwrap() >= 1.0);
}

#[test]
fn malformed_line_exit_2_and_skip_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.tsv");
    std::fs::write(&f, "1\t1\t5\n2\t2\t4\n1\tx\toops\n3\t3\t1\n").unwrap();
    let out = alternator(&["inspect", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("bad.tsv"), "{err}");
    let out = alternator(&["inspect", f.to_str().unwrap(), "--skip-invalid", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let v = json(&out);
    assert_eq!(v["interactions"], 3);
    assert_eq!(v["skipped"], 1);
    assert!(err.contains("skipped 1 invalid line") && err.contains("line 3"), "{err}");
}

#[test]
fn string_ids_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.csv");
    std::fs::write(&f, "alice,The Matrix,5\nbob,Heat,3\nalice,Heat,4\n").unwrap();
    let v = json(&alternator(&["inspect", f.to_str().unwrap(), "--json"]));
    assert_eq!(v["users"], 2);
    assert_eq!(v["sample_users"], serde_json::json!(["alice", "bob"]));
    assert_eq!(v["sample_items"], serde_json::json!(["The Matrix", "Heat"]));
}

#[test]
fn missing_and_empty_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = alternator(&["inspect", dir.path().join("nope.tsv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.tsv"));
    // The operating system's reason, said once.
    assert_eq!(err.matches("(os error").count(), 1, "{err}");
    let e = dir.path().join("empty.tsv");
    std::fs::write(&e, "").unwrap();
    let out = alternator(&["inspect", e.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    // Named columns and header override.
    let h = dir.path().join("k.csv");
    std::fs::write(&h, "user_id,video_id,watch_ratio\n1,2,1.5\n1,3,0.2\n").unwrap();
    let v = json(&alternator(&[
        "inspect",
        h.to_str().unwrap(),
        "--rating-col",
        "watch_ratio",
        "--json",
    ]));
    assert_eq!(v["value_max"], 1.5);
    let out = alternator(&["inspect", h.to_str().unwrap(), "--rating-col", "score"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("score"));
}

/// `alternator inspect FILE | head` must end quietly when the reader goes away, not panic.
#[test]
fn closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.tsv");
    let out = alternator(&[
        "generate",
        "--users",
        "2000",
        "--items",
        "500",
        "--nnz",
        "200000",
        "--seed",
        "1",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_alternator"))
        .args(["inspect", "--json", f.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before anything is written
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
