//! The bodies of EST (RFC 7030), read and written as pure functions with typed errors and size
//! limits, so that a fuzz target can call them as the server does:
//!
//! - [`read_csr_body`]: a `simpleenroll` / `simplereenroll` / `serverkeygen` body (base64 of a
//!   DER PKCS#10 request, §4.2.1; a PEM request is taken too) to a verified [`SigningRequest`];
//! - [`encode_certs_only`] / [`read_certs_only`]: the degenerate PKCS#7 SignedData of
//!   `cacerts` and of an issued certificate (`application/pkcs7-mime; smime-type=certs-only`,
//!   §4.1.3, §4.2.3), through RustCrypto's `cms`;
//! - [`encode_csr_attrs`] / [`read_csr_attrs`]: the `csrattrs` answer (§4.5.2);
//! - [`base64_body`] / [`decode_base64_body`]: the base64 every EST body travels in;
//! - [`basic_credentials`]: an `Authorization: Basic` header;
//! - [`serverkeygen_body`]: the `multipart/mixed` answer of `serverkeygen` (§4.4.2).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use opencapf_cluster::{CsrAttributes, KeyChoice};
use opencapf_pki::SigningRequest;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

/// The largest request body read: the base64 of the largest request pki reads, with line breaks.
pub const MAX_BODY: usize = 32 * 1024;
/// The most certificates a certs-only answer may hold (client side).
pub const MAX_CERTS: usize = 16;
/// The most elements a csrattrs answer may hold (client side).
pub const MAX_ATTRS: usize = 32;

/// challengePassword (RFC 2985): in csrattrs, "send the proof of possession".
const CHALLENGE_PASSWORD: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.7");

/// Why a body could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("the body is {0} bytes, more than the {MAX_BODY} an EST request may have")]
    TooLarge(usize),
    #[error("the body is empty")]
    Empty,
    #[error("the body is not base64: {0}")]
    Base64(String),
    /// Not a DER PKCS#10 request, or one whose signature does not verify.
    #[error("{0}")]
    Csr(String),
    /// A certificate, a PKCS#7 or a csrattrs structure that is not what it should be.
    #[error("{0}")]
    Der(String),
}

fn der_error(what: &str) -> impl Fn(der::Error) -> CodecError + '_ {
    move |e| CodecError::Der(format!("{what}: {e}"))
}

/// Base64 as EST bodies carry it: standard alphabet, padded, lines of 64 characters with CRLF.
pub fn base64_body(der: &[u8]) -> String {
    let text = STANDARD.encode(der);
    let mut out = String::with_capacity(text.len() + text.len() / 32 + 2);
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// A base64 body back to bytes: whitespace (the line breaks) ignored, at most [`MAX_BODY`] bytes.
pub fn decode_base64_body(body: &[u8]) -> Result<Vec<u8>, CodecError> {
    if body.len() > MAX_BODY {
        return Err(CodecError::TooLarge(body.len()));
    }
    let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(CodecError::Empty);
    }
    STANDARD.decode(&compact).map_err(|e| CodecError::Base64(e.to_string()))
}

/// A request body to a PKCS#10 request whose signature verified. The body is base64 (RFC 7030
/// §4.2.1); a PEM request (`-----BEGIN CERTIFICATE REQUEST-----`) is read too, as some clients
/// send one.
pub fn read_csr_body(body: &[u8]) -> Result<SigningRequest, CodecError> {
    if body.len() > MAX_BODY {
        return Err(CodecError::TooLarge(body.len()));
    }
    let der = match pem_inner(body) {
        Some(inner) => decode_base64_body(inner)?,
        None => decode_base64_body(body)?,
    };
    SigningRequest::parse(&der).map_err(|e| CodecError::Csr(e.to_string()))
}

/// What lies between a PEM request's BEGIN and END lines.
fn pem_inner(body: &[u8]) -> Option<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE REQUEST-----";
    const BEGIN_NEW: &[u8] = b"-----BEGIN NEW CERTIFICATE REQUEST-----";
    let trimmed = body.trim_ascii_start();
    let start = [BEGIN, BEGIN_NEW].into_iter().find(|b| trimmed.starts_with(b))?.len();
    let rest = &trimmed[start..];
    let end = rest.windows(8).position(|w| w == b"-----END")?;
    Some(&rest[..end])
}

/// The DER of a degenerate SignedData (no content, no signers) holding `certificates`: EST's
/// certs-only answer. Each certificate must be readable DER.
pub fn encode_certs_only(certificates: &[Vec<u8>]) -> Result<Vec<u8>, CodecError> {
    let mut choices = Vec::with_capacity(certificates.len());
    for der in certificates {
        let cert = Certificate::from_der(der).map_err(der_error("a certificate"))?;
        choices.push(CertificateChoices::Certificate(cert));
    }
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo { econtent_type: rfc5911::ID_DATA, econtent: None },
        certificates: Some(CertificateSet::try_from(choices).map_err(der_error("the certificate set"))?),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let content = Any::encode_from(&signed).map_err(der_error("SignedData"))?;
    let info = ContentInfo { content_type: rfc5911::ID_SIGNED_DATA, content };
    info.to_der().map_err(der_error("ContentInfo"))
}

/// The certificates of a certs-only PKCS#7 (DER), at most [`MAX_CERTS`].
pub fn read_certs_only(der: &[u8]) -> Result<Vec<Vec<u8>>, CodecError> {
    let info = ContentInfo::from_der(der).map_err(der_error("not a PKCS#7 ContentInfo"))?;
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(CodecError::Der(format!("a PKCS#7 of type {}, not SignedData", info.content_type)));
    }
    let signed: SignedData = info.content.decode_as().map_err(der_error("not a SignedData"))?;
    let set = signed.certificates.map(|c| c.0.into_vec()).unwrap_or_default();
    if set.len() > MAX_CERTS {
        return Err(CodecError::Der(format!("{} certificates, more than {MAX_CERTS}", set.len())));
    }
    let mut out = Vec::with_capacity(set.len());
    for choice in set {
        match choice {
            CertificateChoices::Certificate(c) => out.push(c.to_der().map_err(der_error("a certificate"))?),
            CertificateChoices::Other(_) => return Err(CodecError::Der("a certificate of another format".into())),
        }
    }
    Ok(out)
}

fn curve_of(bits: u32) -> Option<(ObjectIdentifier, ObjectIdentifier)> {
    match bits {
        256 => Some((rfc5912::SECP_256_R_1, rfc5912::ECDSA_WITH_SHA_256)),
        384 => Some((rfc5912::SECP_384_R_1, rfc5912::ECDSA_WITH_SHA_384)),
        521 => Some((rfc5912::SECP_521_R_1, rfc5912::ECDSA_WITH_SHA_512)),
        _ => None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Any, der::Error> {
    let values = SetOfVec::try_from(vec![value])?;
    Any::encode_from(&Attribute { oid, values })
}

/// The csrattrs DER (RFC 7030 §4.5.2): challengePassword when the proof of possession is
/// required; per key, in preference, `id-ecPublicKey` with its curve or `rsaEncryption` with its
/// size as an INTEGER (as draft-ietf-lamps-rfc7030-csrattrs writes them), and the signature
/// algorithm that goes with it.
pub fn encode_csr_attrs(attrs: &CsrAttributes) -> Result<Vec<u8>, CodecError> {
    let mut items: Vec<Any> = Vec::new();
    let build = |items: &mut Vec<Any>| -> Result<(), der::Error> {
        if attrs.pop {
            items.push(Any::encode_from(&CHALLENGE_PASSWORD)?);
        }
        for key in &attrs.keys {
            match *key {
                KeyChoice::Ec { bits } => {
                    let Some((curve, signature)) = curve_of(bits) else { continue };
                    items.push(attribute(rfc5912::ID_EC_PUBLIC_KEY, Any::encode_from(&curve)?)?);
                    items.push(Any::encode_from(&signature)?);
                }
                KeyChoice::Rsa { bits } => {
                    items.push(attribute(rfc5912::RSA_ENCRYPTION, Any::encode_from(&bits)?)?);
                    items.push(Any::encode_from(&rfc5912::SHA_256_WITH_RSA_ENCRYPTION)?);
                }
            }
        }
        Ok(())
    };
    build(&mut items).map_err(der_error("csrattrs"))?;
    items.to_der().map_err(der_error("csrattrs"))
}

/// A csrattrs answer back to what it asks for. Unknown OIDs and attributes are skipped; a bare
/// `rsaEncryption` reads as RSA 2048 and a bare `id-ecPublicKey` as P-256.
pub fn read_csr_attrs(der: &[u8]) -> Result<CsrAttributes, CodecError> {
    if der.len() > MAX_BODY {
        return Err(CodecError::TooLarge(der.len()));
    }
    let items: Vec<Any> = Vec::from_der(der).map_err(der_error("not a csrattrs SEQUENCE"))?;
    if items.len() > MAX_ATTRS {
        return Err(CodecError::Der(format!("{} csrattrs elements, more than {MAX_ATTRS}", items.len())));
    }
    let mut out = CsrAttributes { keys: Vec::new(), pop: false };
    for item in items {
        match item.tag() {
            Tag::ObjectIdentifier => {
                let oid: ObjectIdentifier = item.decode_as().map_err(der_error("an OID"))?;
                match oid {
                    CHALLENGE_PASSWORD => out.pop = true,
                    rfc5912::RSA_ENCRYPTION => out.keys.push(KeyChoice::Rsa { bits: 2048 }),
                    rfc5912::ID_EC_PUBLIC_KEY => out.keys.push(KeyChoice::Ec { bits: 256 }),
                    _ => {}
                }
            }
            Tag::Sequence => {
                let attr: Attribute = item.decode_as().map_err(der_error("an attribute"))?;
                let Some(value) = attr.values.iter().next() else { continue };
                match attr.oid {
                    rfc5912::RSA_ENCRYPTION => {
                        let bits: u32 = value.decode_as().map_err(der_error("an RSA key size"))?;
                        out.keys.push(KeyChoice::Rsa { bits });
                    }
                    rfc5912::ID_EC_PUBLIC_KEY => {
                        let curve: ObjectIdentifier = value.decode_as().map_err(der_error("an EC curve"))?;
                        let bits = match curve {
                            rfc5912::SECP_256_R_1 => 256,
                            rfc5912::SECP_384_R_1 => 384,
                            rfc5912::SECP_521_R_1 => 521,
                            _ => continue,
                        };
                        out.keys.push(KeyChoice::Ec { bits });
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `Authorization: Basic …` to user and password; `None` for any other scheme or a malformed value.
pub fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    if header.len() > 1024 {
        return None;
    }
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, value) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The `serverkeygen` answer (RFC 7030 §4.4.2): `multipart/mixed` with the private key
/// (`application/pkcs8`, unencrypted: the TLS channel protects it) and the certificate
/// (certs-only), each base64. Returns the body; its Content-Type is
/// `multipart/mixed; boundary=<boundary>`.
pub fn serverkeygen_body(key_pkcs8: &[u8], certs_only: &[u8], boundary: &str) -> Vec<u8> {
    let mut out = String::new();
    for (content_type, der) in
        [("application/pkcs8", key_pkcs8), ("application/pkcs7-mime; smime-type=certs-only", certs_only)]
    {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            base64_body(der)
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencapf_pki::{device_csr, KeyAlgorithm, PrivateKey};

    fn csr_der() -> Vec<u8> {
        let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        device_csr(&key, "SEP001122334455", None).unwrap()
    }

    #[test]
    fn a_request_body_is_base64_with_any_line_breaks_or_pem() {
        let der = csr_der();
        let csr = read_csr_body(base64_body(&der).as_bytes()).unwrap();
        assert_eq!(csr.subject_cn.as_deref(), Some("SEP001122334455"));
        let one_line = STANDARD.encode(&der);
        assert!(read_csr_body(one_line.as_bytes()).is_ok());
        let pem =
            format!("-----BEGIN CERTIFICATE REQUEST-----\n{}-----END CERTIFICATE REQUEST-----\n", base64_body(&der));
        assert!(read_csr_body(pem.as_bytes()).is_ok());
    }

    #[test]
    fn bad_bodies_are_typed_errors() {
        assert_eq!(read_csr_body(b"").unwrap_err(), CodecError::Empty);
        assert_eq!(read_csr_body(b" \r\n").unwrap_err(), CodecError::Empty);
        assert!(matches!(read_csr_body(b"not*base64!").unwrap_err(), CodecError::Base64(_)));
        assert!(matches!(read_csr_body(STANDARD.encode(b"\x30\x03\x02\x01\x01").as_bytes()), Err(CodecError::Csr(_))));
        // The raw DER is no EST body.
        assert!(read_csr_body(&csr_der()).is_err());
        let big = vec![b'A'; MAX_BODY + 1];
        assert_eq!(read_csr_body(&big).unwrap_err(), CodecError::TooLarge(MAX_BODY + 1));
    }

    #[test]
    fn certs_only_round_trips() {
        let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let root = opencapf_pki::profiles::lab_manufacturer_root(&key, opencapf_model::now()).unwrap();
        let der = encode_certs_only(std::slice::from_ref(&root.der)).unwrap();
        assert_eq!(read_certs_only(&der).unwrap(), vec![root.der.clone()]);
        assert!(encode_certs_only(&[vec![1, 2, 3]]).is_err());
        assert!(read_certs_only(&der[..der.len() - 2]).is_err());
        assert!(read_certs_only(&csr_der()).is_err());
    }

    #[test]
    fn csrattrs_round_trip() {
        let attrs = CsrAttributes { keys: vec![KeyChoice::Ec { bits: 384 }, KeyChoice::Rsa { bits: 3072 }], pop: true };
        let der = encode_csr_attrs(&attrs).unwrap();
        assert_eq!(read_csr_attrs(&der).unwrap(), attrs);
        let rsa = CsrAttributes { keys: vec![KeyChoice::Rsa { bits: 2048 }], pop: false };
        assert_eq!(read_csr_attrs(&encode_csr_attrs(&rsa).unwrap()).unwrap(), rsa);
        assert!(read_csr_attrs(b"\x30\x05").is_err());
    }

    #[test]
    fn basic_credentials_are_read_strictly() {
        let header = format!("Basic {}", STANDARD.encode("SEP001122334455:K7QM-2XWD"));
        assert_eq!(basic_credentials(header.as_bytes()), Some(("SEP001122334455".to_owned(), "K7QM-2XWD".to_owned())));
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic !!!"), None);
        assert_eq!(basic_credentials(format!("Basic {}", STANDARD.encode("nocolon")).as_bytes()), None);
    }
}
