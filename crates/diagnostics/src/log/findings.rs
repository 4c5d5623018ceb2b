//! The findings of a console log: which certificate the phone uses, MIC fallback, TLS alerts and
//! trust list lines, with the seed's remedies.

use super::{LogEvent, LogReport};
use crate::finding::{Finding, Severity};
use crate::remedies;

/// One rule: the findings it makes on a log, in the order it reports them.
type Rule = fn(&LogReport) -> Vec<Finding>;

/// The rules, in the order the report lists their findings.
const RULES: &[Rule] = &[
    certificates,
    mic_fallback,
    alerts,
    trust_list_no_match,
    config_rejected,
    handshake_failed,
    trust_list_successes,
    trust_list_download,
    malformed,
    no_security_lines,
];

pub(super) fn findings(report: &LogReport) -> Vec<Finding> {
    RULES.iter().flat_map(|rule| rule(report)).collect()
}

/// Which certificate for which protocol and TLS version, in the order of the log; a repeated
/// `PXY_CERT_CIPHER` line is reported once.
fn certificates(report: &LogReport) -> Vec<Finding> {
    let mut seen: Vec<&LogEvent> = Vec::new();
    let mut out = Vec::new();
    for e in &report.events {
        match &e.event {
            LogEvent::CertCipher { .. } if seen.contains(&&e.event) => {}
            LogEvent::CertCipher { protocol, tls_version, certificate, ciphers } => {
                seen.push(&e.event);
                out.push(cert_cipher(e.line, protocol, tls_version, certificate, ciphers));
            }
            LogEvent::SessionSetup { certificate, cert_len } => {
                let len = cert_len.map(|l| format!(" ({l} bytes)")).unwrap_or_default();
                out.push(Finding::new(
                    Severity::Info,
                    "phone-certificate",
                    format!("An SSL session was set up with the phone's {certificate}{len} (line {})", e.line),
                ));
            }
            LogEvent::CertificateIssuer { name, kind } => out.push(
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
            ),
            _ => {}
        }
    }
    out
}

fn cert_cipher(line: usize, protocol: &str, tls_version: &str, certificate: &str, ciphers: &[String]) -> Finding {
    let ciphers = if ciphers.is_empty() { String::new() } else { format!(", ciphers {}", ciphers.join(":")) };
    let detail = if certificate == "LSC" {
        "A phone with an LSC always uses it (rule 1): CallManager must have the CAPF certificate that issued it in \
         CallManager-trust"
    } else {
        "The phone uses its MIC: it has no LSC (rule 1); CallManager must have the manufacturing CA in \
         CallManager-trust"
    };
    Finding::new(
        Severity::Info,
        "phone-certificate",
        format!("The phone uses its {certificate} for {protocol} over {tls_version}{ciphers} (line {line})"),
    )
    .detail(detail)
}

/// `PXY_NO_LSC`: the phone falls back to its MIC, for each protocol named.
fn mic_fallback(report: &LogReport) -> Vec<Finding> {
    let mut protocols: Vec<&String> = Vec::new();
    let mut first_line = 0;
    for e in &report.events {
        if let LogEvent::NoLsc { protocol } = &e.event {
            if !protocols.contains(&protocol) {
                protocols.push(protocol);
            }
            if first_line == 0 {
                first_line = e.line;
            }
        }
    }
    if protocols.is_empty() {
        return Vec::new();
    }
    let protocols: Vec<&str> = protocols.into_iter().map(String::as_str).collect();
    vec![Finding::new(
        Severity::Info,
        "mic-fallback",
        format!("The phone has no LSC: it falls back to its MIC for {} (line {first_line})", protocols.join(", ")),
    )
    .detail(
        "No LSC is needed to register with a secure profile: the phone uses its MIC (rules 1 and 4), which \
         CallManager accepts when the manufacturing CA (e.g. Cisco Manufacturing CA SHA2) is in CallManager-trust. A \
         MIC only proves \"a Cisco phone\"",
    )
    .remedy(
        "To use an LSC, set Certificate Operation Install/Upgrade on the phone (`opencapf device set SEP… --operation \
         install`); it works with a Non Secure profile and in non-secure cluster mode",
    )]
}

/// Each distinct SSL3 alert, read with the certificate the phone used last before it.
fn alerts(report: &LogReport) -> Vec<Finding> {
    let mut last_cert: Option<&str> = None;
    let mut seen: Vec<&LogEvent> = Vec::new();
    let mut out = Vec::new();
    for e in &report.events {
        match &e.event {
            LogEvent::CertCipher { certificate, .. } | LogEvent::SessionSetup { certificate, .. } => {
                last_cert = Some(certificate)
            }
            LogEvent::NoLsc { .. } => last_cert = Some("MIC"),
            LogEvent::Ssl3Alert { .. } if seen.contains(&&e.event) => {}
            LogEvent::Ssl3Alert { direction, level, description } => {
                seen.push(&e.event);
                out.push(alert_finding(e.line, direction, level, description, last_cert));
            }
            _ => {}
        }
    }
    out
}

/// The lines whose event `pick` selects.
fn lines_where(report: &LogReport, pick: fn(&LogEvent) -> bool) -> Vec<usize> {
    report.events.iter().filter(|e| pick(&e.event)).map(|e| e.line).collect()
}

/// The finding `code`, titled "`what` (lines …)", about the lines `pick` selects; none when none is.
fn about_lines(
    report: &LogReport,
    pick: fn(&LogEvent) -> bool,
    severity: Severity,
    code: &str,
    what: &str,
) -> Option<Finding> {
    let l = lines_where(report, pick);
    (!l.is_empty()).then(|| Finding::new(severity, code, format!("{what} (lines {})", lines(&l))))
}

fn trust_list_no_match(report: &LogReport) -> Vec<Finding> {
    let pick = |e: &LogEvent| matches!(e, LogEvent::TrustListNoMatch);
    let f =
        about_lines(report, pick, Severity::Error, "trust-list-no-match", "The phone found no match in its trust list");
    f.map(|f| {
        f.detail(
            "A server certificate (CallManager, CAPF, TFTP) is in neither the phone's ITL/CTL nor known to TVS: the \
             phone refuses that server",
        )
        .remedy(
            "If the phone comes from another cluster, remove its old ITL (Settings > Security > Trust List > ITL > \
             Erase, or a factory reset); it then trusts the first ITL this cluster's TFTP gives it",
        )
        .remedy(
            "Check the phone's ITL holds this cluster's CallManager and CAPF certificates (`opencapf trust \
             export-itl --out FILE` writes the ITL this cluster serves); after regenerating them, reset the phones",
        )
    })
    .into_iter()
    .collect()
}

/// The first configuration file the phone rejected, with what `Reason:14` means.
fn config_rejected(report: &LogReport) -> Vec<Finding> {
    let Some((line, file, reason)) = report.events.iter().find_map(|e| match &e.event {
        LogEvent::ConfigRejected { file, reason } => Some((e.line, file, *reason)),
        _ => None,
    }) else {
        return Vec::new();
    };
    let file = file.clone().unwrap_or_else(|| "the configuration file".into());
    let f = Finding::new(
        Severity::Error,
        "config-file-rejected",
        format!("The phone rejected {file}: authentication failed, Reason:{reason} (line {line})"),
    );
    if reason != 14 {
        return vec![f.remedy("Check the phone's ITL/CTL matches this cluster's signing certificates")];
    }
    vec![f
        .detail(
            "Reason:14 usually means the phone holds an ITL (or CTL) from another cluster: the signature of this \
             cluster's files does not match it",
        )
        .remedy(
            "Remove the old trust list on the phone (Settings > Security > Trust List, or a factory reset); for \
             secure-to-secure moves, import the new cluster's CallManager and ITLRecovery certificates into the old \
             cluster first",
        )]
}

fn handshake_failed(report: &LogReport) -> Vec<Finding> {
    let pick = |e: &LogEvent| matches!(e, LogEvent::HandshakeFailed { .. });
    let f = about_lines(report, pick, Severity::Warning, "tls-handshake-failed", "TLS handshakes failed");
    f.map(|f| {
        f.remedy("Look for the alert or trust list line just before: it says which side refused which certificate")
    })
    .into_iter()
    .collect()
}

/// Trust list and TVS lines that say all went well.
fn trust_list_successes(report: &LogReport) -> Vec<Finding> {
    let info = |pick, code, what| about_lines(report, pick, Severity::Info, code, what);
    [
        info(
            |e| matches!(e, LogEvent::TrustListVerified),
            "trust-list-verified",
            "The trust list file verified successfully",
        ),
        info(
            |e| matches!(e, LogEvent::HashesMatch),
            "trust-list-hash-match",
            "Certificate hashes matched the trust list: authentication successful",
        ),
        info(|e| matches!(e, LogEvent::TvsCached), "tvs-cached", "TVS vouched for a certificate (cached 24 hours)"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn trust_list_download(report: &LogReport) -> Vec<Finding> {
    let mut files: Vec<&str> = report
        .events
        .iter()
        .filter_map(|e| if let LogEvent::TrustListDownload { file } = &e.event { Some(file.as_str()) } else { None })
        .collect();
    if files.is_empty() {
        return Vec::new();
    }
    files.dedup();
    vec![Finding::new(
        Severity::Info,
        "trust-list-download",
        format!("The phone downloaded its trust lists: {}", files.join(", ")),
    )]
}

fn malformed(report: &LogReport) -> Vec<Finding> {
    let Some(first) = report.malformed.first() else { return Vec::new() };
    vec![Finding::new(
        Severity::Warning,
        "malformed-lines",
        format!("{} line(s) name a known message but could not be read", report.malformed.len()),
    )
    .detail(format!("First: line {}: {}", first.line, first.reason))]
}

fn no_security_lines(report: &LogReport) -> Vec<Finding> {
    if !report.events.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(Severity::Warning, "no-security-lines", "No certificate or TLS line found in the log").remedy(
        "Collect the console log while the phone restarts and registers (phone web page > Console Logs, or the \
         problem report tool)",
    )]
}

fn lines(l: &[usize]) -> String {
    let shown: Vec<String> = l.iter().take(10).map(|n| n.to_string()).collect();
    if l.len() > 10 {
        format!("{} and {} more", shown.join(", "), l.len() - 10)
    } else {
        shown.join(", ")
    }
}

/// An SSL3 alert, read (received by the phone) or written (sent by it); `cert` is the certificate
/// the phone used last.
fn alert_finding(line: usize, direction: &str, level: &str, description: &str, cert: Option<&str>) -> Finding {
    let severity = if level == "fatal" { Severity::Error } else { Severity::Warning };
    match (description, direction) {
        ("unknown CA", "read") => unknown_ca_received(line, level, severity, cert),
        ("unknown CA", _) => Finding::new(
            severity,
            "unknown-ca-sent",
            format!("The phone refused the server's certificate: it sent a {level} unknown CA alert (line {line})"),
        )
        .detail("The server's certificate issuer is not in the phone's trust list (ITL/CTL) nor known to TVS")
        .remedy(
            "Check the phone's trust list: a phone from another cluster keeps that cluster's ITL until it is removed \
             (Settings > Security > Trust List, or a factory reset)",
        ),
        _ => {
            let (by, what) = if direction == "read" { ("The server", "received") } else { ("The phone", "sent") };
            Finding::new(
                severity,
                "tls-alert",
                format!("{by} ended TLS: {level} alert \"{description}\" {what} by the phone (line {line})"),
            )
            .detail(format!("The alert was {what} by the phone"))
            .remedy("Compare the TLS versions, ciphers and certificates both sides allow")
        }
    }
}

/// The server refused the phone's certificate: with a MIC, its manufacturing CA is missing; with
/// an LSC (or unknown), rules 5 and 9 and the quick test.
fn unknown_ca_received(line: usize, level: &str, severity: Severity, cert: Option<&str>) -> Finding {
    let cert_text = match cert {
        Some(c) => format!("its {c}"),
        None => "its certificate".into(),
    };
    let f = Finding::new(
        severity,
        "unknown-ca",
        format!("The server refused the phone's certificate: {level} unknown CA alert received (line {line})"),
    );
    let detail = format!(
        "The phone presented {cert_text} and CallManager (or CAPF) does not trust its issuer: the issuer is not in \
         CallManager-trust (rule 2)."
    );
    if cert == Some("MIC") {
        return f
            .detail(format!("{detail} The MIC's manufacturing CA is missing from CallManager-trust."))
            .remedy(remedies::MIC_CA_MISSING);
    }
    f.detail(format!(
        "{detail} Two likely causes: the LSC comes from another cluster (rule 5), or the CAPF certificate that issued \
         it was removed from CallManager-trust before the LSC was replaced (rule 9). `opencapf doctor` on this \
         cluster tells which, for every phone."
    ))
    .remedies(remedies::OTHER_CLUSTER.iter().chain(remedies::CAPF_REMOVED).copied())
    .remedy(remedies::QUICK_TEST)
}
