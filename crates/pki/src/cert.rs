//! What a certificate says, read once with x509-parser into plain owned fields.

use ::time::OffsetDateTime;
use aws_lc_rs::digest::{digest, SHA256};
use serde::Serialize;
use x509_parser::oid_registry::{
    Oid, OID_EC_P256, OID_NIST_EC_P384, OID_NIST_EC_P521, OID_PKCS1_SHA1WITHRSA, OID_X509_COMMON_NAME,
    OID_X509_SERIALNUMBER,
};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use crate::PkiError;

/// Why bytes are not a certificate, in words (the parser's own error names its internals).
fn not_a_certificate(e: &x509_parser::nom::Err<X509Error>) -> String {
    use x509_parser::nom::{error::ErrorKind, Err};
    let why = match e {
        Err::Incomplete(_) | Err::Error(X509Error::NomError(ErrorKind::Eof)) => "the data ends early",
        Err::Error(X509Error::Der(_)) | Err::Failure(X509Error::Der(_)) => "its DER structure is not a certificate's",
        _ => "a field of it cannot be read",
    };
    format!("not an X.509 certificate ({why}; expected PEM CERTIFICATE blocks or a DER certificate)")
}

/// The fields of a certificate that administrators and the rules of the system look at.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// Serial number, lowercase hex without separators.
    pub serial: String,
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    #[serde(with = "::time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    #[serde(with = "::time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// "RSA 2048", "EC P-256".
    pub key: String,
    pub signature_algorithm: String,
    pub sha1_signed: bool,
    /// SHA-256 of the DER, lowercase hex: the identity used by the trust stores.
    pub fingerprint: String,
    pub is_ca: bool,
    pub self_issued: bool,
    pub subject_key_id: Option<String>,
    pub authority_key_id: Option<String>,
    /// `PID:` and `SN:` of the `serialNumber` subject attribute Cisco puts in MICs and LSCs.
    pub pid: Option<String>,
    pub sn: Option<String>,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    #[serde(skip)]
    pub subject_der: Vec<u8>,
    #[serde(skip)]
    pub issuer_der: Vec<u8>,
    #[serde(skip)]
    pub public_key_der: Vec<u8>,
}

pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(digest(&SHA256, der))
}

pub(crate) fn first_cn(name: &X509Name<'_>) -> Option<String> {
    name.iter_by_oid(&OID_X509_COMMON_NAME).next().and_then(|a| a.as_str().ok()).map(str::to_owned)
}

pub(crate) fn key_description(spki: &SubjectPublicKeyInfo<'_>) -> String {
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
            match curve {
                Some(c) if c == OID_EC_P256 => "EC P-256".into(),
                Some(c) if c == OID_NIST_EC_P384 => "EC P-384".into(),
                Some(c) if c == OID_NIST_EC_P521 => "EC P-521".into(),
                Some(c) => format!("EC {c}"),
                None => "EC".into(),
            }
        }
        Ok(other) => format!("{other:?}").split('(').next().unwrap_or("unknown").to_owned(),
        Err(_) => "unparsable key".into(),
    }
}

fn oid_name(oid: &Oid<'_>) -> String {
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map(str::to_owned)
        .unwrap_or_else(|_| oid.to_id_string())
}

impl CertificateInfo {
    pub fn parse(der: &[u8]) -> Result<Self, PkiError> {
        let (rest, cert) = parse_x509_certificate(der).map_err(|e| PkiError::Parse(not_a_certificate(&e)))?;
        if !rest.is_empty() {
            return Err(PkiError::Parse("trailing bytes after the certificate".into()));
        }
        let tbs = &cert.tbs_certificate;
        let serial_attr =
            tbs.subject.iter_by_oid(&OID_X509_SERIALNUMBER).next().and_then(|a| a.as_str().ok()).unwrap_or("");
        let field =
            |prefix: &str| serial_attr.split_whitespace().find_map(|w| w.strip_prefix(prefix)).map(str::to_owned);
        let mut info = CertificateInfo {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            subject_cn: first_cn(&tbs.subject),
            issuer_cn: first_cn(&tbs.issuer),
            serial: hex::encode(tbs.raw_serial()),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            key: key_description(&tbs.subject_pki),
            signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
            sha1_signed: cert.signature_algorithm.algorithm == OID_PKCS1_SHA1WITHRSA,
            fingerprint: fingerprint(der),
            is_ca: tbs.is_ca(),
            self_issued: tbs.subject.as_raw() == tbs.issuer.as_raw(),
            subject_key_id: None,
            authority_key_id: None,
            pid: field("PID:"),
            sn: field("SN:"),
            key_usage: Vec::new(),
            extended_key_usage: Vec::new(),
            subject_der: tbs.subject.as_raw().to_vec(),
            issuer_der: tbs.issuer.as_raw().to_vec(),
            public_key_der: tbs.subject_pki.raw.to_vec(),
        };
        for ext in tbs.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => info.subject_key_id = Some(hex::encode(id.0)),
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    info.authority_key_id = aki.key_identifier.as_ref().map(|k| hex::encode(k.0))
                }
                ParsedExtension::KeyUsage(ku) => {
                    info.key_usage = ku.to_string().split(", ").filter(|s| !s.is_empty()).map(str::to_owned).collect()
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    let mut names = Vec::new();
                    for (set, name) in [
                        (eku.server_auth, "serverAuth"),
                        (eku.client_auth, "clientAuth"),
                        (eku.code_signing, "codeSigning"),
                        (eku.email_protection, "emailProtection"),
                        (eku.time_stamping, "timeStamping"),
                        (eku.ocsp_signing, "OCSPSigning"),
                        (eku.any, "anyExtendedKeyUsage"),
                    ] {
                        if set {
                            names.push(name.to_owned());
                        }
                    }
                    names.extend(eku.other.iter().map(|oid| match oid.to_id_string().as_str() {
                        "1.3.6.1.5.5.7.3.5" => "ipsecEndSystem".to_owned(),
                        "1.3.6.1.5.5.7.3.6" => "ipsecTunnel".to_owned(),
                        "1.3.6.1.5.5.7.3.7" => "ipsecUser".to_owned(),
                        "1.3.6.1.5.5.7.3.17" => "ipsecIKE".to_owned(),
                        _ => oid_name(oid),
                    }));
                    info.extended_key_usage = names;
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// Whether the certificate is inside its validity period at `at`.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// The key usage list allows signing (or the extension is absent, which allows everything).
    pub fn allows_digital_signature(&self) -> bool {
        self.key_usage.is_empty() || self.key_usage.iter().any(|k| k == "Digital Signature")
    }
}

/// The dNSName entries of a certificate's subjectAltName (none when it has no SAN): the names a
/// browser checks, where CN is only a fallback of older clients.
pub fn dns_names(der: &[u8]) -> Result<Vec<String>, PkiError> {
    let (_, cert) = parse_x509_certificate(der).map_err(|e| PkiError::Parse(not_a_certificate(&e)))?;
    let san = cert.subject_alternative_name().map_err(|e| PkiError::Parse(format!("subjectAltName: {e}")))?;
    Ok(san
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(name) => Some((*name).to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
}
