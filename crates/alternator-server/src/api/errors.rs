//! Error responses: every error is JSON `{"error": message, "code": ..., "status": N, ...}`.

use alternator::{Error, IdKind};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// The hint for a user the model does not know.
const UNKNOWN_USER_HINT: &str = "the model has no factors for this user (not in the training \
     data); fold in a new user instead: POST /v1/recommend with {\"liked\": [\"ITEM_ID\", ...]}";

/// An error answered as JSON: `{"error": message, "code": ..., "status": N, ...details}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Map<String, Value>,
}

impl ApiError {
    /// An error with a status, a machine-readable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: Map::new() }
    }

    /// 400 `bad_request`.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// Adds a detail field to the body.
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.details.insert(key.to_string(), value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Maps a library error: unknown ids and titles → 404, bad parameters and data → 400 or
    /// 422, anything else → 500. Parameters are named as the API spells them (`n`,
    /// `liked_titles`), which is how the library names them.
    pub fn from_lib(e: Error) -> ApiError {
        match e {
            Error::UnknownId { kind, ref id } => {
                let (code, hint) = match kind {
                    IdKind::User => ("unknown_user", UNKNOWN_USER_HINT),
                    _ => (
                        "unknown_item",
                        "the model has no factors for this item (not in the training data)",
                    ),
                };
                ApiError::new(StatusCode::NOT_FOUND, code, format!("unknown {kind} id {id:?}"))
                    .with("id", json!(id))
                    .with("hint", json!(hint))
            }
            Error::UnknownTitle { ref title, ref suggestions } => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_title",
                format!("no title matches {title:?} among the items the model knows"),
            )
            .with("title", json!(title))
            .with("suggestions", json!(suggestions))
            .with(
                "hint",
                json!(if suggestions.is_empty() {
                    "no title is close; check the spelling".to_string()
                } else {
                    format!("closest titles: {}", suggestions.join(", "))
                }),
            ),
            Error::NoKnownItems { ref ids } => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_item",
                format!("none of the liked items is known to the model: {}", ids.join(", ")),
            )
            .with("ids", json!(ids))
            .with("hint", json!("give item ids from the model's training data")),
            Error::InvalidParameter { name, ref message } => {
                ApiError::bad(format!("{name}: {message}")).with("parameter", json!(name))
            }
            Error::Invalid(_) | Error::Singular { .. } | Error::IndexOutOfRange { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::from_lib(e)
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
