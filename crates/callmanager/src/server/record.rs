//! What is recorded of each registration, refusal and unregistration: one log line each; for a
//! registration or unregistration one registrations row and one audit record (actor
//! [`ACTOR`]); a refusal goes to the [`super::RefusalLog`], aggregated and not audited.

use opencapf_model::{DirectoryNumber, NewRegistration, RegistrationResult};
use opencapf_telemetry::{self as telemetry, PhoneTransport, RefusalReason};
use tracing::{error, info, warn};

use super::Shared;
use crate::rules::Connection;

/// The actor of CallManager's audit records.
pub(super) const ACTOR: &str = "callmanager";

/// The device name to record for a claim: normalized when it is a device name.
pub(super) fn recorded_name(claimed: &str) -> Option<String> {
    if claimed.is_empty() {
        return None;
    }
    Some(match claimed.parse::<opencapf_pki::DeviceName>() {
        Ok(d) => d.to_string(),
        Err(_) => claimed.chars().take(64).collect(),
    })
}

/// One log line, and the registrations row and audit record or the aggregated refusal.
pub(super) async fn record(
    shared: &Shared,
    conn: &Connection,
    device: Option<&str>,
    result: RegistrationResult,
    reason: &str,
) {
    record_lines(shared, conn, device, &[], result, reason).await;
}

/// [`record`] for a refusal, counted by its rule.
pub(super) async fn refuse(
    shared: &Shared,
    conn: &Connection,
    device: Option<&str>,
    reason: &str,
    kind: RefusalReason,
) {
    telemetry::refusal(PhoneTransport::new(conn.protocol, conn.transport), kind);
    record_lines(shared, conn, device, &[], RegistrationResult::Refused, reason).await;
}

/// [`record`], for a registration of some of the device's lines (SIP names them).
pub(super) async fn record_lines(
    shared: &Shared,
    conn: &Connection,
    device: Option<&str>,
    lines: &[DirectoryNumber],
    result: RegistrationResult,
    reason: &str,
) {
    let cert = conn.certificate.as_ref();
    let event = NewRegistration {
        device: device.map(str::to_owned),
        peer: conn.peer.to_string(),
        protocol: conn.protocol,
        transport: conn.transport,
        tls_version: conn.tls_version.clone(),
        cipher: conn.cipher.clone(),
        engine: conn.engine,
        cert_kind: cert.map(|c| c.kind_label().to_owned()),
        cert_subject: cert.map(|c| c.info.subject.clone()),
        issuer_cn: cert.and_then(|c| c.info.issuer_cn.clone()),
        serial: cert.map(|c| c.info.serial.clone()),
        result,
        reason: reason.to_owned(),
        lines: lines.to_vec(),
    };
    let mut how = format!("{} over {}", conn.protocol, conn.transport);
    if let (Some(v), Some(c)) = (&conn.tls_version, &conn.cipher) {
        let legacy = if event.is_legacy() { ", legacy" } else { "" };
        how.push_str(&format!(" ({v}, {c}{legacy})"));
    }
    if let Some(c) = cert {
        how.push_str(&format!(", {}", c.describe()));
    }
    if !lines.is_empty() {
        let list: Vec<&str> = lines.iter().map(DirectoryNumber::as_str).collect();
        how.push_str(&format!(", line {}", list.join(" ")));
    }
    let who = device.unwrap_or("unknown device");
    let peer = conn.peer;
    match result {
        RegistrationResult::Registered => info!(device = who, %peer, "{who} registered: {how}, from {peer}"),
        RegistrationResult::Unregistered => info!(device = who, %peer, "{who} unregistered: {how}, from {peer}"),
        RegistrationResult::Refused => {
            warn!(device = who, %peer, "registration of {who} refused: {reason} ({how}, from {peer})")
        }
    }
    if result == RegistrationResult::Refused {
        return shared.refusals.add(event, peer.ip()).await;
    }
    if result == RegistrationResult::Registered {
        telemetry::registration(PhoneTransport::new(conn.protocol, conn.transport));
    }
    // Refusals waiting for their write came first: keep the records in order.
    shared.refusals.flush().await;
    let detail =
        if reason.is_empty() { format!("{how}, from {peer}") } else { format!("{reason} ({how}, from {peer})") };
    let target = device.map(str::to_owned).unwrap_or_else(|| peer.to_string());
    let action = format!("callmanager.{}", result.as_str());
    let outcome = shared.store.record_registration(&event, ACTOR, &action, &target, &detail).await;
    if let Err(e) = outcome {
        error!(device = who, "could not record the registration: {e}");
    }
}
