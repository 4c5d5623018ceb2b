//! The findings of a capture: its connections aggregated, so that a thousand identical failures
//! make one finding, with the devices concerned and the remedies.

use std::collections::BTreeMap;

use opencapf_pki::TrustStore;

use super::{ClientCertificate, OutcomeKind, PcapReport};
use crate::cluster::CertKind;
use crate::finding::{Finding, Severity, Summary};
use crate::pcap::PcapOptions;
use crate::remedies;

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
