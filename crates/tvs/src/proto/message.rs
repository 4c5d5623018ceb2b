//! The messages: VerifyRequest (phone → TVS) and VerifyResponse (TVS → phone), §3.4.

use opencapf_model::Role;

use super::element::{self, CERTIFICATE, DEVICE_NAME, ROLES, STATUS, TTL};
use super::{Command, Header, ProtoError, HEADER_LEN, MAX_CERTIFICATE, MAX_DEVICE_NAME, MAX_REQUEST_BODY};

/// "Is this certificate trusted, and for what?"
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    /// Chosen by the phone; the answer echoes it.
    pub session: u32,
    /// `CP-<model>-SEP<MAC>`, as the phone sends it (only logged).
    pub device_name: String,
    /// DER, as the server presented it to the phone.
    pub certificate: Vec<u8>,
}

/// The TVS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The cluster vouches for the certificate in these roles; the phone may cache this `ttl`
    /// seconds.
    Valid {
        roles: Vec<Role>,
        ttl: u32,
    },
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyResponse {
    pub session: u32,
    pub answer: Answer,
}

/// A request as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Verify(VerifyRequest),
    /// A QueryRequest: its elements are unknown [U], so only its session is kept.
    Query {
        session: u32,
    },
}

impl Request {
    /// A whole message (header and body, nothing after).
    pub fn parse(msg: &[u8]) -> Result<Request, ProtoError> {
        let (header, body) = split(msg)?;
        match header.command {
            Command::VerifyRequest => Ok(Request::Verify(VerifyRequest::from_body(header.session, body)?)),
            Command::QueryRequest => Ok(Request::Query { session: header.session }),
            other => Err(ProtoError::Unexpected(other)),
        }
    }
}

/// The header and the body it announces; bytes missing or left over are an error.
fn split(msg: &[u8]) -> Result<(Header, &[u8]), ProtoError> {
    let header = Header::parse(msg)?;
    let body = &msg[HEADER_LEN..];
    let len = usize::from(header.body_len);
    if body.len() != len {
        return Err(ProtoError::BodyLength { announced: len, got: body.len() });
    }
    Ok((header, body))
}

impl VerifyRequest {
    /// Header, DeviceName (`0x01` + ASCII, no NUL), Certificate.
    pub fn encode(&self) -> Result<Vec<u8>, ProtoError> {
        let mut name = Vec::with_capacity(1 + self.device_name.len());
        name.push(0x01);
        name.extend_from_slice(self.device_name.as_bytes());
        let mut body = Vec::with_capacity(6 + name.len() + self.certificate.len());
        element::push(&mut body, DEVICE_NAME, &name)?;
        element::push(&mut body, CERTIFICATE, &self.certificate)?;
        Header::frame(Command::VerifyRequest, self.session, &body)
    }

    /// A whole VerifyRequest message.
    pub fn parse(msg: &[u8]) -> Result<VerifyRequest, ProtoError> {
        match Request::parse(msg)? {
            Request::Verify(req) => Ok(req),
            Request::Query { .. } => Err(ProtoError::Unexpected(Command::QueryRequest)),
        }
    }

    /// The body of a VerifyRequest: exactly one DeviceName and one Certificate; any other tag is
    /// refused, as tvsd does.
    pub(crate) fn from_body(session: u32, body: &[u8]) -> Result<VerifyRequest, ProtoError> {
        if body.len() > MAX_REQUEST_BODY {
            return Err(ProtoError::TooLong { what: "request body", len: body.len() });
        }
        let (mut name, mut cert) = (None, None);
        for el in element::elements(body) {
            let (tag, value) = el?;
            let slot = match tag {
                DEVICE_NAME => &mut name,
                CERTIFICATE => &mut cert,
                _ => return Err(ProtoError::UnknownTag(tag)),
            };
            if slot.replace(value).is_some() {
                return Err(ProtoError::Duplicate(tag));
            }
        }
        let device_name = device_name(name.ok_or(ProtoError::Missing("DeviceName"))?)?;
        let certificate = cert.ok_or(ProtoError::Missing("Certificate"))?;
        if certificate.is_empty() || certificate.len() > MAX_CERTIFICATE {
            return Err(ProtoError::CertificateSize(certificate.len()));
        }
        Ok(VerifyRequest { session, device_name, certificate: certificate.to_vec() })
    }
}

/// The name in a DeviceName value. Permissive on purpose (tvsd's `^CP-[0-9]{4}-SEP[0-9A-F]{12}$`
/// would refuse models such as 7962G): the leading byte is skipped whatever it is (its meaning is
/// unknown; phones send 0x01), trailing NULs are dropped [U], and the rest must be 1 to 64
/// printable ASCII characters with no space.
fn device_name(value: &[u8]) -> Result<String, ProtoError> {
    let raw = value.get(1..).unwrap_or_default();
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let name = &raw[..end];
    let why = if name.is_empty() {
        Some("empty")
    } else if name.len() > MAX_DEVICE_NAME {
        Some("longer than 64 bytes")
    } else if !name.iter().all(u8::is_ascii_graphic) {
        Some("not printable ASCII")
    } else {
        None
    };
    match why {
        // All graphic ASCII, so valid UTF-8.
        None => Ok(String::from_utf8_lossy(name).into_owned()),
        Some(reason) => {
            let shown = &raw[..raw.len().min(MAX_DEVICE_NAME)];
            Err(ProtoError::DeviceName { name: String::from_utf8_lossy(shown).into_owned(), reason })
        }
    }
}

impl VerifyResponse {
    /// Header, then Status 0, Roles, TTL (valid) or Status 1 alone (invalid), in tvsd's order.
    /// The roles are written each once, in their canonical order (SAST, CCM, …, TVS), as tvsd
    /// stores them.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(3 + 1 + 3 + Role::ALL.len() + 3 + 4);
        let push = |body: &mut Vec<u8>, tag, value: &[u8]| {
            // At most 7 role bytes: no element can exceed u16.
            let _ = element::push(body, tag, value);
        };
        match &self.answer {
            Answer::Valid { roles, ttl } => {
                let codes: Vec<u8> =
                    Role::ALL.into_iter().filter(|r| roles.contains(r)).map(|r| r.code() as u8).collect();
                push(&mut body, STATUS, &[0]);
                push(&mut body, ROLES, &codes);
                push(&mut body, TTL, &ttl.to_be_bytes());
            }
            Answer::Invalid => push(&mut body, STATUS, &[1]),
        }
        Header::frame(Command::VerifyResponse, self.session, &body).unwrap_or_default()
    }

    /// A whole VerifyResponse message. Elements of unknown tags are skipped; Status is required,
    /// and Roles and TTL with Status 0.
    pub fn parse(msg: &[u8]) -> Result<VerifyResponse, ProtoError> {
        let (header, body) = split(msg)?;
        if header.command != Command::VerifyResponse {
            return Err(ProtoError::Unexpected(header.command));
        }
        let (mut status, mut roles, mut ttl) = (None, None, None);
        for el in element::elements(body) {
            let (tag, value) = el?;
            let slot = match tag {
                STATUS => &mut status,
                ROLES => &mut roles,
                TTL => &mut ttl,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(ProtoError::Duplicate(tag));
            }
        }
        let answer = match status.ok_or(ProtoError::Missing("Status"))? {
            [0] => {
                let roles = roles.ok_or(ProtoError::Missing("Roles"))?;
                let roles = roles
                    .iter()
                    .map(|&c| Role::from_code(u16::from(c)).ok_or(ProtoError::UnknownRole(c)))
                    .collect::<Result<_, _>>()?;
                let ttl = ttl.ok_or(ProtoError::Missing("TTL"))?;
                let ttl: [u8; 4] = ttl.try_into().map_err(|_| ProtoError::ElementSize { tag: TTL, len: ttl.len() })?;
                Answer::Valid { roles, ttl: u32::from_be_bytes(ttl) }
            }
            [1] => Answer::Invalid,
            [other] => return Err(ProtoError::Status(*other)),
            other => return Err(ProtoError::ElementSize { tag: STATUS, len: other.len() }),
        };
        Ok(VerifyResponse { session: header.session, answer })
    }
}
