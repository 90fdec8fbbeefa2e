//! Input formats without Spark: standard input, gzip and zstd text recognised by content,
//! Parquet tables written by our own verbs, and bad input (damaged Parquet, foreign model
//! directories, ids Spark cannot hold): exit code 2, a message naming what is wrong, no panic.
//! (The Parquet files and model directories Spark writes are tested in `spark.rs`.)

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{alternator, json, ml100k, ok, stderr, write};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs the binary with `input` on its standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alternator"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Asserts exit code 2 with a message holding every one of `words`, and no panic.
fn bad_input(out: &Output, words: &[&str]) -> String {
    let msg = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(!msg.contains("panicked") && !msg.contains("RUST_BACKTRACE"), "{msg}");
    for w in words {
        assert!(msg.contains(w), "{w:?} not in: {msg}");
    }
    msg
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn stdin_gzip_and_zstd_give_ua_base() {
    let Some(ml) = ml100k() else { return };
    let text = std::fs::read(ml.join("ua.base")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // `cat ua.base | alternator inspect -`
    let v: serde_json::Value =
        serde_json::from_slice(&with_stdin(&["inspect", "-", "--json"], &text).stdout).unwrap();
    assert_eq!(v["interactions"], 90_570);
    assert_eq!(v["users"], 943);
    // Compressed files are recognised by their first bytes, whatever their names.
    let gz = dir.path().join("ua.base.txt");
    std::fs::write(&gz, gzip(&text)).unwrap();
    let zst = dir.path().join("ua-base");
    let z =
        ruzstd::encoding::compress_to_vec(&text[..], ruzstd::encoding::CompressionLevel::Fastest);
    std::fs::write(&zst, z).unwrap();
    for p in [&gz, &zst] {
        let v = json(&alternator(&["inspect", s(p), "--json"]));
        assert_eq!(v["interactions"], 90_570, "{}", p.display());
        assert_eq!(v["items"], 1680);
    }
    // Gzip on standard input, and a model trained on it is the one trained on the text.
    let v: serde_json::Value =
        serde_json::from_slice(&with_stdin(&["inspect", "-", "--json"], &gzip(&text)).stdout)
            .unwrap();
    assert_eq!(v["interactions"], 90_570);
    let (a, b) = (dir.path().join("a.alt"), dir.path().join("b.alt"));
    ok(&alternator(&["fit", "--train", s(&ml.join("ua.base")), "--model", s(&a), "--rank", "4"]));
    ok(&with_stdin(&["fit", "--train", "-", "--model", s(&b), "--rank", "4"], &gzip(&text)));
    for (m, out) in [(&a, "ea"), (&b, "eb")] {
        ok(&alternator(&["export", "--model", s(m), "--out", s(&dir.path().join(out))]));
    }
    let f = |d: &str| std::fs::read(dir.path().join(d).join("item_factors.csv")).unwrap();
    assert!(f("ea") == f("eb"), "a model fitted from gzip on stdin differs");
}

/// A small interaction file and a model trained on it.
fn small(dir: &Path) -> (String, std::path::PathBuf) {
    let mut text = String::from("user,item,rating,ts\n");
    for u in 1..=30 {
        for k in 0..8 {
            let i = (u * 7 + k * 3) % 40 + 1;
            text.push_str(&format!("{u},{i},{},{}\n", (u + k) % 5 + 1, 1000 + u * 10 + k));
        }
    }
    let data = write(dir, "small.csv", &text);
    let model = dir.join("small.alt");
    ok(&alternator(&["fit", "--train", &data, "--model", s(&model), "--rank", "3"]));
    (data, model)
}

#[test]
fn parquet_written_by_us_reads_back_by_column_name() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = small(dir.path());
    // predict --out X.parquet: the input's columns (named by its header) and `prediction`.
    let pq = dir.path().join("p.parquet");
    ok(&alternator(&["predict", "--model", s(&model), "--input", &data, "--out", s(&pq)]));
    let a = json(&alternator(&["inspect", &data, "--json"]));
    let b = json(&alternator(&[
        "inspect",
        s(&pq),
        "--json",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--rating-col",
        "rating",
        "--time-col",
        "ts",
    ]));
    for key in ["users", "items", "interactions", "value_mean", "per_user", "has_time"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(b["format"], "parquet");
    // The prediction column as the value, from standard input.
    let bytes = std::fs::read(&pq).unwrap();
    let out = with_stdin(&["inspect", "-", "--json", "--rating-col", "prediction"], &bytes);
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["interactions"], 240);
    assert_ne!(c["value_mean"], a["value_mean"]);
    // A column that is not there is named with the ones that are.
    let out = alternator(&["inspect", s(&pq), "--user-col", "userId"]);
    bad_input(&out, &["userId", "user, item, rating, ts, prediction"]);
    // Predicting on a Parquet input, and the factor tables as Parquet.
    let p2 = dir.path().join("p2.tsv");
    ok(&alternator(&[
        "predict",
        "--model",
        s(&model),
        "--input",
        s(&pq),
        "--out",
        s(&p2),
        "--user-col",
        "user",
        "--item-col",
        "item",
    ]));
    assert_eq!(std::fs::read_to_string(&p2).unwrap().lines().count(), 241);
    ok(&alternator(&[
        "export",
        "--model",
        s(&model),
        "--format",
        "parquet",
        "--out",
        s(&dir.path().join("e")),
    ]));
    let v = json(&alternator(&[
        "inspect",
        s(&dir.path().join("e/item_factors.parquet")),
        "--json",
        "--user-col",
        "id",
        "--item-col",
        "id",
        "--rating-col",
        "none",
    ]));
    assert_eq!(v["users"], 40);
}

#[test]
fn damaged_parquet_exits_2_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = small(dir.path());
    let pq = dir.path().join("p.parquet");
    ok(&alternator(&["predict", "--model", s(&model), "--input", &data, "--out", s(&pq)]));
    let good = std::fs::read(&pq).unwrap();
    // Truncated: the footer is gone.
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &good[..good.len() * 2 / 3]).unwrap();
    bad_input(&alternator(&["inspect", s(&cut)]), &["cut.parquet", "Parquet"]);
    bad_input(
        &alternator(&["fit", "--train", s(&cut), "--model", s(&dir.path().join("x.alt"))]),
        &["cut.parquet"],
    );
    // Pages damaged, footer intact: every flip is an error or a read, never a panic.
    let hurt = dir.path().join("hurt.parquet");
    for at in (4..good.len() - 8).step_by(7) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        std::fs::write(&hurt, &bad).unwrap();
        let out = alternator(&["inspect", s(&hurt), "--json"]);
        let msg = stderr(&out);
        assert!(matches!(out.status.code(), Some(0 | 2)), "byte {at}: {msg}");
        assert!(!msg.contains("panicked"), "byte {at}: {msg}");
    }
    // A directory whose part file is damaged names the part.
    let parts = dir.path().join("table");
    std::fs::create_dir(&parts).unwrap();
    std::fs::write(parts.join("part-00000.parquet"), &good).unwrap();
    std::fs::write(parts.join("part-00001.parquet"), &good[..100]).unwrap();
    std::fs::write(parts.join("_SUCCESS"), b"").unwrap();
    bad_input(&alternator(&["inspect", s(&parts)]), &["part-00001.parquet"]);
}

#[test]
fn foreign_model_directories_and_int64_ids_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (data, model) = small(dir.path());
    let spark = dir.path().join("spark");
    ok(&alternator(&["export", "--model", s(&model), "--format", "spark", "--out", s(&spark)]));
    let predict = |m: &Path| {
        alternator(&[
            "predict",
            "--model",
            s(m),
            "--input",
            &data,
            "--out",
            s(&dir.path().join("o.tsv")),
        ])
    };
    ok(&predict(&spark));
    // Wrong metadata class.
    let md = spark.join("metadata/part-00000");
    let line = std::fs::read_to_string(&md).unwrap();
    let wrong = line.replace("recommendation.ALSModel", "classification.LogisticRegressionModel");
    std::fs::write(&md, wrong).unwrap();
    bad_input(&predict(&spark), &["LogisticRegressionModel", "not a Spark ALS model"]);
    bad_input(&alternator(&["serve", "--model", s(&spark), "--addr", "127.0.0.1:0"]), &["class"]);
    // Not JSON; no metadata at all; a factor table missing; a rank the table does not have.
    std::fs::write(&md, "garbage\n").unwrap();
    bad_input(&predict(&spark), &["metadata", "JSON"]);
    std::fs::write(&md, line.replace("\"rank\":3", "\"rank\":4")).unwrap();
    bad_input(&predict(&spark), &["rank 4"]);
    std::fs::write(&md, &line).unwrap();
    std::fs::remove_dir_all(spark.join("itemFactors")).unwrap();
    bad_input(&predict(&spark), &["itemFactors"]);
    std::fs::remove_dir_all(spark.join("metadata")).unwrap();
    bad_input(&predict(&spark), &["metadata"]);
    bad_input(
        &alternator(&[
            "import",
            "--spark",
            s(&dir.path().join("nowhere")),
            "--model",
            s(&dir.path().join("i.alt")),
        ]),
        &["nowhere"],
    );

    // Ids Spark cannot hold: a model with a user id past i32, and one with string ids.
    for (id, name) in [("3000000000", "big"), ("ann", "str")] {
        let train =
            write(dir.path(), &format!("{name}.tsv"), &format!("1\t1\t5\n{id}\t2\t3\n2\t1\t4\n"));
        let m = dir.path().join(format!("{name}.alt"));
        ok(&alternator(&["fit", "--train", &train, "--model", s(&m), "--rank", "2"]));
        let out_dir = dir.path().join(format!("{name}_spark"));
        let out =
            alternator(&["export", "--model", s(&m), "--format", "spark", "--out", s(&out_dir)]);
        bad_input(&out, &["32-bit integer ids", id]);
        assert!(!out_dir.exists(), "a refused export left {}", out_dir.display());
    }
}
