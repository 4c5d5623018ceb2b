//! One TLS accept on a port that both engines serve: peek at the ClientHello, choose, hand the
//! untouched connection to rustls or OpenSSL, all under one timeout.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::choose::offered_suites;
use crate::hello::{peek_client_hello, HelloError, MAX_HELLO_RECORD};
use crate::openssl_engine::Verdict;
use crate::{choose, cipher_name, version_name, LegacyAcceptor, LegacyAlert, LegacyPolicy, Refusal, Route};

/// Which engine served a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Rustls,
    OpenSsl,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Rustls => "rustls",
            Engine::OpenSsl => "OpenSSL",
        }
    }
}

/// What was negotiated, in OpenSSL's spellings whichever engine served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub engine: Engine,
    /// "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3".
    pub version: String,
    /// "AES256-SHA", "NULL-SHA", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384".
    pub suite: String,
    /// DER, the client's certificate first, as the client sent them; empty when none.
    pub peer_certificates: Vec<Vec<u8>>,
}

impl SessionInfo {
    /// TLS 1.0 and 1.1: what holds a fleet back.
    pub fn is_legacy_version(&self) -> bool {
        matches!(self.version.as_str(), "TLSv1" | "TLSv1.1")
    }
}

/// A server-side TLS connection, from either engine.
pub enum ServerTls {
    Rustls(Box<TlsStream<TcpStream>>),
    OpenSsl(Box<SslStream<TcpStream>>),
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ServerTls").field(&self.session()).finish()
    }
}

impl ServerTls {
    pub fn engine(&self) -> Engine {
        match self {
            ServerTls::Rustls(_) => Engine::Rustls,
            ServerTls::OpenSsl(_) => Engine::OpenSsl,
        }
    }

    pub fn session(&self) -> SessionInfo {
        match self {
            ServerTls::Rustls(s) => {
                let (_, conn) = s.get_ref();
                SessionInfo {
                    engine: Engine::Rustls,
                    version: conn.protocol_version().map(version_name).unwrap_or_default(),
                    suite: conn.negotiated_cipher_suite().map(|s| cipher_name(s.suite())).unwrap_or_default(),
                    peer_certificates: conn
                        .peer_certificates()
                        .map(|c| c.iter().map(|c| c.to_vec()).collect())
                        .unwrap_or_default(),
                }
            }
            ServerTls::OpenSsl(s) => {
                let ssl = s.ssl();
                // On the server side OpenSSL's peer chain leaves the client's own certificate out.
                let leaf = ssl.peer_certificate().and_then(|c| c.to_der().ok());
                let rest = ssl.peer_cert_chain().into_iter().flatten().filter_map(|c| c.to_der().ok());
                let rest: Vec<Vec<u8>> = rest.filter(|c| leaf.as_ref() != Some(c)).collect();
                let peer_certificates = leaf.into_iter().chain(rest).collect();
                SessionInfo {
                    engine: Engine::OpenSsl,
                    version: ssl.version_str().to_owned(),
                    suite: ssl.current_cipher().map(|c| c.name().to_owned()).unwrap_or_default(),
                    peer_certificates,
                }
            }
        }
    }

    /// The TCP connection underneath (for the peer address).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ServerTls::Rustls(s) => s.get_ref().0,
            ServerTls::OpenSsl(s) => s.get_ref(),
        }
    }
}

/// Why a connection did not become a TLS session: for the caller's log and records.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The first bytes were not a ClientHello this server reads (includes its own timeout).
    #[error("{0}")]
    Hello(#[from] HelloError),
    /// Nothing either engine may serve; the client got a TLS alert.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The client needs the OpenSSL engine and this listener runs none.
    #[error("{0}; the legacy TLS engine is off on this port")]
    NoLegacyEngine(Refusal),
    #[error("TLS handshake timed out")]
    Timeout,
    /// rustls failed the handshake: the error (a `rustls::Error` inside, for `downcast_ref`).
    #[error("TLS handshake failed (rustls): {0}")]
    Rustls(io::Error),
    /// OpenSSL failed the handshake; `alert` is set when the client verifier refused.
    #[error("TLS handshake failed (OpenSSL): {}", match alert {
        Some(a) => format!("client certificate refused, alert {}", crate::alert_name(a.description())),
        None => reason.clone(),
    })]
    OpenSsl { reason: String, alert: Option<LegacyAlert> },
}

impl AcceptError {
    /// Which engine failed, if one was chosen.
    pub fn engine(&self) -> Option<Engine> {
        match self {
            AcceptError::Rustls(_) => Some(Engine::Rustls),
            AcceptError::OpenSsl { .. } => Some(Engine::OpenSsl),
            _ => None,
        }
    }
}

/// Accepts one connection on a port both engines serve: rustls whenever the ClientHello allows,
/// `legacy` (built for `policy`) otherwise, a refusal with a TLS alert when neither may serve.
/// The peek and the handshake together take at most `timeout`.
pub async fn accept(
    tcp: TcpStream,
    rustls: &TlsAcceptor,
    legacy: Option<&LegacyAcceptor>,
    policy: &LegacyPolicy,
    timeout: Duration,
) -> Result<ServerTls, AcceptError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let hello = peek_client_hello(&tcp, timeout).await?;
    let handshake = async {
        match choose(&hello, policy) {
            Route::Rustls => match rustls.accept(tcp).into_fallible().await {
                Ok(s) => Ok(ServerTls::Rustls(Box::new(s))),
                Err((e, mut io)) => {
                    linger_close(&mut io).await;
                    Err(AcceptError::Rustls(e))
                }
            },
            Route::OpenSsl => match legacy {
                Some(legacy) => accept_openssl(tcp, legacy).await,
                None => {
                    let refusal = Refusal::NoSharedSuite { offered: offered_suites(&hello), policy: *policy };
                    refuse(tcp, &refusal).await;
                    Err(AcceptError::NoLegacyEngine(refusal))
                }
            },
            Route::Refuse(refusal) => {
                refuse(tcp, &refusal).await;
                Err(AcceptError::Refused(refusal))
            }
        }
    };
    tokio::time::timeout_at(deadline, handshake).await.map_err(|_| AcceptError::Timeout)?
}

async fn accept_openssl(tcp: TcpStream, legacy: &LegacyAcceptor) -> Result<ServerTls, AcceptError> {
    let failed = |e: openssl::error::ErrorStack| AcceptError::OpenSsl { reason: e.to_string(), alert: None };
    let (ssl, verdict) = legacy.session().map_err(failed)?;
    let mut stream = SslStream::new(ssl, tcp).map_err(failed)?;
    match Pin::new(&mut stream).accept().await {
        Ok(()) => check_verified(stream, legacy, &verdict),
        Err(e) => {
            let alert = verdict.get().and_then(Result::err);
            let reason = e.ssl_error().map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
            linger_close(stream.get_mut()).await;
            Err(AcceptError::OpenSsl { reason, alert })
        }
    }
}

/// Fails closed if a client certificate got through without the verifier's yes (it cannot,
/// as OpenSSL always calls back at depth 0; this keeps it so if OpenSSL changes).
fn check_verified(
    stream: SslStream<TcpStream>,
    legacy: &LegacyAcceptor,
    verdict: &Verdict,
) -> Result<ServerTls, AcceptError> {
    if legacy.verifies_clients() && verdict.get() != Some(Ok(())) {
        return Err(AcceptError::OpenSsl { reason: "the client certificate was not verified".into(), alert: None });
    }
    Ok(ServerTls::OpenSsl(Box::new(stream)))
}

/// Reads the ClientHello record, answers with a fatal alert (protocol_version or
/// handshake_failure, in the client's record version) and closes.
async fn refuse(mut tcp: TcpStream, refusal: &Refusal) {
    let mut header = [0u8; 5];
    if tcp.read_exact(&mut header).await.is_err() {
        return;
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]])).min(MAX_HELLO_RECORD);
    let mut body = vec![0u8; len];
    if tcp.read_exact(&mut body).await.is_err() {
        return;
    }
    let description = match refusal {
        Refusal::BelowMinimum { .. } | Refusal::UnknownVersion { .. } => 70,
        Refusal::NoSharedSuite { .. } => 40,
    };
    let version = if header[1] == 3 && (1..=3).contains(&header[2]) { header[2] } else { 1 };
    let alert = [21, 3, version, 0, 2, 2, description];
    if tcp.write_all(&alert).await.is_ok() {
        linger_close(&mut tcp).await;
    }
}

/// Closes so that the peer reads our last alert: a close with unread bytes would send a reset,
/// which can overtake it. Bounded: 1 s and 64 KiB.
async fn linger_close<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) {
    let _ = tokio::time::timeout(Duration::from_millis(500), io.shutdown()).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut buf = [0u8; 4096];
        let mut left = 64 * 1024;
        while left > 0 {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left -= n.min(left),
            }
        }
    })
    .await;
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            ServerTls::Rustls($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
            ServerTls::OpenSsl($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for ServerTls {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        both!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for ServerTls {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        both!(self, s => s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        both!(self, s => s.poll_shutdown(cx))
    }
}
