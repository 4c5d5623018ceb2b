//! The answers to a SIP request, whatever carried it (a TCP or TLS connection, a UDP datagram):
//! REGISTER, and what phones send in normal operation (phone-boot.md §3.8), so that a phone
//! never waits on a timeout.
//!
//! | request | answer |
//! |---|---|
//! | REGISTER | `sip_register` |
//! | OPTIONS | `200 OK` with `Allow` |
//! | REFER (DeviceTLInfo alarms, remotecc requests) | `202 Accepted` with a Contact, no body |
//! | NOTIFY of a known event (dialog, presence …) | `200 OK`; other events `489 Bad Event` |
//! | SUBSCRIBE | `489 Bad Event`: CallManager offers no subscription (it accepted only unsolicited NOTIFYs) |
//! | ACK | nothing |
//! | anything else (INVITE, BYE …) | `501 Not Implemented`: no call control |

use time::OffsetDateTime;
use tracing::debug;

use super::sip_register::{register, Held};
use super::Shared;
use crate::rules::Connection;
use crate::sip::{self, Message};

/// The methods answered here.
const ALLOW: &str = "ACK, OPTIONS, REGISTER, REFER, NOTIFY, SUBSCRIBE";

/// The events of the NOTIFYs a phone sends on its own (unsolicited, as negotiated in optionsind)
/// or in answer to a REFER.
const NOTIFY_EVENTS: &[&str] = &["dialog", "presence", "kpml", "refer", "message-summary", "x-cisco-alarm"];

/// The responses to `req`, in order (none for ACK and responses), each with `Date` and `Server`.
pub(super) async fn answer(
    shared: &Shared,
    conn: &Connection,
    req: &Message,
    tag: &str,
    held: &mut Option<Held>,
) -> Vec<Message> {
    let Some(method) = req.method().map(str::to_ascii_uppercase) else {
        return Vec::new(); // a response: nothing to answer
    };
    if method == "ACK" {
        return Vec::new();
    }
    let mut out = match missing_header(req) {
        Some(name) => vec![sip::response_to(req, 400, &format!("Missing {name} header"), tag)],
        None if method == "REGISTER" => register(shared, conn, req, tag, held).await,
        None => vec![other(shared, conn, req, &method, tag)],
    };
    let date = sip::date(OffsetDateTime::now_utc());
    for r in &mut out {
        r.push("Date", date.clone());
        r.push("Server", "OpenCAPF CallManager");
    }
    out
}

fn missing_header(m: &Message) -> Option<&'static str> {
    ["Via", "From", "To", "Call-ID", "CSeq"].into_iter().find(|h| m.header(h).is_none())
}

/// Whatever is not a REGISTER.
fn other(shared: &Shared, conn: &Connection, req: &Message, method: &str, tag: &str) -> Message {
    let event = req.header("Event").map(|e| e.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match method {
        "OPTIONS" => {
            let mut r = sip::response_to(req, 200, "OK", tag);
            r.push("Allow", ALLOW);
            r.push("Accept", "application/sdp");
            r
        }
        "REFER" => {
            if req.header("Refer-To").is_none() {
                return sip::response_to(req, 400, "Missing Refer-To header", tag);
            }
            debug!(peer = %conn.peer, content_type = req.header("Content-Type"), "REFER accepted");
            let mut r = sip::response_to(req, 202, "Accepted", tag);
            r.push("Contact", own_contact(shared, conn));
            r
        }
        "NOTIFY" => match event {
            None => sip::response_to(req, 400, "Missing Event header", tag),
            Some(e) if NOTIFY_EVENTS.contains(&e.as_str()) => sip::response_to(req, 200, "OK", tag),
            Some(_) => bad_event(req, tag),
        },
        "SUBSCRIBE" => bad_event(req, tag),
        _ => {
            let mut r = sip::response_to(req, 501, "Not Implemented", tag);
            r.push("Allow", ALLOW);
            r
        }
    }
}

fn bad_event(req: &Message, tag: &str) -> Message {
    let mut r = sip::response_to(req, 489, "Bad Event", tag);
    r.push("Allow-Events", NOTIFY_EVENTS.join(", "));
    r
}

/// CallManager's own Contact, as CUCM gives it in a 202: `<sip:host;transport=tcp>`.
fn own_contact(shared: &Shared, conn: &Connection) -> String {
    format!("<sip:{};transport={}>", shared.hostname, conn.transport.token())
}
