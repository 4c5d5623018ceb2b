//! PEM in and out. Reading goes through `rustls-pki-types` (rustls-pemfile is unmaintained).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::PkiError;

/// PEM-encodes `der` under `label`, 64 characters a line, LF line endings.
pub fn encode(label: &str, der: &[u8]) -> String {
    let config = ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF);
    ::pem::encode_config(&::pem::Pem::new(label, der), config)
}

/// Certificates in a file: one DER certificate, or every `CERTIFICATE` block of a PEM file.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PkiError> {
    if bytes.first() == Some(&0x30) {
        // DER: a single certificate; it must parse as one.
        crate::CertificateInfo::parse(bytes)?;
        return Ok(vec![bytes.to_vec()]);
    }
    let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| PkiError::Parse(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(PkiError::Parse("no certificate found (expected PEM or DER)".into()));
    }
    for c in &certs {
        crate::CertificateInfo::parse(c)?;
    }
    Ok(certs)
}
