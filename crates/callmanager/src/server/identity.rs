//! The CallManager certificate, through [`opencapf_tls::CertResolver`]: looked up for every new
//! TLS connection, so a regenerated certificate is served from the next connection on, with no
//! restart (CUCM needs a restart of the Cisco CallManager service for the same).

use opencapf_store::{keyfile, service, Service, ServiceCertificate, Store, StoreError};
use opencapf_tls::{CertResolver, Identity, IdentitySource, SourceError, TlsError};

use crate::CallManagerError;

/// The store's active CallManager certificate: the seam between the store and TLS.
pub(super) struct ActiveCallManager {
    pub store: Store,
}

async fn active(store: &Store) -> Result<ServiceCertificate, StoreError> {
    let mut db = store.pool().acquire().await.map_err(StoreError::from)?;
    service::require_active(&mut db, Service::CallManager).await
}

impl IdentitySource for ActiveCallManager {
    type Extra = ();

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(active(&self.store).await?.fingerprint)
    }

    async fn load(&self) -> Result<Identity<()>, SourceError> {
        let cm = active(&self.store).await?;
        let key = keyfile::read(self.store.data_dir(), &cm.key_file)?;
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
