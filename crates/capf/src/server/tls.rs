//! The CAPF server's identity: the active CAPF certificate and key, served through
//! [`opencapf_tls::CertResolver`] (rustls for TLS 1.2 and 1.3, OpenSSL for the legacy phones the
//! cluster's `tls.*` settings let in; no client certificate requested) and used as the signer of
//! LSCs.
//!
//! The active certificate is looked up for every new connection and the built identity is
//! cached by its fingerprint, so a regenerated CAPF certificate is used by the next connection
//! without a restart, while sessions already running keep the one they started with.

use std::sync::Arc;

use opencapf_cluster::Cluster;
use opencapf_model::{Service, ServiceCertificate, TlsEngine, TlsSession};
use opencapf_pki::CaSigner;
use opencapf_tls::{
    AcceptError, CertResolver, Engine, IdentitySource, LegacyAcceptor, LegacyError, LegacyPolicy, Served, ServerTls,
    SessionInfo, SourceError, TlsError,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::session::Level;
use super::{ServerError, Shared};

/// Why a connection ended before its first CAPF message (logged; there is no device yet).
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    #[error("no CAPF certificate to serve: {0}")]
    NoIdentity(ServerError),
    #[error("reading the cluster's TLS settings: {0}")]
    Settings(opencapf_cluster::Error),
    #[error("building the legacy TLS engine: {0}")]
    Legacy(LegacyError),
    #[error("{0}")]
    Accept(AcceptError),
}

impl HandshakeError {
    /// A client the cluster's TLS settings refuse (a 79xx phone under `tls.min_version 1.2`)
    /// and a server that cannot serve are warnings; a failed or abandoned handshake is not.
    pub(super) fn level(&self) -> Level {
        match self {
            HandshakeError::Accept(AcceptError::Refused(_) | AcceptError::NoLegacyEngine(_)) => Level::Warn,
            HandshakeError::Accept(_) => Level::Info,
            _ => Level::Error,
        }
    }
}

/// The TLS handshake of one connection, through whichever engine its ClientHello needs. The
/// policy is read per connection, so that `settings set tls.*` applies to the next phone.
pub(crate) async fn handshake(shared: &Shared, tcp: TcpStream) -> Result<(ServerTls, Arc<Identity>), HandshakeError> {
    let identity = shared.identity.current().await.map_err(HandshakeError::NoIdentity)?;
    let settings = shared.store.tls_settings().await.map_err(HandshakeError::Settings)?;
    // Never NULL-SHA on CAPF, whatever the devices' profiles: the session carries the
    // authentication string and the phone's new certificate, which must not travel in clear.
    let policy = LegacyPolicy::from_settings(&settings, false);
    let legacy = identity.legacy(&policy).map_err(HandshakeError::Legacy)?;
    let timeout = shared.config.handshake_timeout;
    match opencapf_tls::accept(tcp, &identity.acceptor, legacy.as_ref(), &policy, timeout).await {
        Ok(stream) => Ok((stream, identity)),
        Err(e) => Err(HandshakeError::Accept(e)),
    }
}

/// The TLS of a session as its history names it (`TLSv1 AES256-SHA (legacy)`).
pub(crate) fn tls_session(info: &SessionInfo) -> TlsSession {
    let or_unknown = |s: &str| if s.is_empty() { "unknown".to_owned() } else { s.to_owned() };
    TlsSession {
        engine: match info.engine {
            Engine::Rustls => TlsEngine::Rustls,
            Engine::OpenSsl => TlsEngine::Openssl,
        },
        version: or_unknown(&info.version),
        cipher: or_unknown(&info.suite),
    }
}

/// The active CAPF certificate, ready to serve TLS and sign LSCs.
pub(crate) struct Identity {
    pub fingerprint: String,
    pub acceptor: TlsAcceptor,
    pub signer: Arc<CaSigner>,
    served: Arc<Served<Lsc>>,
}

impl Identity {
    /// The OpenSSL engine for the same certificate under the cluster's policy of this
    /// connection, or `None` when the policy lets it serve nothing.
    pub(crate) fn legacy(&self, policy: &LegacyPolicy) -> Result<Option<LegacyAcceptor>, LegacyError> {
        self.served.legacy_acceptor(policy, None)
    }
}

/// What CAPF builds once per certificate, besides TLS.
pub(crate) struct Lsc {
    signer: Arc<CaSigner>,
}

/// The store's active CAPF certificate: the seam between the store and TLS.
pub(crate) struct ActiveCapf {
    store: Cluster,
}

async fn active(store: &Cluster) -> Result<ServiceCertificate, ServerError> {
    Ok(store.require_certificate(Service::Capf).await?)
}

impl IdentitySource for ActiveCapf {
    type Extra = Lsc;

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(active(&self.store).await?.fingerprint)
    }

    async fn load(&self) -> Result<opencapf_tls::Identity<Lsc>, SourceError> {
        let active = active(&self.store).await?;
        let key = self.store.key_of(&active).await.map_err(ServerError::from)?;
        let signer = CaSigner::new(&active.der, &key).map_err(ServerError::from)?;
        tracing::info!(
            capf = %active.common_name,
            fingerprint = %active.fingerprint,
            "CAPF certificate in use for new sessions"
        );
        Ok(opencapf_tls::Identity {
            fingerprint: active.fingerprint,
            chain: vec![active.der],
            key: key.pkcs8_der().to_vec(),
            extra: Lsc { signer: Arc::new(signer) },
        })
    }
}

pub(crate) struct IdentityCache {
    resolver: CertResolver<ActiveCapf>,
}

impl IdentityCache {
    pub(crate) fn new(store: Cluster) -> Self {
        IdentityCache { resolver: CertResolver::new(ActiveCapf { store }) }
    }

    /// The identity for a new connection: the cached one while the active CAPF certificate is
    /// the same, a new one after a regeneration.
    pub(crate) async fn current(&self) -> Result<Arc<Identity>, ServerError> {
        let served = self.resolver.current().await.map_err(|e| match e {
            // The source's own error, as it was before it crossed the seam.
            TlsError::Source(source) => match source.downcast::<ServerError>() {
                Ok(e) => *e,
                Err(other) => ServerError::Tls(TlsError::Source(other)),
            },
            other => ServerError::Tls(other),
        })?;
        Ok(Arc::new(Identity {
            fingerprint: served.fingerprint.clone(),
            acceptor: served.acceptor(),
            signer: served.extra.signer.clone(),
            served,
        }))
    }
}
