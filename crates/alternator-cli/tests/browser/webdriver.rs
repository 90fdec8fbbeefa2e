//! A minimal W3C WebDriver client over plain HTTP/1.1 (std `TcpStream` and serde_json): just
//! what the browser test needs to drive headless Chromium through `chromedriver`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// WebDriver's code for the Enter key.
pub const ENTER: &str = "\u{E007}";
/// WebDriver's code for the down-arrow key.
pub const ARROW_DOWN: &str = "\u{E015}";

/// A running `chromedriver`, killed on drop.
pub struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session, closed on drop.
pub struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.driver.call("DELETE", &format!("/session/{}", self.id), None);
    }
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One HTTP exchange on a fresh connection: (status, JSON body).
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).expect("connect to chromedriver");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(payload.as_bytes()).unwrap();
    // chromedriver may keep the connection open: read the head, then the body by its length.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let split = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let k = s.read(&mut chunk).expect("read the chromedriver answer");
        assert!(k > 0, "chromedriver closed the connection mid-answer");
        buf.extend_from_slice(&chunk[..k]);
    };
    let head = String::from_utf8_lossy(&buf[..split]).to_ascii_lowercase();
    let mut body = buf[split + 4..].to_vec();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let k = s.read(&mut chunk).expect("read the chromedriver answer");
        if k == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..k]);
    }
    if chunked {
        body = dechunk(&body);
    }
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, value)
}

/// The body of a chunked transfer.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&b[..eol]).ok();
        let size = size.and_then(|s| usize::from_str_radix(s.trim(), 16).ok()).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}

impl Driver {
    /// Starts `chromedriver` on a free loopback port and waits until it is ready.
    pub fn start(chromedriver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let driver = Driver { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let start = Instant::now();
        loop {
            let ready = TcpStream::connect(driver.addr).is_ok()
                && driver.call("GET", "/status", None).is_ok_and(|v| v["ready"] == true);
            if ready {
                return driver;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One command: its `value`, or the WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let (status, v) = http(self.addr, method, path, body);
        if status == 200 {
            Ok(v.get("value").cloned().unwrap_or(Value::Null))
        } else {
            Err(format!("{method} {path}: {status} {v}"))
        }
    }

    /// A new headless Chromium session with a `width × height` window.
    pub fn session(&self, chromium: &Path, width: u32, height: u32) -> Session<'_> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                         format!("--window-size={width},{height}")],
            },
        }}});
        let v = self.call("POST", "/session", Some(&caps)).expect("a browser session");
        let id = v["sessionId"].as_str().expect("a session id").to_string();
        Session { driver: self, id }
    }
}

impl Session<'_> {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.id);
        self.driver.call(method, &full, body.as_ref()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    /// The first element matching the CSS selector.
    pub fn find(&self, css: &str) -> Element {
        let v = self.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        Element(v[ELEMENT].as_str().expect("an element").to_string())
    }

    /// Types `text` into `e` (WebDriver key codes such as [`ENTER`] allowed).
    pub fn type_into(&self, e: &Element, text: &str) {
        self.cmd("POST", &format!("/element/{}/value", e.0), Some(json!({"text": text})));
    }

    /// Clicks `e`.
    pub fn click(&self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(json!({})));
    }

    /// Runs `script` (a function body) in the page with `args`; its return value.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Waits until `script` returns a truthy value, for at most a minute; that value.
    pub fn wait_for(&self, what: &str, script: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.js(script, json!([]));
            if !(v.is_null() || v == false || v == "" || v == json!([]) || v == 0) {
                return v;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let status = self.js(
                    "return Array.from(document.querySelectorAll('[role=status]')).map(e => e.id + ': ' + e.textContent).join(' | ')",
                    json!([]),
                );
                panic!("waited a minute for {what}; the page says: {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Shows the page as a phone of `width × height` CSS pixels would (Chrome's device
    /// emulation, through chromedriver's DevTools pass-through: a desktop window cannot be
    /// made narrower than 500 pixels).
    pub fn emulate_phone(&self, width: u32, height: u32) {
        let params =
            json!({"width": width, "height": height, "deviceScaleFactor": 2, "mobile": true});
        let body = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params});
        self.cmd("POST", "/goog/cdp/execute", Some(body));
    }

    /// Back to the window's own size.
    pub fn stop_emulation(&self) {
        let body = json!({"cmd": "Emulation.clearDeviceMetricsOverride", "params": {}});
        self.cmd("POST", "/goog/cdp/execute", Some(body));
    }

    /// A PNG screenshot of the window, or of the whole page with `full`.
    pub fn screenshot(&self, full: bool) -> Vec<u8> {
        let b64 = if full {
            let params = json!({"format": "png", "captureBeyondViewport": true});
            let body = json!({"cmd": "Page.captureScreenshot", "params": params});
            self.cmd("POST", "/goog/cdp/execute", Some(body))["data"].clone()
        } else {
            self.cmd("GET", "/screenshot", None)
        };
        base64_decode(b64.as_str().expect("base64 text"))
    }
}

/// Standard base64 (the screenshot encoding).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
