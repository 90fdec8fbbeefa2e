//! Runs the real `alternator` binary: generate, inspect, and ingestion errors.

mod common;

use std::path::Path;

use common::{alternator, json, ml100k, stderr, write};

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

/// A generated 400-line file (`user<TAB>item<TAB>rating<TAB>timestamp`, LF) in `dir`.
fn generated(dir: &Path) -> (String, String) {
    let f = dir.join("g.tsv");
    let out = alternator(&[
        "generate",
        "--users",
        "30",
        "--items",
        "40",
        "--nnz",
        "400",
        "--seed",
        "3",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.lines().count(), 400);
    (f.to_str().unwrap().to_string(), text)
}

/// `inspect --json` without the path (which differs between the files compared).
fn inspect(path: &str) -> serde_json::Value {
    let mut v = json(&alternator(&["inspect", path, "--json"]));
    v.as_object_mut().unwrap().remove("path");
    v
}

/// Old Mac line ends (`\r` only) read every interaction: once read as one line, exit 0.
#[test]
fn cr_only_files_read_every_interaction() {
    let dir = tempfile::tempdir().unwrap();
    let (lf, text) = generated(dir.path());
    let want = inspect(&lf);
    assert_eq!(want["interactions"], 400);
    let cr = write(dir.path(), "cr.tsv", &text.replace('\n', "\r"));
    assert_eq!(inspect(&cr), want);
    // The CSV variant with a header, which exited 2 with "the file has only a header".
    let csv = format!("user,item,rating,timestamp\n{}", text.replace('\t', ","));
    let want = inspect(&write(dir.path(), "lf.csv", &csv));
    let got = inspect(&write(dir.path(), "cr.csv", &csv.replace('\n', "\r")));
    assert_eq!(got["interactions"], 400);
    assert_eq!(got, want);
    // Mixed line ends, and a split that keeps each line's own end.
    let mixed: String = text
        .lines()
        .enumerate()
        .map(|(k, l)| format!("{l}{}", ["\n", "\r\n", "\r"][k % 3]))
        .collect();
    let m = write(dir.path(), "mixed.tsv", &mixed);
    let (tr, te) = (dir.path().join("m.train"), dir.path().join("m.test"));
    let out = alternator(&[
        "split",
        "--input",
        &m,
        "--out-train",
        tr.to_str().unwrap(),
        "--out-test",
        te.to_str().unwrap(),
        "--strategy",
        "by-time",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (tr, te) = (std::fs::read_to_string(&tr).unwrap(), std::fs::read_to_string(&te).unwrap());
    let ends =
        |s: &str| (s.matches("\r\n").count(), s.matches('\r').count(), s.matches('\n').count());
    let (a, b) = (ends(&tr), ends(&te));
    assert_eq!((a.0 + b.0, a.1 + b.1 - a.0 - b.0, a.2 + b.2 - a.0 - b.0), (133, 133, 134));
    let n = |s: &str| s.split(['\r', '\n']).filter(|l| !l.is_empty()).count();
    assert_eq!((n(&tr), n(&te)), (320, 80));
}

/// A line with a missing middle column: exit 2 naming the file and line 3, never the
/// timestamp read as the rating; `--skip-invalid` skips it.
#[test]
fn a_short_line_is_an_error_not_a_misread() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "short.tsv",
        "1\t10\t4\t881250949\n1\t11\t3\t881250950\n2\t10\t881250951\n3\t12\t5\t881250952\n",
    );
    let model = dir.path().join("m.alt");
    let model = model.to_str().unwrap();
    for verb in [&["inspect", f.as_str()][..], &["fit", "--train", &f, "--model", model]] {
        let out = alternator(verb);
        assert_eq!(out.status.code(), Some(2), "{verb:?}");
        let err = stderr(&out);
        assert!(
            err.contains("short.tsv: line 3:")
                && err.contains("has 3 field(s)")
                && err.contains("line 1 has 4"),
            "{err}"
        );
    }
    let out = alternator(&["inspect", &f, "--skip-invalid", "--json"]);
    let v = json(&out);
    assert_eq!((v["interactions"].as_u64(), v["value_max"].as_f64()), (Some(3), Some(5.0)));
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
}

/// A bad value in a detected time column is an error naming line and column, for the verbs
/// that use times; those that do not (fit, evaluate, a random split) are not affected, and
/// `--time-col none` reads no times.
#[test]
fn a_bad_timestamp_is_an_error_where_times_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let f =
        write(dir.path(), "t.tsv", "1\t10\t4\t881250949\n1\t11\t3\tsoon\n2\t10\t5\t881250951\n");
    let out = alternator(&["inspect", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("t.tsv: line 2, column 4: timestamp \"soon\""), "{err}");
    assert!(err.contains("--time-col none"), "{err}");
    let (tr, te) = (dir.path().join("a"), dir.path().join("b"));
    let split = |strategy: &str| {
        alternator(&[
            "split",
            "--input",
            &f,
            "--out-train",
            tr.to_str().unwrap(),
            "--out-test",
            te.to_str().unwrap(),
            "--strategy",
            strategy,
        ])
    };
    assert_eq!(split("by-time").status.code(), Some(2));
    assert!(split("random").status.success());
    let model = dir.path().join("m.alt");
    let out =
        alternator(&["fit", "--train", &f, "--model", model.to_str().unwrap(), "--rank", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = alternator(&["evaluate", "--model", model.to_str().unwrap(), "--test", &f]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&alternator(&["inspect", &f, "--time-col", "none", "--json"]));
    assert_eq!((v["interactions"].as_u64(), v["has_time"].as_bool()), (Some(3), Some(false)));
}

/// Columns in messages are counted from 1, with the header's name.
#[test]
fn error_columns_count_from_one() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "r.csv", "user,item,rating\n1,2,4\n1,3,five\n");
    let out = alternator(&["inspect", &f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("r.csv: line 3, column 3 (rating): \"five\" is not a number"),
        "{}",
        stderr(&out)
    );
}
