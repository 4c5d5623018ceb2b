//! The admin listener: TLS with the cluster's web certificate, then HTTP/1.1 into the router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use opencapf_model::Service as ClusterService;
use opencapf_net::{http1_builder, serve_http1, Connection, HttpTimeouts, Service};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
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
    certificate: Arc<WebCertificate>,
    state: AppState,
    app: Router,
}

/// Why the admin service could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the web certificate cannot serve TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("reading the web certificate (tomcat): {0}")]
    Cluster(#[from] opencapf_cluster::Error),
    #[error(transparent)]
    Net(#[from] opencapf_net::NetError),
}

/// The certificate served: the cluster's active tomcat, read again when it changes (`cert
/// regenerate tomcat`, `cert import-signed tomcat`), so a new one is served without a restart.
struct WebCertificate {
    current: std::sync::RwLock<(String, Arc<CertifiedKey>)>,
    checked: std::sync::Mutex<std::time::Instant>,
}

/// How often a connection may make the server look for a new tomcat certificate.
const RECHECK: Duration = Duration::from_secs(5);

impl std::fmt::Debug for WebCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebCertificate")
    }
}

impl ResolvesServerCert for WebCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("certificate lock").1.clone())
    }
}

async fn load(cluster: &opencapf_cluster::Cluster) -> Result<(String, Arc<CertifiedKey>), AdminError> {
    let fingerprint = cluster.require_certificate(ClusterService::Tomcat).await?.fingerprint;
    let identity = cluster.web_identity().await?;
    let chain: Vec<CertificateDer<'static>> = identity.chain.into_iter().map(CertificateDer::from).collect();
    let key = PrivateKeyDer::try_from(identity.key_pkcs8.to_vec()).map_err(|e| rustls::Error::General(e.into()))?;
    let key = CertifiedKey::from_der(chain, key, &opencapf_tls::provider())?;
    Ok((fingerprint, Arc::new(key)))
}

impl WebCertificate {
    /// Reads the active tomcat again when it is not the one served (at most every [`RECHECK`]).
    async fn refresh(&self, cluster: &opencapf_cluster::Cluster) {
        {
            let mut checked = self.checked.lock().expect("check lock");
            if checked.elapsed() < RECHECK {
                return;
            }
            *checked = std::time::Instant::now();
        }
        let served = self.current.read().expect("certificate lock").0.clone();
        match cluster.require_certificate(ClusterService::Tomcat).await {
            Ok(active) if active.fingerprint == served => {}
            Ok(_) => match load(cluster).await {
                Ok(new) => {
                    tracing::info!(fingerprint = %new.0, "the admin service now serves the new tomcat certificate");
                    *self.current.write().expect("certificate lock") = new;
                }
                Err(e) => tracing::warn!("could not load the new tomcat certificate: {e}"),
            },
            Err(e) => tracing::warn!("could not check the tomcat certificate: {e}"),
        }
    }
}

impl AdminServer {
    /// The service over `state`, serving the cluster's tomcat certificate.
    pub async fn new(state: AppState, config: AdminConfig) -> Result<AdminServer, AdminError> {
        let certificate = Arc::new(WebCertificate {
            current: std::sync::RwLock::new(load(&state.cluster).await?),
            checked: std::sync::Mutex::new(std::time::Instant::now()),
        });
        let mut tls = ServerConfig::builder_with_provider(opencapf_tls::provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(certificate.clone());
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let app = router(state.clone());
        Ok(AdminServer { config, tls: TlsAcceptor::from(Arc::new(tls)), certificate, state, app })
    }

    /// The service bound to its address, with these connection limits, ready to run.
    pub async fn bind(
        state: AppState,
        config: AdminConfig,
        limits: opencapf_net::Limits,
    ) -> Result<opencapf_net::Listener, AdminError> {
        let server = Arc::new(AdminServer::new(state, config).await?);
        let gate = opencapf_net::Gate::new(limits);
        Ok(opencapf_net::Listener::bind(server, gate, opencapf_net::Shutdown::IMMEDIATE).await?)
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
        self.certificate.refresh(&self.state.cluster).await;
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
        let timeouts = HttpTimeouts { header: self.config.header_timeout, connection: self.config.max_connection_time };
        let mut builder = http1_builder(timeouts);
        builder.max_buf_size(64 * 1024);
        let served = serve_http1(&builder, tls, service, timeouts, &stop).await;
        if let Err(e) = served {
            tracing::debug!(%peer, "admin connection ended: {}", opencapf_model::printable(&e.to_string()));
        }
    }
}
