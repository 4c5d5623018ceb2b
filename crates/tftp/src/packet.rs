//! TFTP packets (RFC 1350, options RFC 2347): parsing bounded by the datagram, and encoding.

use std::fmt;

/// The largest request RFC 2347 allows (the RRQ/WRQ with its options).
pub const MAX_REQUEST: usize = 512;
/// Options one request may carry; a longer list is refused (an option flood).
pub const MAX_OPTIONS: usize = 8;

/// A TFTP error code (RFC 1350 §5, RFC 2347 adds 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotDefined = 0,
    FileNotFound = 1,
    AccessViolation = 2,
    DiskFull = 3,
    IllegalOperation = 4,
    UnknownTransferId = 5,
    FileExists = 6,
    NoSuchUser = 7,
    OptionRefused = 8,
}

impl ErrorCode {
    fn from_u16(code: u16) -> Option<ErrorCode> {
        use ErrorCode::*;
        Some(match code {
            0 => NotDefined,
            1 => FileNotFound,
            2 => AccessViolation,
            3 => DiskFull,
            4 => IllegalOperation,
            5 => UnknownTransferId,
            6 => FileExists,
            7 => NoSuchUser,
            8 => OptionRefused,
            _ => return None,
        })
    }
}

/// The transfer mode of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Octet,
    /// Lines end in CR LF on the wire, a lone CR is CR NUL (RFC 1350, after Telnet).
    Netascii,
}

/// A read or write request: file name, mode, and options in the order sent (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub filename: String,
    pub mode: Mode,
    pub options: Vec<(String, String)>,
}

/// One TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Rrq(Request),
    Wrq(Request),
    Data {
        block: u16,
        data: Vec<u8>,
    },
    Ack {
        block: u16,
    },
    /// `code` is kept raw: a peer may send codes RFC 1350 does not define.
    Error {
        code: u16,
        message: String,
    },
    Oack {
        options: Vec<(String, String)>,
    },
}

/// Why a datagram is not a TFTP packet this server accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("datagram shorter than its opcode and fields")]
    Truncated,
    #[error("unknown opcode {0}")]
    UnknownOpcode(u16),
    #[error("a string field is not NUL-terminated")]
    Unterminated,
    #[error("a string field is not UTF-8")]
    NotText,
    #[error("transfer mode {0:?} is not octet or netascii")]
    BadMode(String),
    #[error("request of {0} bytes is above the 512 RFC 2347 allows")]
    TooLong(usize),
    #[error("more than 8 options")]
    TooManyOptions,
    #[error("option {0:?} sent twice")]
    RepeatedOption(String),
    #[error("option {0:?} has no value")]
    OptionWithoutValue(String),
}

impl PacketError {
    /// The TFTP error answering a request that failed to parse with this.
    pub fn code(&self) -> ErrorCode {
        match self {
            PacketError::TooLong(_) | PacketError::TooManyOptions | PacketError::RepeatedOption(_) => {
                ErrorCode::OptionRefused
            }
            _ => ErrorCode::IllegalOperation,
        }
    }
}

impl Packet {
    /// Parses one datagram. Requests are held to RFC 2347's limits (512 bytes, and here at most
    /// [`MAX_OPTIONS`] options, none repeated); the rest is bounded by the datagram.
    pub fn parse(datagram: &[u8]) -> Result<Packet, PacketError> {
        let (op, body) = split_u16(datagram)?;
        match op {
            1 | 2 => {
                if datagram.len() > MAX_REQUEST {
                    return Err(PacketError::TooLong(datagram.len()));
                }
                let request = parse_request(body)?;
                Ok(if op == 1 { Packet::Rrq(request) } else { Packet::Wrq(request) })
            }
            3 => {
                let (block, data) = split_u16(body)?;
                Ok(Packet::Data { block, data: data.to_vec() })
            }
            4 => Ok(Packet::Ack { block: split_u16(body)?.0 }),
            5 => {
                let (code, rest) = split_u16(body)?;
                // A message without its NUL, or not UTF-8, is still an error: keep what is there.
                let text = rest.split(|&b| b == 0).next().unwrap_or_default();
                Ok(Packet::Error { code, message: String::from_utf8_lossy(text).into_owned() })
            }
            6 => Ok(Packet::Oack { options: parse_options(body)? }),
            other => Err(PacketError::UnknownOpcode(other)),
        }
    }

    /// The datagram of this packet.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Packet::Rrq(r) | Packet::Wrq(r) => {
                out.extend_from_slice(&(if matches!(self, Packet::Rrq(_)) { 1u16 } else { 2 }).to_be_bytes());
                push_str(&mut out, &r.filename);
                push_str(&mut out, if r.mode == Mode::Octet { "octet" } else { "netascii" });
                push_options(&mut out, &r.options);
            }
            Packet::Data { block, data } => return data_packet(*block, data),
            Packet::Ack { block } => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
            }
            Packet::Error { code, message } => {
                out.extend_from_slice(&5u16.to_be_bytes());
                out.extend_from_slice(&code.to_be_bytes());
                push_str(&mut out, message);
            }
            Packet::Oack { options } => {
                out.extend_from_slice(&6u16.to_be_bytes());
                push_options(&mut out, options);
            }
        }
        out
    }

    /// An ERROR packet.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Packet {
        Packet::Error { code: code as u16, message: message.into() }
    }

    /// The known error code of an ERROR packet.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Packet::Error { code, .. } => ErrorCode::from_u16(*code),
            _ => None,
        }
    }
}

/// A DATA packet, without building a [`Packet`] (no copy of the block).
pub(crate) fn data_packet(block: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + data.len());
    out.extend_from_slice(&3u16.to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(data);
    out
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Mode::Octet { "octet" } else { "netascii" })
    }
}

fn split_u16(bytes: &[u8]) -> Result<(u16, &[u8]), PacketError> {
    match bytes {
        [a, b, rest @ ..] => Ok((u16::from_be_bytes([*a, *b]), rest)),
        _ => Err(PacketError::Truncated),
    }
}

/// The NUL-terminated strings of `body`; it must end in NUL.
fn strings(body: &[u8]) -> Result<Vec<&str>, PacketError> {
    let Some(body) = body.strip_suffix(&[0]) else {
        return Err(if body.is_empty() { PacketError::Truncated } else { PacketError::Unterminated });
    };
    body.split(|&b| b == 0).map(|s| std::str::from_utf8(s).map_err(|_| PacketError::NotText)).collect()
}

fn parse_request(body: &[u8]) -> Result<Request, PacketError> {
    let fields = strings(body)?;
    let [filename, mode, rest @ ..] = fields.as_slice() else {
        return Err(PacketError::Truncated);
    };
    let mode = match mode.to_ascii_lowercase().as_str() {
        "octet" => Mode::Octet,
        "netascii" => Mode::Netascii,
        _ => return Err(PacketError::BadMode((*mode).to_string())),
    };
    Ok(Request { filename: (*filename).to_string(), mode, options: options_of(rest)? })
}

fn parse_options(body: &[u8]) -> Result<Vec<(String, String)>, PacketError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    options_of(&strings(body)?)
}

fn options_of(fields: &[&str]) -> Result<Vec<(String, String)>, PacketError> {
    // Some clients pad requests with NULs: empty trailing fields are not options.
    let mut fields = fields;
    while let [head @ .., ""] = fields {
        fields = head;
    }
    if fields.len() > 2 * MAX_OPTIONS {
        return Err(PacketError::TooManyOptions);
    }
    let mut options: Vec<(String, String)> = Vec::with_capacity(fields.len() / 2);
    for pair in fields.chunks(2) {
        let name = pair[0].to_ascii_lowercase();
        let Some(value) = pair.get(1) else { return Err(PacketError::OptionWithoutValue(name)) };
        if options.iter().any(|(n, _)| *n == name) {
            return Err(PacketError::RepeatedOption(name));
        }
        options.push((name, (*value).to_string()));
    }
    Ok(options)
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn push_options(out: &mut Vec<u8>, options: &[(String, String)]) {
    for (name, value) in options {
        push_str(out, name);
        push_str(out, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrq(fields: &[&str]) -> Vec<u8> {
        let mut d = vec![0, 1];
        for f in fields {
            push_str(&mut d, f);
        }
        d
    }

    #[test]
    fn a_read_request_with_options_round_trips() {
        let d = rrq(&["ITLFile.tlv", "OCTET", "BLKSIZE", "1024", "tsize", "0"]);
        let p = Packet::parse(&d).unwrap();
        let Packet::Rrq(r) = &p else { panic!("{p:?}") };
        assert_eq!(r.filename, "ITLFile.tlv");
        assert_eq!(r.mode, Mode::Octet);
        assert_eq!(r.options, [("blksize".into(), "1024".into()), ("tsize".into(), "0".into())]);
        assert_eq!(Packet::parse(&p.encode()).unwrap(), p);
    }

    #[test]
    fn hostile_requests_get_the_error_that_names_them() {
        assert_eq!(Packet::parse(&rrq(&["a", "mail"])).unwrap_err().code(), ErrorCode::IllegalOperation);
        assert_eq!(Packet::parse(&[0, 9, 0, 0]).unwrap_err(), PacketError::UnknownOpcode(9));
        assert_eq!(Packet::parse(&[0, 1, b'a']).unwrap_err(), PacketError::Unterminated);
        assert_eq!(Packet::parse(&[0]).unwrap_err(), PacketError::Truncated);
        let repeated = rrq(&["a", "octet", "tsize", "0", "TSIZE", "0"]);
        assert_eq!(Packet::parse(&repeated).unwrap_err(), PacketError::RepeatedOption("tsize".into()));
        let mut many = vec!["a", "octet"];
        let names: Vec<String> = (0..9).map(|i| format!("x{i}")).collect();
        for n in &names {
            many.extend([n.as_str(), "1"]);
        }
        assert_eq!(Packet::parse(&rrq(&many)).unwrap_err().code(), ErrorCode::OptionRefused);
        let long = "a".repeat(600);
        assert!(matches!(Packet::parse(&rrq(&[&long, "octet"])), Err(PacketError::TooLong(_))));
    }

    #[test]
    fn trailing_padding_is_not_an_option() {
        let mut d = rrq(&["a", "octet"]);
        d.extend([0, 0]);
        let Packet::Rrq(r) = Packet::parse(&d).unwrap() else { panic!() };
        assert!(r.options.is_empty());
    }

    #[test]
    fn errors_keep_unknown_codes_and_unterminated_text() {
        let p = Packet::parse(&[0, 5, 0, 42, b'h', b'i']).unwrap();
        assert_eq!(p, Packet::Error { code: 42, message: "hi".into() });
        assert_eq!(p.error_code(), None);
    }
}
