//! The findings of a console log: which certificate the phone uses, MIC fallback, TLS alerts and
//! trust list lines, with the seed's remedies.

use std::fmt::Write as _;

use super::{LogEvent, LogLine, LogReport};
use crate::finding::{Finding, Severity};
use crate::remedies;

pub(super) fn findings(report: &LogReport) -> Vec<Finding> {
    let mut out = Vec::new();
    let events = &report.events;

    // 1. Which certificate for which protocol and TLS version.
    let mut seen: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for e in events {
        if let LogEvent::CertCipher { protocol, tls_version, certificate, ciphers } = &e.event {
            let key = (protocol.clone(), tls_version.clone(), certificate.clone(), ciphers.clone());
            if !seen.contains(&key) {
                seen.push(key);
                let ciphers =
                    if ciphers.is_empty() { String::new() } else { format!(", ciphers {}", ciphers.join(":")) };
                let detail = if certificate == "LSC" {
                    "A phone with an LSC always uses it (rule 1): CallManager must have the CAPF certificate that \
                     issued it in CallManager-trust"
                } else {
                    "The phone uses its MIC: it has no LSC (rule 1); CallManager must have the manufacturing CA in \
                     CallManager-trust"
                };
                out.push(
                    Finding::new(
                        Severity::Info,
                        "phone-certificate",
                        format!(
                            "The phone uses its {certificate} for {protocol} over {tls_version}{ciphers} (line {})",
                            e.line
                        ),
                    )
                    .detail(detail),
                );
            }
        }
        if let LogEvent::SessionSetup { certificate, cert_len } = &e.event {
            let len = cert_len.map(|l| format!(" ({l} bytes)")).unwrap_or_default();
            out.push(Finding::new(
                Severity::Info,
                "phone-certificate",
                format!("An SSL session was set up with the phone's {certificate}{len} (line {})", e.line),
            ));
        }
        if let LogEvent::CertificateIssuer { name, kind } = &e.event {
            out.push(
                Finding::new(
                    Severity::Info,
                    "certificate-issuer",
                    format!("Certificate issuer {name} (line {})", e.line),
                )
                .detail(match kind.as_str() {
                    "LSC" => "An issuer CN=CAPF-… is a CAPF: the certificate is an LSC",
                    "MIC" => "A manufacturing CA issuer: the certificate is a MIC",
                    _ => "Neither a CAPF nor a manufacturing CA",
                }),
            );
        }
    }

    // 2. MIC fallback.
    let mut protocols: Vec<String> = Vec::new();
    let mut first_line = 0;
    for e in events {
        if let LogEvent::NoLsc { protocol } = &e.event {
            if !protocols.contains(protocol) {
                protocols.push(protocol.clone());
            }
            if first_line == 0 {
                first_line = e.line;
            }
        }
    }
    if !protocols.is_empty() {
        out.push(
            Finding::new(
                Severity::Info,
                "mic-fallback",
                format!(
                    "The phone has no LSC: it falls back to its MIC for {} (line {first_line})",
                    protocols.join(", ")
                ),
            )
            .detail(
                "No LSC is needed to register with a secure profile: the phone uses its MIC (rules 1 and 4), which \
                 CallManager accepts when the manufacturing CA (e.g. Cisco Manufacturing CA SHA2) is in \
                 CallManager-trust. A MIC only proves \"a Cisco phone\"",
            )
            .remedy(
                "To use an LSC, set Certificate Operation Install/Upgrade on the phone (`opencapf device set SEP… \
                     --operation install`); it works with a Non Secure profile and in non-secure cluster mode",
            ),
        );
    }

    // 3. Alerts.
    let mut last_cert: Option<String> = None;
    let mut alerts_done: Vec<(String, String, String)> = Vec::new();
    for e in events {
        match &e.event {
            LogEvent::CertCipher { certificate, .. } => last_cert = Some(certificate.clone()),
            LogEvent::SessionSetup { certificate, .. } => last_cert = Some(certificate.clone()),
            LogEvent::NoLsc { .. } => last_cert = Some("MIC".into()),
            LogEvent::Ssl3Alert { direction, level, description } => {
                let key = (direction.clone(), level.clone(), description.clone());
                if alerts_done.contains(&key) {
                    continue;
                }
                alerts_done.push(key);
                out.push(alert_finding(e.line, direction, level, description, last_cert.as_deref()));
            }
            _ => {}
        }
    }

    // 4. Trust lists.
    let lines_of = |pred: &dyn Fn(&LogEvent) -> bool| -> Vec<usize> {
        events.iter().filter(|e| pred(&e.event)).map(|e| e.line).collect()
    };
    let no_match = lines_of(&|e| matches!(e, LogEvent::TrustListNoMatch));
    if !no_match.is_empty() {
        out.push(
            Finding::new(
                Severity::Error,
                "trust-list-no-match",
                format!("The phone found no match in its trust list (lines {})", lines(&no_match)),
            )
            .detail(
                "A server certificate (CallManager, CAPF, TFTP) is in neither the phone's ITL/CTL nor known to TVS: \
                     the phone refuses that server",
            )
            .remedy(
                "If the phone comes from another cluster, remove its old ITL (Settings > Security > Trust List > \
                     ITL > Erase, or a factory reset); it then trusts the first ITL this cluster's TFTP gives it",
            )
            .remedy(
                "Check the phone trust list holds this cluster's CallManager and CAPF certificates \
                     (`opencapf trust export-phone`); after regenerating them, reset the phones",
            ),
        );
    }
    let rejected: Vec<&LogLine> =
        events.iter().filter(|e| matches!(e.event, LogEvent::ConfigRejected { .. })).collect();
    if let Some(first) = rejected.first() {
        let LogEvent::ConfigRejected { file, reason } = &first.event else { unreachable!() };
        let file = file.clone().unwrap_or_else(|| "the configuration file".into());
        let mut f = Finding::new(
            Severity::Error,
            "config-file-rejected",
            format!("The phone rejected {file}: authentication failed, Reason:{reason} (line {})", first.line),
        );
        if *reason == 14 {
            f = f
                .detail(
                    "Reason:14 usually means the phone holds an ITL (or CTL) from another cluster: the signature of \
                         this cluster's files does not match it",
                )
                .remedy(
                    "Remove the old trust list on the phone (Settings > Security > Trust List, or a factory \
                         reset); for secure-to-secure moves, import the new cluster's CallManager and ITLRecovery \
                         certificates into the old cluster first",
                );
        } else {
            f = f.remedy("Check the phone's ITL/CTL matches this cluster's signing certificates");
        }
        out.push(f);
    }
    let failed = lines_of(&|e| matches!(e, LogEvent::HandshakeFailed { .. }));
    if !failed.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "tls-handshake-failed",
                format!("TLS handshakes failed (lines {})", lines(&failed)),
            )
            .remedy("Look for the alert or trust list line just before: it says which side refused which certificate"),
        );
    }
    for (pred, code, what) in [
        (
            &(|e: &LogEvent| matches!(e, LogEvent::TrustListVerified)) as &dyn Fn(&LogEvent) -> bool,
            "trust-list-verified",
            "The trust list file verified successfully",
        ),
        (
            &|e: &LogEvent| matches!(e, LogEvent::HashesMatch),
            "trust-list-hash-match",
            "Certificate hashes matched the trust list: authentication successful",
        ),
        (
            &|e: &LogEvent| matches!(e, LogEvent::TvsCached),
            "tvs-cached",
            "TVS vouched for a certificate (cached 24 hours)",
        ),
    ] {
        let l = lines_of(pred);
        if !l.is_empty() {
            out.push(Finding::new(Severity::Info, code, format!("{what} (lines {})", lines(&l))));
        }
    }
    let downloads: Vec<String> = events
        .iter()
        .filter_map(|e| if let LogEvent::TrustListDownload { file } = &e.event { Some(file.clone()) } else { None })
        .collect();
    if !downloads.is_empty() {
        let mut files = downloads.clone();
        files.dedup();
        out.push(Finding::new(
            Severity::Info,
            "trust-list-download",
            format!("The phone downloaded its trust lists: {}", files.join(", ")),
        ));
    }
    if !report.malformed.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "malformed-lines",
                format!("{} line(s) name a known message but could not be read", report.malformed.len()),
            )
            .detail(format!("First: line {}: {}", report.malformed[0].line, report.malformed[0].reason)),
        );
    }
    if events.is_empty() {
        out.push(
            Finding::new(Severity::Warning, "no-security-lines", "No certificate or TLS line found in the log").remedy(
                "Collect the console log while the phone restarts and registers (phone web page > Console \
                         Logs, or the problem report tool)",
            ),
        );
    }
    out
}

fn lines(l: &[usize]) -> String {
    let shown: Vec<String> = l.iter().take(10).map(|n| n.to_string()).collect();
    if l.len() > 10 {
        format!("{} and {} more", shown.join(", "), l.len() - 10)
    } else {
        shown.join(", ")
    }
}

fn alert_finding(line: usize, direction: &str, level: &str, description: &str, cert: Option<&str>) -> Finding {
    let fatal = level == "fatal";
    let severity = if fatal { Severity::Error } else { Severity::Warning };
    if description == "unknown CA" && direction == "read" {
        let cert_text = match cert {
            Some(c) => format!("its {c}"),
            None => "its certificate".into(),
        };
        let mut f = Finding::new(
            severity,
            "unknown-ca",
            format!("The server refused the phone's certificate: {level} unknown CA alert received (line {line})"),
        )
        .detail(format!(
            "The phone presented {cert_text} and CallManager (or CAPF) does not trust its issuer: the issuer is not in \
             CallManager-trust (rule 2)."
        ));
        match cert {
            Some("MIC") => {
                f.detail.push_str(" The MIC's manufacturing CA is missing from CallManager-trust.");
                f = f.remedy(remedies::MIC_CA_MISSING);
            }
            _ => {
                f.detail.push_str(
                    " Two likely causes: the LSC comes from another cluster (rule 5), or the CAPF certificate that \
                     issued it was removed from CallManager-trust before the LSC was replaced (rule 9). \
                     `opencapf doctor` on this cluster tells which, for every phone.",
                );
                for s in remedies::OTHER_CLUSTER.iter().chain(remedies::CAPF_REMOVED) {
                    f = f.remedy(*s);
                }
                f = f.remedy(remedies::QUICK_TEST);
            }
        }
        return f;
    }
    if description == "unknown CA" {
        return Finding::new(
            severity,
            "unknown-ca-sent",
            format!("The phone refused the server's certificate: it sent a {level} unknown CA alert (line {line})"),
        )
        .detail("The server's certificate issuer is not in the phone's trust list (ITL/CTL) nor known to TVS")
        .remedy(
            "Check the phone's trust list: a phone from another cluster keeps that cluster's ITL until it is \
                 removed (Settings > Security > Trust List, or a factory reset)",
        );
    }
    let (by, what) = if direction == "read" { ("The server", "received") } else { ("The phone", "sent") };
    let mut f = Finding::new(
        severity,
        "tls-alert",
        format!("{by} ended TLS: {level} alert \"{description}\" {what} by the phone (line {line})"),
    );
    let _ = write!(f.detail, "The alert was {what} by the phone");
    f.remedy("Compare the TLS versions, ciphers and certificates both sides allow")
}
