//! `diagnose log`: a phone console log turned into findings.
//!
//! Lines are read one at a time (a line longer than 64 KiB is cut). The seed's lines
//! (`PXY_NO_LSC`, `PXY_CERT_CIPHER`, `STATE_SSL3_ALERT`), the 78xx/88xx `SECUREAPP` lines, trust
//! list, TVS and `Reason:14` lines are recognised, in English or in the French of the seed; other
//! lines are skipped, and a recognised line whose fields cannot be read is listed as malformed
//! without stopping the reading.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use crate::finding::{Finding, Severity, Summary};
use crate::{remedies, DiagnoseError};

const MAX_LINE: usize = 64 * 1024;
const MAX_KEPT: usize = 10_000;

/// What a recognised line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum LogEvent {
    /// `PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]`
    CertCipher { protocol: String, tls_version: String, certificate: String, ciphers: Vec<String> },
    /// `PXY_NO_LSC: No LSC for [SCCP], will try MIC`
    NoLsc { protocol: String },
    /// `STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]`
    Ssl3Alert { direction: String, level: String, description: String },
    /// `SECUREAPP-SSL session setup - cert len=785, type=LSC`
    SessionSetup { cert_len: Option<u32>, certificate: String },
    /// `SECUREAPP-Certificate subject name = /…`
    CertificateSubject { name: String },
    /// `SECUREAPP-Certificate issuer name = /…`
    CertificateIssuer { name: String, kind: String },
    /// `SECUREAPP-No match found in trust list against the item`
    TrustListNoMatch,
    /// `SECUREAPP-TL file verified successfully.`
    TrustListVerified,
    /// `SECUREAPP-Hashes match... authentication successful.`
    HashesMatch,
    /// `SECUREAPP-TVS added cert to TVS cache - expires in 24 hours`
    TvsCached,
    /// `JAVA-Sec SSL Connection - Handshake failed.`
    HandshakeFailed { code: Option<u32> },
    /// `invalid file SEP<MAC>.cnf.xml.sgn, authenticated fail. Reason:14`
    ConfigRejected { file: Option<String>, reason: u32 },
    /// `dgetfile … src=CTLSEP<MAC>.tlv` / `ITLSEP<MAC>.tlv`
    TrustListDownload { file: String },
}

/// A recognised line, with where it was.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(flatten)]
    pub event: LogEvent,
}

/// A line that names a known message but whose fields could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Malformed {
    pub line: usize,
    pub reason: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LogReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub lines_read: usize,
    pub lines_recognized: usize,
    pub lines_skipped: usize,
    pub malformed: Vec<Malformed>,
    pub events: Vec<LogLine>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

/// Reads a console log.
pub fn analyze<R: BufRead>(mut input: R) -> LogReport {
    let mut report = LogReport::default();
    let mut lines = Lines { input: &mut input, peeked: None, number: 0 };
    while let Some((number, text)) = lines.next() {
        report.lines_read += 1;
        let mut text = text;
        // The seed's lines are wrapped: `… [CA` / `inconnue]`. Join a continuation line.
        if is_known(&text) && (has_open_bracket(&text) || text.trim_end().ends_with(',')) {
            if let Some(next) = lines.peek() {
                if !starts_like_entry(next) && !is_known(next) {
                    let (_, cont) = lines.next().unwrap_or_default();
                    report.lines_read += 1;
                    text = format!("{} {}", text.trim_end(), cont.trim());
                }
            }
        }
        match parse_line(&text) {
            Parsed::Event(event) => {
                report.lines_recognized += 1;
                if report.events.len() < MAX_KEPT {
                    let (time, level) = prefix(&text);
                    report.events.push(LogLine { line: number, time, level, event });
                }
            }
            Parsed::Malformed(reason) => {
                if report.malformed.len() < MAX_KEPT {
                    report.malformed.push(Malformed {
                        line: number,
                        reason: reason.into(),
                        text: text.chars().take(200).collect(),
                    });
                }
            }
            Parsed::Unknown => report.lines_skipped += 1,
        }
    }
    report.findings = findings(&report);
    report.summary = Summary::of(&report.findings);
    report
}

pub fn analyze_file(path: &Path) -> Result<LogReport, DiagnoseError> {
    let file = std::fs::File::open(path).map_err(DiagnoseError::io(format!("opening {}", path.display())))?;
    let mut report = analyze(std::io::BufReader::new(file));
    report.file = Some(path.display().to_string());
    Ok(report)
}

struct Lines<'a, R: BufRead> {
    input: &'a mut R,
    peeked: Option<(usize, String)>,
    number: usize,
}

impl<R: BufRead> Lines<'_, R> {
    fn read(&mut self) -> Option<(usize, String)> {
        let mut buf = Vec::new();
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            };
            if chunk.is_empty() {
                if buf.is_empty() {
                    return None;
                }
                break;
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    let room = MAX_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..i.min(room)]);
                    self.input.consume(i + 1);
                    break;
                }
                None => {
                    let n = chunk.len();
                    let room = MAX_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..n.min(room)]);
                    self.input.consume(n);
                }
            }
        }
        self.number += 1;
        let text = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_owned();
        Some((self.number, text))
    }

    fn next(&mut self) -> Option<(usize, String)> {
        self.peeked.take().or_else(|| self.read())
    }

    fn peek(&mut self) -> Option<&str> {
        if self.peeked.is_none() {
            self.peeked = self.read();
        }
        self.peeked.as_ref().map(|(_, t)| t.as_str())
    }
}

enum Parsed {
    Event(LogEvent),
    Malformed(&'static str),
    Unknown,
}

fn has_open_bracket(s: &str) -> bool {
    s.rfind('[').is_some_and(|o| s[o..].find(']').is_none())
}

/// `3486 ERR 00:01:31.938954 …`: a new log entry.
fn starts_like_entry(s: &str) -> bool {
    let mut t = s.split_whitespace();
    matches!((t.next(), t.next()), (Some(n), Some(l)) if n.chars().all(|c| c.is_ascii_digit()) && is_level(l))
}

fn is_level(l: &str) -> bool {
    (2..=5).contains(&l.len()) && l.chars().all(|c| c.is_ascii_uppercase())
}

/// The time and level of `3486 ERR 00:01:31.938954 …`.
fn prefix(s: &str) -> (Option<String>, Option<String>) {
    let t: Vec<&str> = s.split_whitespace().take(3).collect();
    if t.len() == 3 && t[0].chars().all(|c| c.is_ascii_digit()) && is_level(t[1]) && t[2].contains(':') {
        return (Some(t[2].to_owned()), Some(t[1].to_owned()));
    }
    (None, None)
}

fn is_known(s: &str) -> bool {
    let u = s.to_ascii_uppercase();
    ["PXY_CERT_CIPHER", "PXY_NO_LSC", "STATE_SSL3_ALERT", "SECUREAPP"].iter().any(|k| u.contains(k))
}

/// The contents of `[…]` after `from`; an unclosed last bracket gives the rest of the line.
fn brackets(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        match rest.find(']') {
            Some(close) => {
                out.push(rest[..close].trim().to_owned());
                rest = &rest[close + 1..];
            }
            None => {
                out.push(rest.trim().to_owned());
                break;
            }
        }
    }
    out
}

fn after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let u = s.to_ascii_uppercase();
    u.find(&key.to_ascii_uppercase()).map(|i| &s[i + key.len()..])
}

fn parse_line(s: &str) -> Parsed {
    let u = s.to_ascii_uppercase();
    if let Some(rest) = after(s, "PXY_CERT_CIPHER") {
        let b = brackets(rest);
        if b.len() < 3 || b[..3].iter().any(String::is_empty) {
            return Parsed::Malformed("PXY_CERT_CIPHER without [protocol], [TLS version] and cert [LSC|MIC]");
        }
        let cert = b[2].to_ascii_uppercase();
        if cert != "LSC" && cert != "MIC" {
            return Parsed::Malformed("PXY_CERT_CIPHER names a certificate other than LSC or MIC");
        }
        let ciphers =
            b.get(3).map(|c| c.split(':').map(str::to_owned).filter(|c| !c.is_empty()).collect()).unwrap_or_default();
        return Parsed::Event(LogEvent::CertCipher {
            protocol: b[0].to_ascii_uppercase(),
            tls_version: b[1].clone(),
            certificate: cert,
            ciphers,
        });
    }
    if let Some(rest) = after(s, "PXY_NO_LSC") {
        return match brackets(rest).first() {
            Some(p) if !p.is_empty() => Parsed::Event(LogEvent::NoLsc { protocol: p.to_ascii_uppercase() }),
            _ => Parsed::Malformed("PXY_NO_LSC without [protocol]"),
        };
    }
    if let Some(rest) = after(s, "STATE_SSL3_ALERT") {
        let b = brackets(rest);
        if b.len() < 3 || b[..3].iter().any(String::is_empty) {
            return Parsed::Malformed("STATE_SSL3_ALERT without [read|write], [level] and [description]");
        }
        let direction = b[0].to_ascii_lowercase();
        if direction != "read" && direction != "write" {
            return Parsed::Malformed("STATE_SSL3_ALERT direction is neither read nor write");
        }
        return Parsed::Event(LogEvent::Ssl3Alert {
            direction,
            level: b[1].to_ascii_lowercase(),
            description: normalize_alert(&b[2]),
        });
    }
    if u.contains("SSL SESSION SETUP") {
        let len = after(s, "cert len=").and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
        return match after(s, "type=") {
            Some(t) => {
                let t: String = t.trim().chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                if t.is_empty() {
                    Parsed::Malformed("SSL session setup without a certificate type")
                } else {
                    Parsed::Event(LogEvent::SessionSetup { cert_len: len, certificate: t.to_ascii_uppercase() })
                }
            }
            None => Parsed::Malformed("SSL session setup without a certificate type"),
        };
    }
    if u.contains("CERTIFICATE SUBJECT NAME") || u.contains("CERTIFICATE ISSUER NAME") {
        let Some(eq) = s.find('=') else { return Parsed::Malformed("certificate name line without '='") };
        let name = s[eq + 1..].trim().to_owned();
        if name.is_empty() {
            return Parsed::Malformed("certificate name line with an empty name");
        }
        if u.contains("SUBJECT NAME") {
            return Parsed::Event(LogEvent::CertificateSubject { name });
        }
        let kind = issuer_kind(&name).to_owned();
        return Parsed::Event(LogEvent::CertificateIssuer { name, kind });
    }
    if u.contains("NO MATCH FOUND IN TRUST LIST") {
        return Parsed::Event(LogEvent::TrustListNoMatch);
    }
    if u.contains("TL FILE VERIFIED SUCCESSFULLY") {
        return Parsed::Event(LogEvent::TrustListVerified);
    }
    if u.contains("HASHES MATCH") {
        return Parsed::Event(LogEvent::HashesMatch);
    }
    if u.contains("ADDED CERT TO TVS CACHE") {
        return Parsed::Event(LogEvent::TvsCached);
    }
    if u.contains("HANDSHAKE FAILED") {
        let code = after(s, "code").and_then(|r| {
            r.trim_start_matches([' ', '=', ':']).split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        });
        return Parsed::Event(LogEvent::HandshakeFailed { code });
    }
    if let Some(rest) = after(s, "Reason:") {
        if u.contains("AUTHENTICATED FAIL") || u.contains(".SGN") {
            let reason = rest.trim().split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok());
            let file = s
                .split(|c: char| c.is_whitespace() || c == ',')
                .find(|w| w.to_ascii_lowercase().ends_with(".sgn"))
                .map(str::to_owned);
            return match reason {
                Some(reason) => Parsed::Event(LogEvent::ConfigRejected { file, reason }),
                None => Parsed::Malformed("authentication failure without a reason number"),
            };
        }
    }
    if u.contains("DGETFILE") && u.contains(".TLV") {
        let file = s
            .split(|c: char| c.is_whitespace() || c == '=' || c == ',')
            .find(|w| w.to_ascii_lowercase().ends_with(".tlv"))
            .unwrap_or("")
            .to_owned();
        return Parsed::Event(LogEvent::TrustListDownload { file });
    }
    Parsed::Unknown
}

/// "unknown CA", "CA inconnue", "unknown_ca" → "unknown CA".
fn normalize_alert(d: &str) -> String {
    let l = d.to_ascii_lowercase().replace(['_', '-'], " ");
    let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
    if l == "unknown ca" || l == "ca inconnue" || l == "autorité de certification inconnue" {
        "unknown CA".into()
    } else {
        d.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn issuer_kind(name: &str) -> &'static str {
    let u = name.to_ascii_uppercase();
    if u.contains("CN=CAPF-") {
        "LSC"
    } else if opencapf_pki::classify::MIC_ISSUERS.iter().any(|m| u.contains(&format!("CN={}", m.to_ascii_uppercase())))
    {
        "MIC"
    } else {
        "other"
    }
}

fn findings(report: &LogReport) -> Vec<Finding> {
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

impl LogReport {
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(f) = &self.file {
            let _ = writeln!(s, "Console log: {f}");
        }
        let _ = writeln!(
            s,
            "{} lines read: {} recognised, {} skipped, {} malformed\n",
            self.lines_read,
            self.lines_recognized,
            self.lines_skipped,
            self.malformed.len()
        );
        s.push_str("Findings:\n");
        for f in &self.findings {
            f.render(&mut s, true);
        }
        for m in self.malformed.iter().take(10) {
            let _ = writeln!(s, "malformed line {}: {} — {}", m.line, m.reason, m.text);
        }
        let _ = writeln!(
            s,
            "\n{} error(s), {} warning(s), {} info",
            self.summary.errors, self.summary.warnings, self.summary.infos
        );
        s
    }
}
