//! What the web page stands on: `GET /v1/search`, `GET /v1/history`, `GET`/`POST /v1/explain`
//! and `alternator explain` on the real binary; the page itself and its security headers.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
        .args(["serve", "--addr", "127.0.0.1:0", "--threads", "2"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn alternator serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").expect("address").parse().unwrap();
    Server { child, addr }
}

/// One request: (status, lower-cased headers, body).
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.unwrap_or("");
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(raw.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (s, _, b) = request(addr, "GET", path, None);
    (s, serde_json::from_str(&b).unwrap_or_else(|_| json!({"raw": b})))
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let (s, _, b) = request(addr, "POST", path, Some(&body.to_string()));
    (s, serde_json::from_str(&b).unwrap_or_else(|_| json!({"raw": b})))
}

/// Generated ratings (200 users, 300 items) and a model fitted with `extra`.
fn fitted(dir: &Path, name: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let data = dir.join("ratings.tsv");
    if !data.exists() {
        common::ok(&common::alternator(&[
            "generate",
            "--users",
            "200",
            "--items",
            "300",
            "--nnz",
            "6000",
            "--seed",
            "3",
            "--out",
            data.to_str().unwrap(),
        ]));
    }
    let model = dir.join(name);
    common::fit(&data, &model, &[&["--threads", "2"], extra].concat());
    (data, model)
}

fn titles(dir: &Path) -> PathBuf {
    let mut csv = String::from("id,title\n");
    for i in 1..=300 {
        let t = match i {
            50 => "Star Wars (1977)".to_string(),
            51 => "Star Trek: Generations (1994)".to_string(),
            _ => format!("Film {i} (19{:02})", i % 100),
        };
        csv.push_str(&format!("{i},{t}\n"));
    }
    let p = dir.join("items.csv");
    std::fs::write(&p, csv).unwrap();
    p
}

/// Σ listed shares + others.
fn total(e: &Value) -> f64 {
    let listed: f64 =
        e["contributions"].as_array().unwrap().iter().map(|c| c["share"].as_f64().unwrap()).sum();
    listed + e["others"].as_f64().unwrap()
}

#[test]
fn explanations_add_up_to_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let meta = titles(dir.path());
    for (name, extra) in [
        ("explicit.alt", vec!["--rank", "6"]),
        ("implicit.alt", vec!["--rank", "8", "--implicit-prefs", "--alpha", "2"]),
    ] {
        let (_, model) = fitted(dir.path(), name, &extra);
        let srv =
            start(&["--model", model.to_str().unwrap(), "--items-meta", meta.to_str().unwrap()]);
        let a = srv.addr;
        // A new user: each recommendation's explanation has its score, and the shares add up.
        let liked = json!({"50": 5, "7": 4, "120": 1});
        let (s, recs) = post(a, "/v1/recommend", &json!({"liked": liked, "n": 5}));
        assert_eq!(s, 200, "{recs}");
        for r in recs["items"].as_array().unwrap() {
            let body = json!({"item": r["item"], "liked": liked, "n": 2});
            let (s, e) = post(a, "/v1/explain", &body);
            assert_eq!(s, 200, "{e}");
            let score = e["score"].as_f64().unwrap();
            assert!((score - r["score"].as_f64().unwrap()).abs() < 1e-4, "{name}: {e} vs {r}");
            assert!((total(&e) - score).abs() < 1e-4, "{name}: {e}");
            assert_eq!(e["user"], Value::Null);
            assert_eq!(e["contributions"].as_array().unwrap().len(), 2);
            assert_eq!(e["others_count"], 1);
            assert!(
                e["contributions"][0]["share"].as_f64() >= e["contributions"][1]["share"].as_f64()
            );
        }
        // A liked title works as in POST /v1/recommend.
        let (s, e) = post(a, "/v1/explain", &json!({"item": "3", "liked_titles": ["star wars"]}));
        assert_eq!((s, e["contributions"][0]["item"].as_str()), (200, Some("50")), "{e}");
        assert_eq!(e["contributions"][0]["title"], "Star Wars (1977)");

        // A known user: the shares add up, and the command line answers the same.
        let (s, e) = get(a, "/v1/explain?user=1&item=50&n=3");
        assert_eq!(s, 200, "{e}");
        assert_eq!(
            (e["user"].as_str(), e["title"].as_str()),
            (Some("1"), Some("Star Wars (1977)"))
        );
        assert!((total(&e) - e["score"].as_f64().unwrap()).abs() < 1e-4, "{e}");
        let out = common::alternator(&[
            "explain",
            "--model",
            model.to_str().unwrap(),
            "--user",
            "1",
            "--item",
            "50",
            "-n",
            "3",
            "--items-meta",
            meta.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(common::json(&out), e, "the CLI and the server differ");
        let table = common::ok(&common::alternator(&[
            "explain",
            "--model",
            model.to_str().unwrap(),
            "--user",
            "1",
            "--item",
            "50",
        ]));
        assert!(table.starts_with("score of item 50 for user 1: "), "{table}");

        // Errors say what was wrong.
        let (s, e) = get(a, "/v1/explain?user=nobody&item=50");
        assert_eq!((s, e["code"].as_str()), (404, Some("unknown_user")), "{e}");
        let (s, e) = get(a, "/v1/explain?user=1&item=nothing");
        assert_eq!((s, e["code"].as_str()), (404, Some("unknown_item")), "{e}");
        let (s, e) = get(a, "/v1/explain?user=1");
        assert!(s == 400 && e["error"].as_str().unwrap().contains("give user and item"), "{e}");
        let (s, e) = get(a, "/v1/explain?user=1&item=50&n=0");
        assert_eq!(s, 400, "{e}");
        let (s, e) = post(a, "/v1/explain", &json!({"liked": ["50"]}));
        assert!(s == 400 && e["error"].as_str().unwrap().contains("item"), "{e}");
        let (s, e) = post(a, "/v1/explain", &json!({"item": "50"}));
        assert!(s == 400 && e["error"].as_str().unwrap().contains("at least one liked"), "{e}");
        let out =
            common::alternator(&["explain", "--model", model.to_str().unwrap(), "--item", "50"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(common::stderr(&out).contains("--user ID, or --liked"), "{}", common::stderr(&out));
    }

    // A model with biases cannot be explained this way: 422 saying why.
    let (_, model) = fitted(dir.path(), "biases.alt", &["--rank", "4", "--biases"]);
    let srv = start(&["--model", model.to_str().unwrap()]);
    let (s, e) = get(srv.addr, "/v1/explain?user=1&item=50");
    assert!(s == 422 && e["error"].as_str().unwrap().contains("biases"), "{e}");
}

#[test]
fn search_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let meta = titles(dir.path());
    let (data, model) = fitted(dir.path(), "m.alt", &["--rank", "4"]);
    let m = model.to_str().unwrap();
    let srv = start(&["--model", m, "--items-meta", meta.to_str().unwrap()]);
    let a = srv.addr;
    let (s, b) = get(a, "/v1/search?q=star%20wa&n=5");
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["query"], "star wa");
    assert_eq!(b["items"][0]["title"], "Star Wars (1977)", "{b}");
    assert_eq!(b["items"][0]["item"], "50");
    assert!(b["items"].as_array().unwrap().len() <= 5);
    let (s, b) = get(a, "/v1/search?q=%20%20");
    assert_eq!((s, b["items"].as_array().map(Vec::len)), (200, Some(0)), "{b}");
    let (s, b) = get(a, "/v1/search?q=50");
    assert_eq!((s, b["items"][0]["item"].as_str()), (200, Some("50")), "an id is found: {b}");
    let long = "a".repeat(257);
    let (s, b) = get(a, &format!("/v1/search?q={long}"));
    assert!(s == 400 && b["error"].as_str().unwrap().contains("256 bytes"), "{b}");
    let (s, b) = get(a, "/v1/search");
    assert!(s == 400 && b["error"].as_str().unwrap().contains("missing query parameter q"), "{b}");
    let (s, _) = get(a, "/v1/search?q=x&n=0");
    assert_eq!(s, 400);

    // The history: every training item of the user, largest value first.
    let text = std::fs::read_to_string(&data).unwrap();
    let lines = text.lines().filter(|l| l.split('\t').next() == Some("1")).count();
    let (s, b) = get(a, "/v1/history?user=1&n=1000");
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["eligible"].as_u64(), Some(lines as u64), "{b}");
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.len(), lines);
    assert!(items.windows(2).all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
    let (s, b) = get(a, "/v1/history?user=nobody");
    assert_eq!((s, b["code"].as_str()), (404, Some("unknown_user")), "{b}");

    // Without metadata, ids are still found (and titles are not).
    let bare = start(&["--model", m]);
    let (s, b) = get(bare.addr, "/v1/search?q=50");
    assert_eq!((s, b["items"].as_array().map(Vec::len)), (200, Some(1)), "{b}");
    assert!(b["items"][0].get("title").is_none(), "{b}");
    let (s, b) = get(bare.addr, "/v1/search?q=star");
    assert_eq!((s, b["items"].as_array().map(Vec::len)), (200, Some(0)), "{b}");
}

#[test]
fn movielens_search_finds_star_wars_first() {
    let Some(data) = common::ml100k() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ml.alt");
    common::fit(
        &data.join("u.data"),
        &model,
        &["--rank", "4", "--max-iter", "2", "--threads", "2"],
    );
    let meta = data.join("u.item");
    let srv = start(&["--model", model.to_str().unwrap(), "--items-meta", meta.to_str().unwrap()]);
    let (s, b) = get(srv.addr, "/v1/search?q=star%20wars");
    assert_eq!((s, b["items"][0]["title"].as_str()), (200, Some("Star Wars (1977)")), "{b}");
    let (_, b) = get(srv.addr, "/v1/search?q=toy%20sto");
    assert_eq!(b["items"][0]["title"], "Toy Story (1995)", "{b}");
}

#[test]
fn the_page_is_static_and_locked_down() {
    let dir = tempfile::tempdir().unwrap();
    let (_, model) = fitted(dir.path(), "m.alt", &["--rank", "4"]);
    let srv = start(&["--model", model.to_str().unwrap()]);
    let (s, head, html) = request(srv.addr, "GET", "/", None);
    assert_eq!(s, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    let csp =
        head.lines().find_map(|l| l.strip_prefix("content-security-policy: ")).expect("a CSP");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    // No inline script and nothing from elsewhere: every script has a local src.
    for tag in html.split("<script").skip(1) {
        let tag = tag.split('>').next().unwrap();
        assert!(tag.contains("src=\"app.js\""), "an inline or foreign script: <script{tag}>");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    let (s, head, js) = request(srv.addr, "GET", "/app.js", None);
    assert!(s == 200 && head.contains("content-type: text/javascript"), "{head}");
    // Ids and titles go in as text.
    for risky in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
        assert!(!js.contains(risky), "app.js uses {risky}");
    }
    let (s, head, _) = request(srv.addr, "GET", "/style.css", None);
    assert!(s == 200 && head.contains("content-type: text/css"), "{head}");
    // The API's 404 still lists the endpoints, the page among them.
    let (s, b) = get(srv.addr, "/nope");
    assert_eq!(s, 404);
    assert!(b["endpoints"].as_array().unwrap().contains(&json!("GET /")), "{b}");
}
