//! Request counters and latency histograms, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// Server metrics: requests by endpoint and status, latency per endpoint, reloads.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Escapes a Prometheus label value.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Records one request to `endpoint` (e.g. `GET /v1/recommend`) that answered `status`
    /// after `elapsed`.
    pub fn record(&self, endpoint: &str, status: u16, elapsed: Duration) {
        {
            let mut r = lock(&self.requests);
            match r.get_mut(&(endpoint.to_string(), status)) {
                Some(c) => *c += 1,
                None => {
                    r.insert((endpoint.to_string(), status), 1);
                }
            }
        }
        let secs = elapsed.as_secs_f64();
        let slot = BUCKETS.iter().position(|&b| secs <= b).unwrap_or(BUCKETS.len());
        let mut l = lock(&self.latency);
        let h = match l.get_mut(endpoint) {
            Some(h) => h,
            None => l.entry(endpoint.to_string()).or_default(),
        };
        if let Some(c) = h.counts.get_mut(slot) {
            *c += 1;
        }
        h.sum += secs;
        h.count += 1;
    }

    /// Counts a model reload attempt.
    pub fn record_reload(&self, ok: bool) {
        let c = if ok { &self.reloads_ok } else { &self.reloads_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Number of requests recorded for `endpoint` with `status`.
    pub fn count(&self, endpoint: &str, status: u16) -> u64 {
        lock(&self.requests).get(&(endpoint.to_string(), status)).copied().unwrap_or(0)
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric, plus `extra` lines.
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP alternator_requests_total HTTP requests by endpoint and status.\n");
        out.push_str("# TYPE alternator_requests_total counter\n");
        for ((ep, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "alternator_requests_total{{endpoint=\"{}\",status=\"{status}\"}} {n}",
                escape(ep)
            );
        }
        out.push_str(
            "# HELP alternator_request_duration_seconds Request latency by endpoint, from the \
             request's arrival to its response.\n",
        );
        out.push_str("# TYPE alternator_request_duration_seconds histogram\n");
        for (ep, h) in lock(&self.latency).iter() {
            let ep = escape(ep);
            let mut cum = 0u64;
            for (b, c) in BUCKETS.iter().zip(h.counts.iter()) {
                cum += c;
                let _ = writeln!(
                    out,
                    "alternator_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"{b}\"}} {cum}"
                );
            }
            let _ = writeln!(
                out,
                "alternator_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "alternator_request_duration_seconds_sum{{endpoint=\"{ep}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "alternator_request_duration_seconds_count{{endpoint=\"{ep}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP alternator_model_reloads_total Model reload attempts by result.\n");
        out.push_str("# TYPE alternator_model_reloads_total counter\n");
        let _ = writeln!(
            out,
            "alternator_model_reloads_total{{result=\"ok\"}} {}",
            self.reloads_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "alternator_model_reloads_total{{result=\"failed\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        out.push_str(extra);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.record("GET /x", 200, Duration::from_micros(400));
        m.record("GET /x", 200, Duration::from_millis(4));
        m.record("GET /x", 404, Duration::from_secs(10));
        assert_eq!(m.count("GET /x", 200), 2);
        assert_eq!(m.count("GET /x", 404), 1);
        let text = m.render("");
        assert!(text.contains("alternator_requests_total{endpoint=\"GET /x\",status=\"200\"} 2"));
        assert!(text.contains("bucket{endpoint=\"GET /x\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("bucket{endpoint=\"GET /x\",le=\"0.005\"} 2\n"));
        assert!(text.contains("bucket{endpoint=\"GET /x\",le=\"5\"} 2\n"));
        assert!(text.contains("bucket{endpoint=\"GET /x\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("_count{endpoint=\"GET /x\"} 3\n"));
    }
}
