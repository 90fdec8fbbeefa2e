//! `alternator split` end to end.

use std::collections::HashMap;
mod common;

use std::path::Path;
use std::process::Output;

use common::{alternator as run, ml100k};

fn split(input: &str, dir: &Path, tag: &str, extra: &[&str]) -> (String, String, Output) {
    let tr = dir.join(format!("{tag}.train"));
    let te = dir.join(format!("{tag}.test"));
    let mut args = vec![
        "split",
        "--input",
        input,
        "--out-train",
        tr.to_str().unwrap(),
        "--out-test",
        te.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (std::fs::read_to_string(tr).unwrap(), std::fs::read_to_string(te).unwrap(), o)
}

fn sorted_lines(texts: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = texts.iter().flat_map(|t| t.lines().map(String::from)).collect();
    v.sort();
    v
}

fn per_user(text: &str) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for l in text.lines() {
        *m.entry(l.split('\t').next().unwrap().to_string()).or_insert(0) += 1;
    }
    m
}

/// Generated data: a partition of the input lines, one test line per eligible user,
/// deterministic for a seed.
#[test]
fn leave_one_out_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("g.tsv");
    let o = run(&[
        "generate",
        "--users",
        "60",
        "--items",
        "40",
        "--nnz",
        "600",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let input = std::fs::read_to_string(&data).unwrap();
    let data = data.to_str().unwrap();
    let (tr, te, o) =
        split(data, dir.path(), "a", &["--strategy", "leave-k-out", "--k", "1", "--seed", "3"]);
    assert_eq!(sorted_lines(&[&tr, &te]), sorted_lines(&[&input]));
    let all = per_user(&input);
    let test = per_user(&te);
    let eligible = all.values().filter(|&&n| n > 2).count();
    assert_eq!(test.len(), eligible);
    assert!(test.values().all(|&n| n == 1));
    assert!(test.keys().all(|u| all[u] > 2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("{eligible} of")));
    let (tr2, te2, _) =
        split(data, dir.path(), "b", &["--strategy", "leave-k-out", "--k", "1", "--seed", "3"]);
    assert_eq!((tr2, te2.clone()), (tr, te.clone()));
    let (_, te3, _) =
        split(data, dir.path(), "c", &["--strategy", "leave-k-out", "--k", "1", "--seed", "4"]);
    assert_ne!(te3, te);
}

#[test]
fn random_and_by_time_keep_header_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("userId,movieId,rating,timestamp\n");
    for k in 0..200 {
        text += &format!("{},{},{}.5,{}\n", k % 17, k % 23, k % 5, 1000 + (k * 37) % 200);
    }
    let input = dir.path().join("r.csv");
    std::fs::write(&input, &text).unwrap();
    let input = input.to_str().unwrap();
    let (tr, te, _) =
        split(input, dir.path(), "r", &["--strategy", "random", "--test-fraction", "0.3"]);
    assert!(tr.starts_with("userId,movieId,rating,timestamp\n") && te.starts_with("userId,"));
    let n_test = te.lines().count() - 1;
    assert!((30..90).contains(&n_test), "{n_test}");
    assert_eq!(tr.lines().count() - 1 + n_test, 200);
    let (tr, te, _) =
        split(input, dir.path(), "t", &["--strategy", "by-time", "--test-fraction", "0.25"]);
    assert_eq!(te.lines().count() - 1, 50);
    let time = |l: &str| l.rsplit(',').next().unwrap().parse::<i64>().unwrap();
    let max_train = tr.lines().skip(1).map(time).max().unwrap();
    let min_test = te.lines().skip(1).map(time).min().unwrap();
    assert!(max_train <= min_test, "{max_train} > {min_test}");
}

#[test]
fn by_time_without_time_column_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("n.tsv");
    std::fs::write(&input, "1\t2\t3\n2\t3\t4\n").unwrap();
    let tr = dir.path().join("x.train");
    let te = dir.path().join("x.test");
    let o = run(&[
        "split",
        "--input",
        input.to_str().unwrap(),
        "--out-train",
        tr.to_str().unwrap(),
        "--out-test",
        te.to_str().unwrap(),
        "--strategy",
        "by-time",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--time-col"));
}

/// ML-100K `u.data`: exactly one test interaction per eligible user, same seed → same files.
#[test]
fn leave_one_out_on_movielens() {
    let Some(ml) = ml100k() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = ml.join("u.data");
    let input = input.to_str().unwrap();
    let (tr, te, _) =
        split(input, dir.path(), "a", &["--strategy", "leave-k-out", "--k", "1", "--seed", "1"]);
    let all = per_user(&std::fs::read_to_string(input).unwrap());
    let test = per_user(&te);
    let eligible = all.values().filter(|&&n| n > 2).count();
    assert_eq!(eligible, 943);
    assert_eq!(test.len(), eligible);
    assert!(test.values().all(|&n| n == 1));
    assert_eq!(tr.lines().count() + te.lines().count(), 100_000);
    let (tr2, te2, _) =
        split(input, dir.path(), "b", &["--strategy", "leave-k-out", "--k", "1", "--seed", "1"]);
    assert!(tr2 == tr && te2 == te);
}
