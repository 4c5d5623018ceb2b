//! The EST operations (RFC 7030 §3.2.2) at `/.well-known/est/` and, with a CA label,
//! `/.well-known/est/lsc/`: the cluster has one CA (its CAPF certificate), which the label `lsc`
//! also names; any other label is 404.
//!
//! | operation | method | answer |
//! |---|---|---|
//! | `cacerts` | GET | the CAPF certificates, certs-only |
//! | `csrattrs` | GET | the keys the device may use, `application/csrattrs` |
//! | `simpleenroll` | POST `application/pkcs10` | the new LSC, certs-only |
//! | `simplereenroll` | POST `application/pkcs10` | the new LSC, certs-only (the client certificate is the device's LSC) |
//! | `serverkeygen` | POST `application/pkcs10` | `multipart/mixed`: the key (PKCS#8) and the LSC |
//!
//! Refusals are `text/plain` with the reason: 400 (a malformed body, a wrong key), 401 with
//! `WWW-Authenticate: Basic` (no or wrong credentials), 403 (not allowed), 404, 405, 413 (a body
//! past [`MAX_BODY`]), 415 (not `application/pkcs10`); 202 with `Retry-After` when an
//! administrator must approve; 500 when the cluster fails (the detail is logged, not sent).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use opencapf_cluster::{Cluster, EstOutcome, EstRefusal, EstRequest, EstStatus};
use opencapf_model::{printable, DeviceName};

use crate::codec::{
    base64_body, basic_credentials, encode_certs_only, encode_csr_attrs, read_csr_body, serverkeygen_body, MAX_BODY,
};
use crate::server::TlsPeer;

/// The one CA label the cluster answers to, besides none.
pub const CA_LABEL: &str = "lsc";
const CERTS_ONLY: &str = "application/pkcs7-mime; smime-type=certs-only";
const REALM: &str = "Basic realm=\"OpenCAPF EST\", charset=\"UTF-8\"";

pub(crate) struct EstState {
    pub cluster: Cluster,
    pub max_code_failures: u32,
}

pub(crate) fn router(state: Arc<EstState>) -> Router {
    Router::new()
        .route("/.well-known/est/{operation}", any(unlabelled))
        .route("/.well-known/est/{label}/{operation}", any(labelled))
        .fallback(|| async { text(StatusCode::NOT_FOUND, "not an EST path: use /.well-known/est/<operation>") })
        .with_state(state)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    CaCerts,
    CsrAttrs,
    SimpleEnroll,
    SimpleReenroll,
    ServerKeygen,
}

impl Operation {
    fn parse(s: &str) -> Option<Operation> {
        Some(match s {
            "cacerts" => Operation::CaCerts,
            "csrattrs" => Operation::CsrAttrs,
            "simpleenroll" => Operation::SimpleEnroll,
            "simplereenroll" => Operation::SimpleReenroll,
            "serverkeygen" => Operation::ServerKeygen,
            _ => return None,
        })
    }

    fn method(self) -> Method {
        match self {
            Operation::CaCerts | Operation::CsrAttrs => Method::GET,
            _ => Method::POST,
        }
    }
}

async fn unlabelled(
    State(state): State<Arc<EstState>>,
    Extension(peer): Extension<Arc<TlsPeer>>,
    Path(operation): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, &peer, &operation, method, &headers, body).await
}

async fn labelled(
    State(state): State<Arc<EstState>>,
    Extension(peer): Extension<Arc<TlsPeer>>,
    Path((label, operation)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if label != CA_LABEL {
        let shown = printable(&label.chars().take(64).collect::<String>()).into_owned();
        return text(
            StatusCode::NOT_FOUND,
            &format!("unknown CA label '{shown}': this cluster has one CA, at /.well-known/est/ or /.well-known/est/{CA_LABEL}/"),
        );
    }
    handle(&state, &peer, &operation, method, &headers, body).await
}

async fn handle(
    state: &EstState,
    peer: &TlsPeer,
    operation: &str,
    method: Method,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let Some(op) = Operation::parse(operation) else {
        return text(
            StatusCode::NOT_FOUND,
            "unknown EST operation: cacerts, csrattrs, simpleenroll, simplereenroll or serverkeygen",
        );
    };
    if method != op.method() {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, &format!("{operation} takes {}", op.method()));
        let allow = if op.method() == Method::GET { "GET" } else { "POST" };
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        return r;
    }
    let answer = match op {
        Operation::CaCerts => cacerts(state).await,
        Operation::CsrAttrs => csrattrs(state, peer, headers).await,
        _ => enroll(state, peer, op, headers, body).await,
    };
    answer.unwrap_or_else(|e| {
        tracing::error!(peer = %peer.peer, operation, "EST request failed: {e}");
        text(StatusCode::INTERNAL_SERVER_ERROR, "the cluster could not answer; its log says why")
    })
}

type Answer = Result<Response, String>;

async fn cacerts(state: &EstState) -> Answer {
    let certs = state.cluster.est_ca_certificates().await.map_err(|e| e.to_string())?;
    let der = encode_certs_only(&certs).map_err(|e| e.to_string())?;
    Ok(base64_answer(StatusCode::OK, CERTS_ONLY, &der))
}

async fn csrattrs(state: &EstState, peer: &TlsPeer, headers: &HeaderMap) -> Answer {
    // Tailored to the device the client names (its certificate, or the Basic user), if any; no
    // credential is checked or spent here.
    let named = peer.chain.first().and_then(|c| state.cluster.est_device_of(c)).or_else(|| {
        let (user, _) = headers.get(header::AUTHORIZATION).and_then(|h| basic_credentials(h.as_bytes()))?;
        user.parse::<DeviceName>().ok()
    });
    let attrs = state.cluster.est_csr_attributes(named.as_ref()).await.map_err(|e| e.to_string())?;
    let der = encode_csr_attrs(&attrs).map_err(|e| e.to_string())?;
    Ok(base64_answer(StatusCode::OK, "application/csrattrs", &der))
}

async fn enroll(state: &EstState, peer: &TlsPeer, op: Operation, headers: &HeaderMap, body: Body) -> Answer {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/pkcs10") {
        let shown = if media.is_empty() {
            "none".to_owned()
        } else {
            printable(&media.chars().take(64).collect::<String>()).into_owned()
        };
        return Ok(text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("the request body must be application/pkcs10 (base64 of a DER PKCS#10 request), not {shown}"),
        ));
    }
    let bytes = match read_limited(headers, body).await {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let csr = match read_csr_body(&bytes) {
        Ok(c) => c,
        Err(e) => return Ok(text(StatusCode::BAD_REQUEST, &format!("the request body: {e}"))),
    };
    let request = EstRequest {
        csr,
        reenroll: op == Operation::SimpleReenroll,
        server_keygen: op == Operation::ServerKeygen,
        client_chain: peer.chain.clone(),
        basic: headers.get(header::AUTHORIZATION).and_then(|h| basic_credentials(h.as_bytes())),
        channel_binding: peer.channel_binding.clone(),
        peer: peer.peer.to_string(),
        max_code_failures: state.max_code_failures,
    };
    let outcome = state.cluster.est_enroll(&request).await.map_err(|e| e.to_string())?;
    let operation = format!("{op:?}");
    match outcome {
        Err(refusal) => {
            tracing::warn!(peer = %peer.peer, operation, result = %refusal.detail, "EST request refused");
            Ok(refused(&refusal))
        }
        Ok(EstOutcome::Waiting { device, retry_after }) => {
            tracing::info!(peer = %peer.peer, operation, %device, "EST request waits for an administrator's approval");
            let mut r = text(
                StatusCode::ACCEPTED,
                &format!(
                    "{device} waits for an administrator's approval (`opencapf est approve {device}`); ask again later"
                ),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(r)
        }
        Ok(EstOutcome::Issued { device, certificate, key }) => {
            tracing::info!(
                peer = %peer.peer, operation, %device, serial = %certificate.info.serial,
                "EST issued an LSC"
            );
            let certs = encode_certs_only(std::slice::from_ref(&certificate.der)).map_err(|e| e.to_string())?;
            match key {
                None => Ok(base64_answer(StatusCode::OK, CERTS_ONLY, &certs)),
                Some(key) => {
                    let boundary = format!("est-{}", &certificate.info.fingerprint[..16]);
                    let body = serverkeygen_body(key.pkcs8_der(), &certs, &boundary);
                    let content_type = format!("multipart/mixed; boundary={boundary}");
                    Ok(answer(StatusCode::OK, &content_type, body))
                }
            }
        }
    }
}

/// A body declared longer than [`MAX_BODY`] but not than this is read and dropped before the 413
/// (a client still sending would otherwise report a broken pipe); a longer one is answered at once.
const DRAIN_LIMIT: usize = 4 * MAX_BODY;

/// The body, at most [`MAX_BODY`] bytes: 413 past it.
async fn read_limited(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    opencapf_net::read_body_within(headers, body, MAX_BODY, DRAIN_LIMIT)
        .await
        .map_err(|_| text(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request body is over {MAX_BODY} bytes")))
}

fn refused(r: &EstRefusal) -> Response {
    let status = match r.status {
        EstStatus::BadRequest => StatusCode::BAD_REQUEST,
        EstStatus::Unauthorized => StatusCode::UNAUTHORIZED,
        EstStatus::Forbidden => StatusCode::FORBIDDEN,
    };
    let mut response = text(status, &r.detail);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    }
    response
}

fn answer(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn base64_answer(status: StatusCode, content_type: &str, der: &[u8]) -> Response {
    let mut r = answer(status, content_type, base64_body(der).into_bytes());
    r.headers_mut().insert("content-transfer-encoding", HeaderValue::from_static("base64"));
    r
}

fn text(status: StatusCode, message: &str) -> Response {
    answer(status, "text/plain; charset=utf-8", format!("{message}\r\n").into_bytes())
}
