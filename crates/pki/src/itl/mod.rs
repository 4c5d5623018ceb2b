//! ITL/CTL `.tlv` trust lists and `.sgn` signed files: the TLV codec the phones read over TFTP
//! and HTTP, with the signature that makes them trusted (capf-protocol.md §4.1–§4.7).
//!
//! - `tlv`: bounded reading and writing of `u8 tag, u16 length, value` elements.
//! - `names`: certificate names as the files write them (RFC 4514 escaping, DER order).
//! - `header`: the signed header shared by both kinds of file, parsed and built.
//! - `record`: the ITL records, one certificate and role each.
//! - `sign`: RSASSA-PKCS1-v1_5 with SHA-1 or SHA-512 over the file without its signature.
//! - `file`: [`Itl`] and [`SignedFile`], and the builders [`build_itl`] and [`build_sgn`].

mod file;
mod header;
mod names;
mod record;
mod sign;
mod tlv;

pub use file::{build_itl, build_sgn, Itl, SignedFile};
pub use header::FileHeader;
pub use record::ItlRecord;

use crate::{PkiError, PrivateKey};

/// Files above this size are refused: phones download at most 2048 KB.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;
/// [`build_itl`] refuses trust lists above this size: phones fail to load larger ones.
pub const MAX_ITL_BYTES: usize = 64 * 1024;
/// More records than this is not a trust list (a real one has tens); it bounds the parser's memory.
pub const MAX_RECORDS: usize = 1024;

/// The digest the file is signed with (header tag 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileHash {
    Sha1,
    Sha512,
}

impl FileHash {
    /// The code in tag 8. 2 (SHA-256) is defined, but tlvfile and phones reject it.
    pub fn code(self) -> u8 {
        match self {
            FileHash::Sha1 => 1,
            FileHash::Sha512 => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<FileHash> {
        match code {
            1 => Some(FileHash::Sha1),
            3 => Some(FileHash::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileHash::Sha1 => "SHA-1",
            FileHash::Sha512 => "SHA-512",
        }
    }
}

/// The ITL signer version (header tag 0x1C). 1.1 tells the phone to accept EC certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignerVersion {
    V1_0,
    V1_1,
}

impl SignerVersion {
    pub fn bytes(self) -> (u8, u8) {
        match self {
            SignerVersion::V1_0 => (1, 0),
            SignerVersion::V1_1 => (1, 1),
        }
    }
}

/// The key that signs: its certificate (DER) and private key. RSA 512/1024/2048/4096 only.
#[derive(Debug, Clone, Copy)]
pub struct FileSigner<'a> {
    pub certificate: &'a [u8],
    pub key: &'a PrivateKey,
}

/// Why a trust list or signed file cannot be read, built or trusted.
#[derive(Debug, thiserror::Error)]
pub enum ItlError {
    #[error("the file ends inside the element at byte {offset}")]
    Truncated { offset: usize },
    #[error("the element at byte {offset} runs past the end of its {parent}")]
    Overrun { offset: usize, parent: &'static str },
    #[error("unknown header tag {tag} at byte {offset}")]
    UnknownTag { tag: u8, offset: usize },
    #[error("bad header: {0}")]
    BadHeader(String),
    #[error("bad record at byte {offset}: {why}")]
    BadRecord { offset: usize, why: String },
    #[error("the file would be {size} bytes, above the {limit}-byte limit of the phones")]
    TooLarge { size: usize, limit: usize },
    #[error("more than {limit} records")]
    TooManyRecords { limit: usize },
    #[error("hash algorithm {0} is not supported (1 = SHA-1, 3 = SHA-512; phones reject 2 = SHA-256)")]
    UnsupportedHash(u8),
    #[error("the signing key must be RSA (phones verify trust lists and signed files with RSA only)")]
    KeyNotRsa,
    #[error("a {0}-bit RSA key cannot sign these files: the header encodes only 512, 1024, 2048 or 4096 bits")]
    KeySize(u32),
    #[error("the signer's private key does not belong to its certificate")]
    KeyMismatch,
    #[error("{0} SAST certificates: a trust list holds at most 2")]
    TooManySast(usize),
    #[error("no SAST record has the serial number the header names, so nothing verifies the file")]
    NoSigner,
    #[error("the signature does not match the file and this certificate's key")]
    SignatureMismatch,
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Pki(#[from] PkiError),
}
