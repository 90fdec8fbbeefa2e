//! The web page at `GET /`: one static HTML file, its script and its style sheet, compiled
//! into the binary (`page/`), with no build step and nothing loaded from elsewhere. The
//! Content-Security-Policy allows scripts, styles and requests from this server only: no
//! inline script, no other origin.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page.
const INDEX_HTML: &str = include_str!("page/index.html");
/// Its script.
const APP_JS: &str = include_str!("page/app.js");
/// Its style sheet.
const STYLE_CSS: &str = include_str!("page/style.css");

/// The Content-Security-Policy of the page: everything from this server only, no inline
/// script or style, no framing, no plugins, forms posting nowhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// A static asset with its content type and the page's security headers.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The web page: search titles, pick favourites, see recommendations and why.
#[utoipa::path(
    get,
    path = "/",
    tag = "page",
    responses(
        (status = 200, description = "The web page (HTML)", body = String, content_type = "text/html"),
        (status = 503, description = "Too many open connections, or the request timed out", body = super::responses::ErrorBody),
    )
)]
pub(super) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// The web page's script.
#[utoipa::path(
    get,
    path = "/app.js",
    tag = "page",
    responses(
        (status = 200, description = "The page's script", body = String, content_type = "text/javascript"),
        (status = 503, description = "Too many open connections, or the request timed out", body = super::responses::ErrorBody),
    )
)]
pub(super) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// The web page's style sheet.
#[utoipa::path(
    get,
    path = "/style.css",
    tag = "page",
    responses(
        (status = 200, description = "The page's style sheet", body = String, content_type = "text/css"),
        (status = 503, description = "Too many open connections, or the request timed out", body = super::responses::ErrorBody),
    )
)]
pub(super) async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}
