//! ITL records (§4.4): one certificate and the role the phone gives it.

use opencapf_model::{printable, Role};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::tlv::{self, Cursor};
use super::{names, ItlError, MAX_RECORDS};
use crate::PkiError;

const LENGTH: u8 = 1;
const DNS_NAME: u8 = 2;
const SUBJECT: u8 = 3;
const ROLE: u8 = 4;
const ISSUER: u8 = 5;
const SERIAL: u8 = 6;
const PUBLIC_KEY: u8 = 7;
const SIGNATURE: u8 = 8;
const CERTIFICATE: u8 = 9;

/// One record of a trust list, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItlRecord {
    /// The raw role code; [`ItlRecord::role`] names it.
    pub role: u16,
    pub subject: String,
    pub issuer: String,
    /// Big-endian serial number.
    pub serial: Vec<u8>,
    /// RSA: DER PKCS#1 `RSAPublicKey`; EC: the uncompressed point `04‖X‖Y`.
    pub public_key: Vec<u8>,
    /// The certificate's own signature value.
    pub signature: Vec<u8>,
    /// The DER certificate (absent only in hand-made files).
    pub certificate: Option<Vec<u8>>,
    /// Tag 2, written only by Cisco's tools.
    pub dns_name: Option<String>,
}

impl ItlRecord {
    /// `None` for role codes whose meaning is unknown.
    pub fn role(&self) -> Option<Role> {
        Role::from_code(self.role)
    }

    /// One line for `show itl`-style printing; names escaped for a terminal.
    pub fn summary(&self) -> String {
        let role = self.role().map_or_else(|| format!("role {}", self.role), |r| r.name().to_owned());
        let certificate = self
            .certificate
            .as_ref()
            .map_or_else(|| "no certificate".to_owned(), |c| format!("{}-byte certificate", c.len()));
        format!(
            "{role:<10} {} (issuer {}, serial {}, {certificate})",
            printable(&self.subject),
            printable(&self.issuer),
            hex::encode(&self.serial)
        )
    }
}

/// Reads the records from `start` to the end of the file.
pub(super) fn parse_all(bytes: &[u8], start: usize) -> Result<Vec<ItlRecord>, ItlError> {
    let mut cur = Cursor::new(bytes, start, bytes.len(), tlv::FILE);
    let mut records = Vec::new();
    while !cur.at_end() {
        if records.len() == MAX_RECORDS {
            return Err(ItlError::TooManyRecords { limit: MAX_RECORDS });
        }
        let offset = cur.pos();
        let bad = |why: String| ItlError::BadRecord { offset, why };
        let head = cur.element()?;
        if head.tag != LENGTH || head.value.len() != 2 {
            return Err(bad(format!(
                "starts with tag {} of {} bytes, not the record length",
                head.tag,
                head.value.len()
            )));
        }
        let length = usize::from(u16::from_be_bytes([head.value[0], head.value[1]]));
        if length < 5 {
            return Err(bad(format!("record length {length} is below the 5 bytes of its own length field")));
        }
        if length > bytes.len() - offset {
            return Err(ItlError::Truncated { offset });
        }
        records.push(parse_one(Cursor::new(bytes, cur.pos(), offset + length, "record"), offset)?);
        cur = Cursor::new(bytes, offset + length, bytes.len(), tlv::FILE);
    }
    Ok(records)
}

fn parse_one(mut cur: Cursor<'_>, offset: usize) -> Result<ItlRecord, ItlError> {
    let mut role = None;
    let mut r = ItlRecord {
        role: 0,
        subject: String::new(),
        issuer: String::new(),
        serial: Vec::new(),
        public_key: Vec::new(),
        signature: Vec::new(),
        certificate: None,
        dns_name: None,
    };
    while !cur.at_end() {
        let e = cur.element()?;
        match e.tag {
            DNS_NAME => r.dns_name = Some(tlv::text(e.value)),
            SUBJECT => r.subject = tlv::text(e.value),
            ROLE => {
                let code: [u8; 2] = e.value.try_into().map_err(|_| ItlError::BadRecord {
                    offset,
                    why: format!("role of {} bytes, not 2", e.value.len()),
                })?;
                role = Some(u16::from_be_bytes(code));
            }
            ISSUER => r.issuer = tlv::text(e.value),
            SERIAL => r.serial = e.value.to_vec(),
            PUBLIC_KEY => r.public_key = e.value.to_vec(),
            SIGNATURE => r.signature = e.value.to_vec(),
            CERTIFICATE => r.certificate = Some(e.value.to_vec()),
            // 10 IP address, 11 certificate hash, 12 hash algorithm (Cisco files) and anything
            // newer: skipped by length, as phones do.
            _ => {}
        }
    }
    r.role = role.ok_or_else(|| ItlError::BadRecord { offset, why: "no role (tag 4)".into() })?;
    Ok(r)
}

/// Parses a DER certificate, with the reason in words if it is not one.
pub(super) fn certificate(der: &[u8]) -> Result<X509Certificate<'_>, ItlError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(PkiError::Parse("trailing bytes after the certificate".into()).into()),
        Err(e) => Err(PkiError::Parse(format!("not a DER X.509 certificate: {e}")).into()),
    }
}

/// One record in tlvfile's order: 1, 3, 5, 6, 4, 7, 8, 9.
pub(super) fn build(role: Role, der: &[u8]) -> Result<Vec<u8>, ItlError> {
    let cert = certificate(der)?;
    let tbs = &cert.tbs_certificate;
    let mut body = Vec::with_capacity(der.len() + 1024);
    tlv::put_text(&mut body, SUBJECT, &names::render(&tbs.subject))?;
    tlv::put_text(&mut body, ISSUER, &names::render(&tbs.issuer))?;
    tlv::put(&mut body, SERIAL, tlv::minimal(tbs.raw_serial()))?;
    tlv::put(&mut body, ROLE, &role.code().to_be_bytes())?;
    // The subjectPublicKey bit string holds exactly what tag 7 wants: PKCS#1 for RSA, the point for EC.
    tlv::put(&mut body, PUBLIC_KEY, &tbs.subject_pki.subject_public_key.data)?;
    tlv::put(&mut body, SIGNATURE, &cert.signature_value.data)?;
    tlv::put(&mut body, CERTIFICATE, der)?;
    let length = u16::try_from(body.len() + 5)
        .map_err(|_| ItlError::BadInput(format!("a record of {} bytes does not fit its u16 length", body.len() + 5)))?;
    let mut out = Vec::with_capacity(body.len() + 5);
    tlv::put(&mut out, LENGTH, &length.to_be_bytes())?;
    out.extend_from_slice(&body);
    Ok(out)
}
