//! The one server configuration: TLS 1.2 and 1.3, the provider's suites, one certificate.

use std::sync::Arc;

use rustls::server::danger::ClientCertVerifier;
use rustls::server::NoServerSessionStorage;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::ServerConfig;

use crate::{provider, TlsError, TlsVersions};

/// A server configuration serving `key`.
///
/// - `client_auth: None`: no client certificate is asked for, and resumption is rustls' default
///   (CAPF: the configuration is built once per certificate, so resumption spans connections).
/// - `client_auth: Some(verifier)`: the client must present a certificate the verifier accepts,
///   and there is no resumption (neither session ids nor tickets), so each connection verifies
///   its certificate against the store of that moment (CallManager).
pub fn server_config(
    key: Arc<CertifiedKey>,
    client_auth: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<ServerConfig, TlsError> {
    server_config_with_versions(key, client_auth, TlsVersions::Tls12And13)
}

/// [`server_config`] accepting only `versions`: for test servers that stand in for a peer
/// pinned to one version (the services themselves accept both).
pub fn server_config_with_versions(
    key: Arc<CertifiedKey>,
    client_auth: Option<Arc<dyn ClientCertVerifier>>,
    versions: TlsVersions,
) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider()).with_protocol_versions(versions.rustls())?;
    let resolver = Arc::new(SingleCertAndKey::from(key));
    Ok(match client_auth {
        None => builder.with_no_client_auth().with_cert_resolver(resolver),
        Some(verifier) => {
            let mut config = builder.with_client_cert_verifier(verifier).with_cert_resolver(resolver);
            config.session_storage = Arc::new(NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
            config
        }
    })
}
