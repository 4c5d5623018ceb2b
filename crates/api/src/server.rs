//! The admin listener: TLS with the cluster's web certificate, then HTTP/1.1 into the router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use opencapf_net::{Connection, Service};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::{router, AppState};

/// How the admin listener behaves.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub listen: SocketAddr,
    /// Time for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time for a request's headers, and the idle time of a kept-alive connection.
    pub header_timeout: Duration,
    /// The longest a connection stays open (a slow upload included).
    pub max_connection_time: Duration,
}

impl AdminConfig {
    pub fn new(listen: SocketAddr) -> AdminConfig {
        AdminConfig {
            listen,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            max_connection_time: Duration::from_secs(600),
        }
    }
}

/// The admin service: one router behind TLS.
pub struct AdminServer {
    config: AdminConfig,
    tls: TlsAcceptor,
    app: Router,
}

/// Why the admin service could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the web certificate cannot serve TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl AdminServer {
    /// The service over `state`, serving `chain` (leaf first) with `key`.
    pub fn new(
        state: AppState,
        config: AdminConfig,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<AdminServer, AdminError> {
        let mut tls = ServerConfig::builder_with_provider(opencapf_tls::provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(AdminServer { config, tls: TlsAcceptor::from(Arc::new(tls)), app: router(state) })
    }
}

impl Service for AdminServer {
    fn name(&self) -> &'static str {
        "admin HTTPS"
    }

    fn listen(&self) -> SocketAddr {
        self.config.listen
    }

    async fn serve(self: Arc<Self>, conn: Connection) {
        let Connection { stream, peer, stop } = conn;
        let tls = match tokio::time::timeout(self.config.handshake_timeout, self.tls.accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, "admin TLS handshake failed: {}", opencapf_model::printable(&e.to_string()));
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "admin TLS handshake timed out");
                return;
            }
        };
        let app = self.app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.config.header_timeout).max_buf_size(64 * 1024);
        let connection = builder.serve_connection(TokioIo::new(tls), service);
        tokio::pin!(connection);
        let served = tokio::select! {
            r = connection.as_mut() => r,
            () = tokio::time::sleep(self.config.max_connection_time) => Ok(()),
            () = stop.cancelled() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(e) = served {
            tracing::debug!(%peer, "admin connection ended: {}", opencapf_model::printable(&e.to_string()));
        }
    }
}
