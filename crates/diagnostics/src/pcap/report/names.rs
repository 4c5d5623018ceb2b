//! Names for the report: times as RFC 3339, TLS versions, cipher suites and alerts.

use time::OffsetDateTime;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

pub(super) fn ts_string(ts: Option<f64>) -> Option<String> {
    let ts = ts?;
    if !ts.is_finite() {
        return None;
    }
    let t = OffsetDateTime::from_unix_timestamp_nanos((ts * 1e6).round() as i128 * 1000).ok()?;
    Some(rfc3339(t))
}

pub(super) fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        v => format!("0x{v:04x}"),
    }
}

pub(super) fn cipher_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id).map(|c| c.name.to_owned()).unwrap_or_else(|| format!("0x{id:04x}"))
}

/// Why a negotiated version and suite are legacy (what only OpenCAPF's OpenSSL engine serves):
/// below TLS 1.2, a CBC or RC4 suite, a NULL suite. Empty for modern TLS and unknown values.
pub(super) fn legacy_reasons(version: Option<u16>, cipher: Option<u16>) -> Vec<String> {
    use tls_parser::{TlsCipherEnc, TlsCipherEncMode};
    let mut why = Vec::new();
    if let Some(v) = version.filter(|v| *v < 0x0303) {
        why.push(version_name(v));
    }
    if let Some(suite) = cipher.and_then(tls_parser::TlsCipherSuite::from_id) {
        if suite.enc == TlsCipherEnc::Null {
            why.push("NULL suite (no encryption)".to_owned());
        } else if suite.enc == TlsCipherEnc::Rc4 {
            why.push("RC4 suite".to_owned());
        } else if suite.enc_mode == TlsCipherEncMode::Cbc {
            why.push("CBC suite".to_owned());
        }
    }
    why
}

pub(super) fn alert_name(code: u8) -> String {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        n => return format!("alert {n}"),
    }
    .to_owned()
}

/// The capture's names (by wire code) against opencapf-tls's (by rustls type): the same suite,
/// version or alert must read as the same thing, in each crate's spelling.
#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CipherSuite, ProtocolVersion};

    #[test]
    fn suites_agree_with_the_tls_crate() {
        let suites = opencapf_tls::provider().cipher_suites.iter().map(|s| s.suite()).collect::<Vec<_>>();
        let extra = [CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA, CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA];
        for s in suites.into_iter().chain(extra) {
            // rustls prefixes TLS 1.3 suites with TLS13_; captures show IANA's name.
            let iana = opencapf_tls::iana_name(s);
            assert_eq!(cipher_name(u16::from(s)), iana, "{s:?}");
        }
        assert_eq!(cipher_name(u16::from(CipherSuite::TLS_RSA_WITH_NULL_SHA)), "TLS_RSA_WITH_NULL_SHA");
    }

    #[test]
    fn versions_agree_with_the_tls_crate() {
        use ProtocolVersion::*;
        for v in [TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3] {
            // "TLS 1.2" here, OpenSSL's "TLSv1.2" there ("TLSv1" for 1.0).
            let openssl = opencapf_tls::version_name(v);
            let ours = version_name(u16::from(v)).replace("TLS 1.0", "TLS 1").replace("TLS ", "TLSv");
            assert_eq!(ours, openssl, "{v:?}");
        }
    }

    #[test]
    fn legacy_versions_and_suites_are_named() {
        let cbc = u16::from(CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA);
        let null = u16::from(CipherSuite::TLS_RSA_WITH_NULL_SHA);
        let gcm = u16::from(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
        assert_eq!(legacy_reasons(Some(0x0301), Some(cbc)), ["TLS 1.0", "CBC suite"]);
        assert_eq!(legacy_reasons(Some(0x0303), Some(null)), ["NULL suite (no encryption)"]);
        assert_eq!(legacy_reasons(Some(0x0300), None), ["SSL 3.0"]);
        assert!(legacy_reasons(Some(0x0303), Some(gcm)).is_empty());
        assert!(legacy_reasons(Some(0x0304), Some(0x1302)).is_empty());
        assert!(legacy_reasons(None, Some(0xfefe)).is_empty(), "an unknown suite is not called legacy");
    }

    #[test]
    fn alerts_agree_with_the_tls_crate() {
        for a in opencapf_tls::NAMED_ALERTS {
            // RFC 8446's "unknown_ca" here, OpenSSL's "unknown CA" there.
            let openssl = opencapf_tls::alert_name(a).to_lowercase().replace(' ', "_");
            assert_eq!(alert_name(u8::from(a)), openssl, "{a:?}");
        }
    }
}
