//! The OpenAPI 3.1 document of the API (`GET /openapi.json`), generated from the handlers'
//! `#[utoipa::path]` entries and the request and response types themselves, then given the
//! running server's limits (`n` up to `--max-n`, the liked titles and predicted pairs a
//! request may hold).

use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::Config;
use super::requests::{
    Count, ExplainBody, Id, Liked, PredictBody, PredictPair, RecommendBody, Title,
};
use super::responses::{
    ContributionOut, ErrorBody, Explained, Health, Item, ModelInfo, NewUserRecommendations,
    Predictions, Reloaded, SearchResults, Similar, SimilarItems, SimilarUsers, TitleUse, UserItems,
    UserOut, UserRecommendations,
};
use super::{lookup, page, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alternator",
        description = "Recommendations from an ALS model: top-N items for known and new users, similar items and users, predicted scores. Every error is JSON {error, code, status, ...}; every answer computed from the model carries an x-model-checksum header."
    ),
    paths(
        page::index,
        page::app_js,
        page::style_css,
        routes::healthz,
        routes::metrics,
        routes::model_info,
        routes::recommend_get,
        routes::recommend_post,
        routes::similar_get,
        lookup::search_get,
        lookup::history_get,
        lookup::explain_get,
        lookup::explain_post,
        routes::predict_post,
        routes::admin_reload,
        routes::openapi_json,
    ),
    components(schemas(
        ErrorBody, Health, Item, ModelInfo, NewUserRecommendations, Predictions, Reloaded, Similar,
        SimilarItems, SimilarUsers, TitleUse, UserOut, UserRecommendations, RecommendBody,
        PredictBody, PredictPair, Id, Liked, Title, Count, SearchResults, UserItems, Explained,
        ContributionOut, ExplainBody
    )),
    modifiers(&AdminToken),
    tags(
        (name = "recommend", description = "Recommendations, similar items and users, scores"),
        (name = "service", description = "Health, metrics, the model, this document"),
        (name = "admin", description = "Reloading the model (needs the admin token)"),
        (name = "page", description = "The web page at / and its script and style sheet"),
    )
)]
struct ApiDoc;

/// The bearer-token security scheme of the admin endpoints.
struct AdminToken;

impl utoipa::Modify for AdminToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme =
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("admin_token", scheme);
    }
}

/// The document as generated, before the server's limits are set.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document with `config`'s limits: the maximum of every `n`, of the liked titles and of
/// the predicted pairs.
pub fn document(config: &Config) -> Value {
    let mut doc = serde_json::to_value(base()).unwrap_or(Value::Null);
    let max_n = json!(config.max_n);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(ops) = item.as_object_mut() else { continue };
            for op in ops.values_mut() {
                let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                    continue;
                };
                for p in params.iter_mut().filter(|p| p["name"] == "n") {
                    if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                        schema.insert("maximum".into(), max_n.clone());
                    }
                }
            }
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    if let Some(count) = schemas.get_mut("Count").and_then(Value::as_object_mut) {
        count.insert("maximum".into(), max_n);
    }
    if let Some(pairs) = schemas.get_mut("PredictBody").and_then(Value::as_object_mut) {
        pairs.insert("maxItems".into(), json!(config.max_predict_pairs));
    }
    for body in ["RecommendBody", "ExplainBody"] {
        if let Some(titles) = schemas.pointer_mut(&format!("/{body}/properties/liked_titles")) {
            set_max_items(titles, config.max_titles);
        }
    }
    doc
}

/// Sets `maxItems` on the array schema in `schema` (directly, or inside a `oneOf` with `null`).
fn set_max_items(schema: &mut Value, max: usize) {
    if schema
        .get("type")
        .is_some_and(|t| t == "array" || t.as_array().is_some_and(|a| a.contains(&json!("array"))))
    {
        if let Some(o) = schema.as_object_mut() {
            o.insert("maxItems".into(), json!(max));
        }
    }
    if let Some(alts) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
        for alt in alts {
            set_max_items(alt, max);
        }
    }
}
