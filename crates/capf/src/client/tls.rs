//! TLS as a phone does it: the server is trusted when its certificate is one of the phone's
//! trust-list certificates, byte for byte (phones match the certificate from their ITL/CTL, not a
//! host name, §1.1), and the handshake signatures are verified with the aws-lc-rs provider
//! ([`TrustListVerifier`], from `opencapf_tls`, re-exported here).
//!
//! Also used for the phone's TLS to CallManager, where the phone presents its LSC or MIC:
//! [`client_config`] takes an optional client certificate.

use std::sync::Arc;

use opencapf_pki::PrivateKey;
use opencapf_tls::TlsError;
use rustls::pki_types::ServerName;

use super::TlsVersions;

pub use opencapf_tls::{PresentedCertificate, TrustListVerifier};

/// A rustls client configuration ([`opencapf_tls::client_config`]) with the trust-list
/// verifier, the chosen TLS versions and, for mutual TLS (CallManager), the phone's certificate
/// and key.
pub fn client_config(
    verifier: Arc<TrustListVerifier>,
    versions: TlsVersions,
    client_auth: Option<(Vec<Vec<u8>>, &PrivateKey)>,
) -> Result<rustls::ClientConfig, TlsError> {
    let client_cert = client_auth.map(|(chain, key)| opencapf_tls::certified_key(chain, key)).transpose()?;
    opencapf_tls::client_config(opencapf_tls::provider(), versions, verifier, client_cert)
}

/// The server name for SNI: a DNS name, or an IP address (then no SNI is sent). The verifier
/// ignores it either way.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| format!("'{host}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_accept_hosts_and_addresses() {
        assert!(matches!(server_name("127.0.0.1"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(server_name("capf.example.com"), Ok(ServerName::DnsName(_))));
        assert!(server_name("bad name").is_err());
    }
}
