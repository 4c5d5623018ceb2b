//! The TVS wire protocol (`docs/capf-protocol.md` §3): a 10-byte header, then TLV elements.
//! Pure and bounded: every parser checks its lengths and returns a [`ProtoError`].
//!
//! - `header`: [`Header`], [`Command`], the protocol id and version;
//! - `element`: the TLVs (DeviceName 1, Certificate 2, Status 7, Roles 8, TTL 9);
//! - `message`: [`VerifyRequest`], [`VerifyResponse`] with its [`Answer`], and [`Request`] (what a
//!   server may be sent).

mod element;
mod header;
mod message;

pub use header::{Command, Header, HEADER_LEN, PROTOCOL_ID, VERSION};
pub use message::{Answer, Request, VerifyRequest, VerifyResponse};

/// The longest device name accepted (`CP-8861-SEP58971ECC97C1` is 23).
pub const MAX_DEVICE_NAME: usize = 64;
/// The largest certificate a VerifyRequest may carry (real ones are 1–2 KiB).
pub const MAX_CERTIFICATE: usize = 16 * 1024;
/// The largest VerifyRequest body: the certificate and room for the name.
pub const MAX_REQUEST_BODY: usize = MAX_CERTIFICATE + 1024;

/// Why bytes are not a valid TVS message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("truncated: {needed} bytes needed, {got} present")]
    Truncated { needed: usize, got: usize },
    #[error("not TVS: protocol id {0:#04x} (expected 0x57)")]
    ProtocolId(u8),
    #[error("unsupported TVS version {0}")]
    Version(u8),
    #[error("unknown command {0}")]
    Command(u8),
    #[error("unexpected {0:?} message")]
    Unexpected(Command),
    #[error("the header announces a body of {announced} bytes, {got} present")]
    BodyLength { announced: usize, got: usize },
    #[error("element {tag} announces {len} bytes, {got} present")]
    ElementOverrun { tag: u8, len: usize, got: usize },
    #[error("element {tag} of {len} bytes has the wrong size")]
    ElementSize { tag: u8, len: usize },
    #[error("unknown element tag {0} in a request")]
    UnknownTag(u8),
    #[error("element {0} appears twice")]
    Duplicate(u8),
    #[error("no {0} element")]
    Missing(&'static str),
    /// Holds the name as sent (lossy UTF-8, not escaped: escape it before logging).
    #[error("unusable device name: {reason}")]
    DeviceName { name: String, reason: &'static str },
    #[error("certificate of {0} bytes (1 to 16384 accepted)")]
    CertificateSize(usize),
    #[error("unknown status {0}")]
    Status(u8),
    #[error("unknown role code {0}")]
    UnknownRole(u8),
    #[error("{what} of {len} bytes is too long")]
    TooLong { what: &'static str, len: usize },
}

#[cfg(test)]
mod tests;
