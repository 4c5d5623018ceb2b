//! REGISTER: which device and which line, the rules, then the answer.
//!
//! Two kinds of REGISTER are answered, each as its sender expects:
//! - a Cisco phone registering a line (phone-boot.md §3.2): its DN in From/To, its device name
//!   in the Contact's `+u.sip!devicename.ccm.cisco.com`. It gets CUCM's answer (§3.4):
//!   `100 Trying`, then `200 OK` with the station keepalive interval as Expires, its Contact
//!   echoed with `x-cisco-newreg` when the registration is new, `Supported`, and the remotecc
//!   response to a bulk registration. An `Expires: 0` REGISTER for a device not registered from
//!   here is a standby CallManager's keepalive (§3.5): `200 OK`, nothing recorded.
//! - a device-name REGISTER (device name in From/To: our simulator, baresip, openssl) keeps the
//!   RFC 3261 answer: the Expires asked for (capped), each Contact with `;expires=`.

use opencapf_cluster::{Cluster, Error as StoreError};
use opencapf_model::{Device, DirectoryNumber, RegistrationResult};
use opencapf_pki::DeviceName;
use opencapf_telemetry::RefusalReason;
use tracing::{debug, info};

use super::record::{record_lines, recorded_name, refuse};
use super::{remotecc, Shared};
use crate::rules::{self, Connection, Refusal};
use crate::sip::{self, Message};

/// Cisco's Contact parameter naming the device (phone-boot.md §3.3).
const DEVICE_NAME_PARAM: &str = "+u.sip!devicename.ccm.cisco.com";

/// What CUCM answers in `Supported` (CUCM 11.5 to a CP-7821, phone-boot.md §3.4; later releases
/// advertise a higher `X-cisco-sis-` version, which phones of that era do not need [U]).
const SUPPORTED: &str = "X-cisco-srtp-fallback,X-cisco-sis-8.0.0";

/// The registration a phone holds from here: on a TCP or TLS connection, or from a UDP source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Held {
    pub device: DeviceName,
    /// Expires granted, in seconds.
    pub expires: u32,
    pub lines: Vec<DirectoryNumber>,
}

/// Who a REGISTER says it is.
struct Claim {
    /// The device name: the Contact's `+u.sip!devicename`, else the To user.
    device: String,
    to_user: String,
    /// A Cisco phone registering a line: device name in the Contact, To user not a device name.
    line_registration: bool,
}

fn claim(req: &Message, contacts: &[String]) -> Result<Claim, &'static str> {
    let to_user =
        req.header("To").and_then(sip::user_of).ok_or("The To header has no sip: user (a line or the device name)")?;
    let named = contacts.iter().find_map(|c| sip::param(c, DEVICE_NAME_PARAM).flatten());
    let line_registration = named.is_some() && to_user.parse::<DeviceName>().is_err();
    Ok(Claim { device: named.unwrap_or_else(|| to_user.clone()), to_user, line_registration })
}

/// Who a REGISTER claims to be, read as [`register`] reads it before asking the database:
/// (device name, To user, line registration). For the fuzz targets (`opencapf_callmanager::fuzzing`).
pub(crate) fn claimed(req: &Message) -> Result<(String, String, bool), String> {
    let contacts: Vec<String> = req.headers_named("Contact").flat_map(sip::split_values).map(str::to_owned).collect();
    let claim = claim(req, &contacts)?;
    crate::rules::parse_claimed(&claim.device).map_err(|r| r.reason)?;
    Ok((claim.device, claim.to_user, claim.line_registration))
}

/// The answers to a REGISTER, in order (a `100 Trying` first for a Cisco line registration);
/// `held` is updated.
pub(super) async fn register(
    shared: &Shared,
    conn: &Connection,
    req: &Message,
    tag: &str,
    held: &mut Option<Held>,
) -> Vec<Message> {
    let contacts: Vec<String> = req.headers_named("Contact").flat_map(sip::split_values).map(str::to_owned).collect();
    let claim = match claim(req, &contacts) {
        Ok(c) => c,
        Err(why) => return vec![sip::response_to(req, 400, why, tag)],
    };
    let mut out = Vec::new();
    if claim.line_registration {
        out.push(sip::response_to(req, 100, "Trying", tag));
    }
    if let Some(alarm) = req.header("Reason").and_then(|r| sip::param(r, "text").flatten()) {
        // Sent on the first REGISTER after the phone lost its registration, with its loads and why.
        info!(device = %claim.device, peer = %conn.peer, "{} reports {alarm}", claim.device);
    }
    let outcome = match identify(&shared.store, conn, req, &claim, &contacts).await {
        Ok(o) => o,
        Err(refusal) => {
            let device = recorded_name(&claim.device);
            refuse(shared, conn, device.as_deref(), &refusal.reason, refusal.kind).await;
            let mut r = sip::response_to(req, refusal.sip_code, &refusal.reason, tag);
            r.push("Warning", super::sip_session::warning(&shared.hostname, &refusal.reason));
            out.push(r);
            return out;
        }
    };
    out.push(answer(shared, conn, req, tag, &claim, &contacts, outcome, held).await);
    out
}

/// The device and the lines a REGISTER registers.
struct Identified {
    device: DeviceName,
    lines: Vec<DirectoryNumber>,
}

/// Rule 1 (the device, from the Contact or the To user), rules 2 to 4, then the SIP identity:
/// From is To, every Contact names the same device, and To is the device or one of its lines.
async fn identify(
    store: &Cluster,
    conn: &Connection,
    req: &Message,
    claim: &Claim,
    contacts: &[String],
) -> Result<Identified, Refusal> {
    let name = rules::parse_claimed(&claim.device)?;
    let device = match store.device(&name).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) => return Err(rules::unknown_device(&name)),
        Err(e) => return Err(Refusal::unavailable(format!("CallManager could not read the device: {e}"))),
    };
    rules::check(&device, conn)?;
    let to = &claim.to_user;
    if let Some(from_user) = req.header("From").and_then(sip::user_of) {
        if !from_user.eq_ignore_ascii_case(to) {
            return Err(Refusal::forbidden(
                RefusalReason::SipIdentity,
                "Identity mismatch",
                format!("the From user '{from_user}' is not the To user {to}: a phone registers only itself"),
            ));
        }
    }
    for c in contacts {
        if let Some(Some(dev)) = sip::param(c, DEVICE_NAME_PARAM) {
            if !dev.eq_ignore_ascii_case(name.as_str()) {
                return Err(Refusal::forbidden(
                    RefusalReason::SipIdentity,
                    "Identity mismatch",
                    format!("the Contacts name two devices, '{dev}' and {name}"),
                ));
            }
        }
    }
    let lines = lines_of(&device, to, req)?;
    Ok(Identified { device: name, lines })
}

/// The lines registered: To is the device name (all its lines), or one of its DNs (that one,
/// or all of them for a bulk registration).
fn lines_of(device: &Device, to: &str, req: &Message) -> Result<Vec<DirectoryNumber>, Refusal> {
    let name = &device.name;
    if to.eq_ignore_ascii_case(name.as_str()) {
        return Ok(device.lines.clone());
    }
    if to.parse::<DeviceName>().is_ok() {
        return Err(Refusal::forbidden(
            RefusalReason::SipIdentity,
            "Identity mismatch",
            format!("the Contact names device {name}, not the To user {to}"),
        ));
    }
    let line = to.parse::<DirectoryNumber>().ok().filter(|dn| device.lines.contains(dn));
    match line {
        Some(_) if remotecc::is_bulk_register(req) => Ok(device.lines.clone()),
        Some(dn) => Ok(vec![dn]),
        None => {
            let shown: String = to.chars().take(24).collect();
            let has = if device.lines.is_empty() {
                "it has none".to_owned()
            } else {
                let list: Vec<&str> = device.lines.iter().map(DirectoryNumber::as_str).collect();
                format!("its lines are {}", list.join(", "))
            };
            Err(Refusal::unknown_device(format!(
                "'{shown}' is not a line of {name} ({has}): add it with `opencapf device line add {name} {shown}`"
            )))
        }
    }
}

/// `200 OK` to a REGISTER that passed the rules; records a new registration or an unregistration.
#[allow(clippy::too_many_arguments)]
async fn answer(
    shared: &Shared,
    conn: &Connection,
    req: &Message,
    tag: &str,
    claim: &Claim,
    contacts: &[String],
    who: Identified,
    held: &mut Option<Held>,
) -> Message {
    let cfg = &shared.config;
    let requested = contacts
        .first()
        .and_then(|c| sip::param(c, "expires").flatten())
        .or_else(|| req.header("Expires").map(str::to_owned))
        .map(|v| v.trim().parse::<u64>().unwrap_or(u64::from(cfg.sip_default_expires)))
        .unwrap_or(u64::from(cfg.sip_default_expires));
    let cap =
        if claim.line_registration { cfg.sip_station_keepalive.min(cfg.sip_max_expires) } else { cfg.sip_max_expires };
    let granted = u32::try_from(requested.min(u64::from(cap))).unwrap_or(cap);
    let here = held.as_ref().filter(|h| h.device == who.device);
    let name = who.device.as_str();
    let mut r = sip::response_to(req, 200, "OK", tag);
    if granted == 0 {
        match here {
            Some(h) => {
                let lines = h.lines.clone();
                *held = None;
                record_lines(shared, conn, Some(name), &lines, RegistrationResult::Unregistered, "").await;
            }
            None if claim.line_registration => {
                debug!(device = name, peer = %conn.peer, "standby keepalive (Expires: 0) answered");
            }
            None => record_lines(shared, conn, Some(name), &who.lines, RegistrationResult::Unregistered, "").await,
        }
        r.push("Expires", "0");
        return r;
    }
    let new = here.is_none_or(|h| !who.lines.iter().all(|l| h.lines.contains(l)));
    if new {
        record_lines(shared, conn, Some(name), &who.lines, RegistrationResult::Registered, "").await;
    } else {
        debug!(device = name, peer = %conn.peer, "registration refreshed, expires {granted}");
    }
    let mut lines = here.map(|h| h.lines.clone()).unwrap_or_default();
    lines.extend(who.lines.iter().filter(|l| !lines.contains(l)).cloned().collect::<Vec<_>>());
    *held = Some(Held { device: who.device.clone(), expires: granted, lines });
    if claim.line_registration {
        r.push("Expires", granted.to_string());
        for c in contacts.iter().filter(|c| c.as_str() != "*") {
            r.push("Contact", if new { format!("{c};x-cisco-newreg") } else { c.clone() });
        }
        r.push("Supported", SUPPORTED);
        if remotecc::is_bulk_register(req) || remotecc::has_options(req) {
            r.push("Content-Type", remotecc::RESPONSE_TYPE);
            r.body = remotecc::response_body().into_bytes();
        }
        return r;
    }
    for c in contacts.iter().filter(|c| c.as_str() != "*") {
        let base = match c.find('>') {
            Some(end) => c[..=end].to_owned(),
            None => format!("<{}>", sip::uri_of(c)),
        };
        r.push("Contact", format!("{base};expires={granted}"));
    }
    r.push("Expires", granted.to_string());
    r
}
