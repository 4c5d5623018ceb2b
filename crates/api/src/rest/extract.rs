//! Request bodies and parameters whose rejections are problem details, never axum's plain text:
//! a script reads the same `application/problem+json` for a bad body as for a refusal.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
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

fn problem(status: StatusCode, text: &str) -> Problem {
    // axum's rejection text quotes the request (a field name, a value): made printable first.
    Problem::new(status, opencapf_model::printable(text))
}

/// A JSON body (`Content-Type: application/json`): 415 without it, 400 for bad JSON, 422 for
/// JSON of the wrong shape (unknown fields included), 413 past [`MAX_JSON`].
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON, with Content-Type: application/json",
            )),
            Err(r) => Err(problem(r.status(), &r.body_text())),
        }
    }
}

/// A raw upload (a certificate, a CSV, a capture), 413 past the route's limit.
pub(crate) struct Upload(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match Bytes::from_request(req, state).await {
            Ok(b) if b.is_empty() => Err(Problem::bad_request("the request body is empty: send the file as the body")),
            Ok(b) => Ok(Upload(b)),
            Err(BytesRejection::FailedToBufferBody(_)) => Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is larger than this route accepts (see the API documentation's limits)",
            )),
            Err(r) => Err(problem(r.status(), &r.body_text())),
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
