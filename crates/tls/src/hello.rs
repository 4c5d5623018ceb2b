//! The ClientHello, read without consuming it: the connection then goes, untouched, to
//! whichever engine [`crate::choose`] picks.
//!
//! Bounded: one record of at most 2^14 bytes plus its header, and the whole ClientHello must sit
//! in that first record (every phone's does; a hello split across records is refused).

use std::time::Duration;

use tls_parser::{parse_tls_client_hello_extensions, parse_tls_handshake_client_hello, TlsExtension};
use tokio::net::TcpStream;

/// A record header: content type, version, length.
const RECORD_HEADER: usize = 5;
/// The largest plaintext record TLS allows (RFC 5246 §6.2.1).
pub const MAX_HELLO_RECORD: usize = 16384;
const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;

/// What a ClientHello offers, as far as choosing an engine needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloSummary {
    /// The version in the record header (0x0301 for most clients, whatever they offer).
    pub record_version: u16,
    /// `client_version`: the highest version offered, unless `supported_versions` is present.
    pub legacy_version: u16,
    /// The `supported_versions` extension (TLS 1.3 clients), GREASE values removed; empty when absent.
    pub supported_versions: Vec<u16>,
    /// In the client's order, GREASE and signalling values included.
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    /// Extension types in the client's order.
    pub extensions: Vec<u16>,
}

impl ClientHelloSummary {
    /// Every TLS version offered (0x0301 TLS 1.0 .. 0x0304 TLS 1.3), lowest first: the
    /// `supported_versions` list when present, else every version from TLS 1.0 to `client_version`.
    pub fn offered_versions(&self) -> Vec<u16> {
        let mut v: Vec<u16> = if self.supported_versions.is_empty() {
            (0x0301..=self.legacy_version.min(0x0303)).collect()
        } else {
            self.supported_versions.iter().copied().filter(|v| (0x0301..=0x0304).contains(v)).collect()
        };
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Parses one TLS record holding a whole ClientHello (header included).
    pub fn parse(bytes: &[u8]) -> Result<Self, HelloError> {
        let body_len = record_length(bytes)?;
        let body = bytes.get(RECORD_HEADER..RECORD_HEADER + body_len).ok_or(HelloError::Truncated)?;
        let record_version = u16::from_be_bytes([bytes[1], bytes[2]]);
        let [msg_type, a, b, c, message @ ..] = body else { return Err(HelloError::Fragmented) };
        if *msg_type != CLIENT_HELLO {
            return Err(HelloError::NotClientHello(*msg_type));
        }
        let len = u32::from_be_bytes([0, *a, *b, *c]) as usize;
        let message = message.get(..len).ok_or(HelloError::Fragmented)?;
        let (_, hello) = parse_tls_handshake_client_hello(message).map_err(|_| HelloError::Malformed)?;
        let ext = match hello.ext {
            Some(raw) => parse_tls_client_hello_extensions(raw).map_err(|_| HelloError::Malformed)?.1,
            None => Vec::new(),
        };
        let supported_versions = ext
            .iter()
            .find_map(|e| match e {
                TlsExtension::SupportedVersions(v) => Some(v.iter().map(|v| v.0).filter(|v| !is_grease(*v)).collect()),
                _ => None,
            })
            .unwrap_or_default();
        Ok(ClientHelloSummary {
            record_version,
            legacy_version: hello.version.0,
            supported_versions,
            cipher_suites: hello.ciphers.iter().map(|c| c.0).collect(),
            compression_methods: hello.comp.iter().map(|c| c.0).collect(),
            extensions: extension_types(hello.ext.unwrap_or_default()),
        })
    }
}

/// Why the first bytes of a connection are not a ClientHello this server reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    #[error("the client closed the connection before its ClientHello was complete")]
    Truncated,
    #[error("an SSLv2-format ClientHello (SSL 2.0 and SSLv2-compatible hellos are not served)")]
    Sslv2,
    #[error("not TLS: the first byte is 0x{0:02x}, not a handshake record")]
    NotTls(u8),
    #[error("a TLS record of {0} bytes, over the limit of 16384")]
    Oversize(usize),
    #[error("the first handshake message is of type {0}, not a ClientHello")]
    NotClientHello(u8),
    #[error("a ClientHello split across TLS records (not served)")]
    Fragmented,
    #[error("a malformed ClientHello")]
    Malformed,
    #[error("no complete ClientHello within the time limit")]
    Timeout,
    #[error("reading the ClientHello: {0}")]
    Io(String),
}

/// The record body length, once the header is there: checks that this is a TLS handshake
/// record of a sane size. `Truncated` while fewer than 5 bytes are known.
fn record_length(bytes: &[u8]) -> Result<usize, HelloError> {
    if let [first, _, third, ..] = bytes {
        // SSLv2 framing: a 2-byte length with the top bit set, then message type 1.
        if first & 0x80 != 0 && *third == CLIENT_HELLO {
            return Err(HelloError::Sslv2);
        }
    }
    let Some(header) = bytes.get(..RECORD_HEADER) else {
        return match bytes.first() {
            Some(&b) if b != HANDSHAKE => Err(HelloError::NotTls(b)),
            _ => Err(HelloError::Truncated),
        };
    };
    if header[0] != HANDSHAKE || header[1] != 3 {
        return Err(HelloError::NotTls(header[0]));
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if len > MAX_HELLO_RECORD {
        return Err(HelloError::Oversize(len));
    }
    Ok(len)
}

fn extension_types(mut raw: &[u8]) -> Vec<u16> {
    let mut types = Vec::new();
    while let [a, b, c, d, rest @ ..] = raw {
        types.push(u16::from_be_bytes([*a, *b]));
        let len = usize::from(u16::from_be_bytes([*c, *d]));
        raw = rest.get(len..).unwrap_or_default();
    }
    types
}

/// GREASE values (RFC 8701): 0x?a?a with both bytes equal.
pub(crate) fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Waits for the first record and parses the ClientHello in it, leaving every byte in the
/// socket. `TcpStream::peek` returns at once while bytes are queued, so an incomplete record is
/// peeked again after a short pause (2 to 50 ms, bounded by `timeout`), not in a busy loop.
pub async fn peek_client_hello(tcp: &TcpStream, timeout: Duration) -> Result<ClientHelloSummary, HelloError> {
    tokio::time::timeout(timeout, peek_loop(tcp)).await.map_err(|_| HelloError::Timeout)?
}

async fn peek_loop(tcp: &TcpStream) -> Result<ClientHelloSummary, HelloError> {
    let mut buf = vec![0u8; RECORD_HEADER + MAX_HELLO_RECORD];
    let mut pause = Duration::from_millis(2);
    loop {
        let n = tcp.peek(&mut buf).await.map_err(|e| HelloError::Io(e.to_string()))?;
        let bytes = &buf[..n];
        match record_length(bytes) {
            Ok(len) if n >= RECORD_HEADER + len => return ClientHelloSummary::parse(bytes),
            Ok(_) | Err(HelloError::Truncated) => {}
            Err(e) => return Err(e),
        }
        if n == 0 {
            return Err(HelloError::Truncated);
        }
        // A FIN behind queued bytes does not show through `peek`: a client that sends part of
        // a hello and closes waits out the timeout like one that stays silent.
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests;
