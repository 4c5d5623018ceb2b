//! The CAPF server's identity: the active CAPF certificate and key, as a rustls configuration
//! (TLS 1.2 and 1.3, AWS-LC, no client certificate requested) and as the signer of LSCs.
//!
//! The active certificate is looked up for every new connection and the built identity is
//! cached by its fingerprint, so a regenerated CAPF certificate is used by the next connection
//! without a restart, while sessions already running keep the one they started with.

use std::sync::{Arc, Mutex};

use opencapf_cluster::Cluster;
use opencapf_model::{Service, ServiceCertificate};
use opencapf_pki::CaSigner;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use super::ServerError;

/// The active CAPF certificate, ready to serve TLS and sign LSCs.
pub(crate) struct Identity {
    pub fingerprint: String,
    pub common_name: String,
    pub acceptor: TlsAcceptor,
    pub signer: Arc<CaSigner>,
}

#[derive(Default)]
pub(crate) struct IdentityCache {
    current: Mutex<Option<Arc<Identity>>>,
    /// Held while building, so that a burst of connections builds one identity, not many.
    building: tokio::sync::Mutex<()>,
}

impl IdentityCache {
    /// The identity for a new connection: the cached one while the active CAPF certificate is
    /// the same, a new one after a regeneration.
    pub async fn current(&self, store: &Cluster) -> Result<Arc<Identity>, ServerError> {
        let active = store.require_certificate(Service::Capf).await?;
        if let Some(identity) = self.cached(&active.fingerprint) {
            return Ok(identity);
        }
        let _building = self.building.lock().await;
        if let Some(identity) = self.cached(&active.fingerprint) {
            return Ok(identity);
        }
        let identity = Arc::new(build(store, &active)?);
        tracing::info!(
            capf = %identity.common_name,
            fingerprint = %identity.fingerprint,
            "CAPF certificate in use for new sessions"
        );
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(identity.clone());
        Ok(identity)
    }

    fn cached(&self, fingerprint: &str) -> Option<Arc<Identity>> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|i| i.fingerprint == fingerprint).cloned()
    }
}

fn build(store: &Cluster, active: &ServiceCertificate) -> Result<Identity, ServerError> {
    let key = store.key_of(active)?;
    let signer = CaSigner::new(&active.der, &key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(active.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec())),
        )?;
    Ok(Identity {
        fingerprint: active.fingerprint.clone(),
        common_name: active.common_name.clone(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
        signer: Arc::new(signer),
    })
}
