//! Errors as RFC 9457 problem details (`application/problem+json`). The `detail` is the text the
//! CLI prints for the same refusal, so a script and a person read the same reason.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opencapf_cluster::Error;
use serde::Serialize;

/// A problem details object. `type` stays `about:blank` (the status says what kind of problem):
/// RFC 9457 §4.2.1.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "about:blank")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// An extension member of a refused trust removal: the devices whose certificate chains to
    /// the entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// An extension member of a refused removal of a retired CAPF certificate: the trust
    /// consumers not confirmed to run with the active one.
    /// (Boxed: most problems have none, and every handler's `Result` carries the problem.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub consumers: Option<Box<Vec<String>>>,
    /// Set for 401: the `WWW-Authenticate` challenge.
    #[serde(skip)]
    pub challenge: Option<&'static str>,
}

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            devices: Vec::new(),
            consumers: None,
            challenge: None,
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem { challenge: Some("Bearer realm=\"opencapf\""), ..Problem::new(StatusCode::UNAUTHORIZED, detail) }
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    /// A failure of the server (not the caller's request): logged, and answered without its
    /// cause, which may name files and paths of the server.
    pub fn internal(cause: impl std::fmt::Display) -> Problem {
        tracing::error!("admin request failed: {}", opencapf_model::printable(&cause.to_string()));
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the server failed; its log says why")
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        let status = match &e {
            Error::NotFound(_) | Error::NoCluster(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) | Error::ClusterExists(_) => StatusCode::CONFLICT,
            Error::Refused(_) => StatusCode::CONFLICT,
            // A value the caller sent: a device name, a certificate, a setting.
            Error::Invalid(_) | Error::Model(_) | Error::Pki(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            return Problem::internal(e);
        }
        Problem::new(status, e.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(c) = self.challenge {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_cli_text() {
        let p = Problem::from(Error::Refused("CAPF-trust entry is needed by 3 devices".into()));
        assert_eq!(p.status, 409);
        assert_eq!(p.detail, "CAPF-trust entry is needed by 3 devices");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "about:blank");
        assert_eq!(json["title"], "Conflict");
    }
}
