//! Message framing (§1.2): an 8-byte header, then a body of TLV elements.
//!
//! | offset | size | field                              |
//! |--------|------|------------------------------------|
//! | 0      | 1    | protocol id, always [`MAGIC`]      |
//! | 1      | 1    | command ([`Command`])              |
//! | 2      | 4    | session id, u32 BE                 |
//! | 6      | 2    | body length, u16 BE (header not counted) |

use tokio::io::{AsyncRead, AsyncReadExt};

use super::element::{ElementError, ElementSet};

/// The protocol id that starts every CAPF message.
pub const MAGIC: u8 = 0x55;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 8;
/// The largest body a u16 length can declare.
pub const MAX_BODY_LEN: usize = u16::MAX as usize;

open_code_enum! {
    /// Command codes (§1.3). Only 1–4, 9–15 and 17 are used by known peers;
    /// the others are defined by name only.
    pub enum Command {
        AuthRequest = 1,
        AuthResponse = 2,
        KeyGenRequest = 3,
        KeyGenResponse = 4,
        /// 5 is the *response*, 6 the request: the numbering is upstream's.
        EncryptResponse = 5,
        EncryptRequest = 6,
        DecryptRequest = 7,
        DecryptResponse = 8,
        StoreCertificateRequest = 9,
        StoreCertificateResponse = 10,
        FetchCertificateRequest = 11,
        FetchCertificateResponse = 12,
        DeleteCertificateRequest = 13,
        DeleteCertificateResponse = 14,
        EndSession = 15,
        RetryLater = 16,
        RequestInProgress = 17,
        StatusRequest = 18,
        StatusResponse = 19,
        AbortRequest = 20,
        AbortResponse = 21,
        SignCertificateRequest = 22,
        SignCertificateResponse = 23,
    }
}

/// Why bytes are not a valid frame, or why reading one failed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("bad protocol id 0x{0:02x} (expected 0x55)")]
    BadMagic(u8),
    #[error("truncated header: {got} of 8 bytes")]
    TruncatedHeader { got: usize },
    #[error("truncated body: {got} of {expected} declared bytes")]
    TruncatedBody { expected: usize, got: usize },
    #[error("{extra} bytes after the {expected}-byte message")]
    TrailingBytes { expected: usize, extra: usize },
    #[error("body of {len} bytes exceeds the u16 limit of 65535")]
    BodyTooLong { len: usize },
    #[error("connection closed before a message started")]
    Closed,
    #[error("I/O error while reading a message: {0}")]
    Io(std::io::Error),
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// The decoded fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: Command,
    pub session_id: u32,
    pub body_len: u16,
}

impl Header {
    /// Parses the first 8 bytes of `bytes`; anything after them is ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, FrameError> {
        let h: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(FrameError::TruncatedHeader { got: bytes.len() })?;
        if h[0] != MAGIC {
            return Err(FrameError::BadMagic(h[0]));
        }
        Ok(Self {
            command: Command::from(h[1]),
            session_id: u32::from_be_bytes([h[2], h[3], h[4], h[5]]),
            body_len: u16::from_be_bytes([h[6], h[7]]),
        })
    }

    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0] = MAGIC;
        h[1] = self.command.into();
        h[2..6].copy_from_slice(&self.session_id.to_be_bytes());
        h[6..8].copy_from_slice(&self.body_len.to_be_bytes());
        h
    }
}

/// A whole message with its body left as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    pub command: Command,
    pub session_id: u32,
    pub body: Vec<u8>,
}

impl RawMessage {
    pub fn new(command: Command, session_id: u32, body: Vec<u8>) -> Self {
        Self { command, session_id, body }
    }

    /// Header and body in one buffer: phones stall when a message is split
    /// over two TLS records (§1.1), so the caller must write it in one go.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let body_len = u16::try_from(self.body.len()).map_err(|_| FrameError::BodyTooLong { len: self.body.len() })?;
        let header = Header { command: self.command, session_id: self.session_id, body_len };
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&self.body);
        Ok(out)
    }

    /// Decodes exactly one message: `bytes` must hold the header and exactly
    /// the declared body, no less and no more.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let header = Header::parse(bytes)?;
        let expected = usize::from(header.body_len);
        let body = &bytes[HEADER_LEN..];
        if body.len() < expected {
            return Err(FrameError::TruncatedBody { expected, got: body.len() });
        }
        if body.len() > expected {
            return Err(FrameError::TrailingBytes { expected: HEADER_LEN + expected, extra: body.len() - expected });
        }
        Ok(Self::new(header.command, header.session_id, body.to_vec()))
    }

    /// Parses the body into elements.
    pub fn elements(&self) -> Result<ElementSet, ElementError> {
        ElementSet::parse(&self.body)
    }
}

/// Reads one message: exactly 8 header bytes, then exactly the declared
/// body, however the peer's bytes are split across reads. Allocates at most
/// the declared u16 length and never reads past the message's end.
///
/// A stream that ends before the first byte gives [`FrameError::Closed`];
/// one that ends inside a message gives a truncation error.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R) -> Result<RawMessage, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_full(r, &mut header).await?;
    if got == 0 {
        return Err(FrameError::Closed);
    }
    if got < HEADER_LEN {
        return Err(FrameError::TruncatedHeader { got });
    }
    // Checked before reading on, so a non-CAPF peer is dropped at once.
    let header = Header::parse(&header)?;
    let expected = usize::from(header.body_len);
    let mut body = vec![0u8; expected];
    let got = read_full(r, &mut body).await?;
    if got < expected {
        return Err(FrameError::TruncatedBody { expected, got });
    }
    Ok(RawMessage::new(header.command, header.session_id, body))
}

/// Fills `buf` unless the stream ends first; returns how much was filled.
async fn read_full<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]).await {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_23_commands_round_trip_and_unknown_codes_are_kept() {
        for code in 1..=23u8 {
            let c = Command::from(code);
            assert!(!matches!(c, Command::Unknown(_)), "code {code}");
            assert_eq!(u8::from(c), code);
        }
        for code in [0u8, 24, 0x55, 255] {
            assert_eq!(Command::from(code), Command::Unknown(code));
            assert_eq!(u8::from(Command::Unknown(code)), code);
        }
    }

    #[test]
    fn header_bytes_are_big_endian() {
        let h = Header { command: Command::EndSession, session_id: 0x0102_0304, body_len: 0x0506 };
        assert_eq!(h.to_bytes(), [0x55, 15, 1, 2, 3, 4, 5, 6]);
        assert_eq!(Header::parse(&h.to_bytes()).unwrap(), h);
    }

    #[test]
    fn encode_rejects_a_body_over_65535() {
        let m = RawMessage::new(Command::EndSession, 1, vec![0; MAX_BODY_LEN + 1]);
        assert!(matches!(m.encode(), Err(FrameError::BodyTooLong { len: 65536 })));
        let m = RawMessage::new(Command::EndSession, 1, vec![0; MAX_BODY_LEN]);
        assert_eq!(m.encode().unwrap().len(), HEADER_LEN + MAX_BODY_LEN);
    }
}
