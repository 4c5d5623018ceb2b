//! Structures nested inside element values (§1.5). Their sub-records use the
//! same `u8 tag, u16 BE len, value` layout as elements.

use super::enums::{CertType, HashId};
use crate::proto::element::{iter_elements, ElementError};

/// Why a nested structure is malformed or cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NestedError {
    #[error("{what}: {cause}")]
    SubRecord { what: &'static str, cause: ElementError },
    #[error("certificate package has no certificate sub-record (tag 1)")]
    NoCertificateRecord,
    #[error("{what} is {have} bytes, needs at least {need}")]
    Truncated { what: &'static str, need: usize, have: usize },
    #[error("certificate does not start with a DER SEQUENCE (found 0x{0:02x})")]
    NotDerSequence(u8),
    #[error("certificate has an unsupported or indefinite DER length")]
    BadDerLength,
    #[error("certificate DER declares {declared} bytes, only {available} in its record")]
    DerPastEnd { declared: usize, available: usize },
    #[error("{what}: expected {expected} sub-record(s), found {found}")]
    RecordCount { what: &'static str, expected: usize, found: usize },
    #[error("{what} of {len} bytes exceeds the u16 limit")]
    TooLong { what: &'static str, len: usize },
}

/// A sub-record kept as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubRecord {
    pub tag: u8,
    pub value: Vec<u8>,
}

/// A certificate package, the value of element 4 (§1.5.1):
/// `01 MMMM 00 TT <DER>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPackage {
    /// The first type byte; every known peer writes 0.
    pub reserved: u8,
    /// The second type byte. capfd and capfc always write 1 (LSC), even for
    /// a MIC, so do not rely on it.
    pub cert_type: CertType,
    /// The certificate DER, cut to the length its own header declares.
    pub der: Vec<u8>,
    /// Other sub-records (none seen in any sample), re-encoded after the
    /// certificate record.
    pub extra: Vec<SubRecord>,
}

const CERT_RECORD_TAG: u8 = 1;

impl CertPackage {
    /// A package as capfd writes it: type bytes `00 01`.
    pub fn new(der: Vec<u8>) -> Self {
        Self { reserved: 0, cert_type: CertType::Lsc, der, extra: Vec::new() }
    }

    /// Robust parsing (§1.5.1): the first sub-record with tag 1 holds two
    /// type bytes (any value) then the DER, whose length comes from the DER
    /// itself; bytes after it inside that record are ignored. Other
    /// well-formed sub-records are kept in `extra`.
    pub fn parse(value: &[u8]) -> Result<Self, NestedError> {
        let mut cert = None;
        let mut extra = Vec::new();
        for record in iter_elements(value) {
            let (tag, body) = record.map_err(|cause| NestedError::SubRecord { what: "certificate package", cause })?;
            let tag = u8::from(tag);
            if tag == CERT_RECORD_TAG && cert.is_none() {
                cert = Some(body);
            } else {
                extra.push(SubRecord { tag, value: body.to_vec() });
            }
        }
        let record = cert.ok_or(NestedError::NoCertificateRecord)?;
        let [reserved, cert_type, der @ ..] = record else {
            return Err(NestedError::Truncated { what: "certificate record", need: 2, have: record.len() });
        };
        let der_len = der_total_len(der)?;
        Ok(Self { reserved: *reserved, cert_type: CertType::from(*cert_type), der: der[..der_len].to_vec(), extra })
    }

    pub fn encode(&self) -> Result<Vec<u8>, NestedError> {
        let mut record = Vec::with_capacity(2 + self.der.len());
        record.push(self.reserved);
        record.push(self.cert_type.into());
        record.extend_from_slice(&self.der);
        let mut out = Vec::new();
        push_record(&mut out, CERT_RECORD_TAG, &record, "certificate record")?;
        for r in &self.extra {
            push_record(&mut out, r.tag, &r.value, "certificate package record")?;
        }
        Ok(out)
    }
}

/// Total length (header + content) of the DER SEQUENCE at the start of
/// `der`, checked against the bytes available.
fn der_total_len(der: &[u8]) -> Result<usize, NestedError> {
    let (&tag, rest) = der.split_first().ok_or(NestedError::Truncated { what: "certificate DER", need: 2, have: 0 })?;
    if tag != 0x30 {
        return Err(NestedError::NotDerSequence(tag));
    }
    let (&first, rest) =
        rest.split_first().ok_or(NestedError::Truncated { what: "certificate DER", need: 2, have: 1 })?;
    let (len_bytes, content_len) = match first {
        0..=0x7f => (0, usize::from(first)),
        // Long form, up to 4 length bytes; 0x80 (indefinite) is not DER.
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let bytes = rest.get(..n).ok_or(NestedError::BadDerLength)?;
            let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (n, len)
        }
        _ => return Err(NestedError::BadDerLength),
    };
    let total = 2 + len_bytes + content_len;
    if total > der.len() {
        return Err(NestedError::DerPastEnd { declared: total, available: der.len() });
    }
    Ok(total)
}

/// A hash id with a signature: the value of element 20 (`HH SSSS sig`,
/// §1.5.2) and each signature sub-record of SudiData (§1.5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    pub hash: HashId,
    pub signature: Vec<u8>,
}

/// The value of element 20. capfd requires `hash` = SHA-512.
pub type Sha2SignedData = SignatureRecord;

impl SignatureRecord {
    /// Parses element 20's value: exactly one record, nothing after it.
    pub fn parse(value: &[u8]) -> Result<Self, NestedError> {
        let [record] = exact_records(value, "Sha2SignedData")?;
        Ok(Self::from(record))
    }

    pub fn encode(&self) -> Result<Vec<u8>, NestedError> {
        let mut out = Vec::new();
        push_record(&mut out, self.hash.into(), &self.signature, "signature")?;
        Ok(out)
    }
}

impl From<SubRecord> for SignatureRecord {
    fn from(r: SubRecord) -> Self {
        Self { hash: HashId::from(r.tag), signature: r.value }
    }
}

/// The value of element 16 (§1.5.3): exactly three sub-records, by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SudiData {
    /// Tag byte of the certificate record: capfc writes 0, capfd ignores it.
    pub certificate_tag: u8,
    /// DER of the SUDI certificate.
    pub certificate: Vec<u8>,
    /// Second record: capfc tags it 1 (SHA-1); capfd ignores the tag.
    pub sha1: SignatureRecord,
    /// Third record: capfd requires the tag to be 3 (SHA-512).
    pub sha512: SignatureRecord,
}

impl SudiData {
    pub fn parse(value: &[u8]) -> Result<Self, NestedError> {
        let [cert, sha1, sha512] = exact_records(value, "SudiData")?;
        Ok(Self { certificate_tag: cert.tag, certificate: cert.value, sha1: sha1.into(), sha512: sha512.into() })
    }

    pub fn encode(&self) -> Result<Vec<u8>, NestedError> {
        let mut out = Vec::new();
        push_record(&mut out, self.certificate_tag, &self.certificate, "SUDI certificate")?;
        for s in [&self.sha1, &self.sha512] {
            push_record(&mut out, s.hash.into(), &s.signature, "SUDI signature")?;
        }
        Ok(out)
    }
}

/// Exactly `N` well-formed sub-records filling `value`, in wire order.
fn exact_records<const N: usize>(value: &[u8], what: &'static str) -> Result<[SubRecord; N], NestedError> {
    let records = iter_elements(value)
        .map(|r| {
            r.map(|(tag, v)| SubRecord { tag: tag.into(), value: v.to_vec() })
                .map_err(|cause| NestedError::SubRecord { what, cause })
        })
        .collect::<Result<Vec<_>, _>>()?;
    <[SubRecord; N]>::try_from(records).map_err(|r| NestedError::RecordCount { what, expected: N, found: r.len() })
}

fn push_record(out: &mut Vec<u8>, tag: u8, value: &[u8], what: &'static str) -> Result<(), NestedError> {
    let len = u16::try_from(value.len()).map_err(|_| NestedError::TooLong { what, len: value.len() })?;
    out.push(tag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}
