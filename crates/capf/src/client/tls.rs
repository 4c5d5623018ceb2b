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
use rustls::{
    AlertDescription, CertificateError, CipherSuite, DigitallySignedStruct, ProtocolVersion, SignatureScheme,
};

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

/// OpenSSL's spelling of a TLS version, as phones log it: "TLSv1.2", "TLSv1.3".
pub fn version_name(v: ProtocolVersion) -> String {
    match v {
        ProtocolVersion::TLSv1_0 => "TLSv1".into(),
        ProtocolVersion::TLSv1_1 => "TLSv1.1".into(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => format!("{other:?}"),
    }
}

/// OpenSSL's name of a cipher suite, as phones log it (`ECDHE-RSA-AES128-GCM-SHA256`); TLS 1.3
/// suites keep their IANA names (`TLS_AES_256_GCM_SHA384`).
pub fn cipher_name(suite: CipherSuite) -> String {
    use CipherSuite::*;
    let name = match suite {
        TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        TLS_RSA_WITH_AES_128_CBC_SHA => "AES128-SHA",
        TLS_RSA_WITH_AES_256_CBC_SHA => "AES256-SHA",
        other => return format!("{other:?}"),
    };
    name.into()
}

/// OpenSSL's long description of a TLS alert, as in the phone's
/// `SSL3 alert [read]:[fatal]:[unknown CA]`.
pub fn alert_name(alert: AlertDescription) -> String {
    use AlertDescription::*;
    let name = match alert {
        CloseNotify => "close notify",
        UnexpectedMessage => "unexpected_message",
        BadRecordMac => "bad record mac",
        HandshakeFailure => "handshake failure",
        BadCertificate => "bad certificate",
        UnsupportedCertificate => "unsupported certificate",
        CertificateRevoked => "certificate revoked",
        CertificateExpired => "certificate expired",
        CertificateUnknown => "certificate unknown",
        IllegalParameter => "illegal parameter",
        UnknownCA => "unknown CA",
        AccessDenied => "access denied",
        DecodeError => "decode error",
        DecryptError => "decrypt error",
        ProtocolVersion => "protocol version",
        InsufficientSecurity => "insufficient security",
        InternalError => "internal error",
        CertificateRequired => "certificate required",
        other => return format!("{other:?}"),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_openssl_names() {
        assert_eq!(version_name(ProtocolVersion::TLSv1_2), "TLSv1.2");
        assert_eq!(version_name(ProtocolVersion::TLSv1_0), "TLSv1");
        assert_eq!(cipher_name(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), "ECDHE-RSA-AES128-GCM-SHA256");
        assert_eq!(cipher_name(CipherSuite::TLS13_AES_256_GCM_SHA384), "TLS_AES_256_GCM_SHA384");
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown CA");
    }

    #[test]
    fn server_names_accept_hosts_and_addresses() {
        assert!(matches!(server_name("127.0.0.1"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(server_name("capf.example.com"), Ok(ServerName::DnsName(_))));
        assert!(server_name("bad name").is_err());
    }
}
