//! The HTTP endpoints: the route table ([`ROUTES`]), the service that holds the model, and
//! the middleware (request timeout, metrics). The handlers are in `routes.rs` (and, for
//! search, history and explanations, `lookup.rs`; the web page in [`page`]), request parsing
//! in [`requests`], the response bodies in [`responses`], error responses ([`ApiError`]) in
//! `errors.rs`, and the OpenAPI document built from all of them in [`openapi`].

mod errors;
mod lookup;
pub mod openapi;
pub mod page;
pub mod requests;
pub mod responses;
mod routes;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alternator::meta::Metadata;
use alternator::{Error, Model, ModelFileInfo};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};

use crate::metrics::Metrics;
pub use errors::ApiError;

/// One path of the API: its methods with an example of each (listed by the 404 answer), and
/// its handlers. The router, the metrics labels and the 404 listing all come from [`ROUTES`].
pub struct Route {
    /// The path.
    pub path: &'static str,
    /// `(method, example)` for each method served.
    pub uses: &'static [(&'static str, &'static str)],
    handler: fn() -> MethodRouter<Service>,
}

/// Every endpoint of the API.
pub static ROUTES: &[Route] = &[
    Route { path: "/", uses: &[("GET", "/")], handler: || get(page::index) },
    Route { path: "/app.js", uses: &[("GET", "/app.js")], handler: || get(page::app_js) },
    Route { path: "/style.css", uses: &[("GET", "/style.css")], handler: || get(page::style_css) },
    Route { path: "/healthz", uses: &[("GET", "/healthz")], handler: || get(routes::healthz) },
    Route { path: "/metrics", uses: &[("GET", "/metrics")], handler: || get(routes::metrics) },
    Route { path: "/v1/model", uses: &[("GET", "/v1/model")], handler: || get(routes::model_info) },
    Route {
        path: "/v1/recommend",
        uses: &[("GET", "/v1/recommend?user=ID&n=10"), ("POST", "/v1/recommend")],
        handler: || get(routes::recommend_get).post(routes::recommend_post),
    },
    Route {
        path: "/v1/similar",
        uses: &[("GET", "/v1/similar?item=ID&n=10")],
        handler: || get(routes::similar_get),
    },
    Route {
        path: "/v1/search",
        uses: &[("GET", "/v1/search?q=star%20wars&n=10")],
        handler: || get(lookup::search_get),
    },
    Route {
        path: "/v1/history",
        uses: &[("GET", "/v1/history?user=ID&n=10")],
        handler: || get(lookup::history_get),
    },
    Route {
        path: "/v1/explain",
        uses: &[("GET", "/v1/explain?user=ID&item=ID&n=10"), ("POST", "/v1/explain")],
        handler: || get(lookup::explain_get).post(lookup::explain_post),
    },
    Route {
        path: "/v1/predict",
        uses: &[("POST", "/v1/predict")],
        handler: || post(routes::predict_post),
    },
    Route {
        path: "/v1/admin/reload",
        uses: &[("POST", "/v1/admin/reload")],
        handler: || post(routes::admin_reload),
    },
    Route {
        path: "/openapi.json",
        uses: &[("GET", "/openapi.json")],
        handler: || get(routes::openapi_json),
    },
];

/// Limits and options of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    /// The model file, re-read on reload.
    pub model_path: PathBuf,
    /// Item metadata (titles), when loaded.
    pub meta: Option<Arc<Metadata>>,
    /// Token required by `POST /v1/admin/reload`; the endpoint is disabled without one.
    pub admin_token: Option<String>,
    /// Largest `n` a request may ask for (`1..=max_n`).
    pub max_n: usize,
    /// Largest request body in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Most pairs one `POST /v1/predict` may score.
    pub max_predict_pairs: usize,
    /// Most items one fold-in request may name.
    pub max_liked: usize,
    /// Most titles one fold-in request may name.
    pub max_titles: usize,
    /// Items with fewer training interactions are kept out of item lists (0: off).
    pub min_item_interactions: u32,
    /// Time limit of one request, from arrival to response (then 503).
    pub request_timeout: Duration,
}

impl Config {
    /// Defaults for `model_path`: n ≤ 1000, 1 MiB bodies, 10,000 pairs, 10,000 liked items,
    /// 100 liked titles, 30 s per request, no metadata, admin endpoints off.
    pub fn new(model_path: impl Into<PathBuf>) -> Config {
        Config {
            model_path: model_path.into(),
            meta: None,
            admin_token: None,
            max_n: 1000,
            max_body_bytes: 1 << 20,
            max_predict_pairs: 10_000,
            max_liked: 10_000,
            max_titles: 100,
            min_item_interactions: 0,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A model as served: the model and facts about its file.
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub model: Model,
    /// Version, checksum and size of the file it came from.
    pub info: ModelFileInfo,
    /// When it was loaded, seconds since the Unix epoch.
    pub loaded_at_unix: u64,
    /// Items kept out of every item list (`min_item_interactions`), when set.
    pub rare: Option<alternator::recommend::IndexSet>,
}

impl Loaded {
    /// Reads and checks a model file, precomputing the rare items (items with fewer than
    /// `min_item_interactions` training interactions; none when 0).
    pub fn read(path: &std::path::Path, min_item_interactions: u32) -> alternator::Result<Loaded> {
        let (model, info) = Model::load_with_info(path)?;
        if model.rank() == 0 || model.items().is_empty() {
            return Err(Error::ModelFormat {
                path: path.into(),
                message: "the model has no items or rank 0; nothing to serve".into(),
            });
        }
        let rare = (min_item_interactions > 0).then(|| model.rare_items(min_item_interactions));
        Ok(Loaded { model, info, loaded_at_unix: unix_now(), rare })
    }

    /// The checksum as 8 hex digits (the `x-model-checksum` header).
    pub fn checksum_hex(&self) -> String {
        format!("{:08x}", self.info.checksum)
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (proleptic Gregorian, UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

struct Inner {
    config: Config,
    current: RwLock<Arc<Loaded>>,
    metrics: Metrics,
    reload_lock: tokio::sync::Mutex<()>,
    started: Instant,
    reloads: AtomicU64,
}

/// The service: the current model (swapped atomically on reload), configuration and metrics.
/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// Checksum of the model served before.
    pub previous_checksum: String,
    /// Checksum of the model served now.
    pub checksum: String,
}

impl Service {
    /// Loads the model named in `config` and builds the service.
    pub fn new(config: Config) -> alternator::Result<Service> {
        let loaded = Loaded::read(&config.model_path, config.min_item_interactions)?;
        Ok(Service {
            inner: Arc::new(Inner {
                config,
                current: RwLock::new(Arc::new(loaded)),
                metrics: Metrics::default(),
                reload_lock: tokio::sync::Mutex::new(()),
                started: Instant::now(),
                reloads: AtomicU64::new(0),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The model being served now. Requests take this snapshot when they start, so a reload
    /// never changes the model under a request in flight.
    pub fn current(&self) -> Arc<Loaded> {
        match self.inner.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Re-reads the model file and, when it loads and checks, swaps it in atomically. When it
    /// does not, the old model keeps serving and the error is returned. Reloads are
    /// serialised; the file is read on a blocking thread.
    pub async fn reload(&self) -> alternator::Result<ReloadOutcome> {
        let _guard = self.inner.reload_lock.lock().await;
        let path = self.inner.config.model_path.clone();
        let min = self.inner.config.min_item_interactions;
        let read = tokio::task::spawn_blocking(move || Loaded::read(&path, min))
            .await
            .unwrap_or_else(|e| Err(Error::Internal(format!("the reload task failed: {e}"))));
        match read {
            Ok(new) => {
                let new = Arc::new(new);
                let checksum = new.checksum_hex();
                let previous = {
                    let mut slot = match self.inner.current.write() {
                        Ok(g) => g,
                        Err(p) => p.into_inner(),
                    };
                    std::mem::replace(&mut *slot, new)
                };
                self.inner.reloads.fetch_add(1, Ordering::Relaxed);
                self.inner.metrics.record_reload(true);
                Ok(ReloadOutcome { previous_checksum: previous.checksum_hex(), checksum })
            }
            Err(e) => {
                self.inner.metrics.record_reload(false);
                Err(e)
            }
        }
    }

    /// The HTTP routes ([`ROUTES`]), with metrics, the request timeout and the body limit
    /// applied.
    pub fn router(&self) -> Router {
        ROUTES
            .iter()
            .fold(Router::new(), |r, route| r.route(route.path, (route.handler)()))
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(DefaultBodyLimit::max(self.inner.config.max_body_bytes))
            .layer(middleware::from_fn_with_state(self.clone(), track))
            .with_state(self.clone())
    }

    /// Runs `f` on the current model on the rayon pool (off the async reactor); a panic in
    /// `f` becomes a 500. The response carries the model's checksum in `x-model-checksum`.
    async fn compute<F, T>(&self, f: F) -> Result<Response, ApiError>
    where
        F: FnOnce(&Loaded, Option<&Metadata>) -> Result<T, ApiError> + Send + 'static,
        T: serde::Serialize + Send + 'static,
    {
        let loaded = self.current();
        let meta = self.inner.config.meta.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let snapshot = Arc::clone(&loaded);
        rayon::spawn(move || {
            // The request timed out or its client went away while this waited for a worker:
            // nobody will read the answer, so do not compute it.
            if tx.is_closed() {
                return;
            }
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                f(&snapshot, meta.as_deref())
            }));
            let _ = tx.send(r);
        });
        let value = match rx.await {
            Ok(Ok(r)) => r?,
            _ => return Err(ApiError::internal("the request failed inside the scorer")),
        };
        let mut resp = Json(value).into_response();
        if let Ok(v) = HeaderValue::from_str(&loaded.checksum_hex()) {
            resp.headers_mut().insert("x-model-checksum", v);
        }
        Ok(resp)
    }
}

/// The metrics label of a request: method and route, or `other` for unknown paths.
fn endpoint_label(method: &Method, path: &str) -> String {
    match ROUTES.iter().find(|r| r.path == path) {
        Some(r) => format!("{} {}", method.as_str(), r.path),
        None => "other".to_string(),
    }
}

/// Middleware: the request timeout, then metrics.
async fn track(State(s): State<Service>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let label = endpoint_label(req.method(), req.uri().path());
    let limit = s.inner.config.request_timeout;
    let resp = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request did not complete within {} ms", limit.as_millis()),
        )
        .into_response(),
    };
    s.inner.metrics.record(&label, resp.status().as_u16(), start.elapsed());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn every_route_has_a_label_and_a_use() {
        for r in ROUTES {
            assert!(!r.uses.is_empty(), "{}", r.path);
            for (m, example) in r.uses {
                assert!(example.starts_with(r.path), "{example}");
                let method = Method::from_bytes(m.as_bytes()).unwrap();
                assert_eq!(endpoint_label(&method, r.path), format!("{m} {}", r.path));
            }
        }
        assert_eq!(endpoint_label(&Method::GET, "/nope"), "other");
    }

    /// Every route of the router is in the OpenAPI document with each of its methods, and
    /// the document has nothing else.
    #[test]
    fn the_openapi_document_matches_the_router() {
        let doc = openapi::document(&Config::new("m.alt"));
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let mut routed = Vec::new();
        for r in ROUTES {
            for (m, _) in r.uses {
                let op = &paths[r.path][m.to_ascii_lowercase()];
                assert!(op.is_object(), "{m} {} is not in the document", r.path);
                assert!(op["responses"]["200"].is_object(), "{m} {}", r.path);
                routed.push((r.path.to_string(), m.to_ascii_lowercase()));
            }
        }
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                assert!(
                    routed.contains(&(path.clone(), method.clone())),
                    "{method} {path} is documented but not routed"
                );
            }
        }
        // The server's limits are in the document.
        let n = doc["paths"]["/v1/recommend"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "n")
            .unwrap();
        assert_eq!(n["schema"]["maximum"], 1000);
        assert_eq!(doc["components"]["schemas"]["Count"]["maximum"], 1000);
        assert_eq!(doc["components"]["schemas"]["PredictBody"]["maxItems"], 10_000);
    }
}
