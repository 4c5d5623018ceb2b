//! A SIP connection: REGISTER (the rules, then the SIP identity), OPTIONS, and `501` for anything
//! else, until the phone closes, goes idle or is refused too often.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use opencapf_model::RegistrationResult;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tracing::debug;

use super::record::{record, recorded_name};
use super::{decide, write, Shared};
use crate::rules::{Connection, Refusal};
use crate::sip::{self, Event, Message, ReadError};

/// A SIP connection is closed after this many refused REGISTERs: each one is recorded, and a
/// phone that keeps being refused has nothing to gain from the same connection.
const MAX_SIP_REFUSALS: u32 = 10;

fn new_tag() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    format!("{:016x}", h.finish())
}

pub(super) async fn sip_session<S>(shared: &Shared, conn: &Connection, stream: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cfg = &shared.config;
    let mut reader = sip::Reader::new(cfg.sip_limits);
    let tag = new_tag();
    // The device registered on this connection and the Expires granted.
    let mut registered: Option<(opencapf_pki::DeviceName, u32)> = None;
    let mut refusals = 0u32;
    // Since when the connection has had no registration: it must get one in time, pings or not.
    let mut unregistered_since = Some(Instant::now());
    let mut inbox = shared.registry.inbox(conn.peer, conn.transport);
    loop {
        let idle = match &registered {
            Some((_, expires)) => {
                unregistered_since = None;
                Duration::from_secs(u64::from(*expires) + 32)
            }
            None => {
                let since = *unregistered_since.get_or_insert_with(Instant::now);
                let left = (since + cfg.unregistered_timeout).saturating_duration_since(Instant::now());
                cfg.sip_idle_timeout.min(left)
            }
        };
        let request = match inbox.next(&mut reader, stream, idle, cfg.sip_request_timeout, &shared.hostname).await {
            Ok(Event::Closed) => return,
            Ok(Event::Ping) => {
                if !write(stream, b"\r\n").await {
                    return;
                }
                continue;
            }
            Ok(Event::Message(m)) => m,
            Err(ReadError::BodyTooLarge { head, length }) => {
                if head.method().is_some() {
                    let mut r = sip::response_to(&head, 413, "Request Entity Too Large", &tag);
                    r.push("Warning", warning(&shared.hostname, &format!("body of {length} bytes is over the limit")));
                    write(stream, &r.to_bytes()).await;
                }
                debug!(peer = %conn.peer, "closing SIP connection: body of {length} bytes");
                return;
            }
            Err(e) => {
                debug!(peer = %conn.peer, "closing SIP connection: {e}");
                return;
            }
        };
        let Some(method) = request.method().map(str::to_ascii_uppercase) else {
            continue; // a response: nothing to answer
        };
        if method == "ACK" {
            continue;
        }
        let response = match missing_header(&request) {
            Some(name) => sip::response_to(&request, 400, &format!("Missing {name} header"), &tag),
            None => match method.as_str() {
                "REGISTER" => register(shared, conn, &request, &tag, &mut registered).await,
                "OPTIONS" => {
                    let mut r = sip::response_to(&request, 200, "OK", &tag);
                    r.push("Allow", "REGISTER, OPTIONS");
                    r.push("Accept", "application/sdp");
                    r
                }
                _ => {
                    let mut r = sip::response_to(&request, 501, "Not Implemented", &tag);
                    r.push("Allow", "REGISTER, OPTIONS");
                    r
                }
            },
        };
        let mut response = response;
        response.push("Server", "OpenCAPF CallManager");
        if !write(stream, &response.to_bytes()).await {
            return;
        }
        if method == "REGISTER" {
            inbox.after_register(&request, &response, registered.as_ref().map(|(d, _)| d));
        }
        if method == "REGISTER" && response.code().is_some_and(|c| c >= 400) {
            refusals += 1;
            if refusals >= MAX_SIP_REFUSALS {
                debug!(peer = %conn.peer, "closing SIP connection after {refusals} refused REGISTERs");
                return;
            }
        }
    }
}

fn missing_header(m: &Message) -> Option<&'static str> {
    ["Via", "From", "To", "Call-ID", "CSeq"].into_iter().find(|h| m.header(h).is_none())
}

fn warning(host: &str, text: &str) -> String {
    format!("399 {host} \"{}\"", sip::sanitize_reason(text).replace(['"', '\\'], "'"))
}

/// REGISTER: the rules, then the SIP identity; 200 OK with Contact and Expires, or the refusal.
async fn register(
    shared: &Shared,
    conn: &Connection,
    req: &Message,
    tag: &str,
    registered: &mut Option<(opencapf_pki::DeviceName, u32)>,
) -> Message {
    let to = req.header("To").unwrap_or("");
    let Some(claimed) = sip::user_of(to) else {
        return sip::response_to(req, 400, "The To header has no sip: user (the device name)", tag);
    };
    let contacts: Vec<String> = req.headers_named("Contact").flat_map(sip::split_values).map(str::to_owned).collect();
    let outcome = match decide(&shared.store, conn, &claimed).await {
        Err(r) => Err(r),
        Ok(name) => sip_identity(req, &name, &contacts).map(|()| name),
    };
    let name = match outcome {
        Ok(name) => name,
        Err(refusal) => {
            record(shared, conn, recorded_name(&claimed).as_deref(), RegistrationResult::Refused, &refusal.reason)
                .await;
            let mut r = sip::response_to(req, refusal.sip_code, &refusal.reason, tag);
            r.push("Warning", warning(&shared.hostname, &refusal.reason));
            return r;
        }
    };

    let cfg = &shared.config;
    let requested = contacts
        .first()
        .and_then(|c| sip::param(c, "expires").flatten())
        .or_else(|| req.header("Expires").map(str::to_owned))
        .map(|v| v.trim().parse::<u64>().unwrap_or(u64::from(cfg.sip_default_expires)))
        .unwrap_or(u64::from(cfg.sip_default_expires));
    let granted = u32::try_from(requested.min(u64::from(cfg.sip_max_expires))).unwrap_or(cfg.sip_max_expires);
    let mut r = sip::response_to(req, 200, "OK", tag);
    if granted == 0 {
        if registered.as_ref().is_some_and(|(d, _)| *d == name) {
            *registered = None;
        }
        record(shared, conn, Some(name.as_str()), RegistrationResult::Unregistered, "").await;
    } else {
        let refresh = registered.as_ref().is_some_and(|(d, _)| *d == name);
        *registered = Some((name.clone(), granted));
        if refresh {
            debug!(device = %name, peer = %conn.peer, "registration refreshed, expires {granted}");
        } else {
            record(shared, conn, Some(name.as_str()), RegistrationResult::Registered, "").await;
        }
        for c in contacts.iter().filter(|c| c.as_str() != "*") {
            let base = match c.find('>') {
                Some(end) => c[..=end].to_owned(),
                None => format!("<{}>", sip::uri_of(c)),
            };
            r.push("Contact", format!("{base};expires={granted}"));
        }
    }
    r.push("Expires", granted.to_string());
    r
}

/// The SIP identity must be the device's: From user equals To user, and Cisco's
/// `+u.sip!devicename.ccm.cisco.com` Contact parameter, when present, names the same device.
fn sip_identity(req: &Message, name: &opencapf_pki::DeviceName, contacts: &[String]) -> Result<(), Refusal> {
    if let Some(from_user) = req.header("From").and_then(sip::user_of) {
        if !from_user.eq_ignore_ascii_case(name.as_str()) {
            return Err(Refusal::forbidden(
                "Identity mismatch",
                format!("the From user '{from_user}' is not the To user {name}: a phone registers only itself"),
            ));
        }
    }
    for c in contacts {
        if let Some(Some(dev)) = sip::param(c, "+u.sip!devicename.ccm.cisco.com") {
            if !dev.eq_ignore_ascii_case(name.as_str()) {
                return Err(Refusal::forbidden(
                    "Identity mismatch",
                    format!("the Contact names device '{dev}', not the To user {name}"),
                ));
            }
        }
    }
    Ok(())
}
