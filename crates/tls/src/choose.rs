//! Which engine serves a connection, from its ClientHello and the cluster's legacy policy:
//! rustls whenever it can, OpenSSL only for what rustls will never serve.

use std::fmt;

use rustls::CipherSuite;

use crate::hello::{is_grease, ClientHelloSummary};
use crate::{cipher_name, provider};

const TLS10: u16 = 0x0301;
const TLS11: u16 = 0x0302;
const TLS12: u16 = 0x0303;

/// The CBC suites OpenSSL serves when [`LegacyPolicy::cbc`] is on: what 79xx/89xx/99xx phones
/// and SCCP over TLS offer (AES-SHA, with or without ECDHE). No 3DES, no RC4, no SHA-256 CBC.
pub const CBC_SUITES: [(u16, &str); 4] = [
    (0xc013, "ECDHE-RSA-AES128-SHA"),
    (0xc014, "ECDHE-RSA-AES256-SHA"),
    (0x002f, "AES128-SHA"),
    (0x0035, "AES256-SHA"),
];
/// `TLS_RSA_WITH_NULL_SHA`: CUCM's Authenticated mode (integrity, no encryption).
pub const NULL_SHA: (u16, &str) = (0x0002, "NULL-SHA");

/// The lowest TLS version a cluster accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum MinVersion {
    /// For fleets with 79xx phones (TLS 1.0 only).
    Tls10,
    Tls11,
    /// CUCM's default from 14 on, and ours.
    #[default]
    Tls12,
}

impl MinVersion {
    /// The wire value (0x0301..0x0303).
    pub fn wire(self) -> u16 {
        match self {
            MinVersion::Tls10 => TLS10,
            MinVersion::Tls11 => TLS11,
            MinVersion::Tls12 => TLS12,
        }
    }
}

impl fmt::Display for MinVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MinVersion::Tls10 => "1.0",
            MinVersion::Tls11 => "1.1",
            MinVersion::Tls12 => "1.2",
        })
    }
}

/// What the cluster lets the OpenSSL engine serve. rustls' TLS 1.2/1.3 AEAD suites are always
/// served; this only widens the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyPolicy {
    /// The lowest version accepted (TLS 1.2 by default; TLS 1.0 for 79xx fleets).
    pub min_version: MinVersion,
    /// The AES-CBC-SHA suites ([`CBC_SUITES`]).
    pub cbc: bool,
    /// `NULL-SHA`, for Authenticated devices.
    pub null_sha: bool,
    /// Whether OpenSSL inserts an empty record before each TLS 1.0 CBC record (its BEAST
    /// countermeasure). The cluster's default (`tls.empty_fragments`) is on, as capfd runs it
    /// with 79xx phones: capfd is Python, and CPython's `ssl` module sets `SSL_OP_ALL` *minus*
    /// `SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS`, so OpenSSL keeps inserting them. An empty record
    /// carries no bytes of a message, so it splits none.
    pub empty_fragments: bool,
}

impl Default for LegacyPolicy {
    fn default() -> Self {
        LegacyPolicy { min_version: MinVersion::Tls12, cbc: false, null_sha: false, empty_fragments: true }
    }
}

impl LegacyPolicy {
    /// The cluster's `tls.*` settings for one listener: `null_sha` says whether this listener
    /// offers NULL-SHA at all (CallManager does, for Authenticated devices; CAPF and TVS do not).
    pub fn from_settings(s: &opencapf_model::TlsSettings, null_sha: bool) -> LegacyPolicy {
        let min_version = match s.min_version {
            opencapf_model::TlsVersion::Tls10 => MinVersion::Tls10,
            opencapf_model::TlsVersion::Tls11 => MinVersion::Tls11,
            _ => MinVersion::Tls12,
        };
        LegacyPolicy { min_version, cbc: s.cbc, null_sha: null_sha && s.null_sha, empty_fragments: s.empty_fragments }
    }

    /// The suites (wire value, OpenSSL name) the OpenSSL engine may negotiate.
    pub fn suites(&self) -> Vec<(u16, &'static str)> {
        let cbc = CBC_SUITES.iter().copied().filter(|_| self.cbc);
        cbc.chain(Some(NULL_SHA).filter(|_| self.null_sha)).collect()
    }
}

/// The engine for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Rustls,
    OpenSsl,
    Refuse(Refusal),
}

/// Why a ClientHello is refused, in words for an administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The client's highest version is below the cluster's minimum.
    #[error("{} is below the cluster's minimum {minimum}", version_label(*offered))]
    BelowMinimum { offered: u16, minimum: MinVersion },
    /// SSL 3.0 or older, or a version number that is not TLS.
    #[error("{} is not served (TLS 1.0 to 1.3 only)", version_label(*offered))]
    UnknownVersion { offered: u16 },
    /// Nothing offered that either engine may use.
    #[error("no shared cipher suite: offered {}{}", suite_list(offered), switched_off(offered, *policy))]
    NoSharedSuite { offered: Vec<u16>, policy: LegacyPolicy },
}

/// Picks the engine: rustls when the hello offers TLS 1.2 or 1.3 with a suite of
/// [`crate::provider`] for that version; OpenSSL when the policy allows the client's highest
/// version up to 1.2 and one of its suites; a refusal saying why otherwise.
pub fn choose(hello: &ClientHelloSummary, policy: &LegacyPolicy) -> Route {
    let versions = hello.offered_versions();
    if rustls_serves(hello, &versions) {
        return Route::Rustls;
    }
    // OpenSSL negotiates the client's highest version it has, at most TLS 1.2.
    let Some(&highest) = versions.iter().filter(|v| **v <= TLS12).max() else {
        let offered = hello.supported_versions.iter().copied().max().unwrap_or(hello.legacy_version);
        return match offered {
            0x0304 => Route::Refuse(Refusal::NoSharedSuite { offered: offered_suites(hello), policy: *policy }),
            _ => Route::Refuse(Refusal::UnknownVersion { offered }),
        };
    };
    if highest < policy.min_version.wire() {
        return Route::Refuse(Refusal::BelowMinimum { offered: highest, minimum: policy.min_version });
    }
    let allowed = policy.suites();
    if hello.cipher_suites.iter().any(|s| allowed.iter().any(|(id, _)| id == s)) {
        Route::OpenSsl
    } else {
        Route::Refuse(Refusal::NoSharedSuite { offered: offered_suites(hello), policy: *policy })
    }
}

fn rustls_serves(hello: &ClientHelloSummary, versions: &[u16]) -> bool {
    provider().cipher_suites.iter().any(|s| {
        let version = u16::from(s.version().version);
        versions.contains(&version) && hello.cipher_suites.contains(&u16::from(s.suite()))
    })
}

/// The offered suites worth naming: no GREASE, no signalling values (SCSVs).
pub(crate) fn offered_suites(hello: &ClientHelloSummary) -> Vec<u16> {
    hello.cipher_suites.iter().copied().filter(|s| !is_grease(*s) && *s != 0x00ff && *s != 0x5600).collect()
}

/// "TLS 1.0", "SSL 3.0", or the hex value of something else.
pub fn version_label(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301..=0x0304 => format!("TLS 1.{}", v - TLS10),
        other => format!("version 0x{other:04x}"),
    }
}

const NAMED_AT_MOST: usize = 8;

/// A suite's name: OpenSSL's for the legacy ones and rustls' ([`cipher_name`]), IANA's
/// otherwise, its number when unknown.
fn suite_label(id: u16) -> String {
    if let Some((_, name)) = CBC_SUITES.iter().chain([&NULL_SHA]).find(|(s, _)| *s == id) {
        return (*name).to_owned();
    }
    let name = cipher_name(CipherSuite::from(id));
    if !name.starts_with("CipherSuite(") && !name.starts_with("Unknown") {
        return name;
    }
    match tls_parser::TlsCipherSuite::from_id(id) {
        Some(suite) => suite.name.to_owned(),
        None => format!("0x{id:04x}"),
    }
}

fn suite_list(offered: &[u16]) -> String {
    if offered.is_empty() {
        return "none".into();
    }
    let mut names: Vec<String> = offered.iter().take(NAMED_AT_MOST).map(|s| suite_label(*s)).collect();
    if offered.len() > NAMED_AT_MOST {
        names.push(format!("and {} more", offered.len() - NAMED_AT_MOST));
    }
    names.join(", ")
}

/// "; CBC suites are off" when the client offered suites that a policy switch would allow.
fn switched_off(offered: &[u16], policy: LegacyPolicy) -> String {
    let mut off = Vec::new();
    if !policy.cbc && offered.iter().any(|s| CBC_SUITES.iter().any(|(id, _)| id == s)) {
        off.push("CBC suites are off");
    }
    if !policy.null_sha && offered.contains(&NULL_SHA.0) {
        off.push("NULL-SHA is off");
    }
    if off.is_empty() {
        String::new()
    } else {
        format!("; {}", off.join(", "))
    }
}

#[cfg(test)]
mod tests;
