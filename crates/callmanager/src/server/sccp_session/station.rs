//! What CallManager answers a registered phone's requests (phone-boot.md §4.4): the button
//! and soft key templates, its lines, its configuration and the date. Every answer carries the
//! header version of the phone's protocol ([`sccp::header_version`]).

use opencapf_model::DirectoryNumber;
use time::OffsetDateTime;

use crate::sccp::{self, Button, ButtonDefinition, Frame, MessageError};

/// `lineDisplayOptions` with every bit set (original dialed, redirected dialed, calling
/// number, calling name). [U: the value open-source servers send; CUCM's is not documented.]
const DISPLAY_ALL: u32 = 0x0F;

/// A registered phone, as its answers need it.
pub(super) struct Station {
    pub(super) device_name: String,
    /// The device's directory numbers, in button order.
    pub(super) lines: Vec<DirectoryNumber>,
    /// How many line keys the phone said it has (RegisterMessage `maxNumberOfLines`).
    pub(super) phone_lines: u32,
    /// The protocol version both sides use (the RegisterAck's `maxProtocolVer`).
    pub(super) protocol: u8,
    /// CallManager's name, for ConfigStat.
    pub(super) server_name: String,
}

impl Station {
    fn stamp(&self, f: Frame) -> Frame {
        f.with_version(sccp::header_version(self.protocol))
    }

    /// The answers to one request; empty for messages that need none (IpPort, CapabilitiesRes,
    /// RegisterAvailableLines) and for those not handled here.
    pub(super) fn answer(&self, id: u32, data: &[u8]) -> Result<Vec<Frame>, MessageError> {
        let frames = match id {
            sccp::id::BUTTON_TEMPLATE_REQ => vec![self.button_template().frame()],
            sccp::id::SOFT_KEY_TEMPLATE_REQ => vec![sccp::SoftKeyTemplate::standard().frame()],
            // The idle screen's soft keys come with the sets, as CUCM follows up.
            sccp::id::SOFT_KEY_SET_REQ => {
                vec![sccp::SoftKeySets::standard().frame(), sccp::SelectSoftKeys::on_hook().frame()]
            }
            sccp::id::LINE_STAT_REQ => vec![self.line_stat(sccp::LineStatReq::decode(data)?.line).frame()],
            sccp::id::CONFIG_STAT_REQ => vec![self.config_stat().frame()],
            sccp::id::TIME_DATE_REQ => vec![sccp::DefineTimeDate::at(OffsetDateTime::now_utc()).frame()],
            sccp::id::CAPABILITIES_RES => {
                sccp::Capabilities::decode(data)?;
                Vec::new()
            }
            sccp::id::REGISTER_AVAILABLE_LINES => {
                sccp::RegisterAvailableLines::decode(data)?;
                Vec::new()
            }
            _ => Vec::new(),
        };
        Ok(frames.into_iter().map(|f| self.stamp(f)).collect())
    }

    /// One line button per directory number (instances 1, 2 …), then the phone's other line
    /// keys as Undefined. [U: CUCM sends the whole phone button template of the model, with
    /// speed dials, services and unassigned lines; without templates here, the keys past the
    /// lines are sent as unassigned.]
    pub(super) fn button_template(&self) -> sccp::ButtonTemplate {
        let mut buttons: Vec<Button> = (1..=self.lines.len().min(sccp::MAX_BUTTONS))
            .map(|i| Button { instance: i as u8, definition: ButtonDefinition::Line })
            .collect();
        let keys = (self.phone_lines as usize).min(sccp::MAX_BUTTONS);
        while buttons.len() < keys {
            buttons.push(Button { instance: 0, definition: ButtonDefinition::Undefined });
        }
        sccp::ButtonTemplate::whole(buttons)
    }

    /// The directory number of line `line` (from 1); an empty line for a number the device
    /// does not have, as a phone asks for each of its line buttons.
    pub(super) fn line_stat(&self, line: u32) -> sccp::LineStat {
        let dn = (line as usize).checked_sub(1).and_then(|i| self.lines.get(i));
        let number = dn.map(|d| d.as_str().to_owned()).unwrap_or_default();
        sccp::LineStat {
            line,
            dir_number: number.clone(),
            // [U: CUCM sends the line's Display (Caller ID) and Line Text Label; none are
            // modelled, so the name is the number and the label is empty (the phone shows the
            // number).]
            display_name: number,
            label: String::new(),
            display_options: if dn.is_some() { DISPLAY_ALL } else { 0 },
        }
    }

    pub(super) fn config_stat(&self) -> sccp::ConfigStat {
        sccp::ConfigStat {
            device_name: self.device_name.clone(),
            station_user_id: 0,
            instance: 1,
            user_name: String::new(),
            server_name: self.server_name.clone(),
            lines: self.lines.len() as u32,
            speed_dials: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station(lines: &[&str], phone_lines: u32) -> Station {
        Station {
            device_name: "SEP001122334455".into(),
            lines: lines.iter().map(|l| l.parse().unwrap()).collect(),
            phone_lines,
            protocol: 20,
            server_name: "cucm.lab".into(),
        }
    }

    #[test]
    fn buttons_are_the_lines_then_the_other_keys() {
        let t = station(&["2222", "2223"], 4).button_template();
        let defs: Vec<(u8, ButtonDefinition)> = t.buttons.iter().map(|b| (b.instance, b.definition)).collect();
        use ButtonDefinition::*;
        assert_eq!(defs, [(1, Line), (2, Line), (0, Undefined), (0, Undefined)]);
        assert_eq!(t.total, 4);
        assert_eq!(station(&["2222"], 0).button_template().buttons.len(), 1);
    }

    #[test]
    fn lines_out_of_range_are_empty_and_answers_carry_v17() {
        let s = station(&["2222"], 2);
        assert_eq!(s.line_stat(1).dir_number, "2222");
        assert_eq!(s.line_stat(0).dir_number, "");
        assert_eq!(s.line_stat(u32::MAX).dir_number, "");
        let answers = s.answer(sccp::id::LINE_STAT_REQ, &1u32.to_le_bytes()).unwrap();
        assert_eq!(answers[0].version, 0x11);
        assert!(s.answer(sccp::id::LINE_STAT_REQ, &[1]).is_err());
    }
}
