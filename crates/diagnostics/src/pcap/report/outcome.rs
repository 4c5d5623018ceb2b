//! How a handshake ended: completed, refused (by whom, with which alert, and why in the words of
//! the domain), reset, closed or incomplete; for TLS 1.3 without keys, inferred from the sizes and
//! order of the encrypted records.

use super::{AlertReport, Outcome, OutcomeKind, Side};
use crate::pcap::tls::{Event, TlsState};
use crate::pcap::FlowView;
use opencapf_pki::CertificateKind;

/// Why a side would send this alert, in the words of the domain.
fn alert_reason(alert: &str, by: Side, kind: Option<CertificateKind>, issuer: Option<&str>) -> String {
    let issuer = issuer.map(|i| format!(" ({i})")).unwrap_or_default();
    match (alert, by) {
        ("unknown_ca", Side::Server) => match kind {
            Some(k) if k.is_lsc() => format!(
                "the server does not trust the CAPF certificate that issued the client's LSC{issuer}: it is not in \
                 the server's trust store (CallManager-trust for SIP/SCCP, CAPF-trust for CAPF)"
            ),
            Some(CertificateKind::Mic) => format!(
                "the server does not trust the manufacturing CA that issued the client's MIC{issuer}: it is not in \
                 its trust store"
            ),
            _ => format!("the server does not trust the issuer of the client certificate{issuer}"),
        },
        ("unknown_ca", Side::Client) => {
            "the client does not trust the issuer of the server's certificate (for a phone: its trust list, ITL or \
             CTL, does not hold it)"
                .into()
        }
        ("certificate_required", _) | ("handshake_failure", Side::Server) if kind.is_none() => {
            "the server requires a client certificate and none was accepted (the client sent none, or no TLS \
             version or cipher in common)"
                .into()
        }
        ("bad_certificate", s) => format!("the {s} found the peer's certificate unusable (signature, format or key)"),
        ("certificate_expired", s) => format!("the {s} found the peer's certificate expired"),
        ("certificate_unknown", s) => format!("the {s} refused the peer's certificate"),
        ("certificate_revoked", s) => format!("the {s} found the peer's certificate revoked"),
        ("unsupported_certificate", s) => format!("the {s} does not accept the peer's certificate type"),
        ("protocol_version", _) => "no TLS version in common".into(),
        ("handshake_failure", _) | ("insufficient_security", _) => {
            "no cipher suite or parameters in common, or the handshake was refused".into()
        }
        ("decrypt_error", _) => "a signature check failed (CertificateVerify or key exchange)".into(),
        (a, s) => format!("the {s} sent {a}"),
    }
}
pub(super) fn has_gap(flow: &FlowView) -> bool {
    flow.gap_bytes.iter().any(|g| *g > 0)
}

pub(super) fn outcome(
    flow: &FlowView,
    tls: &TlsState,
    client_dir: usize,
    alerts: &[AlertReport],
    kind: Option<CertificateKind>,
    issuer: Option<&str>,
    side: &dyn Fn(usize) -> Side,
) -> Outcome {
    let server_dir = 1 - client_dir;
    let make = |kind: OutcomeKind, by: Option<Side>, text: String, inferred: bool| Outcome { kind, by, text, inferred };
    if let Some(a) = alerts.iter().find(|a| a.level == "fatal") {
        let d = a.description.clone().unwrap_or_default();
        let why = alert_reason(&d, a.from, kind, issuer);
        return make(OutcomeKind::Refused, Some(a.from), format!("refused by the {}: {d}: {why}", a.from), false);
    }
    let tls13 = tls.tls13();
    let completed = if tls13 {
        tls.finished[client_dir] && tls.finished[server_dir]
    } else {
        tls.ccs[client_dir] && tls.ccs[server_dir] && tls.finished[client_dir] && tls.finished[server_dir]
    };
    if completed {
        let mut text = "completed: the handshake finished".to_owned();
        if let Some(a) = alerts.iter().find(|a| a.level == "encrypted") {
            text.push_str(&format!(" (then the {} sent an encrypted alert, usually close_notify)", a.from));
        }
        return make(OutcomeKind::Completed, None, text, false);
    }
    if tls13 && !tls.decrypted && tls.server_hello {
        if let Some(o) = tls13_inferred(tls, client_dir, side) {
            return o;
        }
    }
    if let Some(a) = alerts.iter().find(|a| a.level == "encrypted") {
        return make(
            OutcomeKind::Refused,
            Some(a.from),
            format!("refused by the {} with an encrypted alert during the handshake (its reason is hidden)", a.from),
            true,
        );
    }
    let stage = if !tls.server_hello {
        "before the ServerHello"
    } else if tls.certs[client_dir].is_some() {
        "after the client's certificate"
    } else {
        "during the handshake"
    };
    if let Some(r) = flow.rst {
        let by = side(r);
        return make(OutcomeKind::Reset, Some(by), format!("reset by the {by} {stage}"), false);
    }
    for d in [server_dir, client_dir] {
        if flow.fin[d] {
            let by = side(d);
            return make(OutcomeKind::Closed, Some(by), format!("closed by the {by} {stage}, without an alert"), false);
        }
    }
    let why = if has_gap(flow) { "data is missing from the capture" } else { "the capture ends first" };
    make(
        OutcomeKind::Incomplete,
        None,
        format!("incomplete: the handshake does not finish in the capture ({why})"),
        false,
    )
}

/// TLS 1.3 without keys: read the sizes and order of the encrypted records.
fn tls13_inferred(tls: &TlsState, client_dir: usize, side: &dyn Fn(usize) -> Side) -> Option<Outcome> {
    let server_dir = 1 - client_dir;
    let first_client = tls.events.iter().position(|e| matches!(e, Event::App(d, _) if *d == client_dir))?;
    let after = &tls.events[first_client + 1..];
    let server_records: Vec<usize> = after
        .iter()
        .filter_map(|e| if let Event::App(d, l) = e { (*d == server_dir).then_some(*l) } else { None })
        .collect();
    let server_closed = after.iter().any(|e| matches!(e, Event::Fin(d) | Event::Rst(d) if *d == server_dir));
    let client_more = after.iter().any(|e| matches!(e, Event::App(d, _) if *d == client_dir));
    if let Some(&first) = server_records.first() {
        if (19..=24).contains(&first) && server_records.len() == 1 && server_closed {
            return Some(Outcome {
                kind: OutcomeKind::Refused,
                by: Some(Side::Server),
                text: format!(
                    "refused by the server, most likely: right after the client's encrypted certificate it sent one \
                     {first}-byte encrypted record (the size of an alert) and closed; TLS 1.3 hides the reason \
                     (typically unknown_ca, bad_certificate or certificate_required)"
                ),
                inferred: true,
            });
        }
        if server_records.iter().any(|l| *l > 24) || client_more {
            return Some(Outcome {
                kind: OutcomeKind::Completed,
                by: None,
                text: "completed, as far as TLS 1.3 shows: both sides exchanged encrypted records after the \
                       client's certificate"
                    .into(),
                inferred: true,
            });
        }
    }
    if server_closed {
        let by = side(server_dir);
        return Some(Outcome {
            kind: OutcomeKind::Closed,
            by: Some(by),
            text: "closed by the server after the client's encrypted flight: probably a refusal (TLS 1.3 hides it)"
                .into(),
            inferred: true,
        });
    }
    None
}
