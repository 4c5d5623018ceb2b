//! Cross-site request forgery. A request that changes something and rides on the session cookie
//! must also carry the session's CSRF token: in the `X-CSRF-Token` header (the pages' script),
//! in a form's `csrf_token` field, or, for a file upload form, in its action's query string.
//! Requests with a bearer token need none (a browser never adds one by itself). A request whose
//! `Origin` names another site is refused too.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request_session;
use crate::{AppState, Problem};

pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
pub(crate) const CSRF_FIELD: &str = "csrf_token";
/// The largest url-encoded form read to find the token (uploads are multipart).
const MAX_FORM: usize = 1024 * 1024;

pub(crate) async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    if let Some(problem) = foreign_origin(&request) {
        return problem.into_response();
    }
    if request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let session = match request_session(&parts.headers, &parts.extensions, &state).await {
        Ok(s) => s,
        Err(problem) => return problem.into_response(),
    };
    let Some(session) = session else {
        // No session: the handler's own authentication answers (401, or the login form).
        return next.run(Request::from_parts(parts, body)).await;
    };
    let mut presented = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.query().and_then(|q| field(q.as_bytes())));
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = if presented.is_none() && is_form {
        let drain = MAX_FORM.saturating_add(crate::rest::DRAIN_PAST);
        let Ok(bytes) = opencapf_net::read_body_within(&parts.headers, body, MAX_FORM, drain).await else {
            return Problem::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "the form is larger than 1 MiB")
                .into_response();
        };
        presented = field(&bytes);
        Body::from(bytes)
    } else {
        body
    };
    let ok = presented.is_some_and(|p| constant_time_eq(p.as_bytes(), session.csrf_token.as_bytes()));
    if !ok {
        return Problem::forbidden(
            "the request carries no valid CSRF token: reload the page and try again (scripts: use an API token)",
        )
        .into_response();
    }
    parts.extensions.insert(session);
    next.run(Request::from_parts(parts, body)).await
}

fn field(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A browser says which site a request comes from; one that is not this host is refused.
fn foreign_origin(request: &Request) -> Option<Problem> {
    let origin = request.headers().get(header::ORIGIN)?.to_str().ok()?;
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let origin_host = origin.strip_prefix("https://").unwrap_or(origin);
    (origin == "null" || origin_host != host).then(|| {
        Problem::forbidden(format!("a request from another site ({}) is refused", opencapf_model::printable(origin)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_in_a_form() {
        assert_eq!(field(b"a=1&csrf_token=ab%2Bc&b=2").as_deref(), Some("ab+c"));
        assert_eq!(field(b"a=1"), None);
        assert_eq!(field(b"csrf_token=%zz").as_deref(), Some("%zz"), "kept as typed: it then matches nothing");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
