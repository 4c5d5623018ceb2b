//! The findings of a capture: its connections aggregated, so that a thousand identical failures
//! make one finding, with the devices concerned and the remedies. Each rule is a small function
//! over the report; [`findings`] runs them in order.

use std::collections::BTreeMap;

use opencapf_pki::TrustStore;

use super::{ClientCertificate, OutcomeKind, PcapReport, TlsConnection};
use opencapf_pki::CertificateKind;

use crate::cluster::kind_label;
use crate::finding::{Finding, Severity, Summary};
use crate::pcap::PcapOptions;
use crate::remedies;

/// One rule: the findings it makes on a report, in the order it reports them.
type Rule = fn(&PcapReport, &PcapOptions) -> Vec<Finding>;

/// The rules in the order they report; errors are then put first, keeping this order within a
/// severity.
const RULES: &[Rule] = &[
    damaged,
    refused,
    not_completed,
    untrusted,
    connection_warnings,
    legacy_tls,
    presented,
    no_tls,
    unsupported_links,
];

/// Findings over all connections, aggregated so that a thousand identical failures make one.
pub(crate) fn findings(report: &mut PcapReport, opts: &PcapOptions) {
    let mut out: Vec<Finding> = RULES.iter().flat_map(|rule| rule(report, opts)).collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    report.summary = Summary::of(&out);
    report.findings = out;
}

/// The connections of one group of findings, and the devices they name (each once).
#[derive(Default)]
struct Connections {
    ids: Vec<usize>,
    devices: Vec<String>,
    /// The first client certificate kind known in the group.
    kind: Option<CertificateKind>,
}

impl Connections {
    fn add(&mut self, c: &TlsConnection) {
        self.ids.push(c.index);
        if let Some(d) = &c.device {
            if !self.devices.contains(d) {
                self.devices.push(d.clone());
            }
        }
        self.kind = self.kind.or(c.client_certificate_kind);
    }

    /// "Connections: #1, #2": at most twenty listed.
    fn listed(&self) -> String {
        format!("Connections: {}", list(&self.ids))
    }
}

fn damaged(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    let Some(why) = report.capture.as_ref().and_then(|c| c.stopped.clone()) else { return Vec::new() };
    vec![Finding::new(Severity::Warning, "capture-damaged", "The capture could not be read to the end")
        .detail(why)
        .remedy(
            "Copy the capture again (it may have been cut while being written), or stop the capture tool cleanly \
             before copying the file",
        )]
}

/// Refusals, grouped by who, which alert, and which client certificate issuer.
fn refused(report: &PcapReport, opts: &PcapOptions) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String, String), (Connections, String)> = BTreeMap::new();
    for c in report.connections.iter().filter(|c| c.outcome.kind == OutcomeKind::Refused) {
        let by = c.outcome.by.map(|s| s.to_string()).unwrap_or_default();
        let alert = c
            .alerts
            .iter()
            .find(|a| a.level == "fatal")
            .and_then(|a| a.description.clone())
            .unwrap_or_else(|| "encrypted alert".into());
        let issuer = c.client_certificates.first().map(|x| x.issuer_label()).unwrap_or_default();
        let (group, text) = groups.entry((by, alert, issuer)).or_default();
        group.add(c);
        if text.is_empty() {
            *text = c.outcome.text.clone();
        }
    }
    let cluster = opts.cluster.is_some();
    groups
        .into_iter()
        .map(|((by, alert, issuer), (group, text))| {
            let n = group.ids.len();
            let cert = match (group.kind, issuer.is_empty()) {
                (Some(k), false) => format!(" (client certificate: {k} issued by {issuer})"),
                _ => String::new(),
            };
            let title = if alert == "encrypted alert" {
                format!("{n} connection(s) refused by the {by} with an encrypted alert{cert}")
            } else {
                format!("{n} connection(s) refused: {by} sent fatal {alert}{cert}")
            };
            Finding::new(Severity::Error, "tls-refused", title)
                .detail(format!("{text}. {}", group.listed()))
                .remedies(remedies::for_refusal(&alert, &by, group.kind, &issuer, cluster))
                .devices(group.devices)
        })
        .collect()
}

/// Handshakes that did not finish, without an alert to say why.
fn not_completed(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    let mut groups: BTreeMap<String, Connections> = BTreeMap::new();
    for c in &report.connections {
        if matches!(c.outcome.kind, OutcomeKind::Reset | OutcomeKind::Closed | OutcomeKind::Incomplete) {
            groups.entry(c.outcome.text.clone()).or_default().add(c);
        }
    }
    groups
        .into_iter()
        .map(|(text, group)| {
            Finding::new(
                Severity::Warning,
                "tls-not-completed",
                format!("{} connection(s) did not complete the handshake: {text}", group.ids.len()),
            )
            .detail(group.listed())
            .remedy(
                "A reset or close with no alert often means the server refused the client before TLS (service down, \
                 wrong port, firewall) or the capture missed part of it: capture on both ends",
            )
            .devices(group.devices)
        })
        .collect()
}

/// With a cluster: certificates the stores would refuse, even where the capture shows no alert.
fn untrusted(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String), (Connections, String)> = BTreeMap::new();
    for c in &report.connections {
        for v in c.trust.iter().filter(|v| !v.trusted) {
            let (group, _) = groups
                .entry((v.store.name().to_owned(), v.message.clone()))
                .or_insert_with(|| (Connections::default(), v.consequence.clone()));
            group.add(c);
        }
    }
    groups
        .into_iter()
        .map(|((store, message), (group, consequence))| {
            let (severity, code) = if store == TrustStore::CallManager.name() {
                (Severity::Error, "client-certificate-not-in-callmanager-trust")
            } else {
                (Severity::Warning, "client-certificate-not-in-capf-trust")
            };
            Finding::new(severity, code, format!("{} connection(s) will fail: {message}", group.ids.len()))
                .detail(format!("{consequence}. {}", group.listed()))
                .remedies(remedies::for_untrusted(&store, group.kind))
                .devices(group.devices)
        })
        .collect()
}

/// A warning about the connections `pick` selects, titled by their count.
struct ConnectionWarning {
    code: &'static str,
    pick: fn(&TlsConnection) -> bool,
    title: fn(usize) -> String,
    remedies: &'static [&'static str],
}

/// Client certificates a capture cannot show, and handshakes it shows only in part.
const CONNECTION_WARNINGS: &[ConnectionWarning] = &[
    ConnectionWarning {
        code: "client-certificate-hidden-tls13",
        pick: |c| c.client_certificate == ClientCertificate::HiddenByTls13,
        title: |n| format!("{n} TLS 1.3 connection(s): the client certificate is encrypted and cannot be read"),
        remedies: &[
            "Capture again with TLS 1.2: limit the server (or the phone) to TLS 1.2 while capturing; in TLS 1.0-1.2 \
             the client Certificate message is in clear",
            "Or give the TLS key log of the session with --keylog FILE (SSLKEYLOGFILE, openssl s_client -keylogfile): \
             the certificates are then decrypted",
        ],
    },
    ConnectionWarning {
        code: "client-sent-no-certificate",
        pick: |c| c.client_certificate == ClientCertificate::Empty,
        title: |n| format!("{n} connection(s): the server asked for a client certificate and the client sent none"),
        remedies: &[
            "A phone always presents its LSC, or its MIC when it has no LSC (rule 1): a client without either \
                     is not a provisioned phone, or its certificate does not match the CAs the server lists",
        ],
    },
    ConnectionWarning {
        code: "handshake-data-missing",
        pick: |c| c.notes.iter().any(|n| n.contains("not captured during the handshake")),
        title: |n| format!("{n} connection(s) miss data during the handshake: what they show is partial"),
        remedies: &["Capture on the phone's switch port or on the server itself, with a large enough buffer \
                     (tcpdump -B 8192) and no snap length limit (-s 0)"],
    },
];

fn connection_warnings(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    CONNECTION_WARNINGS
        .iter()
        .filter_map(|w| {
            let ids: Vec<usize> = report.connections.iter().filter(|c| (w.pick)(c)).map(|c| c.index).collect();
            (!ids.is_empty()).then(|| {
                Finding::new(Severity::Warning, w.code, (w.title)(ids.len()))
                    .detail(format!("Connections: {}", list(&ids)))
                    .remedies(w.remedies.iter().copied())
            })
        })
        .collect()
}

/// Connections on legacy TLS (below 1.2, CBC or NULL suites), by version and suite: the phones
/// that keep the `tls.*` settings open. NULL alone is what CUCM serves Authenticated devices: info.
fn legacy_tls(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String, Vec<String>), Connections> = BTreeMap::new();
    for c in report.connections.iter().filter(|c| c.legacy) {
        let key = (
            c.version.clone().unwrap_or_else(|| "?".into()),
            c.cipher.clone().unwrap_or_else(|| "?".into()),
            c.legacy_reasons.clone(),
        );
        groups.entry(key).or_default().add(c);
    }
    groups
        .into_iter()
        .map(|((version, cipher, why), group)| {
            let only_null = why.iter().all(|w| w.starts_with("NULL"));
            let severity = if only_null { Severity::Info } else { Severity::Warning };
            let title =
                format!("{} connection(s) use legacy TLS: {version}, {cipher} ({})", group.ids.len(), why.join(", "));
            let detail = format!(
                "Only older phones (79xx, early 89xx/99xx firmware) need TLS below 1.2 or CBC suites, and NULL-SHA \
                 is for Authenticated devices only; OpenCAPF serves them through OpenSSL as the tls.* settings \
                 allow. {}",
                group.listed()
            );
            Finding::new(severity, "tls-legacy", title).detail(detail).devices(group.devices).remedies([
                "To let these phones in: `opencapf settings set tls.min_version 1.0` (and `opencapf settings set \
                 tls.cbc on` for CBC suites); `opencapf registrations` then marks them (legacy)",
                "Once they are replaced: `opencapf settings set tls.min_version 1.2` and `opencapf settings set \
                 tls.cbc off`",
            ])
        })
        .collect()
}

/// Which certificate devices present (rule 8): LSC or MIC, by issuer.
fn presented(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, String), Connections> = BTreeMap::new();
    for c in &report.connections {
        if let (Some(k), Some(cert)) = (c.client_certificate_kind, c.client_certificates.first()) {
            groups.entry((kind_label(k).to_owned(), cert.issuer_label())).or_default().add(c);
        }
    }
    groups
        .into_iter()
        .map(|((kind, issuer), group)| {
            let why = if kind.starts_with("LSC") {
                "an issuer CN=CAPF-… means an LSC; its CAPF certificate must be in CallManager-trust"
            } else if kind == "MIC" {
                "a manufacturing CA issuer means a MIC: the phone has no LSC, or never had one; the manufacturing CA \
                 must be in CallManager-trust"
            } else {
                "neither an LSC (issuer CN=CAPF-…) nor a MIC (a manufacturing CA)"
            };
            Finding::new(
                Severity::Info,
                "client-certificate",
                format!("{} connection(s) present a client certificate: {kind}, issued by {issuer}", group.ids.len()),
            )
            .detail(format!("{why}. {}", group.listed()))
            .devices(group.devices)
        })
        .collect()
}

fn no_tls(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    if !report.connections.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(Severity::Warning, "no-tls", "No TLS handshake found in the capture")
        .detail(format!("{} frames, {} TCP connections read", report.stats.frames, report.stats.tcp_flows))
        .remedy(
            "Capture while the phone restarts (it then connects to CallManager on 5061/2443 and to CAPF on 3804), \
             without a filter that drops the handshake, e.g. tcpdump -s 0 -w phone.pcap host PHONE-IP",
        )]
}

fn unsupported_links(report: &PcapReport, _: &PcapOptions) -> Vec<Finding> {
    if report.unsupported_links.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        Severity::Warning,
        "unsupported-link-type",
        format!("{} frames have a link type this tool does not read", report.stats.unsupported_link_frames),
    )
    .detail(format!("Link types: {:?}", report.unsupported_links))
    .remedy("Capture on an Ethernet or Linux \"any\" interface, or convert the capture with editcap -T ether")]
}

fn list(ids: &[usize]) -> String {
    let shown: Vec<String> = ids.iter().take(20).map(|i| format!("#{i}")).collect();
    if ids.len() > 20 {
        format!("{} and {} more", shown.join(", "), ids.len() - 20)
    } else {
        shown.join(", ")
    }
}
