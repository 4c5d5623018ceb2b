//! A phone's check of a server: the server is trusted when its certificate is one of the phone's
//! trust-list certificates, byte for byte (phones match the certificate from their ITL/CTL, not a
//! host name), and the handshake signatures are verified with the provider's algorithms.

use std::sync::Mutex;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

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
            algorithms: crate::provider().signature_verification_algorithms,
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
