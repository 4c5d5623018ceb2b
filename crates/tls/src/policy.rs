//! The one provider, suite list and version list of the project.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{CipherSuite, SupportedProtocolVersion};

/// Which TLS versions a client offers (servers always accept both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3, as newer phones (78xx/88xx) and capfd v4.x negotiate.
    #[default]
    Tls12And13,
    Tls12Only,
    Tls13Only,
}

impl TlsVersions {
    /// The rustls versions, 1.3 first.
    pub fn rustls(self) -> &'static [&'static SupportedProtocolVersion] {
        static BOTH: [&SupportedProtocolVersion; 2] = [&rustls::version::TLS13, &rustls::version::TLS12];
        static TLS12: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static TLS13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            TlsVersions::Tls12And13 => &BOTH,
            TlsVersions::Tls12Only => &TLS12,
            TlsVersions::Tls13Only => &TLS13,
        }
    }
}

/// rustls' AWS-LC provider with every cipher suite it has (the only crypto backend of the
/// project): TLS 1.3 AES-GCM and ChaCha20-Poly1305; TLS 1.2 ECDHE-RSA/ECDHE-ECDSA with the same.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES.to_vec(),
        ..rustls::crypto::aws_lc_rs::default_provider()
    })
}

/// The same suites, AES-128 first: phones prefer AES128-SHA to AES256-SHA, and a server that
/// follows the client's order then logs the suite a phone would get.
pub fn phone_provider() -> Arc<CryptoProvider> {
    let mut p = Arc::unwrap_or_clone(provider());
    let rank = |s: CipherSuite| {
        let name = format!("{s:?}");
        if name.contains("AES_128") {
            0
        } else if name.contains("AES_256") {
            1
        } else {
            2
        }
    };
    p.cipher_suites.sort_by_key(|s| rank(s.suite()));
    Arc::new(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_of_the_provider_in_both_orders() {
        let all = provider();
        assert_eq!(all.cipher_suites.len(), rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES.len());
        let phone = phone_provider();
        assert_eq!(phone.cipher_suites.len(), all.cipher_suites.len());
        assert!(format!("{:?}", phone.cipher_suites[0].suite()).contains("AES_128"));
    }
}
