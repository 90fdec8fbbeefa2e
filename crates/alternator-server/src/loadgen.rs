//! A small HTTP/1.1 load generator (raw keep-alive connections over `TcpStream`), used by the
//! load tests and the benchmark example. Bounded by a request count and a time limit.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Target {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/v1/recommend?user=1&n=10`.
    pub path: String,
    /// JSON body, when any.
    pub body: Option<Vec<u8>>,
}

impl Target {
    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Target {
        Target { method: "GET".into(), path: path.into(), body: None }
    }

    /// A POST of a JSON `body` to `path`.
    pub fn post(path: impl Into<String>, body: impl Into<Vec<u8>>) -> Target {
        Target { method: "POST".into(), path: path.into(), body: Some(body.into()) }
    }
}

/// What load to send.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// The server.
    pub addr: SocketAddr,
    /// Number of connections, each sending one request at a time.
    pub concurrency: usize,
    /// Total number of requests (request `k` is `targets[k % targets.len()]`).
    pub requests: usize,
    /// No request starts after this much time; each request must finish within it.
    pub time_limit: Duration,
    /// The requests, used round-robin.
    pub targets: Vec<Target>,
    /// Incremented after each completed request (for tests that act during the load).
    pub progress: Option<Arc<AtomicUsize>>,
    /// Stop early (before `requests`) once this many responses carried this
    /// `x-model-checksum`: a reload test runs until the new model has answered.
    pub until_checksum: Option<(String, usize)>,
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests completed with any response or error.
    pub completed: usize,
    /// Responses with a 2xx status.
    pub ok: usize,
    /// Non-2xx responses and connection errors.
    pub failed: usize,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, usize>,
    /// The first failure, described.
    pub first_failure: Option<String>,
    /// Responses by `x-model-checksum` header.
    pub checksums: BTreeMap<String, usize>,
    /// The `x-model-checksum` of the last response to complete.
    pub last_checksum: Option<String>,
    /// Latency of every completed request, ascending.
    pub latencies: Vec<Duration>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// True when the time limit stopped the run before every request was sent (and
    /// `until_checksum` was not reached).
    pub timed_out: bool,
}

impl LoadReport {
    /// The `p`-th percentile latency (nearest rank, `p` in 0..=100).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let k = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[k]
    }

    /// Completed requests per second.
    pub fn throughput(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// One-line summary.
    pub fn summary(&self) -> String {
        format!(
            "{} requests in {:.2} s: {:.0} req/s, ok {}, failed {}, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            self.completed,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.ok,
            self.failed,
            self.percentile(50.0).as_secs_f64() * 1e3,
            self.percentile(90.0).as_secs_f64() * 1e3,
            self.percentile(99.0).as_secs_f64() * 1e3,
            self.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        )
    }
}

/// One parsed response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The `x-model-checksum` header, when present.
    pub checksum: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// The server asked to close the connection.
    pub close: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends one request on `stream` and reads the response (Content-Length bodies only).
pub async fn send(stream: &mut TcpStream, host: &str, t: &Target) -> std::io::Result<Response> {
    let mut req = format!("{} {} HTTP/1.1\r\nHost: {host}\r\n", t.method, t.path);
    if let Some(b) = &t.body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some(b) = &t.body {
        bytes.extend_from_slice(b);
    }
    stream.write_all(&bytes).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("response head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let (mut len, mut checksum, mut close) = (None, None, false);
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => len = v.parse::<usize>().ok(),
                "x-model-checksum" => checksum = Some(v.to_string()),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                "transfer-encoding" => {
                    return Err(std::io::Error::other("chunked responses are not supported"));
                }
                _ => {}
            }
        }
    }
    let len = len.ok_or_else(|| std::io::Error::other("response without Content-Length"))?;
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed mid-body",
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok(Response { status, checksum, body, close })
}

/// Runs the load on the current tokio runtime.
pub async fn run_load(spec: LoadSpec) -> LoadReport {
    let start = Instant::now();
    let deadline = start + spec.time_limit;
    let next = Arc::new(AtomicUsize::new(0));
    let target_seen = Arc::new(AtomicUsize::new(0));
    let spec = Arc::new(spec);
    let mut handles = Vec::new();
    for _ in 0..spec.concurrency.max(1) {
        let (spec, next, target_seen) =
            (Arc::clone(&spec), Arc::clone(&next), Arc::clone(&target_seen));
        handles.push(tokio::spawn(async move {
            let host = spec.addr.to_string();
            let mut conn: Option<TcpStream> = None;
            let mut out: Vec<(Duration, Result<Response, String>, Instant)> = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= spec.requests || spec.targets.is_empty() {
                    break;
                }
                if Instant::now() >= deadline {
                    break;
                }
                if let Some((_, want)) = &spec.until_checksum {
                    if target_seen.load(Ordering::Relaxed) >= *want {
                        break;
                    }
                }
                let t = &spec.targets[k % spec.targets.len()];
                let t0 = Instant::now();
                let result = tokio::time::timeout_at(deadline.into(), async {
                    if conn.is_none() {
                        let s = TcpStream::connect(spec.addr).await?;
                        s.set_nodelay(true)?;
                        conn = Some(s);
                    }
                    match conn.as_mut() {
                        Some(s) => send(s, &host, t).await,
                        None => Err(std::io::Error::other("no connection")),
                    }
                })
                .await;
                let result = match result {
                    Ok(Ok(r)) => {
                        if let Some((want, _)) = &spec.until_checksum {
                            if r.checksum.as_deref() == Some(want.as_str()) {
                                target_seen.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        if r.close {
                            conn = None;
                        }
                        Ok(r)
                    }
                    Ok(Err(e)) => {
                        conn = None;
                        Err(format!("{} {}: {e}", t.method, t.path))
                    }
                    Err(_) => {
                        conn = None;
                        Err(format!("{} {}: no response within the time limit", t.method, t.path))
                    }
                };
                let done = Instant::now();
                out.push((done - t0, result, done));
                if let Some(p) = &spec.progress {
                    p.fetch_add(1, Ordering::Relaxed);
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        if let Ok(v) = h.await {
            all.extend(v);
        }
    }
    all.sort_by_key(|e| e.2);
    let mut report = LoadReport::default();
    for (lat, r, _) in all {
        report.completed += 1;
        report.latencies.push(lat);
        match r {
            Ok(resp) => {
                *report.statuses.entry(resp.status).or_default() += 1;
                if let Some(c) = &resp.checksum {
                    *report.checksums.entry(c.clone()).or_default() += 1;
                    report.last_checksum = Some(c.clone());
                }
                if (200..300).contains(&resp.status) {
                    report.ok += 1;
                } else {
                    report.failed += 1;
                    if report.first_failure.is_none() {
                        report.first_failure = Some(format!(
                            "status {}: {}",
                            resp.status,
                            String::from_utf8_lossy(&resp.body)
                        ));
                    }
                }
            }
            Err(e) => {
                report.failed += 1;
                report.first_failure.get_or_insert(e);
            }
        }
    }
    report.latencies.sort_unstable();
    report.elapsed = start.elapsed();
    let stopped_early = spec
        .until_checksum
        .as_ref()
        .is_some_and(|(_, want)| target_seen.load(Ordering::Relaxed) >= *want);
    report.timed_out = report.completed < spec.requests && !stopped_early;
    report
}

/// Runs the load on a private two-thread tokio runtime, blocking the caller.
pub fn run_load_blocking(spec: LoadSpec) -> std::io::Result<LoadReport> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    Ok(rt.block_on(run_load(spec)))
}

/// A deterministic random model for tests and benchmarks: user ids `1..=users`, item ids
/// `1..=items`, factors uniform in `[-0.5, 0.5)` from a 64-bit LCG seeded with `seed`, and
/// `seen_per_user` training items per user (ratings 1–5, explicit model).
pub fn synthetic_model(
    users: usize,
    items: usize,
    rank: usize,
    seen_per_user: usize,
    seed: u64,
) -> alternator::Result<alternator::Model> {
    use alternator::{AlsParams, Csr, Duplicates, Factors, IdMap, ModelParts, TrainingSummary};
    let mut state =
        seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    let mut next = move || {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let mut uniform = |n: usize| -> Vec<f32> {
        (0..n).map(|_| (next() as f32 / (1u64 << 31) as f32) - 0.5).collect()
    };
    let uf = uniform(users * rank);
    let itf = uniform(items * rank);
    let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    for u in 0..users {
        for k in 0..seen_per_user.min(items) {
            rows.push(u as u32);
            cols.push(((u * 7919 + k * 104_729) % items) as u32);
            vals.push(1.0 + ((u + k) % 5) as f32);
        }
    }
    alternator::Model::from_parts(ModelParts {
        params: AlsParams { rank, ..AlsParams::default() },
        users: (1..=users).map(|u| u.to_string()).collect::<IdMap>(),
        items: (1..=items).map(|i| i.to_string()).collect::<IdMap>(),
        user_factors: Factors::from_vec(users, rank, uf).unwrap_or_default(),
        item_factors: Factors::from_vec(items, rank, itf).unwrap_or_default(),
        biases: None,
        clip_predictions: true,
        training: Csr::from_triplets(users, items, &rows, &cols, &vals, Duplicates::Keep),
        summary: TrainingSummary {
            interactions: rows.len(),
            value_min: 1.0,
            value_max: 5.0,
            trained_at_unix: 1_700_000_000 + seed,
            source: "synthetic".into(),
            ..TrainingSummary::default()
        },
    })
}
