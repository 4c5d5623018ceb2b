//! Every route of the admin service and the layers all of them pass.

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::{assets, auth, metrics, pages, rest, AppState};

/// The largest request body: a packet capture or console log uploaded to Diagnose.
pub(crate) const MAX_BODY: usize = 32 * 1024 * 1024;

/// The admin service's routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(rest::routes())
        .route("/static/{file}", get(assets::serve))
        .route("/metrics", get(metrics::metrics))
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf_check))
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// What every answer tells the browser: only this site's scripts and styles, no framing, no
/// referrer to other sites, HTTPS only.
async fn security_headers(request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with("/api/docs");
    let mut r = next.run(request).await;
    let h = r.headers_mut();
    // The interactive API docs (Swagger UI) set inline styles; nothing else needs them.
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` with
    // every form post, which the CSRF check (rightly) refuses; other sites still get no referrer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}
