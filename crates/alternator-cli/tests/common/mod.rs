//! Helpers shared by the integration tests: running the binary, checking its output, the
//! MovieLens 100K files, training a model. Each test file is its own crate and uses a part of
//! them (`mod common;`), hence `dead_code` is allowed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the real `alternator` binary with `args`.
pub fn alternator(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alternator")).args(args).output().expect("the binary runs")
}

/// Asserts that the run succeeded; its stdout.
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Asserts that the run succeeded; its stdout as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// The run's stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `text` to `dir/name`; the path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The MovieLens 100K folder (`$ALTERNATOR_ML100K`, else `../shared/data/ml-100k`), or `None`
/// after a skip notice when it is missing.
pub fn ml100k() -> Option<PathBuf> {
    let p = std::env::var_os("ALTERNATOR_ML100K").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml-100k")
    });
    if ["u.data", "ua.base", "ua.test", "u.item"].iter().all(|f| p.join(f).exists()) {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/data/ml-100k not found");
        None
    }
}

/// Trains a model on `train` with `alternator fit` and the `extra` flags, saving it at `model`.
pub fn fit(train: &Path, model: &Path, extra: &[&str]) {
    let mut args = vec!["fit", "--train", train.to_str().unwrap(), "--model"];
    args.push(model.to_str().unwrap());
    args.extend(extra);
    ok(&alternator(&args));
}
