//! The certificate a listener serves, looked up for every new connection and rebuilt only when
//! the stored fingerprint changes: a regenerated certificate is used by the next connection
//! with no restart, while connections already running keep the one they started with.
//!
//! The store stays out of this crate: a service implements [`IdentitySource`] with the store
//! calls it makes, so that replacing the store changes one `impl` per service.

use std::future::Future;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::{provider, server_config, TlsError};

/// Any error of an identity source (a store error, an unreadable key file...).
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A certificate to serve, its key, and what the service derives from them.
pub struct Identity<X> {
    /// The stored fingerprint: the cache key.
    pub fingerprint: String,
    /// The certificate first, then its issuers.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8.
    pub key: Vec<u8>,
    /// What the service builds once per certificate (CAPF: the LSC signer).
    pub extra: X,
}

/// Where a listener's certificate comes from.
pub trait IdentitySource: Send + Sync + 'static {
    type Extra: Send + Sync + 'static;

    /// The fingerprint of the certificate to serve now: asked for every connection, so cheap.
    fn fingerprint(&self) -> impl Future<Output = Result<String, SourceError>> + Send;

    /// The certificate to serve now, with its key: asked only when the fingerprint changed.
    fn load(&self) -> impl Future<Output = Result<Identity<Self::Extra>, SourceError>> + Send;
}

/// One certificate, ready to serve.
pub struct Served<X> {
    pub fingerprint: String,
    pub extra: X,
    key: Arc<CertifiedKey>,
    /// The same certificate and key for the OpenSSL engine.
    chain: Vec<Vec<u8>>,
    pkcs8: zeroize::Zeroizing<Vec<u8>>,
    /// Built once, so that TLS resumption spans the connections of one certificate.
    anonymous: TlsAcceptor,
}

impl<X> Served<X> {
    fn new(identity: Identity<X>) -> Result<Self, TlsError> {
        let chain: Vec<Vec<u8>> = identity.chain;
        let pkcs8 = zeroize::Zeroizing::new(identity.key);
        let der = chain.iter().cloned().map(CertificateDer::from).collect();
        let key = PrivateKeyDer::Pkcs8(pkcs8.to_vec().into());
        let key = Arc::new(CertifiedKey::from_der(der, key, &provider())?);
        let anonymous = TlsAcceptor::from(Arc::new(server_config(key.clone(), None)?));
        Ok(Served { fingerprint: identity.fingerprint, extra: identity.extra, key, chain, pkcs8, anonymous })
    }

    /// For a listener that asks for no client certificate (CAPF).
    pub fn acceptor(&self) -> TlsAcceptor {
        self.anonymous.clone()
    }

    /// The OpenSSL engine for the same certificate under `policy`, or `None` when the policy
    /// lets OpenSSL serve nothing (no CBC, no NULL-SHA). Built per call: cheap next to a
    /// handshake, and a listener's policy and verifier may change with every connection.
    pub fn legacy_acceptor(
        &self,
        policy: &crate::LegacyPolicy,
        verifier: Option<Arc<dyn crate::LegacyClientVerifier>>,
    ) -> Result<Option<crate::LegacyAcceptor>, crate::LegacyError> {
        if policy.suites().is_empty() {
            return Ok(None);
        }
        crate::LegacyAcceptor::new(&self.chain, &self.pkcs8, policy, verifier).map(Some)
    }

    /// For a listener that verifies a client certificate with a verifier of this connection
    /// (CallManager): no resumption, see [`server_config`].
    pub fn acceptor_verifying(&self, verifier: Arc<dyn ClientCertVerifier>) -> Result<TlsAcceptor, TlsError> {
        Ok(TlsAcceptor::from(Arc::new(server_config(self.key.clone(), Some(verifier))?)))
    }
}

/// The certificate of a listener, following its [`IdentitySource`].
pub struct CertResolver<S: IdentitySource> {
    source: S,
    current: Mutex<Option<Arc<Served<S::Extra>>>>,
    /// Held while loading, so that a burst of connections loads one identity, not many.
    loading: tokio::sync::Mutex<()>,
}

impl<S: IdentitySource> CertResolver<S> {
    pub fn new(source: S) -> Self {
        CertResolver { source, current: Mutex::new(None), loading: tokio::sync::Mutex::new(()) }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The certificate for a new connection: the cached one while the source's fingerprint is
    /// the same, a new one after a change.
    pub async fn current(&self) -> Result<Arc<Served<S::Extra>>, TlsError> {
        let fingerprint = self.source.fingerprint().await.map_err(TlsError::Source)?;
        if let Some(served) = self.cached(&fingerprint) {
            return Ok(served);
        }
        let _loading = self.loading.lock().await;
        if let Some(served) = self.cached(&fingerprint) {
            return Ok(served);
        }
        let served = Arc::new(Served::new(self.source.load().await.map_err(TlsError::Source)?)?);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(served.clone());
        Ok(served)
    }

    fn cached(&self, fingerprint: &str) -> Option<Arc<Served<S::Extra>>> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|s| s.fingerprint == fingerprint).cloned()
    }
}
