//! One HTTP/1.1 connection to its end, for the services that speak HTTP (the phones' files on
//! 6970, the admin service on 8443): keep-alive until the connection's time is up, and a
//! graceful end (the answer in progress finishes) when the listener shuts down.

use std::time::Duration;

use hyper::body::{Body, Incoming};
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
