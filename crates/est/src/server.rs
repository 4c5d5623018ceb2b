//! The EST listener: TLS with the cluster's web certificate (CUCM's `tomcat`, as the admin
//! pages), an optional client certificate, then HTTP/1.1 into the routes. Limits, timeouts, the
//! per-source budget and cancellation are the service runtime's (`opencapf_net`).
//!
//! - **Client certificates** are asked for but not required, and TLS accepts any chain whose
//!   handshake signature verifies ([`AnyClientCertificate`]): which store must trust it (CAPF-trust
//!   or EST-trust for a maker's certificate, the cluster's CAPF for a renewal) depends on the
//!   request, so the cluster judges it per request with the rest of the rules. A client without
//!   one still gets `cacerts`, `csrattrs` and HTTP Basic.
//! - **No resumption**: each connection's certificate is judged against the stores of that moment.
//! - **Channel binding** (RFC 7030 §3.5): rustls does not expose the Finished messages that
//!   `tls-unique` (RFC 5929) is made of, and `tls-unique` is undefined for TLS 1.3. The binding
//!   is the TLS exporter instead (RFC 9266 `tls-exporter`: label `EXPORTER-Channel-Binding`, no
//!   context, 32 bytes), base64, which a client puts in the request's challengePassword.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::Request;
use opencapf_cluster::Cluster;
use opencapf_model::{printable, Service as ClusterService};
use opencapf_net::{http1_builder, serve_http1, Connection, HttpTimeouts, Service};
use opencapf_tls::{CertResolver, Identity, IdentitySource, SourceError};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tower::ServiceExt;

use crate::routes::{router, EstState};

/// The label, context and length of the channel binding (RFC 9266).
pub const CHANNEL_BINDING_LABEL: &[u8] = b"EXPORTER-Channel-Binding";
pub const CHANNEL_BINDING_LEN: usize = 32;

/// How the EST listener behaves. [`EstConfig::new`] gives production values.
#[derive(Debug, Clone)]
pub struct EstConfig {
    /// Default 0.0.0.0:8444.
    pub listen: SocketAddr,
    pub handshake_timeout: Duration,
    /// For a request's headers, and the idle time of a kept-alive connection.
    pub header_timeout: Duration,
    /// The longest a connection stays open.
    pub max_connection_time: Duration,
    pub max_connections: usize,
    /// Connections at once from one address (`None`: no limit).
    pub max_per_source: Option<usize>,
    /// Wrong enrolment codes after which a device's code is cleared (0: no limit).
    pub max_code_failures: u32,
}

impl EstConfig {
    pub fn new(listen: SocketAddr) -> EstConfig {
        EstConfig {
            listen,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            max_connection_time: Duration::from_secs(120),
            max_connections: 1024,
            max_per_source: Some(opencapf_net::Limits::DEFAULT_PER_SOURCE),
            max_code_failures: 5,
        }
    }
}

/// Why the EST service could not start.
#[derive(Debug, thiserror::Error)]
pub enum EstError {
    #[error("the web certificate (tomcat) cannot serve TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Net(#[from] opencapf_net::NetError),
}

/// What a request knows of its connection.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    pub peer: SocketAddr,
    /// The client certificate chain, the client's first (empty: none).
    pub chain: Vec<Vec<u8>>,
    /// The connection's channel binding, base64.
    pub channel_binding: Option<String>,
}

/// The cluster's active tomcat certificate, for [`CertResolver`].
struct ActiveWeb {
    cluster: Cluster,
}

impl IdentitySource for ActiveWeb {
    type Extra = ();

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(self.cluster.require_certificate(ClusterService::Tomcat).await?.fingerprint)
    }

    async fn load(&self) -> Result<Identity<()>, SourceError> {
        let fingerprint = self.fingerprint().await?;
        let web = self.cluster.web_identity().await?;
        Ok(Identity { fingerprint, chain: web.chain, key: web.key_pkcs8.to_vec(), extra: () })
    }
}

/// The EST service.
pub struct EstServer {
    config: EstConfig,
    identity: CertResolver<ActiveWeb>,
    app: Router,
}

impl EstServer {
    /// The service over `cluster`; fails when the web certificate cannot serve TLS.
    pub async fn new(cluster: Cluster, config: EstConfig) -> Result<EstServer, EstError> {
        let identity = CertResolver::new(ActiveWeb { cluster: cluster.clone() });
        identity.current().await.map_err(|e| EstError::Tls(e.to_string()))?;
        let state = Arc::new(EstState { cluster, max_code_failures: config.max_code_failures });
        Ok(EstServer { config, identity, app: router(state) })
    }

    /// The service bound to its address, ready to run with [`opencapf_net::serve`].
    pub async fn bind(cluster: Cluster, config: EstConfig) -> Result<opencapf_net::Listener, EstError> {
        let limits = opencapf_net::Limits {
            max_connections: config.max_connections,
            max_per_source: config.max_per_source,
            when_full: opencapf_net::WhenFull::Close,
        };
        let server = Arc::new(EstServer::new(cluster, config).await?);
        let gate = opencapf_net::Gate::new(limits);
        Ok(opencapf_net::Listener::bind(server, gate, opencapf_net::Shutdown::IMMEDIATE).await?)
    }
}

impl Service for EstServer {
    fn name(&self) -> &'static str {
        "EST"
    }

    fn listen(&self) -> SocketAddr {
        self.config.listen
    }

    async fn serve(self: Arc<Self>, conn: Connection) {
        let Connection { stream, peer, stop } = conn;
        let acceptor = match self.identity.current().await {
            Ok(served) => served.acceptor_verifying(Arc::new(AnyClientCertificate)),
            Err(e) => {
                tracing::error!(%peer, "EST has no web certificate to serve: {e}");
                return;
            }
        };
        let acceptor = match acceptor {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(%peer, "EST TLS configuration: {e}");
                return;
            }
        };
        let tls = match tokio::time::timeout(self.config.handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, "EST TLS handshake failed: {}", printable(&e.to_string()));
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "EST TLS handshake timed out");
                return;
            }
        };
        let session = tls.get_ref().1;
        let chain = session.peer_certificates().map(|c| c.iter().map(|c| c.to_vec()).collect()).unwrap_or_default();
        let channel_binding = session
            .export_keying_material([0u8; CHANNEL_BINDING_LEN], CHANNEL_BINDING_LABEL, None)
            .ok()
            .map(|b| STANDARD.encode(b));
        let info = Arc::new(TlsPeer { peer, chain, channel_binding });
        let app = self.app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(info.clone());
            app.clone().oneshot(request)
        });
        let timeouts = HttpTimeouts { header: self.config.header_timeout, connection: self.config.max_connection_time };
        let mut builder = http1_builder(timeouts);
        builder.max_buf_size(64 * 1024);
        if let Err(e) = serve_http1(&builder, tls, service, timeouts, &stop).await {
            tracing::debug!(%peer, "EST connection ended: {}", printable(&e.to_string()));
        }
    }
}

/// Asks for a client certificate, requires none, and accepts any whose handshake signature
/// verifies: the cluster judges it per request (module doc).
#[derive(Debug)]
struct AnyClientCertificate;

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // A bound on what the cluster is given to verify per request.
        if intermediates.len() > 8 {
            return Err(rustls::Error::General("more than 8 intermediate certificates".into()));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, opencapf_tls::phone_signature_algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, opencapf_tls::phone_signature_algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        opencapf_tls::phone_signature_algorithms().supported_schemes()
    }
}
