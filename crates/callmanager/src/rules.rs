//! The registration rules, each refusal with a reason an administrator can read.
//!
//! In order:
//! 1. the name the phone gives is a device of the cluster: SCCP's DeviceName; in SIP, the
//!    Contact's `+u.sip!devicename.ccm.cisco.com` (as CUCM reads it), else the To user (older
//!    clients and third-party ones name the device there); a SIP To user that is not the device
//!    name must be one of its lines (`crate::server` checks it, with the device's lines);
//! 2. the device is configured for this protocol (SIP or SCCP);
//! 3. an Authenticated or Encrypted device registers over TLS; a Non Secure device over TCP (or
//!    UDP, for SIP);
//! 4. over TLS, the certificate belongs to the device, by pki's one rule
//!    ([`opencapf_pki::names_device`]): an LSC's or a MIC's CN is the name or ends with `-` and
//!    it (`CP-8861-SEP2C3124C9F8E1`, as CUCM's LSCs and the MICs read);
//! 5. a NULL-SHA session (integrity, no encryption) is kept only by an Authenticated device:
//!    the listener offers NULL-SHA to anyone (who the phone is, only its REGISTER says), so an
//!    Encrypted device that negotiated it is refused here.
//!
//! Whether the certificate is trusted at all was settled earlier, in the TLS handshake
//! (`crate::tls`): a phone refused there never gets here.

use std::net::SocketAddr;

use opencapf_model::{Device, Protocol, SecurityMode, TlsEngine, Transport};
use opencapf_pki::{
    names_device, CertKind, CertificateInfo, CertificateKind, DeviceName, Verdict, Verification, DEVICE_CN_RULE,
};
use opencapf_telemetry::RefusalReason;

/// The certificate a phone presented in the handshake.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    pub info: CertificateInfo,
    pub kind: CertificateKind,
}

impl Presented {
    /// `LSC`, `MIC` or `other`, as registrations record it.
    pub(crate) fn kind_label(&self) -> &'static str {
        kind_label(self.kind)
    }

    /// `LSC CN=SEP… issued by CAPF-1a2b3c4d, serial 4f…`
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} CN={} issued by {}, serial {}",
            self.kind_label(),
            self.info.subject_cn.as_deref().unwrap_or("(none)"),
            self.info.issuer_cn.as_deref().unwrap_or(&self.info.issuer),
            self.info.serial
        )
    }
}

pub(crate) fn kind_label(kind: CertificateKind) -> &'static str {
    kind.cert_kind().map_or("other", CertKind::as_str)
}

/// What is known of a connection when a phone asks to register.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub peer: SocketAddr,
    pub protocol: Protocol,
    pub transport: Transport,
    /// `TLSv1.2`, `TLSv1.3` (TLS only).
    pub tls_version: Option<String>,
    /// The cipher suite (TLS only): IANA's name from rustls, OpenSSL's from OpenSSL.
    pub cipher: Option<String>,
    /// The engine serving the TLS (TLS only).
    pub engine: Option<TlsEngine>,
    /// The phone's certificate (TLS only).
    pub certificate: Option<Presented>,
}

impl Connection {
    /// A TLS session with no encryption (NULL-SHA, by either engine's spelling).
    pub(crate) fn is_null_cipher(&self) -> bool {
        self.cipher.as_deref().is_some_and(|c| {
            c.eq_ignore_ascii_case(opencapf_tls::NULL_SHA.1) || c.to_ascii_uppercase().contains("_WITH_NULL_")
        })
    }
}

/// Why a registration is refused; displays as its whole reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub(crate) struct Refusal {
    /// The SIP status: 404 unknown device, 403 forbidden, 503 CallManager could not decide.
    pub sip_code: u16,
    /// At most 32 characters, for SCCP's RegisterRejectMessage (the phone shows it).
    pub short: &'static str,
    /// The whole reason, for the administrator (SIP reason phrase, records, log).
    pub reason: String,
    /// The rule broken, for the metrics.
    pub kind: RefusalReason,
}

impl Refusal {
    pub(crate) fn unknown_device(reason: String) -> Self {
        Refusal { sip_code: 404, short: "Device not configured", reason, kind: RefusalReason::UnknownDevice }
    }

    pub(crate) fn forbidden(kind: RefusalReason, short: &'static str, reason: String) -> Self {
        Refusal { sip_code: 403, short, reason, kind }
    }

    pub(crate) fn unavailable(reason: String) -> Self {
        Refusal { sip_code: 503, short: "CallManager unavailable", reason, kind: RefusalReason::Unavailable }
    }
}

/// Rule 1 before the database is asked: the name must be a device name at all.
pub(crate) fn parse_claimed(claimed: &str) -> Result<DeviceName, Refusal> {
    claimed.parse::<DeviceName>().map_err(|_| {
        Refusal::unknown_device(format!(
            "'{}' is not a device name ({})",
            claimed.chars().take(40).collect::<String>(),
            DeviceName::RULE
        ))
    })
}

/// Rule 1 after the database answered "no such device".
pub(crate) fn unknown_device(name: &DeviceName) -> Refusal {
    Refusal::unknown_device(format!("{name} is not a device of this cluster: add it with `opencapf device add {name}`"))
}

fn port_hint(protocol: Protocol, transport: Transport) -> &'static str {
    match (protocol, transport) {
        (Protocol::Sip, Transport::Tls) => "5061",
        (Protocol::Sccp, Transport::Tls) => "2443",
        (Protocol::Sip, Transport::Tcp | Transport::Udp) => "5060",
        (Protocol::Sccp, Transport::Tcp | Transport::Udp) => "2000",
    }
}

/// Rules 2 to 4 for a device that exists.
pub(crate) fn check(device: &Device, conn: &Connection) -> Result<(), Refusal> {
    let name = &device.name;
    if device.protocol != conn.protocol {
        return Err(Refusal::forbidden(
            RefusalReason::WrongProtocol,
            "Wrong protocol for device",
            format!("{name} is configured for the {} protocol, not {}", device.protocol, conn.protocol),
        ));
    }
    match (device.security_mode, conn.transport) {
        (SecurityMode::Authenticated | SecurityMode::Encrypted, Transport::Tcp | Transport::Udp) => {
            return Err(Refusal::forbidden(
                RefusalReason::TlsRequired,
                "Security mode requires TLS",
                format!(
                    "{name} has an {} security profile: it must register over TLS (port {}) with its LSC or MIC, \
                     not {}",
                    device.security_mode,
                    port_hint(conn.protocol, Transport::Tls),
                    conn.transport
                ),
            ));
        }
        (SecurityMode::NonSecure, Transport::Tls) => {
            return Err(Refusal::forbidden(
                RefusalReason::NonSecureOverTls,
                "Non Secure profile: use TCP",
                format!(
                    "{name} has a Non Secure security profile: it must register over TCP (port {}), not TLS",
                    port_hint(conn.protocol, Transport::Tcp)
                ),
            ));
        }
        _ => {}
    }
    if conn.transport == Transport::Tls {
        let Some(cert) = &conn.certificate else {
            return Err(Refusal::forbidden(
                RefusalReason::NoCertificate,
                "No certificate",
                format!("{name} registered over TLS without a certificate"),
            ));
        };
        let kind = cert.kind.presented_as();
        if !names_device(&cert.info, kind, name) {
            return Err(Refusal::forbidden(
                RefusalReason::CertificateNotForDevice,
                "Certificate not for device",
                format!("the certificate presented ({}) does not belong to {name}: {DEVICE_CN_RULE}", cert.describe()),
            ));
        }
    }
    if conn.is_null_cipher() && device.security_mode != SecurityMode::Authenticated {
        // [U] CUCM offers NULL-SHA on its SIP and SCCP TLS ports only in the Authenticated
        // profile's handshake; what it answers to an Encrypted phone that got it anyway is not
        // documented. The usual refusals are the likeliest: SIP 403 (the session then closes
        // the connection), SCCP RegisterReject.
        return Err(Refusal::forbidden(
            RefusalReason::EncryptionRequired,
            "Encryption required",
            format!(
                "NULL-SHA (no encryption) is offered to Authenticated devices only; {name} is {}: its phone must \
                 offer an encrypting suite (AES-SHA or AES-GCM)",
                device.security_mode
            ),
        ));
    }
    Ok(())
}

/// Why a handshake was refused, for the administrator, with the seed's remedies: every reason,
/// the most fundamental first (fixing only the first would meet the next at the next attempt).
pub(crate) fn handshake_refusal(verdict: &Verdict, cert: Option<&Presented>) -> String {
    let first = verdict.reasons.first().unwrap_or(&verdict.outcome);
    let mut out = refusal_reason(first, cert);
    let rest: Vec<String> = verdict.reasons.iter().skip(1).map(ToString::to_string).collect();
    if !rest.is_empty() {
        out.push_str(&format!(" Also: {}.", rest.join("; ")));
    }
    out
}

/// One reason in words, with its remedy.
fn refusal_reason(reason: &Verification, cert: Option<&Presented>) -> String {
    let what = cert.map(Presented::describe).unwrap_or_else(|| "certificate".into());
    match reason {
        Verification::UnknownCa { issuer } => {
            let hint = match cert.map(|c| c.kind) {
                Some(CertificateKind::LscOtherCluster) => {
                    " This LSC comes from another cluster's CAPF: register the phone non-secure, Delete its LSC and \
                     Install/Upgrade a new one from this cluster, or delete the LSC on the phone so it uses its MIC."
                }
                Some(CertificateKind::LscThisCluster) => {
                    " It was issued by a CAPF certificate of this cluster that is no longer in CallManager-trust: \
                     give the phone a new LSC, or add that CAPF certificate back."
                }
                Some(CertificateKind::Mic) => {
                    " Add the manufacturing CA to CallManager-trust (`opencapf trust add CallManager-trust FILE`), \
                     or give the phone an LSC."
                }
                _ => "",
            };
            format!("unknown CA: {what}: issuer {issuer} is not in CallManager-trust.{hint}")
        }
        Verification::Expired { not_after, .. } => {
            format!("certificate expired: {what} ended {not_after}; give the phone a new LSC (Install/Upgrade)")
        }
        other => format!("{what} refused by CallManager-trust: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_the_database() {
        assert!(parse_claimed("sep2c3124c9f8e1").is_ok());
        let r = parse_claimed("1001").unwrap_err();
        assert_eq!(r.sip_code, 404);
        assert!(r.reason.contains("'1001' is not a device name"));
    }
}
