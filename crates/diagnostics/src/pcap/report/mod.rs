//! The report of `diagnose pcap`: one entry per TLS connection, then findings.
//!
//! This module holds the report's types. An entry is built from a flow and its TLS state in
//! `connection` (how its handshake ended, in `outcome`); `findings` aggregates the entries into
//! findings with their remedies; `render` writes the report as text; `names` holds the names of
//! TLS versions, cipher suites and alerts, and the times.

mod connection;
mod findings;
mod names;
mod outcome;
mod render;

use opencapf_pki::{CertificateInfo, TrustStore};
use serde::Serialize;

use super::capture::CaptureInfo;
use crate::cluster::StoreVerdict;
use crate::finding::{Finding, Summary};
use opencapf_pki::CertificateKind;

pub(crate) use connection::connection;
pub(crate) use findings::findings;
pub use names::rfc3339;

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
    /// The fields a certificate that does not parse lacks are `null` in JSON.
    #[serde(serialize_with = "opencapf_model::empty_as_null")]
    pub subject: String,
    #[serde(serialize_with = "opencapf_model::empty_as_null")]
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_cn: Option<String>,
    #[serde(serialize_with = "opencapf_model::empty_as_null")]
    pub serial: String,
    #[serde(serialize_with = "opencapf_model::empty_as_null")]
    pub not_before: String,
    #[serde(serialize_with = "opencapf_model::empty_as_null")]
    pub not_after: String,
    #[serde(serialize_with = "opencapf_model::empty_as_null")]
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
    /// TLS below 1.2, or a CBC, RC4 or NULL suite: what only OpenCAPF's legacy (OpenSSL) engine
    /// serves, and only as the `tls.*` settings allow.
    pub legacy: bool,
    /// Why it is legacy: `TLS 1.0`, `CBC suite`, `NULL suite (no encryption)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub legacy_reasons: Vec<String>,
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
    pub client_certificate_kind: Option<CertificateKind>,
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
