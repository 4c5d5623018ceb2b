//! The signed header at the start of `.tlv` and `.sgn` files (§4.3).

use super::tlv::{self, Cursor, Element};
use super::{FileHash, ItlError, SignerVersion, MAX_FILE_BYTES};

const VERSION: u8 = 1;
const LENGTH: u8 = 2;
const SIGNER_INFO: u8 = 3;
const SIGNER_NAME: u8 = 4;
const SERIAL: u8 = 5;
const ISSUER_NAME: u8 = 6;
const SIGNATURE_INFO: u8 = 7;
const HASH: u8 = 8;
const SIGNATURE_ALGORITHM_INFO: u8 = 9;
const SIGNATURE_ALGORITHM: u8 = 10;
const SIGNATURE_MODULUS: u8 = 11;
const SIGNATURE: u8 = 12;
const PADDING: u8 = 13;
const FILENAME: u8 = 14;
const TIMESTAMP: u8 = 15;
const SIGNER_VERSION: u8 = 28;

/// Tag 11 is an index into these signature sizes; 3072-bit keys have none.
const MODULUS_BITS: [u32; 4] = [512, 1024, 2048, 4096];

/// The header of a trust list or signed file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// `(1, 2)` for `.tlv`, `(1, 0)` for `.sgn`.
    pub version: (u8, u8),
    /// Bytes from the start of the file to the records or content, signature and padding included.
    pub length: u16,
    /// Tag 0x1C, in `.tlv` files only.
    pub signer_version: Option<(u8, u8)>,
    pub signer_name: String,
    pub issuer_name: String,
    /// The signer certificate's serial number, big-endian.
    pub serial: Vec<u8>,
    pub hash: FileHash,
    pub signature_bits: u32,
    pub signature: Vec<u8>,
    /// The name the file was built for, e.g. `ITLFile.tlv`.
    pub filename: String,
    /// Unix time of building.
    pub timestamp: u32,
    /// Offset of the signature TLV, cut out before verifying.
    signature_offset: usize,
}

impl FileHeader {
    /// The file without its signature TLV: what the signature covers.
    pub(super) fn bytes_signed(&self, file: &[u8]) -> Vec<u8> {
        let cut = self.signature_offset..self.signature_offset + 3 + self.signature.len();
        let mut out = Vec::with_capacity(file.len() - cut.len());
        out.extend_from_slice(&file[..cut.start]);
        out.extend_from_slice(&file[cut.end..]);
        out
    }

    /// Two lines for `show itl`-style printing; names escaped for a terminal.
    pub fn summary(&self) -> String {
        use opencapf_model::printable;
        let (major, minor) = self.version;
        let signer_version = self.signer_version.map(|(a, b)| format!(", signer version {a}.{b}")).unwrap_or_default();
        format!(
            "{} (header {major}.{minor}{signer_version}, {}-byte header, built at {})\nsigned by {} (issuer {}, serial {}) with {} RSA-{}",
            printable(&self.filename),
            self.length,
            self.timestamp,
            printable(&self.signer_name),
            printable(&self.issuer_name),
            hex::encode(&self.serial),
            self.hash.name(),
            self.signature_bits,
        )
    }
}

/// Which element a container may sit in: signer info and signature info at the top, the
/// signature-algorithm info inside signature info. Anything else is refused, which also bounds
/// the recursion on hostile input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    SignerInfo,
    SignatureInfo,
    AlgorithmInfo,
}

#[derive(Default)]
struct Fields {
    signer_version: Option<(u8, u8)>,
    signer_name: Option<String>,
    issuer_name: Option<String>,
    serial: Option<Vec<u8>>,
    hash: Option<u8>,
    algorithm: Option<u8>,
    modulus: Option<u8>,
    signature: Option<(usize, Vec<u8>)>,
    filename: Option<String>,
    timestamp: Option<u32>,
}

fn once<T>(slot: &mut Option<T>, value: T, e: &Element<'_>) -> Result<(), ItlError> {
    if slot.is_some() {
        return Err(ItlError::BadHeader(format!("tag {} appears twice (again at byte {})", e.tag, e.offset)));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads the header; the records or content start at the returned header's `length`.
pub(super) fn parse(bytes: &[u8]) -> Result<FileHeader, ItlError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ItlError::TooLarge { size: bytes.len(), limit: MAX_FILE_BYTES });
    }
    let mut cur = Cursor::new(bytes, 0, bytes.len(), tlv::FILE);
    let version = cur.element()?;
    if version.tag != VERSION {
        return Err(ItlError::BadHeader(format!("the file starts with tag {}, not the header version", version.tag)));
    }
    let version = tlv::fixed::<2>(&version, "header version")?;
    let length = cur.element()?;
    if length.tag != LENGTH {
        return Err(ItlError::BadHeader(format!("tag {} where the header length belongs", length.tag)));
    }
    let length = u16::from_be_bytes(tlv::fixed::<2>(&length, "header length")?);
    let end = usize::from(length);
    if end < cur.pos() || end > bytes.len() {
        return Err(ItlError::BadHeader(format!(
            "header length {length} is outside the file ({} bytes, header fields from byte {})",
            bytes.len(),
            cur.pos()
        )));
    }
    let mut fields = Fields::default();
    walk(Cursor::new(bytes, cur.pos(), end, "header"), Level::Top, &mut fields)?;
    finish(fields, (version[0], version[1]), length)
}

fn walk(mut cur: Cursor<'_>, level: Level, f: &mut Fields) -> Result<(), ItlError> {
    while !cur.at_end() {
        let offset = cur.pos();
        let tag = cur.u8()?;
        if tag == PADDING {
            continue; // one bare byte, no length
        }
        let e = cur.value_after_tag(tag, offset)?;
        let inner = match (tag, level) {
            (SIGNER_INFO, Level::Top) => Some(Level::SignerInfo),
            (SIGNATURE_INFO, Level::Top) => Some(Level::SignatureInfo),
            (SIGNATURE_ALGORITHM_INFO, Level::SignatureInfo) => Some(Level::AlgorithmInfo),
            (SIGNER_INFO | SIGNATURE_INFO | SIGNATURE_ALGORITHM_INFO, _) => {
                return Err(ItlError::BadHeader(format!("container tag {tag} at byte {offset} is misplaced")))
            }
            _ => None,
        };
        match inner {
            Some(inner) => walk(cur.inside(&e, "container"), inner, f)?,
            None => field(&e, f)?,
        }
    }
    Ok(())
}

fn field(e: &Element<'_>, f: &mut Fields) -> Result<(), ItlError> {
    match e.tag {
        SIGNER_VERSION => {
            let [a, b] = tlv::fixed::<2>(e, "signer version")?;
            once(&mut f.signer_version, (a, b), e)
        }
        SIGNER_NAME => once(&mut f.signer_name, tlv::text(e.value), e),
        ISSUER_NAME => once(&mut f.issuer_name, tlv::text(e.value), e),
        SERIAL => once(&mut f.serial, e.value.to_vec(), e),
        HASH => once(&mut f.hash, tlv::fixed::<1>(e, "hash algorithm")?[0], e),
        SIGNATURE_ALGORITHM => once(&mut f.algorithm, tlv::fixed::<1>(e, "signature algorithm")?[0], e),
        SIGNATURE_MODULUS => once(&mut f.modulus, tlv::fixed::<1>(e, "signature modulus")?[0], e),
        SIGNATURE => once(&mut f.signature, (e.offset, e.value.to_vec()), e),
        FILENAME => once(&mut f.filename, tlv::text(e.value), e),
        TIMESTAMP => once(&mut f.timestamp, u32::from_be_bytes(tlv::fixed::<4>(e, "timestamp")?), e),
        VERSION | LENGTH => Err(ItlError::BadHeader(format!("tag {} again at byte {}", e.tag, e.offset))),
        // Unknown header tags are an error, as in tlvfile: the signature might not cover them.
        tag => Err(ItlError::UnknownTag { tag, offset: e.offset }),
    }
}

fn finish(f: Fields, version: (u8, u8), length: u16) -> Result<FileHeader, ItlError> {
    let missing = |what: &str| ItlError::BadHeader(format!("no {what}"));
    let hash = f.hash.ok_or_else(|| missing("hash algorithm (tag 8)"))?;
    let hash = FileHash::from_code(hash).ok_or(ItlError::UnsupportedHash(hash))?;
    let (signature_offset, signature) = f.signature.ok_or_else(|| missing("signature (tag 12)"))?;
    if f.algorithm.is_some_and(|a| a != 0) {
        return Err(ItlError::BadHeader(format!(
            "signature algorithm {} (only 0, RSA, is known)",
            f.algorithm.unwrap_or(0)
        )));
    }
    let signature_bits = match f.modulus {
        Some(i) => *MODULUS_BITS
            .get(usize::from(i))
            .ok_or_else(|| ItlError::BadHeader(format!("signature modulus index {i} (0–3 are defined)")))?,
        None => u32::try_from(signature.len() * 8).unwrap_or(u32::MAX),
    };
    Ok(FileHeader {
        version,
        length,
        signer_version: f.signer_version,
        signer_name: f.signer_name.unwrap_or_default(),
        issuer_name: f.issuer_name.unwrap_or_default(),
        serial: f.serial.ok_or_else(|| missing("signer serial number (tag 5)"))?,
        hash,
        signature_bits,
        signature,
        filename: f.filename.unwrap_or_default(),
        timestamp: f.timestamp.unwrap_or(0),
        signature_offset,
    })
}

/// What the builder needs to know of its signer.
pub(super) struct SignerFields {
    pub(super) name: String,
    pub(super) issuer: String,
    pub(super) serial: Vec<u8>,
    pub(super) bits: u32,
}

/// A header with an empty space where the signature goes: the bytes before it, the bytes after
/// it. Their lengths plus `3 + bits / 8` make the header length written in them.
pub(super) struct UnsignedHeader {
    pub(super) before: Vec<u8>,
    pub(super) after: Vec<u8>,
}

/// Builds a header in tlvfile's order: 1, 2, [28], 3 {4, 6, 5}, 7 {8, 9 {10, 11}}, (12), 14, 15, 13*.
pub(super) fn build(
    version: (u8, u8),
    signer_version: Option<SignerVersion>,
    signer: &SignerFields,
    hash: FileHash,
    filename: &str,
    timestamp: u32,
) -> Result<UnsignedHeader, ItlError> {
    let modulus = MODULUS_BITS.iter().position(|&b| b == signer.bits).ok_or(ItlError::KeySize(signer.bits))?;
    let mut before = Vec::with_capacity(128);
    tlv::put(&mut before, VERSION, &[version.0, version.1])?;
    tlv::put(&mut before, LENGTH, &[0, 0])?; // filled in below
    if let Some(v) = signer_version {
        let (a, b) = v.bytes();
        tlv::put(&mut before, SIGNER_VERSION, &[a, b])?;
    }
    let mut info = Vec::new();
    tlv::put_text(&mut info, SIGNER_NAME, &signer.name)?;
    tlv::put_text(&mut info, ISSUER_NAME, &signer.issuer)?;
    tlv::put(&mut info, SERIAL, &signer.serial)?;
    tlv::put(&mut before, SIGNER_INFO, &info)?;
    let mut algorithm = Vec::new();
    tlv::put(&mut algorithm, SIGNATURE_ALGORITHM, &[0])?; // 0: RSA [U], the only value tlvfile writes
    tlv::put(&mut algorithm, SIGNATURE_MODULUS, &[modulus as u8])?;
    let mut sig_info = Vec::new();
    tlv::put(&mut sig_info, HASH, &[hash.code()])?;
    tlv::put(&mut sig_info, SIGNATURE_ALGORITHM_INFO, &algorithm)?;
    tlv::put(&mut before, SIGNATURE_INFO, &sig_info)?;

    let mut after = Vec::with_capacity(64);
    if filename.is_empty() {
        return Err(ItlError::BadInput("the file name is empty".into()));
    }
    tlv::put_text(&mut after, FILENAME, filename)?;
    tlv::put(&mut after, TIMESTAMP, &timestamp.to_be_bytes())?;
    let unpadded = before.len() + 3 + signer.bits as usize / 8 + after.len();
    let padding = (4 - unpadded % 4) % 4;
    after.resize(after.len() + padding, PADDING);
    let length = u16::try_from(unpadded + padding)
        .map_err(|_| ItlError::BadInput(format!("the header would be {} bytes, above 65535", unpadded + padding)))?;
    before[8..10].copy_from_slice(&length.to_be_bytes()); // tag 1 is 5 bytes, tag 2's value at 8
    Ok(UnsignedHeader { before, after })
}

/// The signature TLV for the space [`build`] left.
pub(super) fn signature_element(signature: &[u8]) -> Result<Vec<u8>, ItlError> {
    let mut out = Vec::with_capacity(3 + signature.len());
    tlv::put(&mut out, SIGNATURE, signature)?;
    Ok(out)
}
