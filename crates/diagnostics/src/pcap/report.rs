//! The report of `diagnose pcap`: one entry per TLS connection, then findings.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use opencapf_pki::{CertificateInfo, TrustStore};
use serde::Serialize;
use time::OffsetDateTime;

use super::capture::CaptureInfo;
use super::tls::{Event, TlsState};
use super::{FlowView, PcapOptions};
use crate::cluster::{CertKind, StoreVerdict};
use crate::finding::{Finding, Severity, Summary};
use crate::remedies;

/// The service a connection is for, by the server's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// SIP over TLS to CallManager (5061).
    Sip,
    /// SCCP over TLS to CallManager (2443).
    Sccp,
    /// CAPF (3804).
    Capf,
    /// TVS (2445).
    Tvs,
    /// HTTPS (443, 8443).
    Https,
    Other,
}

impl Service {
    pub fn of_port(port: u16) -> Service {
        match port {
            5061 => Service::Sip,
            2443 => Service::Sccp,
            3804 => Service::Capf,
            2445 => Service::Tvs,
            443 | 8443 => Service::Https,
            _ => Service::Other,
        }
    }

    pub fn describe(self, port: u16) -> String {
        match self {
            Service::Sip => "SIP over TLS to CallManager (5061)".into(),
            Service::Sccp => "SCCP over TLS to CallManager (2443)".into(),
            Service::Capf => "CAPF (3804)".into(),
            Service::Tvs => "TVS (2445)".into(),
            Service::Https => format!("HTTPS ({port})"),
            Service::Other => format!("other (port {port})"),
        }
    }

    /// The trust store the server checks client certificates with.
    pub fn store(self) -> Option<TrustStore> {
        match self {
            Service::Sip | Service::Sccp => Some(TrustStore::CallManager),
            Service::Capf => Some(TrustStore::Capf),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
        })
    }
}

/// A certificate as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_cn: Option<String>,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key: String,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
}

impl CertSummary {
    fn of(der: &[u8]) -> (CertSummary, Option<CertificateInfo>) {
        match CertificateInfo::parse(der) {
            Ok(i) => (
                CertSummary {
                    subject: i.subject.clone(),
                    issuer: i.issuer.clone(),
                    subject_cn: i.subject_cn.clone(),
                    issuer_cn: i.issuer_cn.clone(),
                    serial: i.serial.clone(),
                    not_before: rfc3339(i.not_before),
                    not_after: rfc3339(i.not_after),
                    key: i.key.clone(),
                    fingerprint: i.fingerprint.clone(),
                    parse_error: None,
                },
                Some(i),
            ),
            Err(e) => (
                CertSummary {
                    subject: String::new(),
                    issuer: String::new(),
                    subject_cn: None,
                    issuer_cn: None,
                    serial: String::new(),
                    not_before: String::new(),
                    not_after: String::new(),
                    key: String::new(),
                    fingerprint: opencapf_pki::fingerprint(der),
                    parse_error: Some(e.to_string()),
                },
                None,
            ),
        }
    }

    fn issuer_label(&self) -> String {
        self.issuer_cn.clone().unwrap_or_else(|| self.issuer.clone())
    }
}

/// What the client did about its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientCertificate {
    /// The client sent a certificate chain.
    Presented,
    /// Asked for one, the client sent an empty Certificate message: it has none for this server.
    Empty,
    /// The server did not ask for one.
    NotRequested,
    /// TLS 1.3 encrypts it, and no key log opened it.
    HiddenByTls13,
    /// The capture does not show it (missing data, or it ended before).
    NotSeen,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertReport {
    pub from: Side,
    /// "fatal", "warning", or "encrypted" (its level and reason are hidden).
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Read after decryption with the key log.
    pub decrypted: bool,
    /// E.g. "server sent fatal unknown_ca".
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// The handshake finished.
    Completed,
    /// One side refused the other with a fatal alert.
    Refused,
    /// Reset during the handshake.
    Reset,
    /// Closed during the handshake without an alert.
    Closed,
    /// The capture ends (or misses data) before the handshake does.
    Incomplete,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<Side>,
    /// In words, with the reason when one is known.
    pub text: String,
    /// The outcome is inferred from encrypted records (TLS 1.3 without a key log).
    pub inferred: bool,
}

/// One TLS connection.
#[derive(Debug, Clone, Serialize)]
pub struct TlsConnection {
    pub index: usize,
    pub client: String,
    pub server: String,
    pub server_port: u16,
    pub service: Service,
    pub service_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip)]
    pub first_seen_ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    pub server_certificates: Vec<CertSummary>,
    /// Whether the server asked for a client certificate (`None` when TLS 1.3 hides it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_requested: Option<bool>,
    /// The CA names the server's CertificateRequest lists (TLS 1.2): the issuers it accepts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted_issuers: Vec<String>,
    pub client_certificate: ClientCertificate,
    pub client_certificates: Vec<CertSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate_kind: Option<CertKind>,
    /// The device name in the client certificate's common name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// With a cluster: the verdict of CallManager-trust and CAPF-trust on the client certificate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trust: Vec<StoreVerdict>,
    pub alerts: Vec<AlertReport>,
    pub outcome: Outcome,
    pub decrypted: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PcapStats {
    pub frames: u64,
    pub bytes: u64,
    pub tcp_segments: u64,
    pub other_frames: u64,
    pub ip_fragments: u64,
    pub malformed_frames: u64,
    pub unsupported_link_frames: u64,
    pub tcp_flows: u64,
    pub other_tcp_flows: u64,
    pub tls_flows_without_handshake: u64,
    pub evicted_flows: u64,
    pub late_segments: u64,
    pub retransmitted_bytes: u64,
    pub out_of_order_segments: u64,
    pub gap_bytes: u64,
}

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PcapReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub capture: Option<CaptureInfo>,
    pub stats: PcapStats,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsupported_links: Vec<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed_examples: Vec<String>,
    /// Certificates were also checked against the cluster's trust stores.
    pub cluster_checked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keylog_entries: Option<usize>,
    pub connections: Vec<TlsConnection>,
    /// Connections past the report's limit, counted only.
    pub connections_not_listed: u64,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn ts_string(ts: Option<f64>) -> Option<String> {
    let ts = ts?;
    if !ts.is_finite() {
        return None;
    }
    let t = OffsetDateTime::from_unix_timestamp_nanos((ts * 1e6).round() as i128 * 1000).ok()?;
    Some(rfc3339(t))
}

pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        v => format!("0x{v:04x}"),
    }
}

pub fn cipher_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id).map(|c| c.name.to_owned()).unwrap_or_else(|| format!("0x{id:04x}"))
}

pub fn alert_name(code: u8) -> String {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        n => return format!("alert {n}"),
    }
    .to_owned()
}

/// Why a side would send this alert, in the words of the domain.
fn alert_reason(alert: &str, by: Side, kind: Option<CertKind>, issuer: Option<&str>) -> String {
    let issuer = issuer.map(|i| format!(" ({i})")).unwrap_or_default();
    match (alert, by) {
        ("unknown_ca", Side::Server) => match kind {
            Some(k) if k.is_lsc() => format!(
                "the server does not trust the CAPF certificate that issued the client's LSC{issuer}: it is not in \
                 the server's trust store (CallManager-trust for SIP/SCCP, CAPF-trust for CAPF)"
            ),
            Some(CertKind::Mic) => format!(
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

pub(crate) fn connection(
    index: usize,
    flow: &FlowView,
    tls: &TlsState,
    opts: &PcapOptions,
    verdict_cache: &mut HashMap<String, Vec<StoreVerdict>>,
) -> TlsConnection {
    // The client sent the ClientHello; failing that, the SYN; failing that, the higher port.
    let client_dir =
        tls.client_dir.or(flow.syn_from).unwrap_or_else(
            || {
                if flow.ends[0].port() > flow.ends[1].port() {
                    0
                } else {
                    1
                }
            },
        );
    let server_dir = 1 - client_dir;
    let side = |d: usize| if d == client_dir { Side::Client } else { Side::Server };
    let client = flow.ends[client_dir];
    let server = flow.ends[server_dir];
    let service = Service::of_port(server.port());
    let tls13 = tls.tls13();

    let server_certificates: Vec<CertSummary> =
        tls.certs[server_dir].iter().flatten().map(|d| CertSummary::of(d).0).collect();
    let mut client_certificates = Vec::new();
    let mut kind = None;
    let mut device = None;
    let mut trust = Vec::new();
    if let Some(chain) = &tls.certs[client_dir] {
        for (i, der) in chain.iter().enumerate() {
            let (summary, info) = CertSummary::of(der);
            if i == 0 {
                if let Some(info) = &info {
                    kind = Some(CertKind::of(info, opts.cluster.as_ref()));
                    device = info.subject_cn.as_deref().and_then(crate::device_name_in);
                }
                if let Some(cluster) = &opts.cluster {
                    trust = verdict_cache
                        .entry(summary.fingerprint.clone())
                        .or_insert_with(|| cluster.check(chain, opts.at))
                        .clone();
                }
            }
            client_certificates.push(summary);
        }
    }
    let client_certificate = match &tls.certs[client_dir] {
        Some(c) if !c.is_empty() => ClientCertificate::Presented,
        Some(_) => ClientCertificate::Empty,
        None if tls13 && !tls.decrypted => ClientCertificate::HiddenByTls13,
        None if tls.cert_request.is_none() && tls.server_hello && !has_gap(flow) && tls.finished[server_dir] => {
            ClientCertificate::NotRequested
        }
        None if tls.cert_request.is_none() && tls.server_hello && !tls13 && tls.ccs[server_dir] => {
            ClientCertificate::NotRequested
        }
        None => ClientCertificate::NotSeen,
    };
    let client_certificate_requested = if tls13 && !tls.decrypted {
        None
    } else if tls.cert_request.is_some() {
        Some(true)
    } else if tls.server_hello {
        Some(false)
    } else {
        None
    };

    let alerts: Vec<AlertReport> = tls
        .alerts
        .iter()
        .map(|a| {
            let from = side(a.dir);
            let (level, description) = match (a.level, a.description) {
                (Some(2), Some(d)) => ("fatal".to_owned(), Some(alert_name(d))),
                (Some(1), Some(d)) => ("warning".to_owned(), Some(alert_name(d))),
                (Some(l), Some(d)) => (format!("level {l}"), Some(alert_name(d))),
                _ => ("encrypted".to_owned(), None),
            };
            let text = match &description {
                Some(d) => format!("{from} sent {level} {d}"),
                None => format!("{from} sent an encrypted alert (its reason is hidden)"),
            };
            AlertReport { from, level, description, decrypted: a.decrypted, text }
        })
        .collect();

    let issuer = client_certificates.first().map(|c| c.issuer_label());
    let outcome = outcome(flow, tls, client_dir, &alerts, kind, issuer.as_deref(), &side);

    let mut notes = tls.notes.clone();
    if client_certificate == ClientCertificate::HiddenByTls13 {
        notes.push(if tls.keylog_missing {
            "TLS 1.3 encrypts the client certificate, and the key log has no secrets for this connection \
             (its ClientHello random is not in the file)"
                .into()
        } else {
            "TLS 1.3 encrypts the client certificate: to see it, capture again with TLS 1.2 (limit the server or \
             the phone to TLS 1.2 while capturing), or give the TLS key log file with --keylog"
                .into()
        });
    }
    if let Some(why) = flow.cut_short {
        notes.push(format!("reported before it ended: {why}"));
    }
    if tls.hello_retry {
        notes.push("the server asked for another ClientHello (HelloRetryRequest)".into());
    }

    TlsConnection {
        index,
        client: client.to_string(),
        server: server.to_string(),
        server_port: server.port(),
        service,
        service_name: service.describe(server.port()),
        first_seen: ts_string(flow.first_ts),
        first_seen_ts: flow.first_ts.unwrap_or(0.0),
        version: tls.version.map(version_name),
        cipher: tls.cipher.map(cipher_name),
        server_name: tls.sni.clone(),
        server_certificates,
        client_certificate_requested,
        accepted_issuers: tls.cert_request.clone().unwrap_or_default(),
        client_certificate,
        client_certificates,
        client_certificate_kind: kind,
        device,
        trust,
        alerts,
        outcome,
        decrypted: tls.decrypted,
        notes,
    }
}

fn has_gap(flow: &FlowView) -> bool {
    flow.gap_bytes.iter().any(|g| *g > 0)
}

fn outcome(
    flow: &FlowView,
    tls: &TlsState,
    client_dir: usize,
    alerts: &[AlertReport],
    kind: Option<CertKind>,
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

/// Connections, devices, the client certificate kind, and a text, of one group of findings.
type Group = (Vec<usize>, Vec<String>, Option<CertKind>, String);

/// Findings over all connections, aggregated so that a thousand identical failures make one.
pub(crate) fn findings(report: &mut PcapReport, opts: &PcapOptions) {
    let mut out: Vec<Finding> = Vec::new();
    let cluster = opts.cluster.is_some();

    if let Some(why) = report.capture.as_ref().and_then(|c| c.stopped.clone()) {
        out.push(
            Finding::new(Severity::Warning, "capture-damaged", "The capture could not be read to the end")
                .detail(why)
                .remedy(
                    "Copy the capture again (it may have been cut while being written), or stop the capture \
                         tool cleanly before copying the file",
                ),
        );
    }

    // Refusals, grouped by who, which alert, and which client certificate issuer.
    let mut refused: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    for c in &report.connections {
        if c.outcome.kind != OutcomeKind::Refused {
            continue;
        }
        let by = c.outcome.by.map(|s| s.to_string()).unwrap_or_default();
        let alert = c
            .alerts
            .iter()
            .find(|a| a.level == "fatal")
            .and_then(|a| a.description.clone())
            .unwrap_or_else(|| "encrypted alert".into());
        let issuer = c.client_certificates.first().map(|x| x.issuer_label()).unwrap_or_default();
        let e = refused.entry((by, alert, issuer)).or_insert_with(|| (Vec::new(), Vec::new(), None, String::new()));
        e.0.push(c.index);
        if let Some(d) = &c.device {
            if !e.1.contains(d) {
                e.1.push(d.clone());
            }
        }
        e.2 = e.2.or(c.client_certificate_kind);
        if e.3.is_empty() {
            e.3 = c.outcome.text.clone();
        }
    }
    for ((by, alert, issuer), (conns, devices, kind, text)) in refused {
        let cert = match (kind, issuer.is_empty()) {
            (Some(k), false) => format!(" (client certificate: {k} issued by {issuer})"),
            _ => String::new(),
        };
        let title = if alert == "encrypted alert" {
            format!("{} connection(s) refused by the {by} with an encrypted alert{cert}", conns.len())
        } else {
            format!("{} connection(s) refused: {by} sent fatal {alert}{cert}", conns.len())
        };
        let mut f = Finding::new(Severity::Error, "tls-refused", title)
            .detail(format!("{text}. Connections: {}", list(&conns)))
            .devices(devices);
        for step in remedies::for_refusal(&alert, &by, kind, &issuer, cluster) {
            f = f.remedy(step);
        }
        out.push(f);
    }

    // Handshakes that did not finish, without an alert to say why.
    let mut unfinished: BTreeMap<String, (Vec<usize>, Vec<String>)> = BTreeMap::new();
    for c in &report.connections {
        if matches!(c.outcome.kind, OutcomeKind::Reset | OutcomeKind::Closed | OutcomeKind::Incomplete) {
            let e = unfinished.entry(c.outcome.text.clone()).or_default();
            e.0.push(c.index);
            if let Some(d) = &c.device {
                if !e.1.contains(d) {
                    e.1.push(d.clone());
                }
            }
        }
    }
    for (text, (conns, devices)) in unfinished {
        out.push(
            Finding::new(
                Severity::Warning,
                "tls-not-completed",
                format!("{} connection(s) did not complete the handshake: {text}", conns.len()),
            )
            .detail(format!("Connections: {}", list(&conns)))
            .remedy(
                "A reset or close with no alert often means the server refused the client before TLS (service \
                     down, wrong port, firewall) or the capture missed part of it: capture on both ends",
            )
            .devices(devices),
        );
    }

    // With a cluster: certificates the stores would refuse, even where the capture shows no alert.
    let mut untrusted: BTreeMap<(String, String), Group> = BTreeMap::new();
    for c in &report.connections {
        for v in c.trust.iter().filter(|v| !v.trusted) {
            let e = untrusted
                .entry((v.store.name().to_owned(), v.message.clone()))
                .or_insert_with(|| (Vec::new(), Vec::new(), None, v.consequence.clone()));
            e.0.push(c.index);
            if let Some(d) = &c.device {
                if !e.1.contains(d) {
                    e.1.push(d.clone());
                }
            }
            e.2 = e.2.or(c.client_certificate_kind);
        }
    }
    for ((store, message), (conns, devices, kind, consequence)) in untrusted {
        let severity = if store == TrustStore::CallManager.name() { Severity::Error } else { Severity::Warning };
        let mut f = Finding::new(
            severity,
            if severity == Severity::Error {
                "client-certificate-not-in-callmanager-trust"
            } else {
                "client-certificate-not-in-capf-trust"
            },
            format!("{} connection(s) will fail: {message}", conns.len()),
        )
        .detail(format!("{consequence}. Connections: {}", list(&conns)))
        .devices(devices);
        for step in remedies::for_untrusted(&store, kind) {
            f = f.remedy(step);
        }
        out.push(f);
    }

    let hidden: Vec<usize> = report
        .connections
        .iter()
        .filter(|c| c.client_certificate == ClientCertificate::HiddenByTls13)
        .map(|c| c.index)
        .collect();
    if !hidden.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "client-certificate-hidden-tls13",
                format!(
                    "{} TLS 1.3 connection(s): the client certificate is encrypted and cannot be read",
                    hidden.len()
                ),
            )
            .detail(format!("Connections: {}", list(&hidden)))
            .remedy(
                "Capture again with TLS 1.2: limit the server (or the phone) to TLS 1.2 while capturing; in TLS \
                     1.0-1.2 the client Certificate message is in clear",
            )
            .remedy(
                "Or give the TLS key log of the session with --keylog FILE (SSLKEYLOGFILE, openssl s_client \
                     -keylogfile): the certificates are then decrypted",
            ),
        );
    }

    let empty: Vec<usize> = report
        .connections
        .iter()
        .filter(|c| c.client_certificate == ClientCertificate::Empty)
        .map(|c| c.index)
        .collect();
    if !empty.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "client-sent-no-certificate",
                format!(
                    "{} connection(s): the server asked for a client certificate and the client sent none",
                    empty.len()
                ),
            )
            .detail(format!("Connections: {}", list(&empty)))
            .remedy(
                "A phone always presents its LSC, or its MIC when it has no LSC (rule 1): a client without \
                     either is not a provisioned phone, or its certificate does not match the CAs the server lists",
            ),
        );
    }

    let missing: Vec<usize> = report
        .connections
        .iter()
        .filter(|c| c.notes.iter().any(|n| n.contains("not captured during the handshake")))
        .map(|c| c.index)
        .collect();
    if !missing.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "handshake-data-missing",
                format!("{} connection(s) miss data during the handshake: what they show is partial", missing.len()),
            )
            .detail(format!("Connections: {}", list(&missing)))
            .remedy(
                "Capture on the phone's switch port or on the server itself, with a large enough buffer \
                     (tcpdump -B 8192) and no snap length limit (-s 0)",
            ),
        );
    }

    // Which certificate devices present (rule 8): LSC or MIC, by issuer.
    let mut presented: BTreeMap<(String, String), (Vec<usize>, Vec<String>)> = BTreeMap::new();
    for c in &report.connections {
        if let (Some(k), Some(cert)) = (c.client_certificate_kind, c.client_certificates.first()) {
            let e = presented.entry((k.to_string(), cert.issuer_label())).or_default();
            e.0.push(c.index);
            if let Some(d) = &c.device {
                if !e.1.contains(d) {
                    e.1.push(d.clone());
                }
            }
        }
    }
    for ((kind, issuer), (conns, devices)) in presented {
        let why = if kind.starts_with("LSC") {
            "an issuer CN=CAPF-… means an LSC; its CAPF certificate must be in CallManager-trust"
        } else if kind == "MIC" {
            "a manufacturing CA issuer means a MIC: the phone has no LSC, or never had one; the manufacturing CA \
             must be in CallManager-trust"
        } else {
            "neither an LSC (issuer CN=CAPF-…) nor a MIC (a manufacturing CA)"
        };
        out.push(
            Finding::new(
                Severity::Info,
                "client-certificate",
                format!("{} connection(s) present a client certificate: {kind}, issued by {issuer}", conns.len()),
            )
            .detail(format!("{why}. Connections: {}", list(&conns)))
            .devices(devices),
        );
    }

    if report.connections.is_empty() {
        out.push(
            Finding::new(Severity::Warning, "no-tls", "No TLS handshake found in the capture")
                .detail(format!(
                    "{} frames, {} TCP connections read",
                    report.stats.frames, report.stats.tcp_flows
                ))
                .remedy("Capture while the phone restarts (it then connects to CallManager on 5061/2443 and to CAPF on \
                         3804), without a filter that drops the handshake, e.g. tcpdump -s 0 -w phone.pcap host PHONE-IP"),
        );
    }
    if !report.unsupported_links.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "unsupported-link-type",
                format!("{} frames have a link type this tool does not read", report.stats.unsupported_link_frames),
            )
            .detail(format!("Link types: {:?}", report.unsupported_links))
            .remedy("Capture on an Ethernet or Linux \"any\" interface, or convert the capture with editcap -T ether"),
        );
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    report.summary = Summary::of(&out);
    report.findings = out;
}

fn list(ids: &[usize]) -> String {
    let shown: Vec<String> = ids.iter().take(20).map(|i| format!("#{i}")).collect();
    if ids.len() > 20 {
        format!("{} and {} more", shown.join(", "), ids.len() - 20)
    } else {
        shown.join(", ")
    }
}

impl PcapReport {
    /// The report as text, for people.
    pub fn render(&self, max_connections: usize) -> String {
        let mut s = String::new();
        if let Some(f) = &self.file {
            let _ = writeln!(s, "Capture: {f}");
        }
        if let Some(c) = &self.capture {
            let links: Vec<String> = c
                .interfaces
                .iter()
                .map(|i| match &i.name {
                    Some(n) => format!("{n} ({})", i.link),
                    None => i.link.clone(),
                })
                .collect();
            let _ = writeln!(
                s,
                "Format: {:?}, {} interface(s): {}; {} frames, {} TCP connections, {} TLS",
                c.format,
                c.interfaces.len(),
                links.join(", "),
                self.stats.frames,
                self.stats.tcp_flows,
                self.connections.len() as u64 + self.connections_not_listed
            );
        }
        if self.cluster_checked {
            let _ = writeln!(s, "Checked against the cluster's CallManager-trust and CAPF-trust.");
        }
        for c in self.connections.iter().take(max_connections) {
            s.push('\n');
            c.render(&mut s);
        }
        if self.connections.len() > max_connections {
            let _ = writeln!(
                s,
                "\n… {} more connection(s) not shown (use --json for all)",
                self.connections.len() - max_connections
            );
        }
        if self.connections_not_listed > 0 {
            let _ = writeln!(
                s,
                "… {} more connection(s) past the report's limit, counted only",
                self.connections_not_listed
            );
        }
        s.push_str("\nFindings:\n");
        for f in &self.findings {
            f.render(&mut s, true);
        }
        let _ = writeln!(
            s,
            "\n{} error(s), {} warning(s), {} info",
            self.summary.errors, self.summary.warnings, self.summary.infos
        );
        s
    }
}

impl TlsConnection {
    fn render(&self, s: &mut String) {
        let _ = writeln!(s, "#{} {} -> {}  {}", self.index, self.client, self.server, self.service_name);
        if let Some(t) = &self.first_seen {
            let _ = writeln!(s, "    started:  {t}");
        }
        let _ = writeln!(
            s,
            "    TLS:      {}, cipher {}{}",
            self.version.as_deref().unwrap_or("? (no ServerHello)"),
            self.cipher.as_deref().unwrap_or("?"),
            self.server_name.as_deref().map(|n| format!(", server name {n}")).unwrap_or_default()
        );
        if let Some(c) = self.server_certificates.first() {
            let _ = writeln!(s, "    server certificate: {}", cert_line(c));
        }
        match self.client_certificate {
            ClientCertificate::Presented => {
                let kind = self.client_certificate_kind.map(|k| k.to_string()).unwrap_or_else(|| "?".into());
                let device = self.device.as_deref().map(|d| format!(" of {d}")).unwrap_or_default();
                let _ = writeln!(s, "    client certificate: {kind}{device}");
                for (i, c) in self.client_certificates.iter().enumerate() {
                    let label = if i == 0 { "        " } else { "        chain: " };
                    let _ = writeln!(s, "{label}{}", cert_line(c));
                }
            }
            ClientCertificate::Empty => {
                let _ = writeln!(s, "    client certificate: none sent (the server asked for one)");
            }
            ClientCertificate::NotRequested => {
                let _ = writeln!(s, "    client certificate: not requested by the server");
            }
            ClientCertificate::HiddenByTls13 => {
                let _ = writeln!(s, "    client certificate: hidden (TLS 1.3 encrypts it)");
            }
            ClientCertificate::NotSeen => {
                let _ = writeln!(s, "    client certificate: not seen in the capture");
            }
        }
        if !self.accepted_issuers.is_empty() {
            let _ = writeln!(s, "    server accepts client certificates from: {}", self.accepted_issuers.join("; "));
        }
        for v in &self.trust {
            if v.trusted {
                let _ = writeln!(s, "    {}: trusted", v.store);
            } else {
                let _ = writeln!(s, "    {}: {} -> {}", v.store, v.message, v.consequence);
            }
        }
        for a in &self.alerts {
            let _ = writeln!(s, "    alert:    {}{}", a.text, if a.decrypted { " (decrypted)" } else { "" });
        }
        let _ = writeln!(s, "    outcome:  {}", self.outcome.text);
        for n in &self.notes {
            let _ = writeln!(s, "    note:     {n}");
        }
    }
}

fn cert_line(c: &CertSummary) -> String {
    if let Some(e) = &c.parse_error {
        return format!("(unreadable: {e}) sha256 {}", &c.fingerprint[..16]);
    }
    format!(
        "subject {}; issuer {}; serial {}; valid {} to {}",
        c.subject,
        c.issuer,
        c.serial,
        c.not_before.get(..10).unwrap_or(&c.not_before),
        c.not_after.get(..10).unwrap_or(&c.not_after)
    )
}
