//! Request bodies and parameters whose rejections are problem details, never axum's plain text:
//! a script reads the same `application/problem+json` for a bad body as for a refusal.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::Problem;

/// The largest JSON body (settings, a filter, a device): far below the router's 32 MiB.
pub(crate) const MAX_JSON: usize = 64 * 1024;
/// The largest certificate upload (a PEM chain or a DER certificate).
pub(crate) const MAX_CERTIFICATE: usize = 256 * 1024;
/// The largest device CSV: a BAT export of tens of thousands of phones.
pub(crate) const MAX_CSV: usize = 16 * 1024 * 1024;
/// The largest capture or console log to diagnose: the router's limit.
pub(crate) const MAX_CAPTURE: usize = crate::router::MAX_BODY;

/// Bytes read and dropped past a limit before a 413 when the client sends its body without
/// asking (`opencapf_net::read_body_within`); curl asks for `100 Continue` past 1 MiB.
pub(crate) const DRAIN_PAST: usize = 1024 * 1024;

/// The body, at most `limit` bytes: 413 past it.
async fn body_within(req: Request, limit: usize) -> Result<Bytes, Problem> {
    let (parts, body) = req.into_parts();
    opencapf_net::read_body_within(&parts.headers, body, limit, limit.saturating_add(DRAIN_PAST))
        .await
        .map_err(|_| too_large(limit))
}

fn too_large(limit: usize) -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than this route's {} KiB", limit / 1024))
}

fn problem(status: StatusCode, text: &str) -> Problem {
    // axum's rejection text quotes the request (a field name, a value): made printable first.
    Problem::new(status, opencapf_model::printable(text))
}

/// A JSON body of at most [`MAX_JSON`] bytes: 415 for another `Content-Type`, 413 past the
/// limit, 400 for text that is not JSON, 422 for JSON of the wrong shape (unknown fields
/// included). An empty body without a type reads as `{}`: the routes whose fields are all
/// optional (`POST /capf/reissue`) take a bare POST.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Problem> {
        let typed = req.headers().contains_key(header::CONTENT_TYPE);
        if typed && !content_type_is(req.headers(), "application/json") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON, with Content-Type: application/json",
            ));
        }
        let bytes = body_within(req, MAX_JSON).await?;
        let text: &[u8] = if bytes.is_empty() && !typed { b"{}" } else { &bytes };
        serde_json::from_slice(text).map(JsonBody).map_err(|e| {
            let status = match e.classify() {
                serde_json::error::Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            problem(status, &format!("the JSON body: {e}"))
        })
    }
}

/// A raw upload (a certificate, a CSV, a capture) of at most `LIMIT` bytes: 413 past it.
pub(crate) struct Upload<const LIMIT: usize>(pub(crate) Bytes);

impl<const LIMIT: usize, S: Send + Sync> FromRequest<S> for Upload<LIMIT> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Problem> {
        match body_within(req, LIMIT).await? {
            b if b.is_empty() => Err(Problem::bad_request("the request body is empty: send the file as the body")),
            b => Ok(Upload(b)),
        }
    }
}

/// Query parameters; an unknown or malformed one is 400 naming it.
pub(crate) struct Params<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|r: QueryRejection| problem(StatusCode::BAD_REQUEST, &r.body_text()))
    }
}

/// A path parameter; a malformed one is 400.
pub(crate) struct PathParam<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParam<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathParam(p.0))
            .map_err(|r: PathRejection| problem(StatusCode::BAD_REQUEST, &r.body_text()))
    }
}

/// Whether the request says its body is `mime` (parameters such as `charset` aside).
pub(crate) fn content_type_is(parts: &axum::http::HeaderMap, mime: &str) -> bool {
    parts
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(mime))
}
