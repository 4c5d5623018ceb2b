//! Names of TLS versions, cipher suites and alerts, by rustls type, in the spellings the project
//! prints: OpenSSL's, as phones log them (the phone simulator's console log and the CAPF client
//! reproduce them), and rustls' own suite names, as CallManager records a registration.
//!
//! The diagnostics crate names the same things by wire code (it reads captures and has no
//! rustls); a test there checks that both agree for every suite, version and alert named here.

use rustls::{AlertDescription, CipherSuite, ProtocolVersion};

/// OpenSSL's spelling of a TLS version, as phones log it: "TLSv1.2", "TLSv1.3".
pub fn version_name(v: ProtocolVersion) -> String {
    match v {
        ProtocolVersion::TLSv1_0 => "TLSv1".into(),
        ProtocolVersion::TLSv1_1 => "TLSv1.1".into(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => format!("{other:?}"),
    }
}

/// OpenSSL's name of a cipher suite, as phones log it (`ECDHE-RSA-AES128-GCM-SHA256`); TLS 1.3
/// suites keep their IANA names (`TLS_AES_256_GCM_SHA384`). Also names the suites rustls lacks
/// but phones offer (`AES128-SHA`, `NULL-SHA`), so that a log can say what was refused.
pub fn cipher_name(suite: CipherSuite) -> String {
    use CipherSuite::*;
    let name = match suite {
        TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        TLS_RSA_WITH_AES_128_CBC_SHA => "AES128-SHA",
        TLS_RSA_WITH_AES_256_CBC_SHA => "AES256-SHA",
        TLS_RSA_WITH_NULL_SHA => "NULL-SHA",
        other => return format!("{other:?}"),
    };
    name.into()
}

/// rustls' name of a cipher suite: IANA's (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`), except that
/// TLS 1.3 suites carry a `TLS13_` prefix.
pub fn suite_name(suite: CipherSuite) -> String {
    suite.as_str().map(str::to_owned).unwrap_or_else(|| format!("{suite:?}"))
}

/// IANA's name of a cipher suite (`TLS_AES_128_GCM_SHA256`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`):
/// what a registration record keeps and `diagnose pcap` prints, so the two can be compared.
pub fn iana_name(suite: CipherSuite) -> String {
    let name = suite_name(suite);
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// OpenSSL's long description of a TLS alert, as in the phone's
/// `SSL3 alert [read]:[fatal]:[unknown CA]`.
pub fn alert_name(alert: AlertDescription) -> String {
    use AlertDescription::*;
    let name = match alert {
        CloseNotify => "close notify",
        UnexpectedMessage => "unexpected_message",
        BadRecordMac => "bad record mac",
        HandshakeFailure => "handshake failure",
        BadCertificate => "bad certificate",
        UnsupportedCertificate => "unsupported certificate",
        CertificateRevoked => "certificate revoked",
        CertificateExpired => "certificate expired",
        CertificateUnknown => "certificate unknown",
        IllegalParameter => "illegal parameter",
        UnknownCA => "unknown CA",
        AccessDenied => "access denied",
        DecodeError => "decode error",
        DecryptError => "decrypt error",
        ProtocolVersion => "protocol version",
        InsufficientSecurity => "insufficient security",
        InternalError => "internal error",
        CertificateRequired => "certificate required",
        other => return format!("{other:?}"),
    };
    name.into()
}

/// The alerts [`alert_name`] spells out (every other one prints as rustls' variant name).
pub const NAMED_ALERTS: [AlertDescription; 18] = {
    use AlertDescription::*;
    [
        CloseNotify,
        UnexpectedMessage,
        BadRecordMac,
        HandshakeFailure,
        BadCertificate,
        UnsupportedCertificate,
        CertificateRevoked,
        CertificateExpired,
        CertificateUnknown,
        IllegalParameter,
        UnknownCA,
        AccessDenied,
        DecodeError,
        DecryptError,
        ProtocolVersion,
        InsufficientSecurity,
        InternalError,
        CertificateRequired,
    ]
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_openssl_names() {
        assert_eq!(version_name(ProtocolVersion::TLSv1_2), "TLSv1.2");
        assert_eq!(version_name(ProtocolVersion::TLSv1_0), "TLSv1");
        assert_eq!(cipher_name(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), "ECDHE-RSA-AES128-GCM-SHA256");
        assert_eq!(cipher_name(CipherSuite::TLS13_AES_256_GCM_SHA384), "TLS_AES_256_GCM_SHA384");
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown CA");
    }

    #[test]
    fn every_suite_of_the_provider_has_both_names() {
        for s in crate::provider().cipher_suites.iter().map(|s| s.suite()) {
            assert_ne!(cipher_name(s), format!("{s:?}"), "no OpenSSL name for {s:?}");
            assert!(suite_name(s).starts_with("TLS"), "{s:?}");
        }
        let rsa = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
        assert_eq!(suite_name(rsa), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }

    #[test]
    fn every_named_alert_has_a_name() {
        for a in NAMED_ALERTS {
            assert_ne!(alert_name(a), format!("{a:?}"));
        }
    }
}
