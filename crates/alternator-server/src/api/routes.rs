//! The handlers: each parses its request ([`super::requests`]), runs the library on the
//! scoring pool ([`Service::compute`]) and answers one of the [`super::responses`] types. The
//! `#[utoipa::path]` on each is its entry in the OpenAPI document (`GET /openapi.json`).

use std::sync::atomic::Ordering;

use alternator::meta::Metadata;
use alternator::{IdKind, NewUser, RecommendOptions};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::ApiError;
use super::requests::{
    Liked, Obj, PredictBody, RecommendBody, RecommendQuery, SimilarQuery, Title, json_body,
    parse_bool, parse_n,
};
use super::responses::{
    ErrorBody, Health, Item, ModelInfo, NewUserRecommendations, Predictions, Reloaded, Similar,
    SimilarItems, SimilarUsers, TitleUse, UserOut, UserRecommendations,
};
use super::{Config, Loaded, ROUTES, Service, rfc3339};

/// The body of a request, within the size limit (413 beyond it).
pub(super) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "too_large", "the request body is larger than the limit")
        } else {
            ApiError::new(status, "bad_body", format!("could not read the body: {}", e.body_text()))
        }
    })
}

/// The query parameters, or a 400 naming what was wrong (unknown or repeated parameter).
pub(super) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q).map_err(|e| {
        let text = e.body_text();
        let why = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
        ApiError::bad(format!("bad query string: {why}"))
    })
}

/// The `x-model-checksum` header of `loaded` on `resp`.
fn with_checksum(mut resp: Response, loaded: &Loaded) -> Response {
    if let Ok(v) = HeaderValue::from_str(&loaded.checksum_hex()) {
        resp.headers_mut().insert("x-model-checksum", v);
    }
    resp
}

/// Health: always 200 while the server runs, with the checksum of the model it serves.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses(
        (status = 200, description = "The server is up", body = Health),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn healthz(State(s): State<Service>) -> Response {
    let m = s.current();
    let body = Health {
        status: "ok".into(),
        model_checksum: m.checksum_hex(),
        uptime_seconds: s.inner.started.elapsed().as_secs(),
    };
    with_checksum(Json(body).into_response(), &m)
}

/// Prometheus metrics: requests by endpoint and status, latency histograms, reloads, the model.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn metrics(State(s): State<Service>) -> Response {
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
        m.model.users().len(),
        m.model.items().len(),
        m.loaded_at_unix
    );
    let text = s.inner.metrics.render(&extra);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// Facts about the model being served; its full path only with the admin token.
#[utoipa::path(
    get,
    path = "/v1/model",
    tag = "service",
    responses(
        (status = 200, description = "The model", body = ModelInfo),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn model_info(State(s): State<Service>, headers: HeaderMap) -> Response {
    let m = s.current();
    // The file's place on the server is for its operators: shown with the admin token only.
    let admin = s.inner.config.admin_token.as_deref().is_some_and(|want| {
        given_token(&headers).is_some_and(|g| token_ok(g.trim().as_bytes(), want.as_bytes()))
    });
    let path = &s.inner.config.model_path;
    let model = &m.model;
    let summary = model.summary();
    let trained = summary.trained_at_unix;
    let body = ModelInfo {
        kind: if model.is_implicit() { "implicit" } else { "explicit" }.into(),
        rank: model.rank(),
        users: model.users().len(),
        items: model.items().len(),
        interactions: summary.interactions,
        trained_at: (trained > 0).then(|| rfc3339(trained)),
        trained_at_unix: trained,
        checksum: m.checksum_hex(),
        format_version: m.info.version,
        file_bytes: m.info.bytes,
        file: path.file_name().map(|f| f.to_string_lossy().into_owned()),
        path: admin.then(|| path.display().to_string()),
        loaded_at: rfc3339(m.loaded_at_unix),
        reloads: s.inner.reloads.load(Ordering::Relaxed),
        biases: model.biases().is_some(),
        liked_value: model.default_liked_value(),
        params: serde_json::to_value(model.params()).unwrap_or(Value::Null),
        titles: s.inner.config.meta.as_ref().map(|meta| meta.len()),
    };
    with_checksum(Json(body).into_response(), &m)
}

/// Top-N items for a known user, their training items excluded unless `include_seen`.
#[utoipa::path(
    get,
    path = "/v1/recommend",
    tag = "recommend",
    params(RecommendQuery),
    responses(
        (status = 200, description = "The user's recommendations", body = UserRecommendations),
        (status = 400, description = "A missing, unknown, repeated or invalid parameter", body = ErrorBody),
        (status = 404, description = "The user is unknown (code unknown_user)", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn recommend_get(
    State(s): State<Service>,
    q: Result<Query<RecommendQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let Some(user) = q.user else {
        return Err(ApiError::bad(
            "missing query parameter user (GET /v1/recommend?user=ID&n=10); \
             for a new user POST /v1/recommend with {\"liked\": [...]}",
        ));
    };
    let n = parse_n(q.n.as_deref(), s.inner.config.max_n)?;
    let include_seen = parse_bool(q.include_seen.as_deref(), "include_seen")?;
    s.compute(move |l, meta| {
        let mut opts = RecommendOptions::top(n).include_seen(include_seen);
        opts.filter = l.rare.as_ref();
        let recs = l.model.recommend_with(&user, &opts)?;
        Ok(UserRecommendations {
            user,
            n,
            eligible: recs.eligible,
            items: Item::list(&recs.results, meta),
        })
    })
    .await
}

/// Top-N items for a new user named by the items they liked (ids, ids with values, titles):
/// the user is folded in (one least-squares solve against the item factors) and never gets a
/// liked item back. Unknown ids are ignored and listed.
#[utoipa::path(
    post,
    path = "/v1/recommend",
    tag = "recommend",
    request_body = RecommendBody,
    responses(
        (status = 200, description = "The new user's recommendations", body = NewUserRecommendations),
        (status = 400, description = "A malformed body, nothing liked, too many items or titles, titles without metadata", body = ErrorBody),
        (status = 404, description = "No liked item known to the model (unknown_item), or a title that matches nothing (unknown_title, with suggestions)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
        (status = 422, description = "The fold-in has no solution (a model trained without regularization)", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn recommend_post(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Obj(body): Obj<RecommendBody> = json_body(&body_bytes(body)?)?;
    let cfg = &s.inner.config;
    let n = body.n.as_ref().map_or(Ok(10.min(cfg.max_n)), |c| c.get(cfg.max_n))?;
    let who = new_user(body.liked.as_ref(), body.liked_titles, cfg)?;
    s.compute(move |l, meta| fold_in_recommend(l, meta, &who, n)).await
}

/// A new user from a request's `liked` and `liked_titles`, within the server's limits
/// (shared by `POST /v1/recommend` and `POST /v1/explain`).
pub(super) fn new_user(
    liked: Option<&Liked>,
    titles: Option<Vec<Title>>,
    cfg: &Config,
) -> Result<NewUser, ApiError> {
    let mut who = NewUser::new();
    match liked {
        None => {}
        Some(Liked::Ids(ids)) => {
            for id in ids {
                who.like(id.0.clone());
            }
        }
        Some(Liked::Values(values)) => {
            for (id, v) in values {
                who.rate(id.clone(), *v);
            }
        }
    }
    let titles = titles.unwrap_or_default();
    if titles.len() > cfg.max_titles {
        return Err(ApiError::bad(format!(
            "at most {} liked titles per request, got {}",
            cfg.max_titles,
            titles.len()
        )));
    }
    for t in titles {
        who.like_title(t.0);
    }
    if who.is_empty() {
        return Err(ApiError::bad(
            "name at least one liked item: {\"liked\": [\"ID\", ...]}, {\"liked\": {\"ID\": value}} \
             or {\"liked_titles\": [\"Title\"]}",
        ));
    }
    if who.len() > cfg.max_liked {
        return Err(ApiError::bad(format!("at most {} liked items per request", cfg.max_liked)));
    }
    if !who.titles().is_empty() && cfg.meta.is_none() {
        return Err(ApiError::bad(
            "liked_titles needs item metadata: start the server with --items-meta FILE",
        ));
    }
    Ok(who)
}

/// The one new-user pipeline of the library (`Model::fold_in`, as the command line's
/// `recommend --liked`), then the ranking, never returning a liked item.
fn fold_in_recommend(
    l: &Loaded,
    meta: Option<&Metadata>,
    who: &NewUser,
    n: usize,
) -> Result<NewUserRecommendations, ApiError> {
    let model = &l.model;
    let folded = model.fold_in(who, meta)?;
    let mut opts = RecommendOptions::top(n);
    opts.filter = l.rare.as_ref();
    let recs = model.recommend_folded(&folded, &opts)?;
    let titles = folded
        .titles
        .iter()
        .flat_map(|t| {
            t.used.iter().map(|id| TitleUse {
                query: t.query.clone(),
                item: id.clone(),
                title: meta.and_then(|m| m.title(id)).map(String::from),
            })
        })
        .collect();
    Ok(NewUserRecommendations {
        user: None,
        liked: folded.liked,
        ignored: folded.ignored,
        titles,
        n,
        eligible: recs.eligible,
        items: Item::list(&recs.results, meta),
    })
}

/// The items most similar to an item (`item=ID`), or the users most similar to a user
/// (`user=ID`), by cosine similarity of their factors.
#[utoipa::path(
    get,
    path = "/v1/similar",
    tag = "recommend",
    params(SimilarQuery),
    responses(
        (status = 200, description = "The most similar items (for item=) or users (for user=)", body = Similar),
        (status = 400, description = "Neither or both of item and user, or an unknown, repeated or invalid parameter", body = ErrorBody),
        (status = 404, description = "The item or user is unknown", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn similar_get(
    State(s): State<Service>,
    q: Result<Query<SimilarQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let n = parse_n(q.n.as_deref(), s.inner.config.max_n)?;
    let (kind, id) = match (q.item, q.user) {
        (Some(i), None) => (IdKind::Item, i),
        (None, Some(u)) => (IdKind::User, u),
        _ => {
            return Err(ApiError::bad(
                "give exactly one of item=ID or user=ID (GET /v1/similar?item=ID&n=10)",
            ));
        }
    };
    s.compute(move |l, meta| {
        let model = &l.model;
        let mut opts = RecommendOptions::top(n);
        Ok(match kind {
            IdKind::Item => {
                opts.filter = l.rare.as_ref();
                let list = model.similar_items_with(&id, &opts, false)?;
                Similar::Items(SimilarItems {
                    title: meta.and_then(|m| m.title(&id)).map(String::from),
                    item: id,
                    n,
                    eligible: list.eligible,
                    items: Item::list(&list.results, meta),
                })
            }
            IdKind::User => {
                let list = model.similar_users_with(&id, &opts, false)?;
                Similar::Users(SimilarUsers {
                    user: id,
                    n,
                    eligible: list.eligible,
                    users: UserOut::list(&list.results),
                })
            }
        })
    })
    .await
}

/// Predicted scores of (user, item) pairs; `null` for a pair the model cannot score.
#[utoipa::path(
    post,
    path = "/v1/predict",
    tag = "recommend",
    request_body = PredictBody,
    responses(
        (status = 200, description = "One score per pair", body = Predictions),
        (status = 400, description = "A malformed body or too many pairs", body = ErrorBody),
        (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn predict_post(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let PredictBody(pairs) = json_body(&body_bytes(body)?)?;
    let max = s.inner.config.max_predict_pairs;
    if pairs.len() > max {
        return Err(ApiError::bad(format!("at most {max} pairs per request, got {}", pairs.len())));
    }
    s.compute(move |l, _| {
        let scores: Vec<Value> = pairs
            .iter()
            .map(|p| {
                l.model.predict(&p.user.0, &p.item.0).map_or(Value::Null, alternator::json::number)
            })
            .collect();
        let unknown = scores.iter().filter(|v| v.is_null()).count();
        Ok(Predictions { scores, unknown })
    })
    .await
}

/// The admin token a request carries (`Authorization: Bearer TOKEN` or `x-admin-token`).
fn given_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-admin-token").and_then(|v| v.to_str().ok()))
}

/// Constant-time comparison of the given token with the configured one.
fn token_ok(given: &[u8], want: &[u8]) -> bool {
    let mut diff = given.len() ^ want.len();
    for (k, &w) in want.iter().enumerate() {
        diff |= usize::from(given.get(k).copied().unwrap_or(0) ^ w);
    }
    diff == 0
}

/// Re-reads the model file and swaps it in atomically; a file that does not load leaves the
/// old model serving. Needs the server's admin token.
#[utoipa::path(
    post,
    path = "/v1/admin/reload",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Reloaded", body = Reloaded),
        (status = 401, description = "No token given", body = ErrorBody),
        (status = 403, description = "A wrong token", body = ErrorBody),
        (status = 404, description = "Admin endpoints are off (no --admin-token)", body = ErrorBody),
        (status = 500, description = "The new file did not load; the old model keeps serving (code reload_failed)", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn admin_reload(
    State(s): State<Service>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(want) = s.inner.config.admin_token.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "admin_disabled",
            "admin endpoints are disabled; start the server with --admin-token TOKEN (or send SIGHUP to reload)",
        ));
    };
    let Some(given) = given_token(&headers) else {
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
            let body = Reloaded {
                reloaded: true,
                previous_checksum: o.previous_checksum,
                checksum: o.checksum,
                users: m.model.users().len(),
                items: m.model.items().len(),
                rank: m.model.rank(),
            };
            Ok(Json(body).into_response())
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

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this server", body = Object),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn openapi_json(State(s): State<Service>) -> Response {
    Json(super::openapi::document(&s.inner.config)).into_response()
}

pub(super) async fn not_found(uri: Uri) -> ApiError {
    let endpoints: Vec<String> = ROUTES
        .iter()
        .flat_map(|r| r.uses.iter().map(|(m, example)| format!("{m} {example}")))
        .collect();
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no endpoint at {}", uri.path()))
        .with("endpoints", json!(endpoints))
}

pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(token_ok(b"secret", b"secret"));
        assert!(!token_ok(b"secre", b"secret"));
        assert!(!token_ok(b"secretx", b"secret"));
        assert!(!token_ok(b"", b"secret"));
    }
}
