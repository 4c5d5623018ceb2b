//! `diagnose log`: a phone console log turned into findings.
//!
//! Lines are read one at a time (a line longer than 64 KiB is cut). The seed's lines
//! (`PXY_NO_LSC`, `PXY_CERT_CIPHER`, `STATE_SSL3_ALERT`), the 78xx/88xx `SECUREAPP` lines, trust
//! list, TVS and `Reason:14` lines are recognised, in English or in the French of the seed; other
//! lines are skipped, and a recognised line whose fields cannot be read is listed as malformed
//! without stopping the reading.
//!
//! This module holds the report's types, the reading loop and the text rendering; `reader` reads
//! the lines, `parse` recognises them, and `findings` turns the events into findings with the
//! seed's remedies.

mod findings;
mod parse;
mod reader;

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use crate::finding::{Finding, Summary};
use crate::DiagnoseError;
use findings::findings;
use parse::{has_open_bracket, is_known, parse_line, prefix, starts_like_entry, Parsed};
use reader::Lines;

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
