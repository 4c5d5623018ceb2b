//! What came of a registration attempt ([`RegisterReport`], [`Outcome`]), and the console line
//! that ends it: `Registered with CallManager …`, `Refused by CallManager …` (with
//! `STATE_SSL3_ALERT` for a fatal alert from CallManager) or `Registration failed: …`.

use std::fmt;

use serde::Serialize;

use super::{Answer, Failure};
use crate::{CertKind, Phone, Result};

/// What came of the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// `200 OK` or RegisterAck.
    Registered,
    /// CallManager said no: a TLS alert, a SIP error response, or RegisterReject.
    Refused,
    /// No answer from CallManager: no connection, a timeout, an untrusted server, a broken reply.
    Failed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Registered => "registered",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        })
    }
}

/// The certificate the phone presented.
#[derive(Debug, Clone, Serialize)]
pub struct Presented {
    pub kind: CertKind,
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex.
    pub serial: String,
    /// "RSA 2048", "EC P-256".
    pub key: String,
}

/// What happened, for people (`summary`) and scripts.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterReport {
    pub device_name: String,
    /// `HOST:PORT` contacted.
    pub server: String,
    /// "SIP" or "SCCP".
    pub protocol: String,
    /// "TLS" or "TCP".
    pub transport: String,
    /// "Non Secure", "Authenticated", "Encrypted".
    pub security: String,
    /// Over TLS: the LSC, or the MIC when the phone has no LSC.
    pub certificate: Option<Presented>,
    /// "TLSv1.2", "TLSv1.3".
    pub tls_version: Option<String>,
    /// OpenSSL's name, e.g. "ECDHE-RSA-AES128-GCM-SHA256".
    pub cipher: Option<String>,
    pub outcome: Outcome,
    /// The SIP status code of the final answer.
    pub sip_status: Option<u16>,
    /// CallManager's words: the SIP reason phrase or the RegisterReject text.
    pub reason: Option<String>,
    /// The fatal TLS alert, OpenSSL's name ("unknown CA"), and who sent it ("read": CallManager,
    /// "write": the phone).
    pub tls_alert: Option<String>,
    pub tls_alert_direction: Option<String>,
    /// Seconds granted: SIP Expires, or the SCCP keepalive interval.
    pub expires: Option<u32>,
    pub keepalive_interval: Option<u32>,
    /// One line, e.g. "Registered with CallManager 127.0.0.1:5061 (SIP over TLS, LSC): 200 OK, expires 3600".
    pub summary: String,
    /// The certificate CallManager presented when the phone did not trust it (DER), so that the
    /// phone can ask TVS about it.
    #[serde(skip)]
    pub untrusted_server: Option<Vec<u8>>,
}

impl RegisterReport {
    pub fn registered(&self) -> bool {
        self.outcome == Outcome::Registered
    }
}

impl Phone {
    pub(super) fn failed(&self, mut report: RegisterReport, why: String) -> RegisterReport {
        report.outcome = Outcome::Failed;
        report.summary = format!("Registration failed: {why}");
        self.console().error(&format!("{}: -{}", report.protocol, report.summary));
        report
    }

    pub(super) fn conclude(&self, mut report: RegisterReport, answer: Result<Answer, Failure>) -> RegisterReport {
        let log = self.console();
        let how = {
            let mut h = format!("{} over {}", report.protocol, report.transport);
            if let Some(c) = &report.certificate {
                h.push_str(&format!(", {}", c.kind));
            }
            h
        };
        let server = report.server.clone();
        match answer {
            Err(Failure::Other(why)) => return self.failed(report, why),
            Err(Failure::Alert(alert)) => {
                // Rule 2: CallManager refused the certificate.
                log.ssl3_alert("read", &alert);
                report.outcome = Outcome::Refused;
                report.summary = format!("Refused by CallManager {server} ({how}): fatal TLS alert '{alert}'");
                report.tls_alert = Some(alert);
                report.tls_alert_direction = Some("read".into());
            }
            Ok(Answer::SipFinal { code, reason, expires }) => {
                report.sip_status = Some(code);
                if (200..300).contains(&code) {
                    report.outcome = Outcome::Registered;
                    report.expires = expires;
                    let exp = expires.map(|e| format!(", expires {e}")).unwrap_or_default();
                    report.summary = format!("Registered with CallManager {server} ({how}): {code} {reason}{exp}");
                } else {
                    report.outcome = Outcome::Refused;
                    report.summary = format!("Refused by CallManager {server} ({how}): {code} {reason}");
                }
                report.reason = Some(reason);
            }
            Ok(Answer::SccpAck { keepalive }) => {
                report.outcome = Outcome::Registered;
                report.keepalive_interval = Some(keepalive);
                report.summary =
                    format!("Registered with CallManager {server} ({how}): RegisterAck, keepalive {keepalive} s");
            }
            Ok(Answer::SccpReject { text }) => {
                report.outcome = Outcome::Refused;
                report.summary = format!("Refused by CallManager {server} ({how}): RegisterReject '{text}'");
                report.reason = Some(text);
            }
        }
        let line = format!("{}: -{}", report.protocol, report.summary);
        if report.registered() {
            log.info(&line);
        } else {
            log.error(&line);
        }
        report
    }
}
