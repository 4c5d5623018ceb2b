//! Trust lists ([`Itl`]) and signed files ([`SignedFile`]): read, verify, build.

use opencapf_model::Role;
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};
use x509_parser::public_key::PublicKey;

use super::header::{self, FileHeader, SignerFields};
use super::record::{self, ItlRecord};
use super::{names, sign, tlv, FileHash, FileSigner, ItlError, SignerVersion, MAX_FILE_BYTES, MAX_ITL_BYTES};

/// A trust list (`ITLFile.tlv`, `CTLFile.tlv`, or a per-phone one), as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Itl {
    pub header: FileHeader,
    pub records: Vec<ItlRecord>,
    bytes: Vec<u8>,
}

impl Itl {
    /// Reads a trust list: at most [`MAX_FILE_BYTES`], every length checked.
    pub fn parse(bytes: &[u8]) -> Result<Itl, ItlError> {
        let header = header::parse(bytes)?;
        let records = record::parse_all(bytes, usize::from(header.length))?;
        Ok(Itl { header, records, bytes: bytes.to_vec() })
    }

    /// The record whose certificate verifies the file: role SAST, serial the header's.
    pub fn signer(&self) -> Option<&ItlRecord> {
        let serial = tlv::minimal(&self.header.serial);
        self.records.iter().find(|r| r.role() == Some(Role::Sast) && tlv::minimal(&r.serial) == serial)
    }

    /// Checks the signature with this certificate's (DER) public key.
    pub fn verify_with(&self, signer_certificate: &[u8]) -> Result<(), ItlError> {
        verify(&self.header, &self.bytes, signer_certificate)
    }

    /// Checks the signature with the file's own signer ([`Itl::signer`]). Proves the file is
    /// intact and self-consistent, not that it is trusted: compare the signer with a known SAST.
    pub fn verify(&self) -> Result<(), ItlError> {
        let certificate = self.signer().and_then(|r| r.certificate.as_deref()).ok_or(ItlError::NoSigner)?;
        self.verify_with(certificate)
    }

    /// The file without its signature TLV: what the signature covers.
    pub fn bytes_signed(&self) -> Vec<u8> {
        self.header.bytes_signed(&self.bytes)
    }

    /// The file as read.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The DER certificates of the records with this role.
    pub fn certificates_with(&self, role: Role) -> impl Iterator<Item = &[u8]> {
        self.records.iter().filter(move |r| r.role == role.code()).filter_map(|r| r.certificate.as_deref())
    }
}

/// A `.sgn` file: the signed header, then the original file unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedFile {
    pub header: FileHeader,
    pub content: Vec<u8>,
    bytes: Vec<u8>,
}

impl SignedFile {
    /// Reads a signed file: at most [`MAX_FILE_BYTES`], every length checked.
    pub fn parse(bytes: &[u8]) -> Result<SignedFile, ItlError> {
        let header = header::parse(bytes)?;
        let content = bytes[usize::from(header.length)..].to_vec();
        Ok(SignedFile { header, content, bytes: bytes.to_vec() })
    }

    /// Checks the signature with this certificate's (DER) public key (the TFTP-role one).
    pub fn verify_with(&self, signer_certificate: &[u8]) -> Result<(), ItlError> {
        verify(&self.header, &self.bytes, signer_certificate)
    }

    /// The file without its signature TLV: what the signature covers.
    pub fn bytes_signed(&self) -> Vec<u8> {
        self.header.bytes_signed(&self.bytes)
    }
}

fn verify(header: &FileHeader, bytes: &[u8], certificate: &[u8]) -> Result<(), ItlError> {
    let cert = record::certificate(certificate)?;
    let spki = &cert.tbs_certificate.subject_pki;
    if !matches!(spki.parsed(), Ok(PublicKey::RSA(_))) {
        return Err(ItlError::KeyNotRsa);
    }
    sign::verify(spki.raw, header.hash, &header.bytes_signed(bytes), &header.signature)
}

/// What goes in the header about the signer, after checking that it can sign.
fn signer_fields(signer: &FileSigner<'_>) -> Result<SignerFields, ItlError> {
    let algorithm = signer.key.algorithm();
    if !algorithm.is_rsa() {
        return Err(ItlError::KeyNotRsa);
    }
    let cert = record::certificate(signer.certificate)?;
    let tbs = &cert.tbs_certificate;
    let key_spki = SubjectPublicKeyInfo::from_der(signer.key.public_key_der()).map(|(_, s)| s);
    if key_spki.map_or(true, |k| k.subject_public_key.data != tbs.subject_pki.subject_public_key.data) {
        return Err(ItlError::KeyMismatch);
    }
    Ok(SignerFields {
        name: names::render(&tbs.subject),
        issuer: names::render(&tbs.issuer),
        serial: tlv::minimal(tbs.raw_serial()).to_vec(),
        bits: algorithm.bits(),
    })
}

/// Signs `header + body` and puts the signature in the space the header left for it.
fn assemble(
    signer: &FileSigner<'_>,
    header: header::UnsignedHeader,
    body: &[u8],
    hash: FileHash,
) -> Result<Vec<u8>, ItlError> {
    let mut signed = Vec::with_capacity(header.before.len() + header.after.len() + body.len());
    signed.extend_from_slice(&header.before);
    signed.extend_from_slice(&header.after);
    signed.extend_from_slice(body);
    let signature = sign::sign(signer.key, hash, &signed)?;
    let mut out = Vec::with_capacity(signed.len() + 3 + signature.len());
    out.extend_from_slice(&header.before);
    out.extend_from_slice(&header::signature_element(&signature)?);
    out.extend_from_slice(&signed[header.before.len()..]);
    Ok(out)
}

/// A trust list (ITL or CTL): header version 1.2, this signer version, the records in the given
/// order. `filename` is the name the phone asks for (`ITLFile.tlv` also for `ITLSEP<MAC>.tlv`).
/// The signer's own SAST record must be among `records` for phones to verify the file.
pub fn build_itl(
    signer: &FileSigner<'_>,
    records: &[(Role, &[u8])],
    filename: &str,
    version: SignerVersion,
    hash: FileHash,
    timestamp: u32,
) -> Result<Vec<u8>, ItlError> {
    let sast = records.iter().filter(|(role, _)| *role == Role::Sast).count();
    if sast > 2 {
        return Err(ItlError::TooManySast(sast));
    }
    let fields = signer_fields(signer)?;
    let mut body = Vec::new();
    for (role, der) in records {
        body.extend_from_slice(&record::build(*role, der)?);
        if body.len() > MAX_ITL_BYTES {
            return Err(ItlError::TooLarge { size: body.len(), limit: MAX_ITL_BYTES });
        }
    }
    let header = header::build((1, 2), Some(version), &fields, hash, filename, timestamp)?;
    let file = assemble(signer, header, &body, hash)?;
    if file.len() > MAX_ITL_BYTES {
        return Err(ItlError::TooLarge { size: file.len(), limit: MAX_ITL_BYTES });
    }
    Ok(file)
}

/// A `.sgn` file: header version 1.0, no signer version, then `content` unchanged. The signer is
/// the TFTP-role certificate; `filename` is usually the content's name + `.sgn`.
pub fn build_sgn(
    signer: &FileSigner<'_>,
    content: &[u8],
    filename: &str,
    hash: FileHash,
    timestamp: u32,
) -> Result<Vec<u8>, ItlError> {
    let fields = signer_fields(signer)?;
    let header = header::build((1, 0), None, &fields, hash, filename, timestamp)?;
    // Phones download at most 2048 KB; a larger file would not be read back here either.
    let size = header.before.len() + header.after.len() + 3 + fields.bits as usize / 8 + content.len();
    if size > MAX_FILE_BYTES {
        return Err(ItlError::TooLarge { size, limit: MAX_FILE_BYTES });
    }
    assemble(signer, header, content, hash)
}
