//! Against the real PySpark 4.0.1 (the venv `../shared/bench/peers/setup.sh` makes, and Java):
//! our model in Spark, Spark's model with us, ua.base as a Parquet directory Spark wrote, and
//! a factor table of doubles Spark wrote. One test, so that Spark starts once: the binary
//! writes what Spark reads, `tests/spark/spark_side.py` does every Spark-side step in one
//! session, then the binary reads what Spark wrote. Skipped, with a notice, when ML-100K,
//! Java or the venv is missing.
//!
//! The venv is `$ALT_PEERS_VENV` (as setup.sh names it), else `~/.cache/alternator-peers`.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{alternator, json, ml100k, ok, stderr};
use serde_json::Value;

/// Scores compared within this (absolute): both sides compute f32 dot products.
const TOL: f64 = 1e-5;

/// The peers venv's python when it has pyspark and Java runs; else `None` after a notice.
fn pyspark() -> Option<PathBuf> {
    let venv = std::env::var_os("ALT_PEERS_VENV").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/alternator-peers"))
    })?;
    let python = venv.join("bin/python");
    let java = Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success());
    if !java {
        eprintln!(
            "skipping the Spark tests: java not found (apt-get install openjdk-17-jre-headless)"
        );
        return None;
    }
    let has = Command::new(&python)
        .args(["-c", "import pyspark; assert pyspark.__version__.startswith('4.')"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        eprintln!(
            "skipping the Spark tests: no PySpark 4 at {} (run ../shared/bench/peers/setup.sh)",
            python.display()
        );
        return None;
    }
    Some(python)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `user,item,prediction` rows of a CSV Spark side wrote.
fn spark_predictions(path: &Path) -> HashMap<(String, String), f64> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[0].to_string(), f[1].to_string()), f[2].parse::<f64>().unwrap())
        })
        .collect()
}

/// Our `predict` text output on ua.test: its lines with the prediction appended.
fn our_predictions(path: &Path) -> Vec<((String, String), f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[4].parse::<f64>().unwrap())
        })
        .collect()
}

/// Every pair of `ours` against Spark's: both NaN, or within [`TOL`]. The largest gap.
fn same_predictions(
    ours: &[((String, String), f64)],
    spark: &HashMap<(String, String), f64>,
) -> f64 {
    assert_eq!(ours.len(), 9430, "ua.test has 9430 pairs");
    let mut worst = 0f64;
    for (pair, p) in ours {
        let q = spark.get(pair).unwrap_or_else(|| panic!("Spark did not score {pair:?}"));
        if p.is_nan() || q.is_nan() {
            assert!(p.is_nan() && q.is_nan(), "{pair:?}: ours {p}, Spark's {q}");
            continue;
        }
        assert!((p - q).abs() <= TOL, "{pair:?}: ours {p}, Spark's {q}");
        worst = worst.max((p - q).abs());
    }
    worst
}

/// Spark's recommendation lists (JSON lines `{"user", "items", "ratings"}`) by user.
fn spark_lists(path: &Path) -> HashMap<String, (Vec<String>, Vec<f64>)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let items = v["items"].as_array().unwrap().iter().map(|i| i.to_string()).collect();
            let ratings = v["ratings"].as_array().unwrap().iter().map(|r| r.as_f64().unwrap());
            (v["user"].to_string(), (items, ratings.collect()))
        })
        .collect()
}

/// Two top-10 lists agree: the same scores rank by rank, and the same items except where
/// scores tie within [`TOL`] (which of two tied items comes first, or makes the cut, is the
/// engines' own business). Returns whether the items are identical in order.
fn same_list(user: &str, ours: &(Vec<String>, Vec<f64>), spark: &(Vec<String>, Vec<f64>)) -> bool {
    assert_eq!(ours.0.len(), spark.0.len(), "user {user}: list lengths");
    for (k, (a, b)) in ours.1.iter().zip(&spark.1).enumerate() {
        assert!((a - b).abs() <= TOL, "user {user} rank {k}: our score {a}, Spark's {b}");
    }
    if ours.0 == spark.0 {
        return true;
    }
    let last = ours.1.last().copied().unwrap_or(0.0);
    for (k, item) in ours.0.iter().enumerate() {
        let j = spark.0.iter().position(|x| x == item);
        let tied = |score: f64| {
            ours.1.iter().chain(&spark.1).filter(|s| (*s - score).abs() <= TOL).count() > 2
        };
        match j {
            Some(j) if j == k => {}
            Some(_) => assert!(tied(ours.1[k]), "user {user}: {item} at another rank, no tie"),
            None => assert!(
                (ours.1[k] - last).abs() <= TOL,
                "user {user}: our {item} (score {}) is not in Spark's list {:?}",
                ours.1[k],
                spark.0
            ),
        }
    }
    false
}

/// A running `alternator serve`, killed on drop.
struct Server(std::process::Child, SocketAddr);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(model: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alternator"))
        .args(["serve", "--addr", "127.0.0.1:0", "--threads", "2", "--model", s(model)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn alternator serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").expect("address line");
    Server(child, addr.parse().unwrap())
}

fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    c.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn spark_reads_our_model_and_we_read_spark() {
    let Some(ml) = ml100k() else { return };
    let Some(python) = pyspark() else { return };
    let (base, test) = (ml.join("ua.base"), ml.join("ua.test"));
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str| dir.path().join(name);

    // Before Spark: our model (rank 10) exported for Spark, our predictions and lists.
    let (m, ours_spark) = (w("m.alt"), w("ours_spark"));
    ok(&alternator(&["fit", "--train", s(&base), "--model", s(&m), "--rank", "10"]));
    let out =
        alternator(&["export", "--model", s(&m), "--format", "spark", "--out", s(&ours_spark)]);
    ok(&out);
    assert!(stderr(&out).contains("ALSModel.load"), "{}", stderr(&out));
    for out in [w("ours_pred.tsv"), w("preds.parquet")] {
        ok(&alternator(&["predict", "--model", s(&m), "--input", s(&test), "--out", s(&out)]));
    }
    for out in [w("ours_recs.csv"), w("recs.parquet")] {
        ok(&alternator(&[
            "recommend",
            "--model",
            s(&m),
            "--all-users",
            "-n",
            "10",
            "--include-seen",
            "--out",
            s(&out),
        ]));
    }

    // Spark, once.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spark/spark_side.py");
    let t = std::time::Instant::now();
    let run = Command::new(&python)
        .arg(&script)
        .args([dir.path(), &ml])
        .env("PYSPARK_PYTHON", &python)
        .output()
        .unwrap();
    assert!(run.status.success(), "Spark side failed:\n{}", String::from_utf8_lossy(&run.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(w("summary.json")).unwrap()).unwrap();
    eprintln!("Spark {} side took {:.0?}", summary["spark"], t.elapsed());
    assert_eq!(summary["ours_rank"], 10);

    // Our model in Spark: transform == our predict on every ua.test pair.
    let worst = same_predictions(
        &our_predictions(&w("ours_pred.tsv")),
        &spark_predictions(&w("ours_transform.csv")),
    );
    eprintln!("our model: Spark's transform within {worst:.2e} of our predict on 9430 pairs");
    // recommendForAllUsers(10) == recommend --all-users -n 10 --include-seen.
    let spark = spark_lists(&w("ours_recs.jsonl"));
    let mut ours: HashMap<String, (Vec<String>, Vec<f64>)> = HashMap::new();
    for l in std::fs::read_to_string(w("ours_recs.csv")).unwrap().lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let e = ours.entry(f[0].to_string()).or_default();
        e.0.push(f[2].to_string());
        e.1.push(f[3].parse().unwrap());
    }
    assert_eq!(ours.len(), 943);
    assert_eq!(spark.len(), 943);
    let identical = ours.iter().filter(|(u, l)| same_list(u, l, &spark[*u])).count();
    eprintln!(
        "recommendForAllUsers(10): {identical} of 943 lists identical, the rest differ only in ties"
    );

    // Spark's model with us: predict == Spark's transform; serve answers /v1/recommend.
    let spark_model = w("spark_model");
    let sp_pred = w("sp_pred.tsv");
    let out = alternator(&[
        "predict",
        "--model",
        s(&spark_model),
        "--input",
        s(&test),
        "--out",
        s(&sp_pred),
    ]);
    ok(&out);
    let worst = same_predictions(
        &our_predictions(&w("sp_pred.tsv")),
        &spark_predictions(&w("spark_transform.csv")),
    );
    eprintln!("Spark's model: our predict within {worst:.2e} of Spark's transform on 9430 pairs");
    let v = json(&alternator(&[
        "evaluate",
        "--model",
        s(&spark_model),
        "--test",
        s(&test),
        "--json",
        "--cold-start-strategy",
        "drop",
    ]));
    assert!(v["rmse"].as_f64().is_some_and(|r| (0.9..1.0).contains(&r)), "{v}");
    let server = serve(&spark_model);
    let spark_recs = spark_lists(&w("spark_recs.jsonl"));
    for user in ["1", "2", "3"] {
        let (status, body) = get(server.1, &format!("/v1/recommend?user={user}&n=10"));
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().unwrap();
        let list = (
            items.iter().map(|i| i["item"].as_str().unwrap().to_string()).collect(),
            items.iter().map(|i| i["score"].as_f64().unwrap()).collect(),
        );
        same_list(user, &list, &spark_recs[user]);
    }
    drop(server);

    // ua.base as Spark writes it (a directory of part files): the same inspect counts and
    // the same fitted factors as the TSV.
    let pq = w("ua_base_parquet");
    assert!(summary["parquet_parts"].as_array().unwrap().len() > 1, "{summary}");
    let a = json(&alternator(&["inspect", s(&base), "--json"]));
    let b = json(&alternator(&["inspect", s(&pq), "--json"]));
    let keys = [
        "users",
        "items",
        "interactions",
        "density",
        "value_min",
        "value_max",
        "value_mean",
        "histogram",
        "per_user",
        "per_item",
        "duplicates",
        "duplicate_pairs",
        "has_time",
        "sample_users",
        "sample_items",
    ];
    for key in keys {
        assert_eq!(a[key], b[key], "inspect {key}");
    }
    assert_eq!(b["interactions"], 90_570);
    for (train, name) in [(&base, "tsv"), (&pq, "pq")] {
        let (model, csv) = (w(&format!("{name}.alt")), w(&format!("{name}_csv")));
        ok(&alternator(&["fit", "--train", s(train), "--model", s(&model), "--rank", "10"]));
        ok(&alternator(&["export", "--model", s(&model), "--out", s(&csv)]));
    }
    for f in ["user_factors.csv", "item_factors.csv"] {
        let a = std::fs::read(w("tsv_csv").join(f)).unwrap();
        let b = std::fs::read(w("pq_csv").join(f)).unwrap();
        assert!(a == b, "{f}: the factors fitted on the Parquet directory differ from the TSV's");
    }

    // Our Parquet outputs as Spark read them: recommendForAllUsers' and transform's schemas.
    assert_eq!(
        summary["recs.parquet"]["schema"],
        "struct<user:int,recommendations:array<struct<item:int,rating:float>>>"
    );
    assert_eq!(summary["recs.parquet"]["rows"], 943);
    let schema = summary["preds.parquet"]["schema"].as_str().unwrap();
    assert!(schema.ends_with(",prediction:float>"), "{schema}");
    assert_eq!(summary["preds.parquet"]["rows"], 9430);

    // A factor table Spark wrote with double features: exit 2, naming the column and type.
    let (doubles, x) = (w("doubles_model"), w("x.tsv"));
    let out = alternator(&["predict", "--model", s(&doubles), "--input", s(&test), "--out", s(&x)]);
    let msg = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("features") && msg.contains("array<float>"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
}
