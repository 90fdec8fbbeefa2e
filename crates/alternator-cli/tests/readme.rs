//! The README's sessions, taken from README.md itself and run line by line with the real
//! binary: the MovieLens 100K session (on `../shared/data/ml-100k`, skipped with a notice when
//! absent) and the implicit-feedback one. Every line must succeed and print no NaN.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The `alternator ...` commands of the first ```sh block after `heading` in README.md, with
/// `\` continuations joined and trailing `# comments` kept (the shell drops them).
fn session(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let after = &readme[readme.find(heading).unwrap_or_else(|| panic!("no {heading:?}"))..];
    let start = after.find("```sh\n").unwrap() + "```sh\n".len();
    let block = &after[start..start + after[start..].find("```").unwrap()];
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("alternator "))
        .map(String::from)
        .collect()
}

/// `GET /` from the server at `addr`: the whole answer.
fn get_page(addr: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    write!(s, "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

/// Runs one README line in `dir` through the shell, `alternator` being the test binary.
fn run_line(line: &str, dir: &Path, data: &Path) {
    let bin = env!("CARGO_BIN_EXE_alternator");
    let cmd =
        line.replacen("alternator", bin, 1).replace("ml-100k/", &format!("{}/", data.display()));
    if line.starts_with("alternator serve") {
        // The server runs until stopped: check that it starts and answers, then stop it.
        let cmd = format!("{cmd} --addr 127.0.0.1:0");
        let mut child = Command::new("bash")
            .args(["-c", &format!("exec {cmd}")])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        // The web page answers at the address printed.
        let page = first.trim().strip_prefix("listening on http://").map(get_page);
        let _ = child.kill();
        let _ = child.wait();
        assert!(first.starts_with("listening on http://"), "{line}: {first:?}");
        let page = page.unwrap_or_default();
        assert!(page.starts_with("HTTP/1.1 200"), "{line}: GET / answered {page:?}");
        assert!(page.contains("<title>Alternator"), "{line}: GET / is not the page");
        return;
    }
    let out = Command::new("bash").args(["-c", &cmd]).current_dir(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{line}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains("NaN"), "{line} printed NaN:\n{stdout}");
}

#[test]
fn the_movielens_session_runs_top_to_bottom() {
    let Some(data) = common::ml100k() else { return };
    let lines = session("## A session on MovieLens 100K");
    assert!(lines.len() >= 8, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    for line in &lines {
        run_line(line, dir.path(), &data);
    }
}

#[test]
fn the_implicit_session_runs_top_to_bottom() {
    let lines = session("Implicit feedback (play counts, clicks, watch ratios):");
    assert!(lines.len() >= 3, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    for line in &lines {
        run_line(line, dir.path(), dir.path());
    }
}
