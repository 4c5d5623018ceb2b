//! Cisco's remotecc bodies in a REGISTER (phone-boot.md §3.2) and CUCM's answer to them (§3.4).
//!
//! A phone's first REGISTER carries a multipart body: `bulkregisterreq` (register every line of
//! the device in one transaction) and `optionsind` (the features it offers). CUCM answers with one
//! `x-cisco-remotecc-response` holding the subset it accepts; no separate bulk-register part.
//! The parts are recognised by their elements; nothing else of the XML is read.

use crate::sip::Message;

/// The Content-Type of CUCM's answer.
pub(super) const RESPONSE_TYPE: &str = "application/x-cisco-remotecc-response+xml";

/// The features CUCM 11.5 accepted from a CP-7821 (TAC 214535): status and service control, the
/// three notification usages with unsolicited NOTIFYs only (no SUBSCRIBE needed), join, ix, bfcp.
const ACCEPTED: &str = "<combine max=\"6\"><remotecc><status/></remotecc><service-control/></combine>\
<dialog usage=\"hook status\"><unot/></dialog>\
<dialog usage=\"shared line\"><unot/></dialog>\
<presence usage=\"blf speed dial\"><unot/></presence>\
<joinreq></joinreq><ix/><bfcp/>";

fn is_remotecc(req: &Message) -> bool {
    req.header("Content-Type").is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.starts_with("multipart/mixed") || t.starts_with("application/x-cisco-remotecc-request+xml")
    })
}

fn contains(body: &[u8], needle: &[u8]) -> bool {
    body.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// A REGISTER asking to register every line of the device at once.
pub(super) fn is_bulk_register(req: &Message) -> bool {
    is_remotecc(req) && contains(&req.body, b"<bulkregisterreq")
}

/// A REGISTER offering the phone's features.
pub(super) fn has_options(req: &Message) -> bool {
    is_remotecc(req) && contains(&req.body, b"<optionsind")
}

/// CUCM's remotecc response to a bulk registration.
pub(super) fn response_body() -> String {
    format!(
        "<x-cisco-remotecc-response>\n<response>\n<code>200</code>\n<optionsind>\n{ACCEPTED}\n</optionsind>\n\
         </response>\n</x-cisco-remotecc-response>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_register_is_recognised_by_its_elements() {
        let mut m = Message::request("REGISTER", "sip:cucm");
        m.body = b"--b\r\n\r\n<x-cisco-remotecc-request><bulkregisterreq><contact all=\"true\">".to_vec();
        assert!(!is_bulk_register(&m), "no Content-Type");
        m.push("Content-Type", "multipart/mixed; boundary=b");
        assert!(is_bulk_register(&m) && !has_options(&m));
        assert!(response_body().contains("<code>200</code>"));
    }
}
