//! The HTTP configuration server (TCP 6970), answering as CUCM's TFTP service does over HTTP.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use opencapf_model::printable;
use opencapf_net::{http1_builder, serve_http1, Connection, HttpTimeouts, Service};
use opencapf_telemetry::{self as telemetry, FileProtocol, FileResult};
use tracing::debug;

use crate::source::{checked_name, FileSource, Lookup, Transport, MAX_FILE};

/// Longest request path answered; a longer one gets 414.
pub const MAX_PATH: usize = 256;

/// How the HTTP server bounds a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The address to listen on (CUCM: port 6970).
    pub listen: SocketAddr,
    /// Time to send a whole request head. hyper starts it when it waits for a head, also between
    /// requests on a kept-alive connection, so it is the idle timeout too.
    pub header_timeout: Duration,
    /// Largest request head. 16 KiB, above hyper's minimum (8 KiB), so that a path of a few KB
    /// still gets the clear 414 rather than 431.
    pub max_header: usize,
    /// A connection is closed after this long whatever it does (a client that never reads its
    /// 2 MiB answer does not hold its slot forever).
    pub max_connection_time: Duration,
}

impl HttpConfig {
    pub fn new(listen: SocketAddr) -> HttpConfig {
        HttpConfig {
            listen,
            header_timeout: Duration::from_secs(10),
            max_header: 16 * 1024,
            max_connection_time: Duration::from_secs(300),
        }
    }
}

/// The HTTP server of a [`FileSource`]; run it with `opencapf_net::Listener`.
pub struct HttpServer<S> {
    source: Arc<S>,
    config: HttpConfig,
}

impl<S: FileSource> HttpServer<S> {
    pub fn new(source: Arc<S>, config: HttpConfig) -> Arc<HttpServer<S>> {
        Arc::new(HttpServer { source, config })
    }

    async fn answer(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let path = request.uri().path();
        let head = request.method() == Method::HEAD;
        let shown = printable(&path[..floor_char_boundary(path, MAX_PATH)]).into_owned();
        let response = if request.method() != Method::GET && !head {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Only GET and HEAD\n");
            r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            r
        } else if path.len() > MAX_PATH {
            text(StatusCode::URI_TOO_LONG, "Path too long\n")
        } else {
            self.file(path, peer, head).await
        };
        telemetry::file_request(FileProtocol::Http, file_result(response.status()));
        debug!(%peer, method = %request.method(), name = %shown, status = response.status().as_u16(), "HTTP request");
        response
    }

    async fn file(&self, path: &str, peer: SocketAddr, head: bool) -> Response<Full<Bytes>> {
        // A name the source cannot hold is "not found", not "bad request": phones ask for
        // `<locale>/<jar>` and `Desktops/…` paths, which they must see as absent (and use their
        // built-in defaults), exactly as any other file this cluster does not have.
        let Some(name) = percent_decoded(path) else { return not_found() };
        let Ok(name) = checked_name(&name) else { return not_found() };
        match self.source.fetch(name, peer, Transport::Http).await {
            Lookup::Found(file) if file.len() > MAX_FILE => {
                text(StatusCode::INTERNAL_SERVER_ERROR, "File above the 2 MiB limit\n")
            }
            Lookup::Found(file) => found(file, head),
            Lookup::NotFound => not_found(),
            // As CUCM answers a CTL file outside mixed mode: the phone then tries TFTP.
            Lookup::Unavailable => text(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable\n"),
        }
    }
}

/// CUCM's answer for a file: `200 OK`, `Content-length`, `Cache-Control: no-store`,
/// `Content-type: */*` (phone-boot.md §1.2).
fn found(file: Bytes, head: bool) -> Response<Full<Bytes>> {
    let len = file.len();
    let mut r = Response::new(Full::new(if head { Bytes::new() } else { file }));
    let h = r.headers_mut();
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(CONTENT_TYPE, HeaderValue::from_static("*/*"));
    r
}

/// The metrics' word for an answer.
fn file_result(status: StatusCode) -> FileResult {
    match status {
        StatusCode::OK => FileResult::Found,
        // 503 is CUCM's "not here now" for a CTL outside mixed mode: absent, to the phone.
        StatusCode::NOT_FOUND | StatusCode::SERVICE_UNAVAILABLE => FileResult::NotFound,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::URI_TOO_LONG => FileResult::Refused,
        _ => FileResult::Error,
    }
}

fn not_found() -> Response<Full<Bytes>> {
    text(StatusCode::NOT_FOUND, "File not found\n")
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `%XX` escapes decoded; `None` when one is malformed or the result is not UTF-8.
pub(crate) fn percent_decoded(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    (0..=max.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

impl<S: FileSource> Service for HttpServer<S> {
    fn name(&self) -> &'static str {
        "HTTP configuration"
    }

    fn listen(&self) -> SocketAddr {
        self.config.listen
    }

    async fn serve(self: Arc<Self>, conn: Connection) {
        let Connection { stream, peer, stop } = conn;
        let this = self.clone();
        let service = service_fn(move |request| {
            let this = this.clone();
            async move { Ok::<_, Infallible>(this.answer(request, peer).await) }
        });
        let timeouts = HttpTimeouts { header: self.config.header_timeout, connection: self.config.max_connection_time };
        let mut builder = http1_builder(timeouts);
        builder
            .max_header_size(self.config.max_header)
            .max_buf_size(self.config.max_header.max(8192))
            // Content-Length, Cache-Control, Content-Type, as CUCM capitalizes them.
            .title_case_headers(true);
        let served = serve_http1(&builder, stream, service, timeouts, &stop).await;
        if let Err(e) = served {
            debug!(%peer, "HTTP connection ended: {}", printable(&e.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded_and_malformed_ones_refused() {
        assert_eq!(percent_decoded("/a%2Fb").as_deref(), Some("/a/b"));
        assert_eq!(percent_decoded("/SEP1.cnf.xml").as_deref(), Some("/SEP1.cnf.xml"));
        assert_eq!(percent_decoded("/a%2"), None);
        assert_eq!(percent_decoded("/a%zz"), None);
        assert_eq!(percent_decoded("/%ff"), None);
    }
}
