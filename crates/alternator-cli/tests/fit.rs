//! Runs the real `alternator fit`: model files, JSON summary, flags and error exits.

mod common;

use std::path::Path;

use alternator::Model;
use common::{alternator, json};

/// A small generated file: `kind` is `ratings` or `counts`.
fn generated(dir: &Path, kind: &str) -> String {
    let out = dir.join(format!("{kind}.tsv"));
    let o = alternator(&[
        "generate",
        "--users",
        "200",
        "--items",
        "80",
        "--nnz",
        "3000",
        "--seed",
        "3",
        "--kind",
        kind,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out.to_str().unwrap().to_string()
}

#[test]
fn explicit_fit_writes_a_loadable_model() {
    let dir = tempfile::tempdir().unwrap();
    let train = generated(dir.path(), "ratings");
    let model = dir.path().join("m.alt");
    let m = model.to_str().unwrap();
    let v = json(&alternator(&[
        "fit",
        "--train",
        &train,
        "--model",
        m,
        "--rank",
        "5",
        "--max-iter",
        "4",
        "--biases",
        "--json",
        "--threads",
        "2",
    ]));
    assert_eq!(v["rank"], 5);
    assert_eq!(v["history"].as_array().unwrap().len(), 4);
    assert!(v["final_loss"].as_f64().unwrap() > 0.0);
    let loaded = Model::load(&model).unwrap();
    assert_eq!(loaded.rank(), 5);
    assert_eq!(loaded.users().len() as u64, v["users"].as_u64().unwrap());
    assert!(loaded.biases().is_some());
    assert!(loaded.user_factors().all_finite() && loaded.item_factors().all_finite());
    assert_eq!(loaded.summary().history.len(), 4);

    // Same seed, other thread count: the same factors.
    let model2 = dir.path().join("m2.alt");
    let o = alternator(&[
        "fit",
        "--train",
        &train,
        "--model",
        model2.to_str().unwrap(),
        "--rank",
        "5",
        "--max-iter",
        "4",
        "--biases",
        "--threads",
        "1",
    ]);
    assert!(o.status.success());
    let again = Model::load(&model2).unwrap();
    assert_eq!(again.user_factors(), loaded.user_factors());
    assert_eq!(again.item_factors(), loaded.item_factors());
    // The text summary goes to stderr.
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("users") && text.contains("train RMSE"), "{text}");
}

#[test]
fn implicit_fit_with_loss_and_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let train = generated(dir.path(), "counts");
    let model = dir.path().join("i.alt");
    for solver in ["cg", "cholesky"] {
        for confidence in ["implicit", "spark"] {
            let o = alternator(&[
                "fit",
                "--train",
                &train,
                "--model",
                model.to_str().unwrap(),
                "--implicit-prefs",
                "--rank",
                "8",
                "--max-iter",
                "3",
                "--solver",
                solver,
                "--confidence",
                confidence,
                "--alpha",
                "2",
                "--verbose",
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err.lines().filter(|l| l.starts_with("iteration ")).count(), 3, "{err}");
            assert!(err.contains("loss"), "{err}");
            let m = Model::load(&model).unwrap();
            assert!(m.params().implicit_prefs);
            assert_eq!(m.summary().history.len(), 3);
        }
    }
    let v = json(&alternator(&[
        "fit",
        "--train",
        &train,
        "--model",
        model.to_str().unwrap(),
        "--implicit-prefs",
        "--loss",
        "--json",
        "--max-iter",
        "2",
    ]));
    assert_eq!(v["history"].as_array().unwrap().len(), 2);
    assert_eq!(v["params"]["solver"], "cg");
    assert_eq!(v["params"]["confidence"], "implicit");
}

#[test]
fn nonnegative_factors_are_nonnegative() {
    let dir = tempfile::tempdir().unwrap();
    let train = generated(dir.path(), "ratings");
    let model = dir.path().join("n.alt");
    let o = alternator(&[
        "fit",
        "--train",
        &train,
        "--model",
        model.to_str().unwrap(),
        "--nonnegative",
        "--max-iter",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = Model::load(&model).unwrap();
    assert!(
        m.user_factors().as_slice().iter().chain(m.item_factors().as_slice()).all(|&v| v >= 0.0)
    );
}

#[test]
fn bad_parameters_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let train = generated(dir.path(), "ratings");
    let model = dir.path().join("x.alt");
    let m = model.to_str().unwrap();
    for (flags, needle) in [
        (vec!["--rank", "0"], "--rank"),
        (vec!["--reg-param", "-1"], "--reg-param"),
        (vec!["--max-iter", "1000000"], "--max-iter"),
        (vec!["--implicit-prefs", "--alpha", "0"], "--alpha"),
        (vec!["--implicit-prefs", "--biases"], "--biases"),
    ] {
        let mut args = vec!["fit", "--train", &train, "--model", m];
        args.extend(&flags);
        let o = alternator(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{flags:?}: {err}");
        assert!(!model.exists());
    }
    // A missing file is bad input too (2); λ = 0 with fewer ratings than the rank diverges (1).
    let o = alternator(&["fit", "--train", "/nonexistent/ratings.tsv", "--model", m]);
    assert_eq!(o.status.code(), Some(2));
    let tiny = dir.path().join("tiny.tsv");
    std::fs::write(&tiny, "a\tx\t1\na\ty\t5\nb\tx\t3\n").unwrap();
    let o =
        alternator(&["fit", "--train", tiny.to_str().unwrap(), "--model", m, "--reg-param", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("diverged"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
