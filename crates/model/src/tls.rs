//! Legacy TLS as the cluster's settings and records name it: the lowest version served
//! ([`TlsVersion`]), the engine that served a connection ([`TlsEngine`]), the `tls.*` settings
//! ([`TlsSettings`]), and what makes a connection legacy ([`is_legacy_tls`]).
//!
//! Names follow OpenSSL's (`TLSv1`, `AES256-SHA`), as phones log them; IANA names
//! (`TLS_RSA_WITH_AES_256_CBC_SHA`) are understood too.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::cucm::cucm_enum;
use crate::ModelError;

cucm_enum!(
    /// A TLS protocol version; the display name is OpenSSL's (`TLSv1` for 1.0), the token the
    /// setting's value (`1.0`).
    TlsVersion {
        Tls10 => "TLSv1", "1.0";
        Tls11 => "TLSv1.1", "1.1";
        Tls12 => "TLSv1.2", "1.2";
        Tls13 => "TLSv1.3", "1.3";
    }
);

impl TlsVersion {
    /// A version as records and logs write it: `TLSv1`, `TLSv1.0`, `TLSv1.2`, `TLSv1_2`
    /// (rustls' debug form), or the bare `1.2`.
    pub fn from_name(name: &str) -> Option<TlsVersion> {
        let n = name.trim();
        let bare = n.strip_prefix("TLSv").or_else(|| n.strip_prefix("TLS")).unwrap_or(n).replace('_', ".");
        match bare.trim_start_matches(' ') {
            "1" | "1.0" => Some(TlsVersion::Tls10),
            "1.1" => Some(TlsVersion::Tls11),
            "1.2" => Some(TlsVersion::Tls12),
            "1.3" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    /// Below TLS 1.2: only 79xx-era phones need it.
    pub fn is_legacy(self) -> bool {
        self < TlsVersion::Tls12
    }
}

impl PartialOrd for TlsVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TlsVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

cucm_enum!(
    /// The TLS implementation that served a connection: rustls for every phone that shares a
    /// modern version and suite with it, OpenSSL for the ones rustls cannot serve.
    TlsEngine { Rustls => "rustls", "rustls"; Openssl => "openssl", "openssl"; }
);

/// The `tls.*` cluster settings: what the legacy (OpenSSL) engine may offer. The defaults serve
/// modern phones only, but for NULL-SHA to Authenticated devices, which CUCM always offers them.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TlsSettings {
    /// `tls.min_version`: the lowest version accepted (1.0 for fleets with 79xx phones).
    pub min_version: TlsVersion,
    /// `tls.cbc`: the AES-SHA CBC suites (`AES128-SHA`, `AES256-SHA`, ...) are offered.
    pub cbc: bool,
    /// `tls.null_sha`: NULL-SHA (integrity without encryption) is offered to devices whose
    /// security profile is Authenticated, as CUCM's SIP interface does; never to Encrypted ones.
    pub null_sha: bool,
    /// `tls.empty_fragments`: on TLS 1.0 CBC, an empty record goes before each record (OpenSSL's
    /// BEAST countermeasure, unless `SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS`).
    pub empty_fragments: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            min_version: TlsVersion::Tls12,
            cbc: false,
            null_sha: true,
            // On, as the open-source capfd serves 79xx phones: it uses Python's `ssl.SSLContext`,
            // whose defaults are `SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS`, so OpenSSL
            // inserts the empty fragments and those phones complete CAPF with them. The phones
            // known to mishandle a message split across records are hit by 1/n-1 splitting,
            // which OpenSSL never does.
            empty_fragments: true,
        }
    }
}

impl TlsSettings {
    /// What lets a legacy phone in, for the warning `status` shows: `None` when nothing does.
    pub fn legacy_allowed(&self) -> Option<String> {
        let mut what = Vec::new();
        if self.min_version.is_legacy() {
            what.push(format!("TLS {} and up", self.min_version.token()));
        }
        if self.cbc {
            what.push("CBC suites".to_owned());
        }
        (!what.is_empty()).then(|| what.join(", "))
    }
}

/// A cipher suite that is neither an AEAD (GCM, CCM, ChaCha20-Poly1305) nor encrypting (NULL):
/// the CBC and RC4 suites, and NULL-SHA.
pub fn is_legacy_suite(cipher: &str) -> bool {
    let c = cipher.to_ascii_uppercase();
    if c.contains("NULL") {
        return true;
    }
    !(c.contains("GCM") || c.contains("CCM") || c.contains("CHACHA20"))
}

/// A connection that only the legacy engine could serve: TLS below 1.2, or a CBC or NULL suite.
/// Unknown values (`None`, `unknown`) are not legacy: nothing says they are.
pub fn is_legacy_tls(version: Option<&str>, cipher: Option<&str>) -> bool {
    let old = version.and_then(TlsVersion::from_name).is_some_and(TlsVersion::is_legacy);
    let suite = cipher.filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("unknown")).is_some_and(is_legacy_suite);
    old || suite
}

/// The TLS of one session as CAPF's history names it: `TLSv1 AES256-SHA (legacy)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsSession {
    pub engine: TlsEngine,
    /// `TLSv1`, `TLSv1.3`, or `unknown`.
    pub version: String,
    /// `AES256-SHA`, `TLS_AES_256_GCM_SHA384`, or `unknown`.
    pub cipher: String,
}

impl TlsSession {
    /// A session whose version and suite were not told (callers that predate the legacy engine).
    pub fn unknown(engine: TlsEngine) -> Self {
        Self { engine, version: "unknown".into(), cipher: "unknown".into() }
    }

    pub fn is_legacy(&self) -> bool {
        is_legacy_tls(Some(&self.version), Some(&self.cipher))
    }
}

impl fmt::Display for TlsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.version, self.cipher)?;
        if self.is_legacy() {
            f.write_str(" (legacy)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_every_spelling_and_order() {
        for (name, v) in [
            ("TLSv1", TlsVersion::Tls10),
            ("TLSv1.0", TlsVersion::Tls10),
            ("TLSv1_1", TlsVersion::Tls11),
            ("TLSv1.2", TlsVersion::Tls12),
            ("1.3", TlsVersion::Tls13),
        ] {
            assert_eq!(TlsVersion::from_name(name), Some(v), "{name}");
        }
        assert_eq!(TlsVersion::from_name("SSLv3"), None);
        assert!(TlsVersion::Tls10 < TlsVersion::Tls12 && TlsVersion::Tls13 > TlsVersion::Tls12);
        assert_eq!("1.0".parse::<TlsVersion>().unwrap(), TlsVersion::Tls10);
        assert!("1.4".parse::<TlsVersion>().unwrap_err().to_string().contains("1.0, 1.1, 1.2, 1.3"));
    }

    #[test]
    fn legacy_connections_are_told_from_modern_ones() {
        assert!(is_legacy_tls(Some("TLSv1"), Some("AES256-SHA")));
        assert!(is_legacy_tls(Some("TLSv1.2"), Some("AES128-SHA")));
        assert!(is_legacy_tls(Some("TLSv1.2"), Some("NULL-SHA")));
        assert!(is_legacy_tls(Some("TLSv1.2"), Some("TLS_RSA_WITH_AES_128_CBC_SHA")));
        assert!(is_legacy_tls(Some("TLSv1.1"), None));
        assert!(!is_legacy_tls(Some("TLSv1.3"), Some("TLS_AES_256_GCM_SHA384")));
        assert!(!is_legacy_tls(Some("TLSv1.2"), Some("ECDHE-RSA-CHACHA20-POLY1305")));
        assert!(!is_legacy_tls(Some("TLSv1.2"), Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")));
        assert!(!is_legacy_tls(None, None));
        assert!(!is_legacy_tls(Some("unknown"), Some("unknown")));
    }

    #[test]
    fn a_session_says_when_it_is_legacy() {
        let old = TlsSession { engine: TlsEngine::Openssl, version: "TLSv1".into(), cipher: "AES256-SHA".into() };
        assert_eq!(old.to_string(), "TLSv1 AES256-SHA (legacy)");
        let new = TlsSession {
            engine: TlsEngine::Rustls,
            version: "TLSv1.3".into(),
            cipher: "TLS_AES_128_GCM_SHA256".into(),
        };
        assert_eq!(new.to_string(), "TLSv1.3 TLS_AES_128_GCM_SHA256");
        assert_eq!(TlsSession::unknown(TlsEngine::Rustls).to_string(), "unknown unknown");
    }

    #[test]
    fn defaults_serve_modern_phones_and_name_what_lets_legacy_ones_in() {
        let d = TlsSettings::default();
        assert_eq!((d.min_version, d.cbc, d.null_sha, d.empty_fragments), (TlsVersion::Tls12, false, true, true));
        assert_eq!(d.legacy_allowed(), None);
        let old = TlsSettings { min_version: TlsVersion::Tls10, cbc: true, ..d };
        assert_eq!(old.legacy_allowed().as_deref(), Some("TLS 1.0 and up, CBC suites"));
    }
}
