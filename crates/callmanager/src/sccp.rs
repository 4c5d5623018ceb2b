//! SCCP (Skinny) framing and the registration messages, laid out as Wireshark's `skinny`
//! dissector decodes them.
//!
//! ```text
//! u32 LE  data_length   bytes that follow the 8-byte header start: message id + data
//! u32 LE  version       0 ("Basic"); newer phones put their protocol version here
//! u32 LE  message id
//! ...     data          data_length - 4 bytes
//! ```
//!
//! Wireshark takes a PDU as `data_length + 8` bytes: the length counts the message id and the
//! data, not itself nor the version word.
//!
//! Messages used here (data layouts as the dissector reads them, all integers little-endian
//! except the IPv4 address):
//!
//! | id | message | data |
//! |---|---|---|
//! | 0x0000 | KeepAliveMessage | none |
//! | 0x0001 | RegisterMessage | DeviceName `[16]` NUL-padded, reserved_for_future_use (station user id) u32, instance u32, stationIpAddr (network order), deviceType u32, maxStreams u32; then optionally activeStreams u32, protocolVer u8, unknown u8, PhoneFeatures u16, maxConferences u32, activeConferences u32, macAddress `[6]` + 6 padding, ipV4AddressScope u32, maxNumberOfLines u32, stationIpV6Addr `[16]`, ipV6AddressScope u32, firmwareLoadName `[32]` |
//! | 0x0027 | UnregisterMessage | none |
//! | 0x0081 | RegisterAckMessage | keepAliveInterval u32, dateTemplate `[6]`, alignmentPadding u16, secondaryKeepAliveInterval u32, maxProtocolVer u8, unknown u8, PhoneFeatures u16 |
//! | 0x009D | RegisterRejectMessage | text `[33]` NUL-padded |
//! | 0x0100 | KeepAliveAckMessage | none |
//! | 0x0118 | UnregisterAckMessage | status u32 (0 = ok) |
//!
//! The dialogue after RegisterAck that brings a phone to its idle screen (templates, line and
//! configuration status, the date) is in `station`, re-exported here.

use std::io;
use std::net::Ipv4Addr;

use tokio::io::{AsyncRead, AsyncReadExt};

mod station;

pub use station::{
    capabilities_req, header_version, request, Button, ButtonDefinition, ButtonTemplate, Capabilities, Capability,
    ConfigStat, DefineTimeDate, LineStat, LineStatReq, RegisterAvailableLines, SelectSoftKeys, SoftKey, SoftKeySet,
    SoftKeySets, SoftKeyTemplate, MAX_BUTTONS, MAX_CAPABILITIES, MAX_SOFT_KEYS, MAX_SOFT_KEY_SETS,
};

/// Size of the header: data_length and version.
pub const HEADER_LEN: usize = 8;
/// Largest `data_length` accepted by default: a RegisterMessage is under 250 bytes.
pub const DEFAULT_MAX_LENGTH: u32 = 2048;
/// Size of the device name field of RegisterMessage.
pub const DEVICE_NAME_LEN: usize = 16;
/// Size of the text of RegisterRejectMessage (StationMaxDisplayTextSize).
pub const REJECT_TEXT_LEN: usize = 33;
/// The "Basic" header version.
pub const BASIC_VERSION: u32 = 0;

/// Message ids.
pub mod id {
    pub const KEEP_ALIVE: u32 = 0x0000;
    pub const REGISTER: u32 = 0x0001;
    pub const IP_PORT: u32 = 0x0002;
    pub const LINE_STAT_REQ: u32 = 0x000B;
    pub const CONFIG_STAT_REQ: u32 = 0x000C;
    pub const TIME_DATE_REQ: u32 = 0x000D;
    pub const BUTTON_TEMPLATE_REQ: u32 = 0x000E;
    pub const CAPABILITIES_RES: u32 = 0x0010;
    pub const SOFT_KEY_SET_REQ: u32 = 0x0025;
    pub const UNREGISTER: u32 = 0x0027;
    pub const SOFT_KEY_TEMPLATE_REQ: u32 = 0x0028;
    pub const REGISTER_AVAILABLE_LINES: u32 = 0x002D;
    pub const REGISTER_ACK: u32 = 0x0081;
    pub const LINE_STAT: u32 = 0x0092;
    pub const CONFIG_STAT: u32 = 0x0093;
    pub const DEFINE_TIME_DATE: u32 = 0x0094;
    pub const BUTTON_TEMPLATE: u32 = 0x0097;
    pub const CAPABILITIES_REQ: u32 = 0x009B;
    pub const REGISTER_REJECT: u32 = 0x009D;
    pub const KEEP_ALIVE_ACK: u32 = 0x0100;
    pub const SOFT_KEY_TEMPLATE_RES: u32 = 0x0108;
    pub const SOFT_KEY_SET_RES: u32 = 0x0109;
    pub const SELECT_SOFT_KEYS: u32 = 0x0110;
    pub const UNREGISTER_ACK: u32 = 0x0118;
}

/// The dissector's name of a message id, for logs.
pub fn message_name(id: u32) -> &'static str {
    match id {
        id::KEEP_ALIVE => "KeepAliveMessage",
        id::REGISTER => "RegisterMessage",
        id::IP_PORT => "IpPortMessage",
        id::LINE_STAT_REQ => "LineStatReqMessage",
        id::CONFIG_STAT_REQ => "ConfigStatReqMessage",
        id::TIME_DATE_REQ => "TimeDateReqMessage",
        id::BUTTON_TEMPLATE_REQ => "ButtonTemplateReqMessage",
        id::CAPABILITIES_RES => "CapabilitiesRes",
        id::SOFT_KEY_SET_REQ => "SoftKeySetReqMessage",
        id::UNREGISTER => "UnregisterMessage",
        id::SOFT_KEY_TEMPLATE_REQ => "SoftKeyTemplateReqMessage",
        id::REGISTER_AVAILABLE_LINES => "RegisterAvailableLinesMessage",
        id::REGISTER_ACK => "RegisterAckMessage",
        id::LINE_STAT => "LineStatMessage",
        id::CONFIG_STAT => "ConfigStatMessage",
        id::DEFINE_TIME_DATE => "DefineTimeDate",
        id::BUTTON_TEMPLATE => "ButtonTemplateMessage",
        id::CAPABILITIES_REQ => "CapabilitiesReqMessage",
        id::REGISTER_REJECT => "RegisterRejectMessage",
        id::KEEP_ALIVE_ACK => "KeepAliveAckMessage",
        id::SOFT_KEY_TEMPLATE_RES => "SoftKeyTemplateResMessage",
        id::SOFT_KEY_SET_RES => "SoftKeySetResMessage",
        id::SELECT_SOFT_KEYS => "SelectSoftKeysMessage",
        id::UNREGISTER_ACK => "UnregisterAckMessage",
        _ => "other message",
    }
}

/// One SCCP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub version: u32,
    pub id: u32,
    pub data: Vec<u8>,
}

impl Frame {
    pub fn new(id: u32, data: Vec<u8>) -> Self {
        Frame { version: BASIC_VERSION, id, data }
    }

    /// The same message under another header version (see [`header_version`]).
    pub fn with_version(self, version: u32) -> Self {
        Frame { version, ..self }
    }

    /// The PDU as sent: header, message id, data.
    pub fn encode(&self) -> Vec<u8> {
        let length = u32::try_from(self.data.len() + 4).expect("SCCP data fits in u32");
        let mut out = Vec::with_capacity(HEADER_LEN + 4 + self.data.len());
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.data);
        out
    }
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("read error: {0}")]
    Io(io::Error),
    /// The connection ended in the middle of a frame.
    #[error("connection closed in the middle of an SCCP message")]
    Truncated,
    /// `data_length` is below 4 (no room for the message id).
    #[error("SCCP length {0} leaves no room for a message id")]
    TooShort(u32),
    /// `data_length` is above the limit.
    #[error("SCCP length {length} is over the limit of {max}")]
    TooLong { length: u32, max: u32 },
}

/// Reads one frame. `Ok(None)` when the peer closed the connection between frames. Never
/// allocates more than `max_length` bytes for the data.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max_length: u32) -> Result<Option<Frame>, FrameError> {
    let mut header = [0u8; HEADER_LEN + 4];
    let mut got = 0;
    while got < header.len() {
        let n = r.read(&mut header[got..]).await.map_err(FrameError::Io)?;
        if n == 0 {
            return if got == 0 { Ok(None) } else { Err(FrameError::Truncated) };
        }
        got += n;
        // Refuse a bad length as soon as it is known, before waiting for more.
        if got >= 4 {
            check_length(u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")), max_length)?;
        }
    }
    let length = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
    let version = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    let id = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
    let mut data = vec![0u8; (length - 4) as usize];
    r.read_exact(&mut data).await.map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    Ok(Some(Frame { version, id, data }))
}

fn check_length(length: u32, max: u32) -> Result<(), FrameError> {
    if length < 4 {
        Err(FrameError::TooShort(length))
    } else if length > max {
        Err(FrameError::TooLong { length, max })
    } else {
        Ok(())
    }
}

/// A message whose data does not have the layout of its id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Shorter than the fixed fields of the message.
    #[error("{message} of {len} bytes, shorter than the {need} bytes of its fixed fields")]
    TooShort { message: &'static str, len: usize, need: usize },
    /// A text field that must be printable ASCII is not.
    #[error("{message} {field} is not printable ASCII")]
    NotText { message: &'static str, field: &'static str },
    /// A NUL-terminated text field with no NUL within its size.
    #[error("{message} {field} has no terminating NUL within its {size} bytes")]
    Unterminated { message: &'static str, field: &'static str, size: usize },
    /// A count above the size of the array it counts.
    #[error("{message} {field} of {count}, over the {max} the message holds")]
    TooMany { message: &'static str, field: &'static str, count: u32, max: u32 },
}

/// Refuses data shorter than `need` bytes.
fn need(message: &'static str, data: &[u8], need: usize) -> Result<(), MessageError> {
    if data.len() < need {
        return Err(MessageError::TooShort { message, len: data.len(), need });
    }
    Ok(())
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("bounds checked by the caller"))
}

/// A fixed-size NUL-padded text field, up to its first NUL.
fn text_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn put_text(out: &mut Vec<u8>, text: &str, size: usize) {
    let bytes = text.as_bytes();
    // Always leave at least one NUL, as the phones' C structures do.
    let n = bytes.len().min(size - 1);
    out.extend_from_slice(&bytes[..n]);
    out.resize(out.len() + (size - n), 0);
}

/// RegisterMessage (0x0001): a phone asks to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterMessage {
    /// `SEP` + 12 hex digits, at most 15 characters (the field is 16 bytes with its NUL).
    pub device_name: String,
    /// `reserved_for_future_use` in the dissector (the station user id).
    pub station_user_id: u32,
    pub instance: u32,
    pub ip: Ipv4Addr,
    pub device_type: u32,
    pub max_streams: u32,
    /// From here on, present only in the longer form newer phones send.
    pub active_streams: u32,
    pub protocol_version: u8,
    pub phone_features: u16,
    pub max_conferences: u32,
    pub mac: [u8; 6],
    pub max_lines: u32,
    pub firmware: String,
}

/// Length of the short form (up to maxStreams).
const REGISTER_SHORT_LEN: usize = 36;
/// Length of the long form written by [`RegisterMessage::encode`] (up to firmwareLoadName).
const REGISTER_LONG_LEN: usize = 124;

impl RegisterMessage {
    /// A RegisterMessage as a phone with this name sends it.
    pub fn new(device_name: &str) -> Self {
        RegisterMessage {
            device_name: device_name.to_owned(),
            station_user_id: 0,
            instance: 1,
            ip: Ipv4Addr::UNSPECIFIED,
            device_type: 0,
            max_streams: 5,
            active_streams: 0,
            protocol_version: 20,
            phone_features: 0,
            max_conferences: 0,
            mac: [0; 6],
            max_lines: 1,
            firmware: String::new(),
        }
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("RegisterMessage", data, REGISTER_SHORT_LEN)?;
        let name_bytes = &data[..DEVICE_NAME_LEN];
        // At most 15 characters and their NUL, as the phones' C structure holds it: a 16-byte
        // name would be read differently by every peer that expects the NUL.
        if !name_bytes.contains(&0) {
            let field = "device name";
            return Err(MessageError::Unterminated { message: "RegisterMessage", field, size: DEVICE_NAME_LEN });
        }
        if name_bytes.iter().take_while(|b| **b != 0).any(|b| !b.is_ascii_graphic()) {
            return Err(MessageError::NotText { message: "RegisterMessage", field: "device name" });
        }
        let mut m = RegisterMessage::new(&text_field(name_bytes));
        m.station_user_id = u32_at(data, 16);
        m.instance = u32_at(data, 20);
        m.ip = Ipv4Addr::new(data[24], data[25], data[26], data[27]);
        m.device_type = u32_at(data, 28);
        m.max_streams = u32_at(data, 32);
        m.protocol_version = 0;
        if data.len() >= 48 {
            m.active_streams = u32_at(data, 36);
            m.protocol_version = data[40];
            m.phone_features = u16::from_le_bytes([data[42], data[43]]);
            m.max_conferences = u32_at(data, 44);
        }
        if data.len() >= REGISTER_LONG_LEN {
            m.mac.copy_from_slice(&data[52..58]);
            m.max_lines = u32_at(data, 68);
            m.firmware = text_field(&data[92..124]);
        }
        Ok(m)
    }

    /// The long form (124 bytes of data), which the dissector decodes down to firmwareLoadName.
    pub fn encode(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(REGISTER_LONG_LEN);
        put_text(&mut d, &self.device_name, DEVICE_NAME_LEN);
        d.extend_from_slice(&self.station_user_id.to_le_bytes());
        d.extend_from_slice(&self.instance.to_le_bytes());
        d.extend_from_slice(&self.ip.octets());
        d.extend_from_slice(&self.device_type.to_le_bytes());
        d.extend_from_slice(&self.max_streams.to_le_bytes());
        d.extend_from_slice(&self.active_streams.to_le_bytes());
        d.push(self.protocol_version);
        d.push(0); // unknown
        d.extend_from_slice(&self.phone_features.to_le_bytes());
        d.extend_from_slice(&self.max_conferences.to_le_bytes());
        d.extend_from_slice(&0u32.to_le_bytes()); // activeConferences
        d.extend_from_slice(&self.mac);
        d.extend_from_slice(&[0; 6]); // the rest of the 12-byte MAC field
        d.extend_from_slice(&0u32.to_le_bytes()); // ipV4AddressScope
        d.extend_from_slice(&self.max_lines.to_le_bytes());
        d.extend_from_slice(&[0; 16]); // stationIpV6Addr
        d.extend_from_slice(&0u32.to_le_bytes()); // ipV6AddressScope
        put_text(&mut d, &self.firmware, 32);
        debug_assert_eq!(d.len(), REGISTER_LONG_LEN);
        d
    }

    pub fn frame(&self) -> Frame {
        Frame::new(id::REGISTER, self.encode())
    }
}

/// RegisterAckMessage (0x0081): the registration is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterAck {
    /// Seconds between the phone's KeepAliveMessages.
    pub keepalive_interval: u32,
    /// How the phone shows dates, e.g. `M/D/YA` (6 characters).
    pub date_template: String,
    pub secondary_keepalive_interval: u32,
    pub max_protocol_version: u8,
    pub phone_features: u16,
}

impl RegisterAck {
    pub fn encode(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(20);
        d.extend_from_slice(&self.keepalive_interval.to_le_bytes());
        let template = self.date_template.as_bytes();
        let mut field = [0u8; 6];
        let n = template.len().min(6);
        field[..n].copy_from_slice(&template[..n]);
        d.extend_from_slice(&field);
        d.extend_from_slice(&[0, 0]); // alignmentPadding
        d.extend_from_slice(&self.secondary_keepalive_interval.to_le_bytes());
        d.push(self.max_protocol_version);
        d.push(0); // unknown
        d.extend_from_slice(&self.phone_features.to_le_bytes());
        d
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("RegisterAckMessage", data, 20)?;
        Ok(RegisterAck {
            keepalive_interval: u32_at(data, 0),
            date_template: text_field(&data[4..10]),
            secondary_keepalive_interval: u32_at(data, 12),
            max_protocol_version: data[16],
            phone_features: u16::from_le_bytes([data[18], data[19]]),
        })
    }

    pub fn frame(&self) -> Frame {
        Frame::new(id::REGISTER_ACK, self.encode())
    }
}

/// RegisterRejectMessage (0x009D): the registration is refused, with a text the phone shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterReject {
    /// Up to 32 characters are sent (the field is 33 bytes with its NUL).
    pub text: String,
}

impl RegisterReject {
    pub fn encode(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(REJECT_TEXT_LEN);
        put_text(&mut d, &self.text, REJECT_TEXT_LEN);
        d
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("RegisterRejectMessage", data, 1)?;
        Ok(RegisterReject { text: text_field(&data[..data.len().min(REJECT_TEXT_LEN)]) })
    }

    pub fn frame(&self) -> Frame {
        Frame::new(id::REGISTER_REJECT, self.encode())
    }
}

/// KeepAliveMessage (0x0000), sent by the phone.
pub fn keepalive() -> Frame {
    Frame::new(id::KEEP_ALIVE, Vec::new())
}

/// KeepAliveAckMessage (0x0100), CallManager's answer.
pub fn keepalive_ack() -> Frame {
    Frame::new(id::KEEP_ALIVE_ACK, Vec::new())
}

/// UnregisterMessage (0x0027), sent by the phone.
pub fn unregister() -> Frame {
    Frame::new(id::UNREGISTER, Vec::new())
}

/// UnregisterAckMessage (0x0118) with status 0 (ok).
pub fn unregister_ack() -> Frame {
    Frame::new(id::UNREGISTER_ACK, 0u32.to_le_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_the_twelve_bytes_phones_send() {
        assert_eq!(keepalive().encode(), [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(keepalive_ack().encode(), [4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn register_round_trips_and_puts_the_name_first() {
        let mut m = RegisterMessage::new("SEP2C3124C9F8E1");
        m.ip = Ipv4Addr::new(192, 0, 2, 7);
        m.device_type = 36217;
        m.mac = [0x2c, 0x31, 0x24, 0xc9, 0xf8, 0xe1];
        m.firmware = "sip88xx.14-2-1".into();
        let bytes = m.frame().encode();
        assert_eq!(u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize, 4 + REGISTER_LONG_LEN);
        assert_eq!(&bytes[12..27], b"SEP2C3124C9F8E1");
        assert_eq!(bytes[27], 0);
        assert_eq!(&bytes[12 + 24..12 + 28], &[192, 0, 2, 7], "IP in network order");
        assert_eq!(RegisterMessage::decode(&bytes[12..]).unwrap(), m);
    }

    #[test]
    fn short_register_decodes_and_truncated_register_is_refused() {
        let long = RegisterMessage::new("SEP001122334455").encode();
        let short = RegisterMessage::decode(&long[..36]).unwrap();
        assert_eq!(short.device_name, "SEP001122334455");
        assert!(RegisterMessage::decode(&long[..35]).is_err());
        let mut bad = long.clone();
        bad[3] = b'\n';
        assert!(RegisterMessage::decode(&bad).is_err());
    }

    #[test]
    fn reject_text_is_nul_padded_and_cut() {
        let r = RegisterReject { text: "x".repeat(40) };
        let d = r.encode();
        assert_eq!(d.len(), REJECT_TEXT_LEN);
        assert_eq!(d[32], 0);
        assert_eq!(RegisterReject::decode(&d).unwrap().text, "x".repeat(32));
    }

    #[test]
    fn ack_round_trips() {
        let a = RegisterAck {
            keepalive_interval: 30,
            date_template: "M/D/YA".into(),
            secondary_keepalive_interval: 60,
            max_protocol_version: 20,
            phone_features: 0,
        };
        assert_eq!(a.encode().len(), 20);
        assert_eq!(RegisterAck::decode(&a.encode()).unwrap(), a);
    }

    #[tokio::test]
    async fn reader_refuses_bad_lengths_before_allocating() {
        let mut huge: &[u8] = &[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0];
        assert!(matches!(read_frame(&mut huge, DEFAULT_MAX_LENGTH).await, Err(FrameError::TooLong { .. })));
        let mut tiny: &[u8] = &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(read_frame(&mut tiny, DEFAULT_MAX_LENGTH).await, Err(FrameError::TooShort(3))));
        let mut cut: &[u8] = &[8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        assert!(matches!(read_frame(&mut cut, DEFAULT_MAX_LENGTH).await, Err(FrameError::Truncated)));
        let mut empty: &[u8] = &[];
        assert!(read_frame(&mut empty, DEFAULT_MAX_LENGTH).await.unwrap().is_none());
        let bytes = keepalive().encode();
        let mut ok: &[u8] = &bytes;
        assert_eq!(read_frame(&mut ok, DEFAULT_MAX_LENGTH).await.unwrap().unwrap(), keepalive());
    }
}
