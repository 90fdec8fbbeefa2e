//! The HTTP endpoints: routing, request parsing, JSON errors, and the model they read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alternator::meta::Metadata;
use alternator::modelfile::{self, FileInfo};
use alternator::recommend::{self, Entity, RecommendOptions, Recommendations};
use alternator::{Error, Model};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::metrics::Metrics;

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
    /// Time limit of one request, from arrival to response (then 503).
    pub request_timeout: Duration,
}

impl Config {
    /// Defaults for `model_path`: n ≤ 1000, 1 MiB bodies, 10,000 pairs, 10,000 liked items,
    /// 30 s per request, no metadata, admin endpoints off.
    pub fn new(model_path: impl Into<PathBuf>) -> Config {
        Config {
            model_path: model_path.into(),
            meta: None,
            admin_token: None,
            max_n: 1000,
            max_body_bytes: 1 << 20,
            max_predict_pairs: 10_000,
            max_liked: 10_000,
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
    pub info: FileInfo,
    /// When it was loaded, seconds since the Unix epoch.
    pub loaded_at_unix: u64,
}

impl Loaded {
    /// Reads and checks a model file, precomputing what fold-in needs.
    pub fn read(path: &std::path::Path) -> alternator::Result<Loaded> {
        let (model, info) = modelfile::load_with_info(path)?;
        recommend::check_model(&model)?;
        if model.rank() == 0 || model.items.is_empty() {
            return Err(Error::ModelFormat {
                path: path.into(),
                message: "the model has no items or rank 0; nothing to serve".into(),
            });
        }
        Ok(Loaded { model, info, loaded_at_unix: unix_now() })
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
        let loaded = Loaded::read(&config.model_path)?;
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
        let read = tokio::task::spawn_blocking(move || Loaded::read(&path))
            .await
            .unwrap_or_else(|e| Err(Error::Invalid(format!("the reload task failed: {e}"))));
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

    /// The HTTP routes, with metrics, the request timeout and the body limit applied.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics))
            .route("/v1/model", get(model_info))
            .route("/v1/recommend", get(recommend_get).post(recommend_post))
            .route("/v1/similar", get(similar_get))
            .route("/v1/predict", post(predict_post))
            .route("/v1/admin/reload", post(admin_reload))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(DefaultBodyLimit::max(self.inner.config.max_body_bytes))
            .layer(middleware::from_fn_with_state(self.clone(), track))
            .with_state(self.clone())
    }

    /// Runs `f` on the current model on the rayon pool (off the async reactor); a panic in
    /// `f` becomes a 500. The response carries the model's checksum in `x-model-checksum`.
    async fn compute<F>(&self, f: F) -> Result<Response, ApiError>
    where
        F: FnOnce(&Loaded, Option<&Metadata>) -> Result<Value, ApiError> + Send + 'static,
    {
        let loaded = self.current();
        let meta = self.inner.config.meta.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let snapshot = Arc::clone(&loaded);
        rayon::spawn(move || {
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

/// An error answered as JSON: `{"error": message, "code": ..., ...details}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Map<String, Value>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: Map::new() }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    fn with(mut self, key: &str, value: Value) -> ApiError {
        self.details.insert(key.to_string(), value);
        self
    }

    fn unknown_user(id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_user", format!("unknown user id {id:?}"))
            .with("id", json!(id))
            .with(
                "hint",
                json!(
                    "the model has no factors for this user (not in the training data); \
                     fold in a new user instead: POST /v1/recommend with {\"liked\": [\"ITEM_ID\", ...]}"
                ),
            )
    }

    fn unknown_item(id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_item", format!("unknown item id {id:?}"))
            .with("id", json!(id))
            .with(
                "hint",
                json!("the model has no factors for this item (not in the training data)"),
            )
    }

    /// Maps a library error: invalid input → 400, anything else → 500.
    fn from_lib(e: Error) -> ApiError {
        match e {
            Error::UnknownId { kind, id, hint } => ApiError::new(
                StatusCode::NOT_FOUND,
                if kind == "user" { "unknown_user" } else { "unknown_item" },
                format!("unknown {kind} id {id:?}"),
            )
            .with("id", json!(id))
            .with("hint", json!(hint)),
            Error::InvalidParameter { .. } | Error::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("{e}"))
            }
            other => ApiError::internal(format!("{other}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("error".into(), json!(self.message));
        body.insert("code".into(), json!(self.code));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.extend(self.details);
        (self.status, Json(Value::Object(body))).into_response()
    }
}

/// The metrics label of a request: method and route, or `other` for unknown paths.
fn endpoint_label(method: &Method, path: &str) -> String {
    const ROUTES: [&str; 7] = [
        "/healthz",
        "/metrics",
        "/v1/model",
        "/v1/recommend",
        "/v1/similar",
        "/v1/predict",
        "/v1/admin/reload",
    ];
    match ROUTES.iter().find(|&&r| r == path) {
        Some(r) => format!("{} {r}", method.as_str()),
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

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no endpoint at {}", uri.path()))
        .with(
            "endpoints",
            json!([
                "GET /healthz",
                "GET /metrics",
                "GET /v1/model",
                "GET /v1/recommend?user=ID&n=10",
                "POST /v1/recommend",
                "GET /v1/similar?item=ID&n=10",
                "POST /v1/predict",
                "POST /v1/admin/reload"
            ]),
        )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// Query parameters, rejecting unknown names (a typo would otherwise be silently ignored).
fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
    allowed: &[&str],
) -> Result<HashMap<String, String>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad(format!("bad query string: {}", e.body_text())))?;
    if let Some(k) = q.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad(format!(
            "unknown query parameter {k:?}; allowed: {}",
            allowed.join(", ")
        )));
    }
    Ok(q)
}

fn parse_n(raw: Option<&str>, max: usize) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(10.min(max)) };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad(format!("n must be an integer from 1 to {max}, got {raw:?}"))
            .with("max_n", json!(max))),
    }
}

fn n_from_json(v: Option<&Value>, max: usize) -> Result<usize, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(10.min(max)),
        Some(Value::Number(x)) => match x.as_u64() {
            Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
            _ => Err(ApiError::bad(format!("n must be an integer from 1 to {max}, got {x}"))
                .with("max_n", json!(max))),
        },
        Some(other) => Err(ApiError::bad(format!(
            "n must be an integer from 1 to {max}, got {}",
            type_name(other)
        ))),
    }
}

fn parse_bool(raw: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match raw.map(str::trim) {
        None => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ApiError::bad(format!("{name} must be true or false, got {other:?}"))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An id in a JSON body: a string, or an integer written as a number.
fn json_id(v: &Value, what: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(ApiError::bad(format!(
            "{what} must be an id (a string or an integer), got {}",
            type_name(other)
        ))),
    }
}

/// Parses a JSON body (after the size limit), turning every failure into a JSON 400/413.
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "too_large", "the request body is larger than the limit")
        } else {
            ApiError::new(status, "bad_body", format!("could not read the body: {}", e.body_text()))
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(format!("malformed JSON: {e}")))
}

fn items_json(
    model: &Model,
    meta: Option<&Metadata>,
    recs: &Recommendations,
    side: Entity,
) -> Vec<Value> {
    recs.items
        .iter()
        .map(|&(i, score)| {
            let mut o = Map::new();
            match side {
                Entity::Item => {
                    let id = model.items.id(i).unwrap_or("");
                    o.insert("item".into(), json!(id));
                    o.insert("score".into(), json!(score));
                    if let Some(t) = meta.and_then(|m| m.title(id)) {
                        o.insert("title".into(), json!(t));
                    }
                }
                Entity::User => {
                    o.insert("user".into(), json!(model.users.id(i).unwrap_or("")));
                    o.insert("score".into(), json!(score));
                }
            }
            Value::Object(o)
        })
        .collect()
}

async fn healthz(State(s): State<Service>) -> Response {
    let m = s.current();
    let mut r = Json(json!({
        "status": "ok",
        "model_checksum": m.checksum_hex(),
        "uptime_seconds": s.inner.started.elapsed().as_secs(),
    }))
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&m.checksum_hex()) {
        r.headers_mut().insert("x-model-checksum", v);
    }
    r
}

async fn metrics(State(s): State<Service>) -> Response {
    let m = s.current();
    let extra = format!(
        "# HELP alternator_model_info The model being served (value 1).\n\
         # TYPE alternator_model_info gauge\n\
         alternator_model_info{{checksum=\"{}\",rank=\"{}\",users=\"{}\",items=\"{}\"}} 1\n\
         # HELP alternator_model_loaded_timestamp_seconds When the served model was loaded.\n\
         # TYPE alternator_model_loaded_timestamp_seconds gauge\n\
         alternator_model_loaded_timestamp_seconds {}\n",
        m.checksum_hex(),
        m.model.rank(),
        m.model.users.len(),
        m.model.items.len(),
        m.loaded_at_unix
    );
    let text = s.inner.metrics.render(&extra);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn model_info(State(s): State<Service>) -> Response {
    let m = s.current();
    let model = &m.model;
    let p = &model.params;
    let kind = if p.implicit_prefs { "implicit" } else { "explicit" };
    let trained = model.summary.trained_at_unix;
    let mut r = Json(json!({
        "kind": kind,
        "rank": model.rank(),
        "users": model.users.len(),
        "items": model.items.len(),
        "interactions": model.summary.interactions,
        "trained_at": if trained > 0 { json!(rfc3339(trained)) } else { Value::Null },
        "trained_at_unix": trained,
        "checksum": m.checksum_hex(),
        "format_version": m.info.version,
        "file_bytes": m.info.bytes,
        "path": s.inner.config.model_path.display().to_string(),
        "loaded_at": rfc3339(m.loaded_at_unix),
        "reloads": s.inner.reloads.load(Ordering::Relaxed),
        "biases": model.biases.is_some(),
        "params": serde_json::to_value(p).unwrap_or(Value::Null),
        "titles": s.inner.config.meta.as_ref().map(|meta| meta.len()),
    }))
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&m.checksum_hex()) {
        r.headers_mut().insert("x-model-checksum", v);
    }
    r
}

async fn recommend_get(
    State(s): State<Service>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q, &["user", "n", "include_seen"])?;
    let Some(user) = q.get("user").cloned() else {
        return Err(ApiError::bad(
            "missing query parameter user (GET /v1/recommend?user=ID&n=10); \
             for a new user POST /v1/recommend with {\"liked\": [...]}",
        ));
    };
    let n = parse_n(q.get("n").map(String::as_str), s.inner.config.max_n)?;
    let include_seen = parse_bool(q.get("include_seen").map(String::as_str), "include_seen")?;
    s.compute(move |l, meta| {
        let model = &l.model;
        let u = model.users.get(&user).ok_or_else(|| ApiError::unknown_user(&user))?;
        let opts = RecommendOptions { n, include_seen, filter: None, candidates: None };
        // The batch scorer (f32 matrix product, then exact f64 rescoring of the best
        // n + margin) is ~4× faster than `recommend_user` on large models, same results
        // (see `alternator::recommend`'s module docs).
        let mut recs = None;
        recommend::recommend_batch(model, &[u], &opts, |_, r| {
            recs = Some(r);
            Ok(())
        })
        .map_err(ApiError::from_lib)?;
        let recs = recs.ok_or_else(|| ApiError::internal("the scorer returned no result"))?;
        Ok(json!({
            "user": user,
            "n": n,
            "eligible": recs.eligible,
            "items": items_json(model, meta, &recs, Entity::Item),
        }))
    })
    .await
}

/// A fold-in request, validated.
struct FoldIn {
    /// `(id, value)`; the value is `None` when the user gave none.
    liked: Vec<(String, Option<f32>)>,
    titles: Vec<String>,
    n: usize,
}

fn parse_fold_in(v: Value, max_n: usize, max_liked: usize) -> Result<FoldIn, ApiError> {
    let Value::Object(o) = v else {
        return Err(ApiError::bad(format!(
            "the body must be a JSON object like {{\"liked\": [\"ID\", ...], \"n\": 10}}, got {}",
            type_name(&v)
        )));
    };
    const KEYS: [&str; 3] = ["liked", "liked_titles", "n"];
    if let Some(k) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::bad(format!("unknown field {k:?}; allowed: {}", KEYS.join(", "))));
    }
    let n = n_from_json(o.get("n"), max_n)?;
    let mut liked = Vec::new();
    match o.get("liked") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for v in a {
                liked.push((json_id(v, "each element of liked")?, None));
            }
        }
        Some(Value::Object(m)) => {
            for (id, v) in m {
                let x = v.as_f64().filter(|x| x.is_finite() && x.abs() <= f64::from(f32::MAX));
                let Some(x) = x else {
                    return Err(ApiError::bad(format!(
                        "liked[{id:?}] must be a finite number, got {}",
                        if v.is_number() { v.to_string() } else { type_name(v).to_string() }
                    )));
                };
                liked.push((id.clone(), Some(x as f32)));
            }
        }
        Some(other) => {
            return Err(ApiError::bad(format!(
                "liked must be an array of item ids or an object {{\"ID\": value}}, got {}",
                type_name(other)
            )));
        }
    }
    let mut titles = Vec::new();
    match o.get("liked_titles") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for v in a {
                match v {
                    Value::String(s) if !s.trim().is_empty() => titles.push(s.clone()),
                    other => {
                        return Err(ApiError::bad(format!(
                            "each element of liked_titles must be a non-empty string, got {}",
                            type_name(other)
                        )));
                    }
                }
            }
        }
        Some(other) => {
            return Err(ApiError::bad(format!(
                "liked_titles must be an array of strings, got {}",
                type_name(other)
            )));
        }
    }
    if liked.is_empty() && titles.is_empty() {
        return Err(ApiError::bad(
            "name at least one liked item: {\"liked\": [\"ID\", ...]}, {\"liked\": {\"ID\": value}} \
             or {\"liked_titles\": [\"Title\"]}",
        ));
    }
    if liked.len() + titles.len() > max_liked {
        return Err(ApiError::bad(format!("at most {max_liked} liked items per request")));
    }
    Ok(FoldIn { liked, titles, n })
}

async fn recommend_post(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let v = json_body(body)?;
    let cfg = &s.inner.config;
    let req = parse_fold_in(v, cfg.max_n, cfg.max_liked)?;
    if !req.titles.is_empty() && cfg.meta.is_none() {
        return Err(ApiError::bad(
            "liked_titles needs item metadata: start the server with --items-meta FILE",
        ));
    }
    s.compute(move |l, meta| fold_in_recommend(l, meta, req)).await
}

/// Resolves ids and titles, folds the user in and ranks items for them with the library's
/// shared helpers (the same rules as the CLI's `recommend --liked`): unknown ids are ignored
/// and reported, a title uses its best match among items the model knows
/// ([`recommend::match_liked_title`]), a liked item without a value gets
/// [`recommend::default_liked_value`], and [`recommend::recommend_for_liked`] folds in
/// (`alternator::als::fold_in_user`) and ranks, never returning a liked item.
fn fold_in_recommend(l: &Loaded, meta: Option<&Metadata>, req: FoldIn) -> Result<Value, ApiError> {
    let model = &l.model;
    let default = recommend::default_liked_value(model);
    let mut liked: Vec<(u32, f32)> = Vec::new();
    let mut unknown = Vec::new();
    for (id, value) in &req.liked {
        match model.items.get(id) {
            Some(i) => liked.push((i, value.unwrap_or(default))),
            None => unknown.push(id.clone()),
        }
    }
    let mut matched_titles = Vec::new();
    if let Some(meta) = meta {
        for title in &req.titles {
            match recommend::match_liked_title(model, meta, title, false) {
                Ok(res) => {
                    for &i in &res.used {
                        liked.push((i, default));
                        let id = model.items.id(i).unwrap_or("");
                        matched_titles.push(json!({
                            "query": title,
                            "item": id,
                            "title": meta.title(id),
                        }));
                    }
                }
                Err(Error::UnknownId { hint, .. }) => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "unknown_title",
                        format!("no title matches {title:?} among the items the model knows"),
                    )
                    .with("title", json!(title))
                    .with("hint", json!(hint)));
                }
                Err(e) => return Err(ApiError::from_lib(e)),
            }
        }
    }
    if liked.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_item",
            format!("none of the liked items is known to the model: {}", unknown.join(", ")),
        )
        .with("ids", json!(unknown))
        .with("hint", json!("give item ids from the model's training data")));
    }
    let recs = recommend::recommend_for_liked(model, &liked, &RecommendOptions::top(req.n))
        .map_err(ApiError::from_lib)?;
    let mut used: Vec<&str> = Vec::new();
    for &(i, _) in &liked {
        if let Some(id) = model.items.id(i) {
            if !used.contains(&id) {
                used.push(id);
            }
        }
    }
    Ok(json!({
        "user": null,
        "liked": used,
        "ignored": unknown,
        "titles": matched_titles,
        "n": req.n,
        "eligible": recs.eligible,
        "items": items_json(model, meta, &recs, Entity::Item),
    }))
}

async fn similar_get(
    State(s): State<Service>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q, &["item", "user", "n"])?;
    let n = parse_n(q.get("n").map(String::as_str), s.inner.config.max_n)?;
    let (entity, id) = match (q.get("item"), q.get("user")) {
        (Some(i), None) => (Entity::Item, i.clone()),
        (None, Some(u)) => (Entity::User, u.clone()),
        _ => {
            return Err(ApiError::bad(
                "give exactly one of item=ID or user=ID (GET /v1/similar?item=ID&n=10)",
            ));
        }
    };
    s.compute(move |l, meta| {
        let model = &l.model;
        let index = match entity {
            Entity::Item => model.items.get(&id).ok_or_else(|| ApiError::unknown_item(&id))?,
            Entity::User => model.users.get(&id).ok_or_else(|| ApiError::unknown_user(&id))?,
        };
        let recs = recommend::similar(model, entity, index, false, &RecommendOptions::top(n))
            .map_err(ApiError::from_lib)?;
        let list = items_json(model, meta, &recs, entity);
        Ok(match entity {
            Entity::Item => json!({
                "item": id,
                "title": meta.and_then(|m| m.title(&id)),
                "n": n,
                "items": list,
            }),
            Entity::User => json!({"user": id, "n": n, "users": list}),
        })
    })
    .await
}

async fn predict_post(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let v = json_body(body)?;
    let Value::Array(list) = v else {
        return Err(ApiError::bad(format!(
            "the body must be a JSON array of {{\"user\": ID, \"item\": ID}} objects, got {}",
            type_name(&v)
        )));
    };
    let max = s.inner.config.max_predict_pairs;
    if list.len() > max {
        return Err(ApiError::bad(format!("at most {max} pairs per request, got {}", list.len())));
    }
    let mut pairs = Vec::with_capacity(list.len());
    for (k, p) in list.iter().enumerate() {
        let Value::Object(o) = p else {
            return Err(ApiError::bad(format!(
                "element {k} must be an object {{\"user\": ID, \"item\": ID}}, got {}",
                type_name(p)
            )));
        };
        if let Some(key) = o.keys().find(|key| *key != "user" && *key != "item") {
            return Err(ApiError::bad(format!("element {k}: unknown field {key:?}")));
        }
        let user = o
            .get("user")
            .ok_or_else(|| ApiError::bad(format!("element {k}: missing user")))
            .and_then(|v| json_id(v, &format!("element {k}: user")))?;
        let item = o
            .get("item")
            .ok_or_else(|| ApiError::bad(format!("element {k}: missing item")))
            .and_then(|v| json_id(v, &format!("element {k}: item")))?;
        pairs.push((user, item));
    }
    s.compute(move |l, _| {
        let model = &l.model;
        let scores: Vec<Value> = pairs
            .iter()
            .map(|(u, i)| match model.predict(u, i) {
                Some(x) if x.is_finite() => json!(x),
                _ => Value::Null,
            })
            .collect();
        let unknown = scores.iter().filter(|v| v.is_null()).count();
        Ok(json!({"scores": scores, "unknown": unknown}))
    })
    .await
}

/// Constant-time comparison of the given token with the configured one.
fn token_ok(given: &[u8], want: &[u8]) -> bool {
    let mut diff = given.len() ^ want.len();
    for (k, &w) in want.iter().enumerate() {
        diff |= usize::from(given.get(k).copied().unwrap_or(0) ^ w);
    }
    diff == 0
}

async fn admin_reload(State(s): State<Service>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(want) = s.inner.config.admin_token.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "admin_disabled",
            "admin endpoints are disabled; start the server with --admin-token TOKEN (or send SIGHUP to reload)",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-admin-token").and_then(|v| v.to_str().ok()));
    let Some(given) = given else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing admin token: send Authorization: Bearer TOKEN",
        ));
    };
    if !token_ok(given.trim().as_bytes(), want.as_bytes()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "wrong admin token"));
    }
    match s.reload().await {
        Ok(o) => {
            eprintln!(
                "reloaded {} (checksum {} → {})",
                s.inner.config.model_path.display(),
                o.previous_checksum,
                o.checksum
            );
            let m = s.current();
            Ok(Json(json!({
                "reloaded": true,
                "previous_checksum": o.previous_checksum,
                "checksum": o.checksum,
                "users": m.model.users.len(),
                "items": m.model.items.len(),
                "rank": m.model.rank(),
            }))
            .into_response())
        }
        Err(e) => {
            let serving = s.current().checksum_hex();
            eprintln!("reload failed, still serving checksum {serving}: {e}");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reload_failed",
                format!("reload failed; the previous model keeps serving: {e}"),
            )
            .with("serving_checksum", json!(serving)))
        }
    }
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
    fn token_comparison() {
        assert!(token_ok(b"secret", b"secret"));
        assert!(!token_ok(b"secre", b"secret"));
        assert!(!token_ok(b"secretx", b"secret"));
        assert!(!token_ok(b"", b"secret"));
    }

    #[test]
    fn n_and_bool_parsing() {
        assert_eq!(parse_n(None, 1000).unwrap(), 10);
        assert_eq!(parse_n(Some("1000"), 1000).unwrap(), 1000);
        assert!(parse_n(Some("0"), 1000).is_err());
        assert!(parse_n(Some("1001"), 1000).is_err());
        assert!(parse_n(Some("-1"), 1000).is_err());
        assert!(parse_n(Some("ten"), 1000).is_err());
        assert!(parse_bool(Some("maybe"), "x").is_err());
        assert!(parse_bool(Some("true"), "x").unwrap());
    }

    #[test]
    fn fold_in_body_validation() {
        let ok = parse_fold_in(json!({"liked": ["1", 2], "n": 5}), 1000, 100).unwrap();
        assert_eq!(ok.liked, vec![("1".to_string(), None), ("2".to_string(), None)]);
        assert_eq!(ok.n, 5);
        let ok = parse_fold_in(json!({"liked": {"7": 4.5}}), 1000, 100).unwrap();
        assert_eq!(ok.liked, vec![("7".to_string(), Some(4.5))]);
        for bad in [
            json!([]),
            json!({}),
            json!({"liked": []}),
            json!({"liked": "1"}),
            json!({"liked": [1.5]}),
            json!({"liked": {"7": "x"}}),
            json!({"liked": ["1"], "n": 0}),
            json!({"liked": ["1"], "n": "10"}),
            json!({"liked": ["1"], "extra": 1}),
            json!({"liked_titles": [3]}),
        ] {
            assert!(parse_fold_in(bad.clone(), 1000, 100).is_err(), "{bad}");
        }
    }
}
