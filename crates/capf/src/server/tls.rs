//! The CAPF server's identity: the active CAPF certificate and key, served through
//! [`opencapf_tls::CertResolver`] (TLS 1.2 and 1.3, no client certificate requested) and used
//! as the signer of LSCs.
//!
//! The active certificate is looked up for every new connection and the built identity is
//! cached by its fingerprint, so a regenerated CAPF certificate is used by the next connection
//! without a restart, while sessions already running keep the one they started with.

use std::sync::Arc;

use opencapf_cluster::Cluster;
use opencapf_model::{Service, ServiceCertificate};
use opencapf_pki::CaSigner;
use opencapf_tls::{CertResolver, IdentitySource, SourceError, TlsError};
use tokio_rustls::TlsAcceptor;

use super::ServerError;

/// The active CAPF certificate, ready to serve TLS and sign LSCs.
pub(crate) struct Identity {
    pub fingerprint: String,
    pub acceptor: TlsAcceptor,
    pub signer: Arc<CaSigner>,
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
        let key = self.store.key_of(&active).map_err(ServerError::from)?;
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
        }))
    }
}
