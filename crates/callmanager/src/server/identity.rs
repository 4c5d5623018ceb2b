//! The CallManager certificate, through [`opencapf_tls::CertResolver`]: looked up for every new
//! TLS connection, so a regenerated certificate is served from the next connection on, with no
//! restart (CUCM needs a restart of the Cisco CallManager service for the same).

use opencapf_cluster::{Cluster, Error as StoreError};
use opencapf_model::{Service, ServiceCertificate};
use opencapf_tls::{CertResolver, Identity, IdentitySource, SourceError, TlsError};

use crate::CallManagerError;

/// The store's active CallManager certificate: the seam between the store and TLS.
pub(super) struct ActiveCallManager {
    pub store: Cluster,
}

async fn active(store: &Cluster) -> Result<ServiceCertificate, StoreError> {
    store.require_certificate(Service::CallManager).await
}

impl IdentitySource for ActiveCallManager {
    type Extra = ();

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(active(&self.store).await?.fingerprint)
    }

    async fn load(&self) -> Result<Identity<()>, SourceError> {
        let cm = active(&self.store).await?;
        let key = self.store.key_of(&cm).await?;
        Ok(Identity { fingerprint: cm.fingerprint, chain: vec![cm.der], key: key.pkcs8_der().to_vec(), extra: () })
    }
}

/// A resolver's error as CallManager reports it: the store's own error when the store failed.
pub(super) fn error(e: TlsError) -> CallManagerError {
    match e {
        TlsError::Source(source) => match source.downcast::<StoreError>() {
            Ok(e) => CallManagerError::Store(*e),
            Err(other) => CallManagerError::Tls(TlsError::Source(other)),
        },
        other => CallManagerError::Tls(other),
    }
}

pub(super) type Resolver = CertResolver<ActiveCallManager>;
