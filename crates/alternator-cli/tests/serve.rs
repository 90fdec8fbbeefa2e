//! `alternator serve`: the real binary on an ephemeral loopback port, every endpoint, every
//! bad-input case, reload under load, a corrupt replacement, SIGHUP, clean shutdown.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alternator_server::loadgen::{LoadSpec, Target, run_load_blocking, synthetic_model};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_alternator");

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--threads", "2"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn alternator serve");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read first line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("address");
    Server { child, addr }
}

/// One request on a fresh connection: (status, x-model-checksum, body).
fn http_raw(addr: SocketAddr, raw: &[u8]) -> (u16, Option<String>, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw).expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let checksum = head.lines().find_map(|l| {
        l.to_ascii_lowercase().strip_prefix("x-model-checksum:").map(|v| v.trim().to_string())
    });
    (status, checksum, body.to_string())
}

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, Option<String>, String) {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        raw.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    http_raw(addr, &bytes)
}

fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (s, _, b) = request(addr, "GET", path, &[], None);
    (s, serde_json::from_str(&b).unwrap_or_else(|_| json!({"raw": b})))
}

fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let (s, _, b) = request(addr, "POST", path, &[], Some(body.as_bytes()));
    (s, serde_json::from_str(&b).unwrap_or_else(|_| json!({"raw": b})))
}

fn save(model: &alternator::Model, path: &Path) {
    model.save(path).expect("save model");
}

fn small_model(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let p = dir.join(name);
    save(&synthetic_model(40, 120, 6, 5, seed).unwrap(), &p);
    p
}

fn assert_error(status: u16, body: &Value, want: u16, needle: &str) {
    assert_eq!(status, want, "{body}");
    let msg = body["error"].as_str().unwrap_or_else(|| panic!("no JSON error in {body}"));
    assert!(msg.contains(needle), "{msg:?} does not mention {needle:?}");
    assert_eq!(body["status"], want);
}

#[test]
fn every_endpoint_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path(), "m.alt", 1);
    let meta = dir.path().join("items.csv");
    let mut text = String::from("id,title\n");
    for i in 1..=120 {
        text.push_str(&format!("{i},Film Number {i} (19{:02})\n", i % 100));
    }
    text.push_str("5000,Not In The Model (1999)\n");
    std::fs::write(&meta, text).unwrap();
    let m = alternator::Model::load(&model).unwrap();
    let srv = start(&[
        "--model",
        model.to_str().unwrap(),
        "--items-meta",
        meta.to_str().unwrap(),
        "--max-body",
        "4096",
    ]);
    let a = srv.addr;

    let (s, b) = get(a, "/healthz");
    assert_eq!((s, b["status"].as_str()), (200, Some("ok")));

    let (s, b) = get(a, "/v1/model");
    assert_eq!(s, 200);
    assert_eq!(b["kind"], "explicit");
    assert_eq!(
        (b["rank"].as_u64(), b["users"].as_u64(), b["items"].as_u64()),
        (Some(6), Some(40), Some(120))
    );
    assert_eq!(b["trained_at"], "2023-11-14T22:13:21Z");
    assert_eq!(b["checksum"].as_str().unwrap().len(), 8);

    // Known user: the library's ranking, seen items excluded, titles attached.
    let (s, b) = get(a, "/v1/recommend?user=3&n=5");
    assert_eq!(s, 200, "{b}");
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let want = m.recommend("3", 5).unwrap();
    for (got, r) in items.iter().zip(&want) {
        assert_eq!(got["item"], r.item.as_str());
        assert_eq!(got["score"].as_f64().unwrap() as f32, r.score);
        let id = got["item"].as_str().unwrap();
        assert!(got["title"].as_str().unwrap().starts_with(&format!("Film Number {id} ")));
    }
    let u = m.users().get("3").unwrap();
    let seen: Vec<&str> =
        m.training_matrix().row(u as usize).0.iter().map(|&i| m.items().id(i).unwrap()).collect();
    let (_, all) = get(a, "/v1/recommend?user=3&n=1000");
    assert_eq!(all["items"].as_array().unwrap().len(), 120 - seen.len());
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| !seen.contains(&x["item"].as_str().unwrap()))
    );
    let (_, all) = get(a, "/v1/recommend?user=3&n=1000&include_seen=true");
    assert_eq!(all["items"].as_array().unwrap().len(), 120);

    // Fold-in: ids, ids with values, titles; unknown ids ignored and reported.
    let (s, b) = post(a, "/v1/recommend", r#"{"liked": ["5", 7, "nope"], "n": 4}"#);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["liked"], json!(["5", "7"]));
    assert_eq!(b["ignored"], json!(["nope"]));
    let got: Vec<&str> =
        b["items"].as_array().unwrap().iter().map(|x| x["item"].as_str().unwrap()).collect();
    assert_eq!(got.len(), 4);
    assert!(!got.contains(&"5") && !got.contains(&"7"));
    let (s, b) = post(a, "/v1/recommend", r#"{"liked": {"5": 5.0, "7": 1}}"#);
    assert_eq!((s, b["items"].as_array().unwrap().len()), (200, 10));
    let (s, b) = post(a, "/v1/recommend", r#"{"liked_titles": ["film number 12"], "n": 3}"#);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["liked"], json!(["12"]));
    assert_eq!(b["titles"][0]["item"], "12");

    // Similar items and users.
    let (s, b) = get(a, "/v1/similar?item=5&n=3");
    assert_eq!(s, 200);
    let list = b["items"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|x| x["item"] != "5" && x["score"].as_f64().unwrap().abs() <= 1.0));
    let (s, b) = get(a, "/v1/similar?user=2&n=2");
    assert_eq!((s, b["users"].as_array().unwrap().len()), (200, 2));

    // Predict: scores, null for unknown pairs.
    let (s, b) = post(
        a,
        "/v1/predict",
        r#"[{"user": "1", "item": "2"}, {"user": "zzz", "item": "2"}, {"user": 1, "item": 99999}]"#,
    );
    assert_eq!(s, 200, "{b}");
    let scores = b["scores"].as_array().unwrap();
    assert_eq!(scores[0].as_f64().unwrap() as f32, m.predict("1", "2").unwrap());
    assert!(scores[1].is_null() && scores[2].is_null());

    // Unknown ids: 404 naming the id, suggesting fold-in for users.
    let (s, b) = get(a, "/v1/recommend?user=ghost");
    assert_error(s, &b, 404, "\"ghost\"");
    assert!(b["hint"].as_str().unwrap().contains("liked"));
    let (s, b) = get(a, "/v1/similar?item=ghost");
    assert_error(s, &b, 404, "\"ghost\"");
    let (s, b) = get(a, "/v1/similar?user=ghost");
    assert_error(s, &b, 404, "\"ghost\"");
    let (s, b) = post(a, "/v1/recommend", r#"{"liked": ["ghost1", "ghost2"]}"#);
    assert_error(s, &b, 404, "ghost1");
    let (s, b) = post(a, "/v1/recommend", r#"{"liked_titles": ["Not In The Model"]}"#);
    assert_error(s, &b, 404, "Not In The Model");

    // Bad n, missing or extra parameters, bad booleans.
    for path in [
        "/v1/recommend?user=3&n=0",
        "/v1/recommend?user=3&n=1001",
        "/v1/recommend?user=3&n=-1",
        "/v1/recommend?user=3&n=ten",
        "/v1/similar?item=5&n=100000000000000000000000",
    ] {
        let (s, b) = get(a, path);
        assert_error(s, &b, 400, "n must be");
    }
    let (s, b) = get(a, "/v1/recommend");
    assert_error(s, &b, 400, "user");
    let (s, b) = get(a, "/v1/recommend?user=3&nn=3");
    assert_error(s, &b, 400, "unknown field `nn`");
    // A repeated parameter is an error, not silently the last one.
    let (s, b) = get(a, "/v1/recommend?user=3&n=1&n=5");
    assert_error(s, &b, 400, "duplicate field `n`");
    let (s, b) = get(a, "/v1/recommend?user=3&include_seen=perhaps");
    assert_error(s, &b, 400, "include_seen");
    let (s, b) = get(a, "/v1/similar?n=3");
    assert_error(s, &b, 400, "exactly one");
    let (s, b) = get(a, "/v1/similar?item=5&user=3");
    assert_error(s, &b, 400, "exactly one");

    // Malformed JSON and wrong types.
    for (path, body, needle) in [
        ("/v1/recommend", "{not json", "malformed JSON"),
        ("/v1/recommend", "", "malformed JSON"),
        ("/v1/recommend", "[1, 2]", "JSON object"),
        ("/v1/recommend", r#"{"liked": "5"}"#, "liked as an array"),
        ("/v1/recommend", r#"{"liked": [5.5]}"#, "id"),
        ("/v1/recommend", r#"{"liked": {"5": "high"}}"#, "finite number"),
        ("/v1/recommend", r#"{"liked": []}"#, "at least one"),
        ("/v1/recommend", r#"{"liked": ["5"], "n": "3"}"#, "n must be"),
        ("/v1/recommend", r#"{"liked": ["5"], "n": 0}"#, "n must be"),
        ("/v1/recommend", r#"{"liked": ["5"], "n": 5000}"#, "n must be"),
        ("/v1/recommend", r#"{"likes": ["5"]}"#, "unknown field"),
        ("/v1/predict", r#"{"user": "1", "item": "2"}"#, "JSON array"),
        ("/v1/predict", r#"[{"user": "1"}]"#, "missing field `item`"),
        ("/v1/predict", r#"[{"user": [1], "item": "2"}]"#, "expected an id"),
        ("/v1/predict", r#"[3]"#, "expected an object"),
    ] {
        let (s, b) = post(a, path, body);
        assert_error(s, &b, 400, needle);
    }

    // Oversized body: 413 with a JSON error (limit 4096 bytes here).
    let big = format!("[{}]", vec![r#"{"user":"1","item":"2"}"#; 400].join(","));
    let (s, b) = post(a, "/v1/predict", &big);
    assert_error(s, &b, 413, "larger than the limit");

    // Unknown paths and methods; admin endpoint disabled without a token.
    let (s, b) = get(a, "/v2/whatever");
    assert_error(s, &b, 404, "no endpoint");
    let (s, _, body) = request(a, "DELETE", "/v1/recommend", &[], None);
    let b: Value = serde_json::from_str(&body).unwrap();
    assert_error(s, &b, 405, "DELETE");
    let (s, b) = post(a, "/v1/admin/reload", "");
    assert_error(s, &b, 404, "--admin-token");

    // Metrics: request counts by endpoint and status, latency histogram.
    let (s, _, text) = request(a, "GET", "/metrics", &[], None);
    assert_eq!(s, 200);
    assert!(
        text.contains(r#"alternator_requests_total{endpoint="GET /v1/recommend",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"alternator_requests_total{endpoint="POST /v1/predict",status="413"} 1"#)
    );
    assert!(text.contains(
        r#"alternator_request_duration_seconds_bucket{endpoint="GET /v1/recommend",le="+Inf"}"#
    ));
    assert!(text.contains("# TYPE alternator_request_duration_seconds histogram"));

    // The server survived all of it.
    let (s, _) = get(a, "/healthz");
    assert_eq!(s, 200);
}

#[test]
fn reload_under_load_then_corrupt_file_then_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.alt");
    save(&synthetic_model(200, 2000, 16, 10, 1).unwrap(), &path);
    let srv = start(&["--model", path.to_str().unwrap(), "--admin-token", "t0k3n"]);
    let a = srv.addr;
    let old = get(a, "/v1/model").1["checksum"].as_str().unwrap().to_string();

    // Authorisation.
    let (s, _, _) = request(a, "POST", "/v1/admin/reload", &[], Some(b""));
    assert_eq!(s, 401);
    let (s, _, _) =
        request(a, "POST", "/v1/admin/reload", &[("Authorization", "Bearer wrong")], Some(b""));
    assert_eq!(s, 403);

    // The replacement, and its checksum (the file's bytes do not depend on its path).
    let staged = dir.path().join("staged.alt");
    save(&synthetic_model(200, 2000, 16, 10, 2).unwrap(), &staged);
    let new = format!("{:08x}", alternator::Model::load_with_info(&staged).unwrap().1.checksum);
    assert_ne!(new, old);

    // A bounded load (at most 20,000 requests, 16 connections, 30 s) that runs until the new
    // model has answered 300 requests; the file is replaced and reloaded once 400 requests
    // have completed, so the reload always happens while the load runs.
    let progress = Arc::new(AtomicUsize::new(0));
    let spec = LoadSpec {
        addr: a,
        concurrency: 16,
        requests: 20_000,
        time_limit: Duration::from_secs(30),
        targets: vec![
            Target::get("/v1/recommend?user=1&n=10"),
            Target::get("/v1/recommend?user=77&n=10"),
            Target::post("/v1/recommend", r#"{"liked": ["3", "4"], "n": 10}"#),
            Target::get("/v1/similar?item=9&n=10"),
            Target::post("/v1/predict", r#"[{"user": "5", "item": "6"}]"#),
        ],
        progress: Some(Arc::clone(&progress)),
        until_checksum: Some((new.clone(), 300)),
    };
    let load = std::thread::spawn(move || run_load_blocking(spec).unwrap());
    let t0 = Instant::now();
    while progress.load(Ordering::Relaxed) < 400 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::fs::rename(&staged, &path).unwrap();
    let (s, _, body) =
        request(a, "POST", "/v1/admin/reload", &[("Authorization", "Bearer t0k3n")], Some(b""));
    assert_eq!(s, 200, "{body}");
    let reload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reload["checksum"], new.as_str());
    assert_eq!(reload["previous_checksum"], old.as_str());
    let report = load.join().unwrap();
    assert_eq!(report.failed, 0, "{:?}", report.first_failure);
    assert!(!report.timed_out, "the load hit its limits: {}", report.summary());
    assert!(report.checksums.get(&old).is_some_and(|&c| c >= 400), "{:?}", report.checksums);
    assert!(report.checksums.get(&new).is_some_and(|&c| c >= 300), "{:?}", report.checksums);
    assert_eq!(report.last_checksum.as_deref(), Some(new.as_str()));
    let (_, ck, _) = request(a, "GET", "/v1/recommend?user=1&n=3", &[], None);
    assert_eq!(ck.as_deref(), Some(new.as_str()));

    // A corrupt replacement: reload fails, the old model keeps answering.
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let (s, _, body) =
        request(a, "POST", "/v1/admin/reload", &[("Authorization", "Bearer t0k3n")], Some(b""));
    assert_eq!(s, 500, "{body}");
    let b: Value = serde_json::from_str(&body).unwrap();
    assert!(b["error"].as_str().unwrap().contains("previous model keeps serving"));
    assert_eq!(b["serving_checksum"], new.as_str());
    let (s, ck, _) = request(a, "GET", "/v1/recommend?user=1&n=3", &[], None);
    assert_eq!((s, ck.as_deref()), (200, Some(new.as_str())));
    std::fs::write(&path, b"not a model").unwrap();
    let (s, _, _) =
        request(a, "POST", "/v1/admin/reload", &[("Authorization", "Bearer t0k3n")], Some(b""));
    assert_eq!(s, 500);
    assert_eq!(get(a, "/v1/model").1["checksum"], new.as_str());

    // SIGHUP re-reads the file.
    save(&synthetic_model(200, 2000, 16, 10, 3).unwrap(), &path);
    let third = format!("{:08x}", alternator::Model::load_with_info(&path).unwrap().1.checksum);
    let ok = Command::new("kill").args(["-HUP", &srv.child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let t0 = Instant::now();
    let mut seen = String::new();
    while t0.elapsed() < Duration::from_secs(20) {
        seen = get(a, "/v1/model").1["checksum"].as_str().unwrap_or("").to_string();
        if seen == third {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen, third);
    let (_, text) = {
        let (s, _, t) = request(a, "GET", "/metrics", &[], None);
        (s, t)
    };
    assert!(text.contains(r#"alternator_model_reloads_total{result="ok"} 2"#), "{text}");
    assert!(text.contains(r#"alternator_model_reloads_total{result="failed"} 2"#), "{text}");
}

#[test]
fn no_hung_connections_and_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path(), "m.alt", 4);
    let mut srv = start(&[
        "--model",
        model.to_str().unwrap(),
        "--header-timeout",
        "1",
        "--request-timeout",
        "1",
    ]);
    let a = srv.addr;
    // Headers never finished: the server closes the connection.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut buf = Vec::new();
    let r = s.read_to_end(&mut buf);
    assert!(r.is_ok(), "connection left hanging: {r:?}");
    // A body that never arrives: the request times out with a JSON error.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{\"user\"")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).expect("a response, not a hang");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"code\":\"timeout\""), "{text}");
    // Garbage instead of HTTP.
    let (s, _, _) = http_raw(a, b"\x00\x01garbage\r\n\r\n");
    assert!(s == 400 || s == 0);
    assert_eq!(get(a, "/healthz").0, 200);

    // SIGTERM: clean exit.
    let ok = Command::new("kill").args(["-TERM", &srv.child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = srv.child.try_wait().unwrap() {
            break Some(st);
        }
        if t0.elapsed() > Duration::from_secs(20) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[test]
fn startup_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.alt");
    std::fs::write(&bad, b"ALTMODEL garbage").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--model", bad.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid model file"));
    let model = small_model(dir.path(), "m.alt", 5);
    for args in [
        vec!["--addr", "localhost:http"],
        vec!["--addr", "127.0.0.1:0", "--max-n", "0"],
        vec!["--addr", "127.0.0.1:0", "--request-timeout", "-1"],
        vec!["--addr", "127.0.0.1:0", "--items-meta", "/nonexistent/items.csv"],
    ] {
        let out = Command::new(BIN)
            .args(["serve", "--model", model.to_str().unwrap()])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn movielens_titles_and_fold_in() {
    let Some(data) = common::ml100k() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ml.alt");
    common::fit(
        &data.join("ua.base"),
        &model,
        &["--rank", "8", "--max-iter", "5", "--threads", "2"],
    );
    let meta = data.join("u.item");
    let srv = start(&["--model", model.to_str().unwrap(), "--items-meta", meta.to_str().unwrap()]);
    let a = srv.addr;
    let (s, b) = get(a, "/v1/model");
    assert_eq!((s, b["users"].as_u64(), b["items"].as_u64()), (200, Some(943), Some(1680)), "{b}");
    let (s, b) = get(a, "/v1/recommend?user=196&n=5");
    assert_eq!(s, 200, "{b}");
    assert!(b["items"].as_array().unwrap().iter().all(|x| x["title"].is_string()), "{b}");
    let (s, b) = post(a, "/v1/recommend", r#"{"liked_titles": ["Star Wars (1977)"], "n": 5}"#);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["liked"], json!(["50"]));
    assert_eq!(b["titles"][0]["title"], "Star Wars (1977)");
    assert!(b["items"].as_array().unwrap().iter().all(|x| x["item"] != "50"));
    let (s, b) = get(a, "/v1/similar?item=50&n=3");
    assert_eq!((s, b["title"].as_str()), (200, Some("Star Wars (1977)")));
}

/// The command line's `--json` and the server answer in one shape: the same keys and the same
/// items (id, score at its f32 value, title, genres) for a known user, a new user and similar
/// items.
#[test]
fn cli_json_and_server_share_one_shape() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path(), "m.alt", 4);
    let meta = dir.path().join("items.csv");
    let mut text = String::from("id,title,genres\n");
    for i in 1..=120 {
        text.push_str(&format!("{i},Film Number {i} (19{:02}),Drama|Comedy\n", i % 100));
    }
    std::fs::write(&meta, text).unwrap();
    let (m, meta) = (model.to_str().unwrap(), meta.to_str().unwrap());
    let srv = start(&["--model", m, "--items-meta", meta]);
    let cli = |args: &[&str]| -> Value {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let base = ["--model", m, "--items-meta", meta, "--json", "-n", "4"];
    let cases: [(Vec<&str>, (u16, Value)); 3] = [
        (
            [&["recommend", "--user", "3"][..], &base].concat(),
            get(srv.addr, "/v1/recommend?user=3&n=4"),
        ),
        (
            [&["recommend", "--liked", "5,7", "--liked-title", "film number 12"][..], &base]
                .concat(),
            post(
                srv.addr,
                "/v1/recommend",
                r#"{"liked": ["5", 7], "liked_titles": ["film number 12"], "n": 4}"#,
            ),
        ),
        (
            [&["similar", "--item", "5"][..], &base].concat(),
            get(srv.addr, "/v1/similar?item=5&n=4"),
        ),
    ];
    for (args, (status, server)) in cases {
        assert_eq!(status, 200, "{server}");
        let local = cli(&args);
        let keys = |v: &Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&local), keys(&server), "{args:?}");
        assert_eq!(local["items"], server["items"], "{args:?}");
        for k in keys(&server) {
            assert_eq!(local[&k], server[&k], "{args:?}: {k}");
        }
        let first = &server["items"][0];
        assert!(first["title"].as_str().unwrap().starts_with("Film Number"));
        assert_eq!(first["genres"], json!(["Drama", "Comedy"]));
        // Scores print at their f32 value: the shortest decimal that reads back to it.
        let text = first["score"].to_string();
        let f = first["score"].as_f64().unwrap() as f32;
        assert!(text == f.to_string() || text == format!("{f}.0"), "{text} vs {f}");
    }
}

/// Issue 16's server cases: title bodies are bounded (a 300 KB title and 9,000 titles are
/// refused at once, a normal request still answers), `/v1/model` keeps the model's path for
/// the admin, a repeated parameter is a 400, and a connection over the cap gets a fast 503
/// instead of a silent drop.
#[test]
fn hostile_requests_are_refused_cheaply() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path(), "m.alt", 5);
    let meta = dir.path().join("items.csv");
    let mut text = String::from("id,title\n");
    for i in 1..=120 {
        text.push_str(&format!("{i},Film Number {i} (19{:02})\n", i % 100));
    }
    std::fs::write(&meta, text).unwrap();
    let srv = start(&[
        "--model",
        model.to_str().unwrap(),
        "--items-meta",
        meta.to_str().unwrap(),
        "--max-connections",
        "3",
        "--admin-token",
        "s3cret",
    ]);
    let a = srv.addr;
    let huge = format!(r#"{{"liked_titles": ["{}"]}}"#, "Film Number 1 ".repeat(300_000 / 14));
    let (s, b) = post(a, "/v1/recommend", &huge);
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].as_str().unwrap().contains("at most 256 bytes"), "{b}");
    let many: Vec<String> = (0..9000).map(|i| format!("\"{} {i}\"", "x".repeat(90))).collect();
    let (s, b) = post(a, "/v1/recommend", &format!(r#"{{"liked_titles": [{}]}}"#, many.join(",")));
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].as_str().unwrap().contains("at most 100 liked titles"), "{b}");
    let (s, b) = post(a, "/v1/recommend", r#"{"liked_titles": ["film number 7"], "n": 3}"#);
    assert_eq!((s, b["liked"].clone()), (200, json!(["7"])), "{b}");

    // The model's path is for the admin.
    let (s, b) = get(a, "/v1/model");
    assert_eq!((s, b["file"].as_str(), b["path"].clone()), (200, Some("m.alt"), Value::Null));
    let auth = [("Authorization", "Bearer s3cret")];
    let (s, _, body) = request(a, "GET", "/v1/model", &auth, None);
    let b: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(s, 200);
    assert_eq!(b["path"].as_str(), model.to_str());

    let (s, b) = get(a, "/v1/similar?item=5&n=2&n=3");
    assert_eq!(s, 400, "{b}");

    // Three idle connections fill the cap: a fourth is answered 503 at once, not dropped.
    // (The server may take a moment to accept the idle ones on a busy machine: probe until
    // the cap is full.)
    let idle: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(a).unwrap()).collect();
    let probe = b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let mut answer = http_raw(a, probe);
    for _ in 0..100 {
        if answer.0 == 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        answer = http_raw(a, probe);
    }
    let (s, _, body) = answer;
    assert_eq!(s, 503, "{body}");
    assert!(body.contains("\"code\":\"overloaded\""), "{body}");
    drop(idle);
    std::thread::sleep(Duration::from_millis(300));
    let (s, _) = get(a, "/healthz");
    assert_eq!(s, 200);
}
