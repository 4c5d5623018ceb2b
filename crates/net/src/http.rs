//! One HTTP/1.1 connection to its end, for the services that speak HTTP (the phones' files on
//! 6970, the admin service on 8443): keep-alive until the connection's time is up, and a
//! graceful end (the answer in progress finishes) when the listener shuts down. And a request
//! body read within a limit, refused the way a client can read.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderMap, CONTENT_LENGTH, EXPECT};
use hyper::server::conn::http1;
use hyper::service::HttpService;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

/// How long an HTTP connection may take.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// For a request's headers, and the idle time between kept-alive requests.
    pub header: Duration,
    /// The whole connection, however busy.
    pub connection: Duration,
}

/// A new HTTP/1.1 builder with the runtime's timer and the header timeout: callers add their
/// own limits (header size, header case) before [`serve_http1`].
pub fn http1_builder(timeouts: HttpTimeouts) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(timeouts.header).keep_alive(true);
    builder
}

/// Serves `io` with `service` until the client goes, `timeouts.connection` passes, or `stop` is
/// cancelled (then gracefully).
pub async fn serve_http1<I, S, B>(
    builder: &http1::Builder,
    io: I,
    service: S,
    timeouts: HttpTimeouts,
    stop: &CancellationToken,
) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        r = connection.as_mut() => r,
        () = tokio::time::sleep(timeouts.connection) => Ok(()),
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    }
}

/// A request body past its limit (or one that could not be read whole): the caller answers 413.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request body is over its limit")]
pub struct BodyTooLarge;

/// The request body, at most `limit` bytes. A body whose declared length is past the limit is
/// refused without being read when the client waits for `100 Continue` (it then never sends it)
/// or when it is past `drain`; otherwise it is read up to `drain` and dropped first: answered
/// at once, the connection would close under a client still sending, which then reports a
/// reset or a broken pipe instead of the status.
pub async fn read_body_within<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
    drain: usize,
) -> Result<Bytes, BodyTooLarge>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > limit as u64) {
        if !headers.contains_key(EXPECT) && n <= drain as u64 {
            let _ = Limited::new(body, drain).collect().await;
        }
        return Err(BodyTooLarge);
    }
    Ok(Limited::new(body, limit).collect().await.map_err(|_| BodyTooLarge)?.to_bytes())
}
