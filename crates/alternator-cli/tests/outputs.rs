//! What the verbs write: never over one of their own inputs (by any name, symbolic link or hard
//! link), `-` for standard output, atomic replacement (a failed run leaves the old file), a
//! symlinked model written through, exports never mixed, no temporary files left by killed
//! saves, and `serve --addr` with a host name.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{alternator, ok, stderr};

const BIN: &str = env!("CARGO_BIN_EXE_alternator");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small generated ratings file `dir/t.tsv` and a model `dir/m.alt` trained on it.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let train = dir.join("t.tsv");
    ok(&alternator(&[
        "generate",
        "--users",
        "40",
        "--items",
        "30",
        "--nnz",
        "400",
        "--seed",
        "3",
        "--out",
        s(&train),
    ]));
    let model = dir.join("m.alt");
    common::fit(&train, &model, &["--rank", "3", "--max-iter", "2", "--threads", "1"]);
    (train, model)
}

/// Asserts exit code 2 with a message naming `flags`; the stderr.
fn refused(out: &Output, flags: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "expected exit 2; stderr: {err}");
    for f in flags {
        assert!(err.contains(f), "{f} not named in: {err}");
    }
    err
}

/// Runs `args`, which must be refused naming `flags`, and checks that every file in `keep`
/// is byte-identical afterwards.
fn refused_unchanged(args: &[&str], flags: &[&str], keep: &[&Path]) {
    let before: Vec<Vec<u8>> = keep.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let out = alternator(args);
    refused(&out, flags);
    for (p, b) in keep.iter().zip(before) {
        assert!(std::fs::read(p).unwrap() == b, "{} changed by {args:?}", p.display());
    }
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn fit_never_writes_over_its_training_file() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = setup(dir.path());
    let t = s(&train);
    refused_unchanged(&["fit", "--train", t, "--model", t], &["--model", "--train"], &[&train]);
    // The same file by another name, through a symbolic link and through a hard link.
    let dotted = dir.path().join(".").join("t.tsv");
    refused_unchanged(&["fit", "--train", t, "--model", s(&dotted)], &["--model"], &[&train]);
    #[cfg(unix)]
    {
        let link = dir.path().join("link.alt");
        std::os::unix::fs::symlink(&train, &link).unwrap();
        refused_unchanged(&["fit", "--train", t, "--model", s(&link)], &["--train"], &[&train]);
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }
    let hard = dir.path().join("hard.alt");
    std::fs::hard_link(&train, &hard).unwrap();
    refused_unchanged(&["fit", "--train", t, "--model", s(&hard)], &["--train"], &[&train]);
    // A model to stdout is refused, not written to a file named `-`.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["fit", "--train", t, "--model", "-"])
        .output()
        .unwrap();
    refused(&out, &["--model"]);
    assert!(!dir.path().join("-").exists());
}

#[test]
fn predict_never_writes_over_its_input_or_model() {
    let dir = tempfile::tempdir().unwrap();
    let (train, model) = setup(dir.path());
    let (t, m) = (s(&train), s(&model));
    let both: [&Path; 2] = [&train, &model];
    refused_unchanged(
        &["predict", "--model", m, "--input", t, "--out", t],
        &["--out", "--input"],
        &both,
    );
    refused_unchanged(
        &["predict", "--model", m, "--input", t, "--out", m],
        &["--out", "--model"],
        &both,
    );
    // Run twice into a file of its own: the same single prediction column both times.
    let pred = dir.path().join("p.tsv");
    ok(&alternator(&["predict", "--model", m, "--input", t, "--out", s(&pred)]));
    let first = std::fs::read_to_string(&pred).unwrap();
    ok(&alternator(&["predict", "--model", m, "--input", t, "--out", s(&pred)]));
    assert_eq!(std::fs::read_to_string(&pred).unwrap(), first);
    assert_eq!(first.lines().next().unwrap().split('\t').count(), 5);
    assert_eq!(names(dir.path()), ["m.alt", "p.tsv", "t.tsv"]);
}

#[test]
fn ranking_verbs_never_write_over_the_model_or_an_id_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = setup(dir.path());
    let m = s(&model);
    let users = dir.path().join("users.txt");
    std::fs::write(&users, "1\n2\n").unwrap();
    let u = s(&users);
    let keep: [&Path; 2] = [&model, &users];
    let cases: [&[&str]; 7] = [
        &["recommend", "--model", m, "--user", "1", "--out", m],
        &["recommend", "--model", m, "--all-users", "--out", m],
        &["recommend", "--model", m, "--users", u, "--out", u],
        &["recommend-users", "--model", m, "--item", "1", "--out", m],
        &["recommend-users", "--model", m, "--all-items", "--out", m],
        &["similar", "--model", m, "--item", "1", "--out", m],
        &["similar", "--model", m, "--item", "1", "--candidates", u, "--out", u],
    ];
    for args in cases {
        refused_unchanged(args, &["--out"], &keep);
    }
    #[cfg(unix)]
    {
        let link = dir.path().join("recs.csv");
        std::os::unix::fs::symlink(&model, &link).unwrap();
        refused_unchanged(
            &["recommend", "--model", m, "--all-users", "--out", s(&link)],
            &["--out", "--model"],
            &keep,
        );
    }
}

#[test]
fn tune_split_and_export_never_write_over_their_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (train, model) = setup(dir.path());
    let (t, m) = (s(&train), s(&model));
    // A validation file named like a plot, so that --plot may name it.
    let valid = dir.path().join("v.svg");
    std::fs::copy(&train, &valid).unwrap();
    let v = s(&valid);
    let keep: [&Path; 2] = [&train, &valid];
    let grid = ["--rank", "2", "--max-iter", "1"];
    for (extra, flags) in [
        (["--save-best", t], ["--save-best", "--train"]),
        (["--save-best", v], ["--save-best", "--validation"]),
        (["--plot", v], ["--plot", "--validation"]),
    ] {
        let mut args = vec!["tune", "--train", t, "--validation", v];
        args.extend(grid);
        args.extend(extra);
        refused_unchanged(&args, &flags, &keep);
    }
    let other = dir.path().join("o.tsv");
    let o = s(&other);
    refused_unchanged(
        &["split", "--input", t, "--out-train", t, "--out-test", o],
        &["--out-train", "--input"],
        &[&train],
    );
    refused_unchanged(
        &["split", "--input", t, "--out-train", o, "--out-test", o],
        &["--out-test", "--out-train"],
        &[&train],
    );
    assert!(!other.exists());
    // export into the model's own directory (it holds the model), or onto the model file.
    refused_unchanged(&["export", "--model", m, "--out", s(dir.path())], &["--out"], &[&model]);
    refused_unchanged(&["export", "--model", m, "--out", m], &["--out"], &[&model]);
}

#[test]
fn a_failed_run_leaves_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = setup(dir.path());
    let out = dir.path().join("recs.json");
    std::fs::write(&out, "previous\n").unwrap();
    let o = alternator(&[
        "recommend",
        "--model",
        s(&model),
        "--user",
        "nobody",
        "--json",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous\n");
    ok(&alternator(&[
        "recommend",
        "--model",
        s(&model),
        "--user",
        "1",
        "--json",
        "--out",
        s(&out),
    ]));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["user"], "1");
    assert_eq!(names(dir.path()), ["m.alt", "recs.json", "t.tsv"]);
}

#[cfg(unix)]
#[test]
fn a_symlinked_model_is_written_through_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let (train, model) = setup(dir.path());
    let real = dir.path().join("store");
    std::fs::create_dir(&real).unwrap();
    let target = real.join("current.alt");
    std::fs::copy(&model, &target).unwrap();
    let link = dir.path().join("link.alt");
    std::os::unix::fs::symlink("store/current.alt", &link).unwrap();
    let before = std::fs::read(&target).unwrap();
    common::fit(&train, &link, &["--rank", "4", "--max-iter", "2", "--threads", "1"]);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("store/current.alt"));
    assert!(std::fs::read(&target).unwrap() != before);
    assert_eq!(alternator::Model::load(&target).unwrap().rank(), 4);
    assert_eq!(names(&real), ["current.alt"]);
    // The library's own save does the same.
    let m = alternator::Model::load(&model).unwrap();
    m.save(&link).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(alternator::Model::load(&target).unwrap() == m);
    assert_eq!(names(&real), ["current.alt"]);
}

#[test]
fn stdout_dash_for_every_out() {
    let dir = tempfile::tempdir().unwrap();
    let (train, model) = setup(dir.path());
    let cwd = tempfile::tempdir().unwrap();
    let run =
        |args: &[&str]| Command::new(BIN).current_dir(cwd.path()).args(args).output().unwrap();
    let gen_args = ["generate", "--users", "40", "--items", "30", "--nnz", "400", "--seed", "3"];
    let mut args = gen_args.to_vec();
    args.extend(["--out", "-"]);
    let out = run(&args);
    assert!(
        ok(&out).as_bytes() == std::fs::read(&train).unwrap(),
        "generate --out - differs from the file"
    );
    args.extend(["--test-fraction", "0.2"]);
    let err = refused(&run(&args), &["--test-fraction", "--out"]);
    assert!(err.contains("standard output"), "{err}");
    let m = s(&model);
    for args in [
        vec!["recommend", "--model", m, "--user", "1", "--csv", "--out", "-"],
        vec!["recommend", "--model", m, "--all-users", "--out", "-"],
        vec!["recommend-users", "--model", m, "--item", "1", "--out", "-"],
        vec!["similar", "--model", m, "--item", "1", "--json", "--out", "-"],
        vec!["predict", "--model", m, "--input", s(&train), "--out", "-"],
    ] {
        let text = ok(&run(&args));
        assert!(text.lines().count() > 1, "{args:?}: {text}");
    }
    refused(&run(&["export", "--model", m, "--out", "-"]), &["--out"]);
    refused(
        &run(&["split", "--input", s(&train), "--out-train", "-", "--out-test", "x"]),
        &["--out-train"],
    );
    assert!(names(cwd.path()).is_empty(), "{:?}", names(cwd.path()));
}

/// A model with biases exported over a model without (and CSV over JSON lines): the directory
/// holds exactly the new export's files, never the earlier one's as well.
#[test]
fn export_replaces_an_earlier_export_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let (train, plain) = setup(dir.path());
    let biased = dir.path().join("b.alt");
    common::fit(&train, &biased, &["--rank", "3", "--max-iter", "2", "--biases"]);
    let out = dir.path().join("exp");
    let export = |m: &Path, format: &str| {
        ok(&alternator(&["export", "--model", s(m), "--out", s(&out), "--format", format]))
    };
    export(&biased, "csv");
    assert_eq!(
        names(&out),
        [
            "global_mean.txt",
            "item_biases.csv",
            "item_factors.csv",
            "user_biases.csv",
            "user_factors.csv"
        ]
    );
    export(&plain, "csv");
    assert_eq!(names(&out), ["item_factors.csv", "user_factors.csv"]);
    export(&biased, "jsonl");
    export(&plain, "jsonl");
    assert_eq!(names(&out), ["item_factors.jsonl", "user_factors.jsonl"]);
    // Nothing left beside it either.
    assert_eq!(names(dir.path()), ["b.alt", "exp", "m.alt", "t.tsv"]);
    // A directory holding anything else is refused and left alone; an empty one is fine.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    std::fs::write(mine.join("user_factors.csv"), "keep me too").unwrap();
    refused(
        &alternator(&["export", "--model", s(&plain), "--out", s(&mine)]),
        &["--out", "notes.txt"],
    );
    assert_eq!(names(&mine), ["notes.txt", "user_factors.csv"]);
    assert_eq!(std::fs::read_to_string(mine.join("user_factors.csv")).unwrap(), "keep me too");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ok(&alternator(&["export", "--model", s(&plain), "--out", s(&empty)]));
    assert_eq!(names(&empty), ["item_factors.csv", "user_factors.csv"]);
}

#[test]
fn fsync_flag_and_environment_save_normally() {
    let dir = tempfile::tempdir().unwrap();
    let (train, model) = setup(dir.path());
    common::fit(&train, &model, &["--rank", "3", "--max-iter", "2", "--fsync"]);
    let out = Command::new(BIN)
        .env("ALTERNATOR_FSYNC", "1")
        .args(["fit", "--train", s(&train), "--model", s(&model), "--rank", "5"])
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(alternator::Model::load(&model).unwrap().rank(), 5);
    assert_eq!(names(dir.path()), ["m.alt", "t.tsv"]);
}

/// `kill -9` during saves: each killed save leaves at most its own recognisable temporary
/// file, the model on disk is always a whole one, and the next save clears the leftovers.
#[cfg(unix)]
#[test]
fn saves_killed_with_sigkill_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let models = dir.path().join("models");
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&models).unwrap();
    let train = data.join("big.tsv");
    // 30k users × rank 48 (and 2k items): a 6 MB model, a save long enough to land in.
    ok(&alternator(&[
        "generate",
        "--users",
        "30000",
        "--items",
        "2000",
        "--nnz",
        "60000",
        "--seed",
        "5",
        "--out",
        s(&train),
    ]));
    let model = models.join("m.alt");
    let fit = || {
        Command::new(BIN)
            .args(["fit", "--train", s(&train), "--model", s(&model), "--implicit-prefs"])
            .args(["--rank", "48", "--max-iter", "1", "--threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    let mut attempts = 0;
    while kills < 20 {
        attempts += 1;
        assert!(attempts <= 400, "only {kills} of 400 saves were caught in progress");
        let before = names(&models);
        let mut child = fit();
        // Wait for the save's temporary file to appear (a new entry beside the model), then
        // kill the process at once.
        let caught = loop {
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            if names(&models).iter().any(|n| n != "m.alt" && !before.contains(n)) {
                break true;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        if !caught {
            continue;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        for n in names(&models) {
            assert!(
                n == "m.alt" || n.starts_with(".m.alt.alternator-tmp."),
                "unexpected entry {n:?}"
            );
        }
        if model.exists() {
            alternator::Model::load(&model).expect("the model on disk is a whole one");
        }
    }
    let status = fit().wait().unwrap();
    assert!(status.success());
    assert_eq!(names(&models), ["m.alt"]);
    assert_eq!(alternator::Model::load(&model).unwrap().rank(), 48);
}

#[test]
fn serve_accepts_a_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = setup(dir.path());
    let mut child = Command::new(BIN)
        .args(["serve", "--model", s(&model), "--addr", "localhost:0", "--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let listening = line.trim().strip_prefix("listening on http://").map(str::to_string);
    let connected = listening
        .as_deref()
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .map(|a| (a, TcpStream::connect(a).is_ok()));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let Some((addr, connected)) = connected else {
        panic!("no listening line: {line:?}; stderr: {}", String::from_utf8_lossy(&out.stderr))
    };
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    assert!(connected, "could not connect to {addr}");
    // Bad forms are usage errors (none needs a name server).
    for bad in ["localhost", "localhost:http", ":8080", "localhost:99999"] {
        let out = alternator(&["serve", "--model", s(&model), "--addr", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("--addr"), "{bad}: {}", stderr(&out));
    }
}
