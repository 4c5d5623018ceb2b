//! The 10-byte header of every TVS message (§3.2).

use super::ProtoError;

/// The first byte of every TVS message.
pub const PROTOCOL_ID: u8 = 0x57;
/// The version OpenCAPF sends; it accepts any version up to this one (tvsd v4.2).
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 10;

/// What a message is (byte 2 of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    None,
    VerifyRequest,
    VerifyResponse,
    /// Defined, element set unknown [U]: the server answers nothing.
    QueryRequest,
    QueryResponse,
}

impl Command {
    pub fn code(self) -> u8 {
        match self {
            Command::None => 0,
            Command::VerifyRequest => 1,
            Command::VerifyResponse => 2,
            Command::QueryRequest => 3,
            Command::QueryResponse => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<Command> {
        [Command::None, Command::VerifyRequest, Command::VerifyResponse, Command::QueryRequest, Command::QueryResponse]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub command: Command,
    /// Chosen by the client, echoed by the server.
    pub session: u32,
    /// Body bytes after the header.
    pub body_len: u16,
}

impl Header {
    /// The header at the start of `bytes`: protocol id 0x57, version ≤ 1, a known command. The
    /// reserved byte is ignored (tvsd once sent 0xF5 there).
    pub fn parse(bytes: &[u8]) -> Result<Header, ProtoError> {
        let Some(h) = bytes.get(..HEADER_LEN) else {
            return Err(ProtoError::Truncated { needed: HEADER_LEN, got: bytes.len() });
        };
        if h[0] != PROTOCOL_ID {
            return Err(ProtoError::ProtocolId(h[0]));
        }
        if h[1] > VERSION {
            return Err(ProtoError::Version(h[1]));
        }
        let command = Command::from_code(h[2]).ok_or(ProtoError::Command(h[2]))?;
        Ok(Header {
            version: h[1],
            command,
            session: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
            body_len: u16::from_be_bytes([h[8], h[9]]),
        })
    }

    /// A version-1 header with the reserved byte 0, followed by `body`.
    pub(crate) fn frame(command: Command, session: u32, body: &[u8]) -> Result<Vec<u8>, ProtoError> {
        let len = u16::try_from(body.len()).map_err(|_| ProtoError::TooLong { what: "body", len: body.len() })?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&[PROTOCOL_ID, VERSION, command.code(), 0]);
        out.extend_from_slice(&session.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(body);
        Ok(out)
    }
}
