//! TLS as a phone does it: the server is trusted when its certificate is one of the phone's
//! trust-list certificates, byte for byte (phones match the certificate from their ITL/CTL, not a
//! host name, §1.1), and the handshake signatures are verified with the aws-lc-rs provider.
//!
//! Also used for the phone's TLS to CallManager, where the phone presents its LSC or MIC:
//! [`client_config`] takes an optional client certificate.

use std::sync::{Arc, Mutex};

use opencapf_pki::PrivateKey;
use opencapf_tls::TlsError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::TlsVersions;

/// The certificate the server presented, and whether it matched the trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCertificate {
    pub der: Vec<u8>,
    pub trusted: bool,
}

/// A [`ServerCertVerifier`] that accepts exactly the certificates of a trust list and remembers
/// what the server presented, so that the caller can log it (accepted or refused).
#[derive(Debug)]
pub struct TrustListVerifier {
    trusted: Vec<Vec<u8>>,
    algorithms: WebPkiSupportedAlgorithms,
    presented: Mutex<Option<PresentedCertificate>>,
}

impl TrustListVerifier {
    pub fn new(trust_list: Vec<Vec<u8>>) -> Self {
        Self {
            trusted: trust_list,
            algorithms: opencapf_tls::provider().signature_verification_algorithms,
            presented: Mutex::new(None),
        }
    }

    /// The last certificate the server presented.
    pub fn presented(&self) -> Option<PresentedCertificate> {
        self.presented.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ServerCertVerifier for TrustListVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let der = end_entity.as_ref();
        let trusted = self.trusted.iter().any(|t| t.as_slice() == der);
        *self.presented.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(PresentedCertificate { der: der.to_vec(), trusted });
        if trusted {
            Ok(ServerCertVerified::assertion())
        } else {
            // rustls answers with a fatal unknown_ca alert, as a phone does.
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

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
