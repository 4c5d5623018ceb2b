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
        .map_err(|e| PkiError::Parse(bad_pem(&e)))?;
    if certs.is_empty() {
        return Err(PkiError::Parse(no_certificate(bytes)));
    }
    for c in &certs {
        crate::CertificateInfo::parse(c)?;
    }
    Ok(certs)
}

/// A PEM error in words: which part is wrong, not the decoder's type names.
fn bad_pem(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    let why = match e {
        Error::MissingSectionEnd { .. } => "a BEGIN line has no matching END line",
        Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        Error::Base64Decode(_) => "the text between BEGIN and END is not valid base64",
        _ => "it cannot be read",
    };
    format!("bad PEM: {why} (expected PEM CERTIFICATE blocks or a DER certificate)")
}

/// No certificate: say what the file holds instead when it is PEM of another kind (a key, a CSR).
fn no_certificate(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let other: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .filter(|label| *label != "CERTIFICATE")
        .collect();
    match other.first() {
        Some(label) => format!("no certificate found: the file holds a {label} block (expected PEM CERTIFICATE blocks or a DER certificate)"),
        None => "no certificate found (expected PEM CERTIFICATE blocks or a DER certificate)".into(),
    }
}
