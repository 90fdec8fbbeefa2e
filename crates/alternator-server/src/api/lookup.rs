//! The handlers the web page needs besides recommendations: title search, a known user's
//! history, and explanations of a score (`GET`/`POST /v1/explain`).

use alternator::meta::Metadata;
use alternator::recommend::ItemExplanation;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Service;
use super::errors::ApiError;
use super::requests::{
    ExplainBody, ExplainQuery, HistoryQuery, MAX_TITLE_BYTES, Obj, SearchQuery, json_body, parse_n,
};
use super::responses::{ContributionOut, ErrorBody, Explained, Item, SearchResults, UserItems};
use super::routes::{body_bytes, new_user, query};

/// Items whose title matches a query, for search as you type: the title matcher of
/// `liked_titles` and the command line's `--liked-title`, restricted to items the model
/// knows. An item id given as the query comes first.
#[utoipa::path(
    get,
    path = "/v1/search",
    tag = "recommend",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching items, best first (none for a blank query; without --items-meta only an exact item id is found)", body = SearchResults),
        (status = 400, description = "A missing, unknown, repeated or invalid parameter, or a query longer than 256 bytes", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn search_get(
    State(s): State<Service>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let Some(text) = q.q else {
        return Err(ApiError::bad("missing query parameter q (GET /v1/search?q=star%20wars&n=10)"));
    };
    if text.len() > MAX_TITLE_BYTES {
        return Err(ApiError::bad(format!(
            "q is {} bytes long; search with at most {MAX_TITLE_BYTES} bytes of a title",
            text.len()
        )));
    }
    let n = parse_n(q.n.as_deref(), s.inner.config.max_n)?;
    s.compute(move |l, meta| {
        let found = l.model.search_items(&text, meta, n)?;
        Ok(SearchResults { query: text, n, items: Item::list(&found, meta) })
    })
    .await
}

/// A known user's training items, largest value first.
#[utoipa::path(
    get,
    path = "/v1/history",
    tag = "recommend",
    params(HistoryQuery),
    responses(
        (status = 200, description = "The user's training items (score = the training value)", body = UserItems),
        (status = 400, description = "A missing, unknown, repeated or invalid parameter", body = ErrorBody),
        (status = 404, description = "The user is unknown (code unknown_user)", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn history_get(
    State(s): State<Service>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let Some(user) = q.user else {
        return Err(ApiError::bad("missing query parameter user (GET /v1/history?user=ID&n=10)"));
    };
    let n = parse_n(q.n.as_deref(), s.inner.config.max_n)?;
    s.compute(move |l, meta| {
        let list = l.model.user_items(&user, n)?;
        Ok(UserItems { user, n, eligible: list.eligible, items: Item::list(&list.results, meta) })
    })
    .await
}

/// Why a known user gets an item: the score split into the contributions of their training
/// items.
#[utoipa::path(
    get,
    path = "/v1/explain",
    tag = "recommend",
    params(ExplainQuery),
    responses(
        (status = 200, description = "The score and its largest contributions", body = Explained),
        (status = 400, description = "A missing, unknown, repeated or invalid parameter", body = ErrorBody),
        (status = 404, description = "The user or the item is unknown", body = ErrorBody),
        (status = 422, description = "The model cannot be explained (trained with biases, or without regularization)", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn explain_get(
    State(s): State<Service>,
    q: Result<Query<ExplainQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let (Some(user), Some(item)) = (q.user, q.item) else {
        return Err(ApiError::bad(
            "give user and item (GET /v1/explain?user=ID&item=ID&n=10); for a new user POST \
             /v1/explain with {\"item\": \"ID\", \"liked\": [...]}",
        ));
    };
    let n = parse_n(q.n.as_deref(), s.inner.config.max_n)?;
    s.compute(move |l, meta| {
        let e = l.model.explain_user(&user, &item, n)?;
        explained(e, Some(user), None, meta)
    })
    .await
}

/// Why a new user, named by what they liked (as in `POST /v1/recommend`), gets an item.
#[utoipa::path(
    post,
    path = "/v1/explain",
    tag = "recommend",
    request_body = ExplainBody,
    responses(
        (status = 200, description = "The score and its largest contributions", body = Explained),
        (status = 400, description = "A malformed body, nothing liked, too many items or titles, titles without metadata", body = ErrorBody),
        (status = 404, description = "The item is unknown, no liked item is known (unknown_item), or a title matches nothing (unknown_title)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
        (status = 422, description = "The model cannot be explained (trained with biases, or without regularization)", body = ErrorBody),
        (status = 503, description = "Too many open connections, or the request timed out", body = ErrorBody),
    )
)]
pub(super) async fn explain_post(
    State(s): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Obj(body): Obj<ExplainBody> = json_body(&body_bytes(body)?)?;
    let cfg = &s.inner.config;
    let n = body.n.as_ref().map_or(Ok(10.min(cfg.max_n)), |c| c.get(cfg.max_n))?;
    let who = new_user(body.liked.as_ref(), body.liked_titles, cfg)?;
    let item = body.item.0;
    s.compute(move |l, meta| {
        let folded = l.model.fold_in(&who, meta)?;
        let e = l.model.explain_folded(&folded, &item, n)?;
        explained(e, None, Some(folded.ignored), meta)
    })
    .await
}

/// The response for a library explanation, titled from `meta`.
fn explained(
    e: ItemExplanation,
    user: Option<String>,
    ignored: Option<Vec<String>>,
    meta: Option<&Metadata>,
) -> Result<Explained, ApiError> {
    let finite = e.score.is_finite()
        && e.others.is_finite()
        && e.contributions.iter().all(|c| c.share.is_finite());
    if !finite {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "the explanation overflowed: the model's factors are too large to explain",
        ));
    }
    let title = |id: &str| meta.and_then(|m| m.title(id)).map(String::from);
    Ok(Explained {
        user,
        title: title(&e.item),
        score: e.score,
        contributions: e
            .contributions
            .iter()
            .map(|c| ContributionOut {
                item: c.item.clone(),
                title: title(&c.item),
                value: c.value,
                share: c.share,
            })
            .collect(),
        others: e.others,
        others_count: e.others_count,
        ignored,
        item: e.item,
    })
}
