//! The TLS of the phones rustls cannot be: TLS 1.0 with `AES256-SHA:AES128-SHA` (and `NULL-SHA`
//! for an Authenticated profile), through OpenSSL. The 79xx family speaks nothing newer
//! (phone-boot.md §5); the seed's console line is
//! `PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]`.
//!
//! The server check is the phone's, as on the rustls path: the certificate the server presents
//! must be byte for byte one of the trust list (ITL records of the role, TVS-vouched
//! certificates); chains and host names do not matter. A refused server gets OpenSSL's alert for
//! an unknown issuer (`unknown CA`), as a phone sends it. The client certificate (LSC or MIC)
//! goes only to a server that asks for it, as OpenSSL does by itself.
//!
//! OpenSSL 3 refuses TLS 1.0 and SHA-1 signatures at its default security level, so the context
//! says `@SECLEVEL=0`; a distribution policy (`/etc/ssl/openssl.cnf`) is overridden by the
//! explicit version bounds and level set here.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opencapf_capf::client::tls::PresentedCertificate;
use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslContext, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_openssl::SslStream;

use crate::DeviceCertificate;

/// What the legacy client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyProfile {
    /// The lowest and highest version offered (79xx: TLS 1.0 and TLS 1.0).
    pub min: LegacyVersion,
    pub max: LegacyVersion,
    /// Also offer `NULL-SHA` (integrity without encryption), last: an Authenticated profile.
    pub null_sha: bool,
}

/// A TLS version the legacy client can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LegacyVersion {
    Tls10,
    Tls11,
    Tls12,
}

impl LegacyVersion {
    fn openssl(self) -> SslVersion {
        match self {
            LegacyVersion::Tls10 => SslVersion::TLS1,
            LegacyVersion::Tls11 => SslVersion::TLS1_1,
            LegacyVersion::Tls12 => SslVersion::TLS1_2,
        }
    }
}

impl LegacyProfile {
    /// TLS 1.0 only with the AES-SHA suites: the 79xx family, and what `--tls 1.0` forces.
    pub const TLS10_AES_SHA: LegacyProfile =
        LegacyProfile { min: LegacyVersion::Tls10, max: LegacyVersion::Tls10, null_sha: false };

    /// The same, offering `NULL-SHA` too (an Authenticated profile: CUCM picks it).
    pub fn with_null_sha(self, on: bool) -> LegacyProfile {
        LegacyProfile { null_sha: on, ..self }
    }

    /// The suites offered, in OpenSSL's names: AES-256 first, as the seed's console line lists them.
    pub fn suites(&self) -> &'static str {
        if self.null_sha {
            "AES256-SHA:AES128-SHA:NULL-SHA"
        } else {
            "AES256-SHA:AES128-SHA"
        }
    }

    /// The OpenSSL cipher string: [`LegacyProfile::suites`] at security level 0, without which
    /// OpenSSL 3 refuses TLS 1.0 and SHA-1.
    pub fn cipher_list(&self) -> String {
        format!("{}:@SECLEVEL=0", self.suites())
    }
}

/// A legacy TLS connection, established.
pub(crate) type LegacyStream = SslStream<TcpStream>;

/// Why a legacy handshake did not complete.
#[derive(Debug)]
pub(crate) enum LegacyFailure {
    TimedOut,
    /// The phone refused the server's certificate (and sent `unknown CA`).
    Untrusted,
    /// The server sent a fatal alert: its description as OpenSSL's long names, lowercase words
    /// as in `opencapf_tls::alert_name` (`unknown CA`, `handshake failure`).
    AlertReceived(String),
    /// Anything else, in words.
    Other(String),
}

impl std::fmt::Display for LegacyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LegacyFailure::TimedOut => f.write_str("the TLS handshake timed out"),
            LegacyFailure::Untrusted => f.write_str("the server certificate is not in the phone's trust list"),
            LegacyFailure::AlertReceived(a) => write!(f, "the server sent a fatal TLS alert: {a}"),
            LegacyFailure::Other(e) => write!(f, "TLS: {e}"),
        }
    }
}

/// The outcome of a handshake, with the certificate the server presented (for the log and for
/// asking TVS) whether or not it was accepted.
pub(crate) struct Handshake {
    pub(crate) presented: Option<PresentedCertificate>,
    pub(crate) result: Result<LegacyStream, LegacyFailure>,
}

/// The negotiated version and suite in OpenSSL's words (`TLSv1`, `AES256-SHA`), as the phone logs them.
pub(crate) fn negotiated(stream: &LegacyStream) -> (String, String) {
    let ssl = stream.ssl();
    let cipher = ssl.current_cipher().map(|c| c.name().to_string()).unwrap_or_default();
    (ssl.version_str().to_string(), cipher)
}

/// Handshakes as a legacy phone over `tcp`, within `wait`.
pub(crate) async fn connect(
    tcp: TcpStream,
    profile: LegacyProfile,
    trust_list: Vec<Vec<u8>>,
    client: Option<&DeviceCertificate>,
    wait: Duration,
) -> Handshake {
    let presented = Arc::new(Mutex::new(None));
    let stream = match context(profile, trust_list, client, presented.clone())
        .and_then(|ctx| Ssl::new(&ctx))
        .and_then(|ssl| SslStream::new(ssl, tcp))
    {
        Ok(s) => s,
        Err(e) => return Handshake { presented: None, result: Err(LegacyFailure::Other(e.to_string())) },
    };
    let mut stream = stream;
    let outcome = timeout(wait, Pin::new(&mut stream).connect()).await;
    let presented = presented.lock().map(|p| p.clone()).unwrap_or(None);
    let result = match outcome {
        Err(_) => Err(LegacyFailure::TimedOut),
        Ok(Ok(())) => Ok(stream),
        Ok(Err(_)) if presented.as_ref().is_some_and(|p| !p.trusted) => Err(LegacyFailure::Untrusted),
        Ok(Err(e)) => Err(failure(&e)),
    };
    Handshake { presented, result }
}

fn context(
    profile: LegacyProfile,
    trust_list: Vec<Vec<u8>>,
    client: Option<&DeviceCertificate>,
    presented: Arc<Mutex<Option<PresentedCertificate>>>,
) -> Result<SslContext, openssl::error::ErrorStack> {
    let mut b = SslContext::builder(SslMethod::tls_client())?;
    b.set_min_proto_version(Some(profile.min.openssl()))?;
    b.set_max_proto_version(Some(profile.max.openssl()))?;
    b.set_security_level(0);
    b.set_cipher_list(&profile.cipher_list())?;
    // OpenSSL's default record splitting (an empty fragment before each CBC record on TLS 1.0)
    // is kept: what the phones' firmware does is [U], and servers must accept it either way.
    if let Some(cert) = client {
        let x509 = X509::from_der(&cert.der)?;
        let key = PKey::private_key_from_pkcs8(cert.key.pkcs8_der())?;
        b.set_certificate(&x509)?;
        b.set_private_key(&key)?;
    }
    // No store: nothing is trusted by chain; the leaf must be in the trust list (module doc).
    b.set_verify_callback(SslVerifyMode::PEER, move |_preverified, ctx| {
        if ctx.error_depth() != 0 {
            return true;
        }
        let Some(der) = ctx.current_cert().and_then(|c| c.to_der().ok()) else { return false };
        let trusted = trust_list.contains(&der);
        if let Ok(mut p) = presented.lock() {
            *p = Some(PresentedCertificate { der, trusted });
        }
        // Refused with the chain's error still set (no issuer in the empty store): OpenSSL
        // turns it into the `unknown CA` alert.
        trusted
    });
    Ok(b.build())
}

/// The server's fatal alert, from OpenSSL's reason text (`tlsv1 alert unknown ca`,
/// `sslv3 alert handshake failure`), else the error in words.
fn failure(e: &openssl::ssl::Error) -> LegacyFailure {
    let reasons: Vec<String> = e
        .ssl_error()
        .map(|stack| stack.errors().iter().filter_map(|r| r.reason().map(str::to_string)).collect())
        .unwrap_or_default();
    for r in &reasons {
        if let Some(alert) = r.strip_prefix("tlsv1 alert ").or_else(|| r.strip_prefix("sslv3 alert ")) {
            return LegacyFailure::AlertReceived(alert_words(alert));
        }
    }
    match reasons.first() {
        Some(r) => LegacyFailure::Other(r.clone()),
        None => LegacyFailure::Other(e.to_string()),
    }
}

/// OpenSSL's reason words for an alert, as `opencapf_tls::alert_name` spells them.
fn alert_words(reason: &str) -> String {
    match reason {
        "unknown ca" => "unknown CA".into(),
        "protocol version"
        | "handshake failure"
        | "bad certificate"
        | "decrypt error"
        | "access denied"
        | "certificate unknown"
        | "internal error"
        | "illegal parameter"
        | "decode error" => reason.into(),
        other => opencapf_model::printable(other).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_lists() {
        let p = LegacyProfile::TLS10_AES_SHA;
        assert_eq!(p.cipher_list(), "AES256-SHA:AES128-SHA:@SECLEVEL=0");
        assert_eq!(p.with_null_sha(true).cipher_list(), "AES256-SHA:AES128-SHA:NULL-SHA:@SECLEVEL=0");
        assert_eq!(alert_words("unknown ca"), "unknown CA");
        assert_eq!(alert_words("handshake failure"), "handshake failure");
    }
}
