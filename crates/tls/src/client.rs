//! The one client configuration: the server is checked by a custom verifier (a phone's trust
//! list), and mutual TLS presents an optional client certificate.

use std::sync::Arc;

use opencapf_pki::PrivateKey;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::ClientConfig;

use crate::{legacy_signing_key, TlsError, TlsVersions};

/// A client configuration over `provider` ([`crate::provider`] or [`crate::phone_provider`]).
pub fn client_config(
    provider: Arc<CryptoProvider>,
    versions: TlsVersions,
    verifier: Arc<dyn ServerCertVerifier>,
    client_cert: Option<Arc<CertifiedKey>>,
) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions.rustls())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    Ok(match client_cert {
        None => builder.with_no_client_auth(),
        Some(key) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(key))),
    })
}

/// A certificate chain and its key, ready to present; RSA keys under 2048 bits sign with
/// [`legacy_signing_key`], others with the provider's own signers.
pub fn certified_key(chain: Vec<Vec<u8>>, key: &PrivateKey) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = chain.into_iter().map(CertificateDer::from).collect();
    Ok(Arc::new(CertifiedKey::new(chain, legacy_signing_key(key)?)))
}
