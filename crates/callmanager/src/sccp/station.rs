//! The station messages after RegisterAck that bring a phone to its idle screen
//! (phone-boot.md §4.4), laid out as Wireshark's `skinny` dissector reads them.
//!
//! | id | message | data |
//! |---|---|---|
//! | 0x0002 | IpPortMessage | rtpMediaPort u32 (read by nobody here) |
//! | 0x000B | LineStatReqMessage | lineNumber u32 |
//! | 0x0010 | CapabilitiesRes | capCount u32, 18 × {payloadCapability u32, maxFramesPerPacket u32, 8-byte union} |
//! | 0x002D | RegisterAvailableLinesMessage | maxNumOfAvailLines u32 |
//! | 0x0092 | LineStatMessage | lineNumber u32, lineDirNumber `[24]`, lineFullyQualifiedDisplayName `[40]`, lineTextLabel `[40]`, lineDisplayOptions u32 |
//! | 0x0093 | ConfigStatMessage | DeviceName `[16]`, reserved u32, instance u32, userName `[40]`, serverName `[40]`, numberOfLines u32, numberOfSpeedDials u32 |
//! | 0x0094 | DefineTimeDate | year, month, dayOfWeek, day, hour, minute, second, milliseconds, systemTime: 9 × u32 |
//! | 0x0097 | ButtonTemplateMessage | buttonOffset u32, buttonCount u32, totalButtonCount u32, 42 × {instanceNumber u8, buttonDefinition u8} |
//! | 0x009B | CapabilitiesReqMessage | none |
//! | 0x0108 | SoftKeyTemplateResMessage | softKeyOffset u32, softKeyCount u32, totalSoftKeyCount u32, 32 × {label `[16]`, event u32} |
//! | 0x0109 | SoftKeySetResMessage | softKeySetOffset u32, softKeySetCount u32, totalSoftKeySetCount u32, 16 × {16 × templateIndex u8, 16 × infoIndex u16} |
//! | 0x0110 | SelectSoftKeysMessage | lineInstance u32, callReference u32, softKeySetIndex u32, validKeyMask u32 |
//!
//! Arrays are always sent at their full size, as the phones' C structures are; the counts say
//! how many entries are used. Decoding checks every count against its array before reading.

use time::OffsetDateTime;

use super::{id, need, put_text, text_field, u32_at, Frame, MessageError, BASIC_VERSION, DEVICE_NAME_LEN};

/// Entries of ButtonTemplateMessage.
pub const MAX_BUTTONS: usize = 42;
/// Entries of SoftKeyTemplateResMessage.
pub const MAX_SOFT_KEYS: usize = 32;
/// Entries of SoftKeySetResMessage.
pub const MAX_SOFT_KEY_SETS: usize = 16;
/// Entries of CapabilitiesRes.
pub const MAX_CAPABILITIES: usize = 18;

/// Directory-number fields below V18 (25 bytes from V18, a header this server does not use).
const DIRNUM_LEN: usize = 24;
const NAME_LEN: usize = 40;
const SOFT_KEY_LABEL_LEN: usize = 16;
/// Header version V17 ("CM7 type B" in older dissectors).
const V17: u32 = 0x11;

/// The header version of CallManager's station messages for a phone of this protocol
/// version: V17 (0x11) from protocol 17 on, Basic (0) below. RegisterAck, KeepAliveAck and
/// UnregisterAck keep Basic. [U: what chan_sccp sends to real phones; CUCM's own choice is not
/// documented.] V17 keeps the 24-byte directory-number fields every dissector reads.
pub fn header_version(protocol: u8) -> u32 {
    if protocol >= 17 {
        V17
    } else {
        BASIC_VERSION
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The body of a list message: offset, count, total, then `max` entries of `len` bytes each,
/// zero-padded to full size; entries past `max` are not sent.
fn paged_body<T>(
    offset: u32,
    total: u32,
    items: &[T],
    max: usize,
    len: usize,
    put: impl Fn(&mut Vec<u8>, &T),
) -> Vec<u8> {
    let items = &items[..items.len().min(max)];
    let mut d = Vec::with_capacity(12 + len * max);
    put_u32(&mut d, offset);
    put_u32(&mut d, items.len() as u32);
    put_u32(&mut d, total);
    for item in items {
        put(&mut d, item);
    }
    d.resize(12 + len * max, 0);
    d
}

/// A count read from the wire, refused above the array it counts.
fn count_at(
    data: &[u8],
    at: usize,
    message: &'static str,
    field: &'static str,
    max: usize,
) -> Result<usize, MessageError> {
    let count = u32_at(data, at);
    if count as usize > max {
        return Err(MessageError::TooMany { message, field, count, max: max as u32 });
    }
    Ok(count as usize)
}

/// A message of one u32 (LineStatReq, RegisterAvailableLines).
fn one_u32(message: &'static str, data: &[u8]) -> Result<u32, MessageError> {
    need(message, data, 4)?;
    Ok(u32_at(data, 0))
}

/// A message whose body is one little-endian u32, with `decode` and `frame`.
macro_rules! one_u32_message {
    ($(#[$meta:meta])* $name:ident ($id:expr, $wire:literal) { $(#[$fmeta:meta])* $field:ident }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            $(#[$fmeta])*
            pub $field: u32,
        }

        impl $name {
            pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
                Ok($name { $field: one_u32($wire, data)? })
            }

            pub fn frame(&self) -> Frame {
                Frame::new($id, self.$field.to_le_bytes().to_vec())
            }
        }
    };
}

one_u32_message!(
    /// LineStatReqMessage (0x000B): the phone asks for the line behind one of its line buttons.
    LineStatReq(id::LINE_STAT_REQ, "LineStatReqMessage") {
        /// The button's instance number, from 1.
        line
    }
);

one_u32_message!(
    /// RegisterAvailableLinesMessage (0x002D): how many lines the phone can show.
    RegisterAvailableLines(id::REGISTER_AVAILABLE_LINES, "RegisterAvailableLinesMessage") { max_lines }
);

/// One codec of CapabilitiesRes (ids: 2 G.711 A-law, 4 G.711 µ-law, 6 G.722, 11 G.729 …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    pub payload: u32,
    pub max_frames_per_packet: u32,
}

/// CapabilitiesRes (0x0010): the phone's codecs, its answer to CapabilitiesReqMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub caps: Vec<Capability>,
}

impl Capabilities {
    const MESSAGE: &'static str = "CapabilitiesRes";

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need(Self::MESSAGE, data, 4)?;
        let count = count_at(data, 0, Self::MESSAGE, "capCount", MAX_CAPABILITIES)?;
        need(Self::MESSAGE, data, 4 + 16 * count)?;
        let caps = (0..count)
            .map(|i| Capability { payload: u32_at(data, 4 + 16 * i), max_frames_per_packet: u32_at(data, 8 + 16 * i) })
            .collect();
        Ok(Capabilities { caps })
    }

    /// Full size; entries past [`MAX_CAPABILITIES`] are not sent.
    pub fn frame(&self) -> Frame {
        let caps = &self.caps[..self.caps.len().min(MAX_CAPABILITIES)];
        let mut d = Vec::with_capacity(4 + 16 * MAX_CAPABILITIES);
        put_u32(&mut d, caps.len() as u32);
        for c in caps {
            put_u32(&mut d, c.payload);
            put_u32(&mut d, c.max_frames_per_packet);
            d.extend_from_slice(&[0; 8]);
        }
        d.resize(4 + 16 * MAX_CAPABILITIES, 0);
        Frame::new(id::CAPABILITIES_RES, d)
    }
}

/// What a button of the phone's template does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonDefinition {
    /// A line (0x09): its instance number is the line number of LineStatReq.
    Line,
    SpeedDial,
    /// A button the template leaves unassigned (0xFF).
    Undefined,
    Other(u8),
}

impl ButtonDefinition {
    pub fn code(self) -> u8 {
        match self {
            ButtonDefinition::Line => 0x09,
            ButtonDefinition::SpeedDial => 0x02,
            ButtonDefinition::Undefined => 0xFF,
            ButtonDefinition::Other(c) => c,
        }
    }

    pub fn from_code(code: u8) -> Self {
        match code {
            0x09 => ButtonDefinition::Line,
            0x02 => ButtonDefinition::SpeedDial,
            0xFF => ButtonDefinition::Undefined,
            c => ButtonDefinition::Other(c),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button {
    pub instance: u8,
    pub definition: ButtonDefinition,
}

/// ButtonTemplateMessage (0x0097): what each of the phone's buttons is, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonTemplate {
    pub offset: u32,
    pub total: u32,
    pub buttons: Vec<Button>,
}

impl ButtonTemplate {
    const MESSAGE: &'static str = "ButtonTemplateMessage";

    /// All of a template in one message.
    pub fn whole(buttons: Vec<Button>) -> Self {
        let buttons: Vec<Button> = buttons.into_iter().take(MAX_BUTTONS).collect();
        ButtonTemplate { offset: 0, total: buttons.len() as u32, buttons }
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need(Self::MESSAGE, data, 12)?;
        let count = count_at(data, 4, Self::MESSAGE, "buttonCount", MAX_BUTTONS)?;
        need(Self::MESSAGE, data, 12 + 2 * count)?;
        let buttons = (0..count)
            .map(|i| Button { instance: data[12 + 2 * i], definition: ButtonDefinition::from_code(data[13 + 2 * i]) })
            .collect();
        Ok(ButtonTemplate { offset: u32_at(data, 0), total: u32_at(data, 8), buttons })
    }

    /// Full size (96 bytes); buttons past [`MAX_BUTTONS`] are not sent.
    pub fn frame(&self) -> Frame {
        let d = paged_body(self.offset, self.total, &self.buttons, MAX_BUTTONS, 2, |d, b| {
            d.push(b.instance);
            d.push(b.definition.code());
        });
        Frame::new(id::BUTTON_TEMPLATE, d)
    }
}

/// One soft key: its label and the event the phone sends when it is pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftKey {
    pub label: String,
    pub event: u32,
}

/// SoftKeyTemplateResMessage (0x0108): the soft keys the sets below refer to, from index 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftKeyTemplate {
    pub offset: u32,
    pub total: u32,
    pub keys: Vec<SoftKey>,
}

/// The soft keys of CUCM's "Standard User" template used here, in the dissector's event order
/// (event n is template index n). [U: CUCM sends the same keys as localized-label codes
/// (`\x80` + index); plain English labels show the same on an English phone.]
const STANDARD_KEYS: [&str; 18] = [
    "Redial",
    "NewCall",
    "Hold",
    "Transfer",
    "CFwdAll",
    "CFwdBusy",
    "CFwdNoAnswer",
    "<<",
    "EndCall",
    "Resume",
    "Answer",
    "Info",
    "Confrn",
    "Park",
    "Join",
    "MeetMe",
    "PickUp",
    "GPickUp",
];

impl SoftKeyTemplate {
    const MESSAGE: &'static str = "SoftKeyTemplateResMessage";

    /// The template CallManager sends every phone.
    pub fn standard() -> Self {
        let keys: Vec<SoftKey> = STANDARD_KEYS
            .iter()
            .zip(1u32..)
            .map(|(label, event)| SoftKey { label: (*label).to_owned(), event })
            .collect();
        SoftKeyTemplate { offset: 0, total: keys.len() as u32, keys }
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need(Self::MESSAGE, data, 12)?;
        let count = count_at(data, 4, Self::MESSAGE, "softKeyCount", MAX_SOFT_KEYS)?;
        need(Self::MESSAGE, data, 12 + 20 * count)?;
        let keys = (0..count)
            .map(|i| {
                let at = 12 + 20 * i;
                SoftKey { label: text_field(&data[at..at + SOFT_KEY_LABEL_LEN]), event: u32_at(data, at + 16) }
            })
            .collect();
        Ok(SoftKeyTemplate { offset: u32_at(data, 0), total: u32_at(data, 8), keys })
    }

    /// Full size (652 bytes).
    pub fn frame(&self) -> Frame {
        let d = paged_body(self.offset, self.total, &self.keys, MAX_SOFT_KEYS, 20, |d, k| {
            put_text(d, &k.label, SOFT_KEY_LABEL_LEN);
            put_u32(d, k.event);
        });
        Frame::new(id::SOFT_KEY_TEMPLATE_RES, d)
    }
}

/// One soft key set: the template indexes (from 1; 0 = no key) shown in one call state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftKeySet {
    pub template_index: [u8; 16],
    pub info_index: [u16; 16],
}

impl SoftKeySet {
    /// A set of these template indexes (at most 16), each its own info index.
    pub fn of(keys: &[u8]) -> Self {
        let mut set = SoftKeySet { template_index: [0; 16], info_index: [0; 16] };
        for (i, k) in keys.iter().take(16).enumerate() {
            set.template_index[i] = *k;
            set.info_index[i] = u16::from(*k);
        }
        set
    }

    /// The template indexes in use.
    pub fn keys(&self) -> Vec<u8> {
        self.template_index.iter().copied().filter(|k| *k != 0).collect()
    }
}

/// SoftKeySetResMessage (0x0109): the soft key sets, indexed by call state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftKeySets {
    pub offset: u32,
    pub total: u32,
    pub sets: Vec<SoftKeySet>,
}

impl SoftKeySets {
    const MESSAGE: &'static str = "SoftKeySetResMessage";

    /// The sets of the standard template, by call state: 0 OnHook, 1 Connected, 2 OnHold,
    /// 3 RingIn, 4 OffHook, 5 ConnectedWithTransfer, 6 DigitsAfterDialingFirstDigit,
    /// 7 ConnectedWithConference, 8 RingOut, 9 OffHookWithFeatures, 10 InUseHint. [U: the
    /// keys of CUCM's "Standard User" softkey template, reduced to the template above.]
    pub fn standard() -> Self {
        let (
            redial,
            newcall,
            hold,
            transfer,
            cfwdall,
            backspace,
            endcall,
            resume,
            answer,
            confrn,
            park,
            pickup,
            gpickup,
        ) = (1, 2, 3, 4, 5, 8, 9, 10, 11, 13, 14, 17, 18);
        let sets: Vec<SoftKeySet> = [
            &[redial, newcall, cfwdall, pickup, gpickup][..],
            &[hold, endcall, transfer, confrn, park],
            &[resume, newcall],
            &[answer],
            &[redial, endcall, cfwdall, pickup, gpickup],
            &[hold, endcall, transfer],
            &[backspace, endcall],
            &[hold, endcall, confrn],
            &[endcall],
            &[redial, endcall],
            &[newcall, pickup, gpickup],
        ]
        .iter()
        .map(|keys| SoftKeySet::of(keys))
        .collect();
        SoftKeySets { offset: 0, total: sets.len() as u32, sets }
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need(Self::MESSAGE, data, 12)?;
        let count = count_at(data, 4, Self::MESSAGE, "softKeySetCount", MAX_SOFT_KEY_SETS)?;
        need(Self::MESSAGE, data, 12 + 48 * count)?;
        let sets = (0..count)
            .map(|i| {
                let at = 12 + 48 * i;
                let mut set = SoftKeySet { template_index: [0; 16], info_index: [0; 16] };
                set.template_index.copy_from_slice(&data[at..at + 16]);
                for (j, info) in set.info_index.iter_mut().enumerate() {
                    *info = u16::from_le_bytes([data[at + 16 + 2 * j], data[at + 17 + 2 * j]]);
                }
                set
            })
            .collect();
        Ok(SoftKeySets { offset: u32_at(data, 0), total: u32_at(data, 8), sets })
    }

    /// Full size (780 bytes).
    pub fn frame(&self) -> Frame {
        let d = paged_body(self.offset, self.total, &self.sets, MAX_SOFT_KEY_SETS, 48, |d, s| {
            d.extend_from_slice(&s.template_index);
            for info in s.info_index {
                d.extend_from_slice(&info.to_le_bytes());
            }
        });
        Frame::new(id::SOFT_KEY_SET_RES, d)
    }
}

/// SelectSoftKeysMessage (0x0110): which set the phone shows, here the idle (OnHook) one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectSoftKeys {
    pub line_instance: u32,
    pub call_reference: u32,
    pub soft_key_set: u32,
    pub valid_key_mask: u32,
}

impl SelectSoftKeys {
    /// The OnHook set on no particular line, every key enabled. [U: chan_skinny's idle
    /// selection; CUCM's mask is not documented.]
    pub fn on_hook() -> Self {
        SelectSoftKeys { line_instance: 0, call_reference: 0, soft_key_set: 0, valid_key_mask: 0xFFFF }
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("SelectSoftKeysMessage", data, 16)?;
        Ok(SelectSoftKeys {
            line_instance: u32_at(data, 0),
            call_reference: u32_at(data, 4),
            soft_key_set: u32_at(data, 8),
            valid_key_mask: u32_at(data, 12),
        })
    }

    pub fn frame(&self) -> Frame {
        let mut d = Vec::with_capacity(16);
        for v in [self.line_instance, self.call_reference, self.soft_key_set, self.valid_key_mask] {
            put_u32(&mut d, v);
        }
        Frame::new(id::SELECT_SOFT_KEYS, d)
    }
}

/// LineStatMessage (0x0092): the directory number behind a line button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineStat {
    pub line: u32,
    /// Up to 23 characters go out (the 24-byte field keeps its NUL below V18).
    pub dir_number: String,
    pub display_name: String,
    pub label: String,
    pub display_options: u32,
}

impl LineStat {
    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("LineStatMessage", data, 112)?;
        Ok(LineStat {
            line: u32_at(data, 0),
            dir_number: text_field(&data[4..28]),
            display_name: text_field(&data[28..68]),
            label: text_field(&data[68..108]),
            display_options: u32_at(data, 108),
        })
    }

    pub fn frame(&self) -> Frame {
        let mut d = Vec::with_capacity(112);
        put_u32(&mut d, self.line);
        put_text(&mut d, &self.dir_number, DIRNUM_LEN);
        put_text(&mut d, &self.display_name, NAME_LEN);
        put_text(&mut d, &self.label, NAME_LEN);
        put_u32(&mut d, self.display_options);
        Frame::new(id::LINE_STAT, d)
    }
}

/// ConfigStatMessage (0x0093): the device, its server and how many lines it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigStat {
    pub device_name: String,
    pub station_user_id: u32,
    pub instance: u32,
    pub user_name: String,
    pub server_name: String,
    pub lines: u32,
    pub speed_dials: u32,
}

impl ConfigStat {
    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("ConfigStatMessage", data, 112)?;
        Ok(ConfigStat {
            device_name: text_field(&data[..DEVICE_NAME_LEN]),
            station_user_id: u32_at(data, 16),
            instance: u32_at(data, 20),
            user_name: text_field(&data[24..64]),
            server_name: text_field(&data[64..104]),
            lines: u32_at(data, 104),
            speed_dials: u32_at(data, 108),
        })
    }

    pub fn frame(&self) -> Frame {
        let mut d = Vec::with_capacity(112);
        put_text(&mut d, &self.device_name, DEVICE_NAME_LEN);
        put_u32(&mut d, self.station_user_id);
        put_u32(&mut d, self.instance);
        put_text(&mut d, &self.user_name, NAME_LEN);
        put_text(&mut d, &self.server_name, NAME_LEN);
        put_u32(&mut d, self.lines);
        put_u32(&mut d, self.speed_dials);
        Frame::new(id::CONFIG_STAT, d)
    }
}

/// DefineTimeDate (0x0094): the phone's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefineTimeDate {
    pub year: u32,
    pub month: u32,
    /// 0 = Sunday, as in Windows' SYSTEMTIME the layout comes from.
    pub day_of_week: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milliseconds: u32,
    /// Seconds since 1970.
    pub system_time: u32,
}

impl DefineTimeDate {
    /// The time in UTC. [U: CUCM sends the time of the device's Date/Time Group; there is
    /// none here.]
    pub fn at(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        DefineTimeDate {
            year: u32::try_from(t.year()).unwrap_or(0),
            month: u32::from(u8::from(t.month())),
            day_of_week: u32::from(t.weekday().number_days_from_sunday()),
            day: u32::from(t.day()),
            hour: u32::from(t.hour()),
            minute: u32::from(t.minute()),
            second: u32::from(t.second()),
            milliseconds: u32::from(t.millisecond()),
            system_time: u32::try_from(t.unix_timestamp()).unwrap_or(u32::MAX),
        }
    }

    fn fields(&self) -> [u32; 9] {
        [
            self.year,
            self.month,
            self.day_of_week,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.milliseconds,
            self.system_time,
        ]
    }

    pub fn decode(data: &[u8]) -> Result<Self, MessageError> {
        need("DefineTimeDate", data, 36)?;
        let f: Vec<u32> = (0..9).map(|i| u32_at(data, 4 * i)).collect();
        Ok(DefineTimeDate {
            year: f[0],
            month: f[1],
            day_of_week: f[2],
            day: f[3],
            hour: f[4],
            minute: f[5],
            second: f[6],
            milliseconds: f[7],
            system_time: f[8],
        })
    }

    pub fn frame(&self) -> Frame {
        let mut d = Vec::with_capacity(36);
        for v in self.fields() {
            put_u32(&mut d, v);
        }
        Frame::new(id::DEFINE_TIME_DATE, d)
    }
}

/// CapabilitiesReqMessage (0x009B), sent right after RegisterAck.
pub fn capabilities_req() -> Frame {
    Frame::new(id::CAPABILITIES_REQ, Vec::new())
}

/// The phone's requests with no data.
pub fn request(message_id: u32) -> Frame {
    Frame::new(message_id, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_size_arrays_round_trip() {
        let t = ButtonTemplate::whole(vec![
            Button { instance: 1, definition: ButtonDefinition::Line },
            Button { instance: 0, definition: ButtonDefinition::Undefined },
        ]);
        let f = t.frame();
        assert_eq!(f.data.len(), 96);
        assert_eq!(ButtonTemplate::decode(&f.data).unwrap(), t);
        let k = SoftKeyTemplate::standard();
        assert_eq!(k.frame().data.len(), 652);
        assert_eq!(SoftKeyTemplate::decode(&k.frame().data).unwrap(), k);
        let s = SoftKeySets::standard();
        assert_eq!(s.frame().data.len(), 780);
        assert_eq!(SoftKeySets::decode(&s.frame().data).unwrap(), s);
        let c = Capabilities { caps: vec![Capability { payload: 4, max_frames_per_packet: 40 }] };
        assert_eq!(Capabilities::decode(&c.frame().data).unwrap(), c);
    }

    #[test]
    fn counts_over_the_array_and_short_data_are_refused() {
        let mut d = ButtonTemplate::whole(vec![]).frame().data;
        d[4] = 43;
        assert!(matches!(ButtonTemplate::decode(&d), Err(MessageError::TooMany { count: 43, .. })));
        let mut caps = Capabilities { caps: vec![] }.frame().data;
        caps[0] = 19;
        assert!(matches!(Capabilities::decode(&caps), Err(MessageError::TooMany { .. })));
        assert!(matches!(Capabilities::decode(&[1, 0, 0, 0]), Err(MessageError::TooShort { need: 20, .. })));
        assert!(LineStatReq::decode(&[1, 0, 0]).is_err());
        assert_eq!(LineStatReq::decode(&[2, 0, 0, 0]).unwrap().line, 2);
    }

    #[test]
    fn line_and_config_stat_have_the_dissector_layout() {
        let l = LineStat {
            line: 1,
            dir_number: "2222".into(),
            display_name: "2222".into(),
            label: String::new(),
            display_options: 15,
        };
        let f = l.frame();
        assert_eq!(f.data.len(), 112);
        assert_eq!(&f.data[4..8], b"2222");
        assert_eq!(LineStat::decode(&f.data).unwrap(), l);
        let c = ConfigStat {
            device_name: "SEP001122334455".into(),
            station_user_id: 0,
            instance: 1,
            user_name: String::new(),
            server_name: "cucm.lab".into(),
            lines: 2,
            speed_dials: 0,
        };
        assert_eq!(c.frame().data.len(), 112);
        assert_eq!(ConfigStat::decode(&c.frame().data).unwrap(), c);
    }

    #[test]
    fn time_is_utc_with_sunday_zero() {
        let t = time::macros::datetime!(2024-03-10 13:14:15.5 UTC);
        let d = DefineTimeDate::at(t);
        assert_eq!((d.year, d.month, d.day, d.day_of_week), (2024, 3, 10, 0));
        assert_eq!((d.hour, d.minute, d.second, d.milliseconds), (13, 14, 15, 500));
        assert_eq!(DefineTimeDate::decode(&d.frame().data).unwrap(), d);
    }

    #[test]
    fn header_version_follows_the_protocol() {
        assert_eq!(header_version(5), 0);
        assert_eq!(header_version(17), 0x11);
        assert_eq!(header_version(20), 0x11);
    }
}
