//! The web page in a real browser: headless Chromium driven through `chromedriver` (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them). The server runs on
//! MovieLens-100K-shaped generated data with titles, one of them HTML. Skipped with a notice
//! when no browser is installed, unless `ALTERNATOR_REQUIRE_BROWSER=1` (CI), where that fails.
//!
//! `ALTERNATOR_SCREENSHOTS=DIR` saves what the browser showed at desktop and phone widths;
//! the ignored test `screenshots_on_movielens` does the same on the real MovieLens 100K
//! (`cargo test -p alternator-cli --test browser -- --ignored`), for the README.

#[path = "../common/mod.rs"]
mod common;
mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use webdriver::{ARROW_DOWN, Driver, ENTER, Session};

const BIN: &str = env!("CARGO_BIN_EXE_alternator");
/// A title that is HTML: it must show as these characters, not as an image.
const XSS_TITLE: &str = "<img src=x onerror=alert(1)>";
const DESKTOP: (u32, u32) = (1280, 1000);
const PHONE: (u32, u32) = (390, 844);

/// A running `alternator serve`, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server as the README says (with `extra` flags), on a free loopback port.
fn serve(model: &Path, meta: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--model", model.to_str().unwrap(), "--items-meta"])
        .arg(meta)
        .args(["--addr", "127.0.0.1:0", "--threads", "2"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn alternator serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").expect("the address").to_string();
    Server { child, url }
}

/// Chromium and chromedriver, or `None` after a notice (a failure when they are required).
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        names
            .iter()
            .find_map(|n| std::env::split_paths(&path).map(|d| d.join(n)).find(|p| p.is_file()))
    };
    let chromium = std::env::var_os("CHROME_BIN")
        .map(PathBuf::from)
        .or_else(|| find(&["chromium", "chromium-browser", "google-chrome"]));
    let driver = find(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let msg = "no headless browser: install Debian's chromium and chromium-driver \
                       (apt-get install chromium chromium-driver), as .ci/run does";
            assert!(std::env::var("ALTERNATOR_REQUIRE_BROWSER").is_err(), "{msg}");
            eprintln!("skipping the browser test: {msg}");
            None
        }
    }
}

/// ML-100K-shaped generated ratings, a rank-10 model, and titles: Star Wars at item 50 as in
/// MovieLens, a few look-alikes, one title that is HTML, numbered films for the rest.
fn generated(dir: &Path) -> (PathBuf, PathBuf) {
    let ratings = dir.join("ratings.tsv");
    let model = dir.join("m.alt");
    common::ok(&common::alternator(&[
        "generate",
        "--users",
        "943",
        "--items",
        "1682",
        "--nnz",
        "100000",
        "--seed",
        "1",
        "--out",
        ratings.to_str().unwrap(),
    ]));
    common::fit(&ratings, &model, &["--rank", "10"]);
    let mut csv = String::from("id,title,genres\n");
    for i in 1..=1682 {
        let title = match i {
            50 => "Star Wars (1977)".to_string(),
            172 => "Empire Strikes Back, The (1980)".to_string(),
            222 => "Star Trek: First Contact (1996)".to_string(),
            7 => XSS_TITLE.to_string(),
            _ => format!("Film {i}, The ({})", 1900 + i % 120),
        };
        csv.push_str(&format!("{i},\"{}\",Drama|Comedy\n", title.replace('"', "\"\"")));
    }
    let meta = dir.join("items.csv");
    std::fs::write(&meta, csv).unwrap();
    (model, meta)
}

/// `[item id, title text]` of the recommendations shown.
fn shown(s: &Session<'_>, list: &str) -> Vec<(String, String)> {
    let v = s.js(
        "return Array.from(document.querySelectorAll(arguments[0] + ' .item')).map(b => \
         [b.dataset.item || '', b.querySelector('.title').textContent])",
        json!([list]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect()
}

/// Types `query` into the search box and picks the first match with the keyboard; the
/// title picked.
fn pick(s: &Session<'_>, query: &str) -> String {
    let before = s.js("return document.querySelectorAll('#favourites li').length", json!([]));
    let search = s.find("#search");
    s.type_into(&search, query);
    s.wait_for(
        "search results",
        "return !document.getElementById('results').hidden && \
         document.querySelectorAll('#results [role=option]').length",
    );
    let first = s.js(
        "return document.querySelector('#results [role=option] .title').textContent",
        json!([]),
    );
    s.type_into(&search, &format!("{ARROW_DOWN}{ENTER}"));
    let n = before.as_u64().unwrap() + 1;
    s.wait_for(
        "the favourite to be added",
        &format!("return document.querySelectorAll('#favourites li').length === {n}"),
    );
    first.as_str().unwrap().to_string()
}

/// Waits until the recommendations are for `favs` favourites.
fn wait_recs(s: &Session<'_>, favs: usize) {
    let words = if favs == 1 { "1 favourite,".to_string() } else { format!("{favs} favourites,") };
    s.wait_for(
        "the recommendations",
        &format!(
            "return document.getElementById('recs-status').textContent.includes({words:?}) && \
             document.querySelectorAll('#recs .item').length"
        ),
    );
}

/// Opens the first recommendation's explanation; its summary line.
fn explain_first(s: &Session<'_>) -> String {
    s.click(&s.find("#recs button.item"));
    s.wait_for("the explanation", "return document.querySelectorAll('#explain li').length");
    s.wait_for("similar items", "return document.querySelectorAll('#similar li').length");
    s.js("return document.getElementById('explain-summary').textContent", json!([]))
        .as_str()
        .unwrap()
        .to_string()
}

/// True when the page is no wider than the window (nothing cut off sideways).
fn fits(s: &Session<'_>) -> (bool, Value) {
    let v = s.js("return [document.documentElement.scrollWidth, window.innerWidth]", json!([]));
    (v[0].as_u64() <= v[1].as_u64(), v)
}

/// Saves a screenshot as `dir/name`, when `dir` is given: the top of the page, or all of it
/// at phone width (`full`).
fn save(dir: Option<&Path>, name: &str, s: &Session<'_>, full: bool) {
    if let Some(d) = dir {
        s.js("window.scrollTo(0, 0)", json!([]));
        std::fs::create_dir_all(d).unwrap();
        let png = s.screenshot(full);
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(d.join(name), png).unwrap();
        eprintln!("saved {}", d.join(name).display());
    }
}

#[test]
fn the_page_in_a_real_browser() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (model, meta) = generated(dir.path());
    let server = serve(&model, &meta, &[]);
    let driver = Driver::start(&chromedriver);
    let s = driver.session(&chromium, DESKTOP.0, DESKTOP.1);
    s.goto(&format!("{}/", server.url));
    let info = s.wait_for(
        "the model line",
        "const t = document.getElementById('model').textContent; return t.includes('rank') && t",
    );
    let info = info.as_str().unwrap();
    assert!(info.contains("rank 10") && info.contains("943 users × 1,682 items"), "{info}");

    // A partial title, picked by keyboard: recommendations appear, titled, without it.
    let picked = pick(&s, "star wa");
    assert_eq!(picked, "Star Wars (1977)");
    wait_recs(&s, 1);
    let recs = shown(&s, "#recs");
    assert_eq!(recs.len(), 10, "{recs:?}");
    assert!(recs.iter().all(|(id, _)| id != "50"), "the picked film came back: {recs:?}");
    assert!(recs.iter().all(|(_, t)| !t.is_empty() && !t.starts_with("item ")), "{recs:?}");

    // A title that is HTML shows as text: in the search results, among the favourites.
    assert_eq!(pick(&s, "onerror"), XSS_TITLE);
    let favs = s.js(
        "return Array.from(document.querySelectorAll('#favourites .title')).map(e => e.textContent)",
        json!([]),
    );
    assert_eq!(favs, json!(["Star Wars (1977)", XSS_TITLE]));
    assert_eq!(s.js("return document.querySelectorAll('img').length", json!([])), json!(0));
    wait_recs(&s, 2);

    // An explanation and similar items open.
    let summary = explain_first(&s);
    assert!(summary.starts_with("Score "), "{summary}");
    let heading = s.js("return document.getElementById('detail-h').textContent", json!([]));
    assert!(heading.as_str().unwrap().starts_with("Why "), "{heading}");
    let (ok, widths) = fits(&s);
    assert!(ok, "the desktop page is wider than the window: {widths}");
    let shots = std::env::var_os("ALTERNATOR_SCREENSHOTS").map(PathBuf::from);
    save(shots.as_deref(), "generated-desktop.png", &s, false);

    // Phone width: one column, nothing cut off sideways.
    s.emulate_phone(PHONE.0, PHONE.1);
    let (ok, widths) = fits(&s);
    assert_eq!(widths[1], PHONE.0, "the phone's width");
    assert!(ok, "the phone-width page is wider than the window: {widths}");
    save(shots.as_deref(), "generated-phone.png", &s, true);
    s.stop_emulation();

    // A known user: their history and recommendations.
    s.click(&s.find("input[name=mode][value=known]"));
    let user = s.find("#user");
    s.type_into(&user, &format!("1{ENTER}"));
    s.wait_for("the history", "return document.querySelectorAll('#history li').length");
    s.wait_for(
        "the user's recommendations",
        "return document.getElementById('recs-status').textContent.includes('for user 1,')",
    );
    assert_eq!(shown(&s, "#recs").len(), 10);
    let summary = explain_first(&s);
    assert!(summary.contains("user 1's history"), "{summary}");
    // Nothing the page did was refused by its Content-Security-Policy.
    let log = s.js("return window.__cspViolations || 0", json!([]));
    assert_eq!(log, json!(0), "CSP violations");
}

/// Without titles (no `--items-meta`) the page finds items by id and shows ids.
#[test]
fn the_page_without_titles() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = generated(dir.path());
    let mut child = Command::new(BIN)
        .args(["serve", "--model", model.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap().to_string();
    let server = Server { child, url };
    let driver = Driver::start(&chromedriver);
    let s = driver.session(&chromium, DESKTOP.0, DESKTOP.1);
    s.goto(&format!("{}/", server.url));
    s.wait_for(
        "the model",
        "return document.getElementById('model').textContent.includes('no titles')",
    );
    assert_eq!(pick(&s, "50"), "item 50");
    wait_recs(&s, 1);
    let recs = shown(&s, "#recs");
    assert!(recs.iter().all(|(id, t)| *t == format!("item {id}") && id != "50"), "{recs:?}");
    assert!(explain_first(&s).starts_with("Score "));
}

/// The README's screenshots: the real MovieLens 100K, three films picked, one explanation
/// open, at desktop and phone widths (written to `docs/`).
#[test]
#[ignore = "writes the README's screenshots; needs Chromium and MovieLens 100K"]
fn screenshots_on_movielens() {
    let Some((chromium, chromedriver)) = browser() else { return };
    let Some(data) = common::ml100k() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ml100k.alt");
    let train = data.join("ua.base");
    common::fit(&train, &model, &["--rank", "10", "--max-iter", "10", "--reg-param", "0.1"]);
    // Films rated by a handful of users top a plain model's lists, and all the films one user
    // alone rated have the same factors (cosine 1): the screenshot uses the support filter.
    let server = serve(&model, &data.join("u.item"), &["--min-item-interactions", "20"]);
    let driver = Driver::start(&chromedriver);
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    for (name, phone) in [("page-desktop.png", false), ("page-phone.png", true)] {
        let s = driver.session(&chromium, DESKTOP.0, DESKTOP.1);
        if phone {
            s.emulate_phone(PHONE.0, PHONE.1);
        }
        s.goto(&format!("{}/", server.url));
        s.wait_for(
            "the model",
            "return document.getElementById('model').textContent.includes('rank')",
        );
        assert_eq!(pick(&s, "star wars"), "Star Wars (1977)");
        pick(&s, "fargo");
        pick(&s, "toy story");
        wait_recs(&s, 3);
        explain_first(&s);
        save(Some(&docs), name, &s, phone);
    }
}
