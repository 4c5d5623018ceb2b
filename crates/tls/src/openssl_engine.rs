//! The OpenSSL engine: TLS 1.0 to 1.2 with the CBC and NULL-SHA suites rustls will never have,
//! for the phones that offer nothing else (79xx, 89xx/99xx, Authenticated devices).
//!
//! OpenSSL is built from source (`openssl` feature `vendored`, OpenSSL 3.x from `openssl-src`):
//! - The README's one-command build must work on a fresh Debian with the Rust toolchain and
//!   build-essential only. A system OpenSSL needs libssl-dev and pkg-config as well; OpenSSL's
//!   own build needs a C compiler, perl and make, which build-essential brings. The cost is a
//!   one-off build per target directory: the first `cargo build -p opencapf-tls --tests` here
//!   took 5 min 51 s (3 min 31 s CPU) on 2 cores shared with other builds; after that, nothing.
//! - The behaviour is the same everywhere. Distribution builds and crypto policies differ:
//!   Debian 12's libssl3 is compiled with security level 2 (no SHA-1 signatures or NULL
//!   ciphers), Red Hat's policies can remove TLS 1.0. The context below sets the versions and
//!   `@SECLEVEL=0` itself, which overrides such defaults (the engine tests pass against Debian
//!   12's libssl3 3.0 too, with `OPENSSL_NO_VENDOR=1`), but a library compiled without TLS 1.0
//!   or NULL ciphers cannot be overridden.
//!
//! `OPENSSL_NO_VENDOR=1` links the system library instead (openssl-sys reads it), for packagers.

use std::sync::{Arc, Mutex};

use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslContext, SslMethod, SslOptions, SslVerifyMode, SslVersion};
use openssl::x509::{X509StoreContextRef, X509VerifyResult, X509};
use rustls::AlertDescription;

use crate::LegacyPolicy;

/// The alert a [`LegacyClientVerifier`] has OpenSSL send, through the X.509 error it sets on the
/// store context (OpenSSL's `ssl_x509err2alert` turns one into the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyAlert {
    /// No trusted issuer (the certificate is not in CallManager-trust's chains).
    UnknownCa,
    BadCertificate,
    UnsupportedCertificate,
    CertificateRevoked,
    CertificateExpired,
    CertificateUnknown,
    HandshakeFailure,
    /// A signature that does not verify (rustls' `BadSignature`).
    DecryptError,
}

impl LegacyAlert {
    /// The TLS alert, as rustls names it (for [`crate::alert_name`] and the records).
    pub fn description(self) -> AlertDescription {
        match self {
            LegacyAlert::UnknownCa => AlertDescription::UnknownCA,
            LegacyAlert::BadCertificate => AlertDescription::BadCertificate,
            LegacyAlert::UnsupportedCertificate => AlertDescription::UnsupportedCertificate,
            LegacyAlert::CertificateRevoked => AlertDescription::CertificateRevoked,
            LegacyAlert::CertificateExpired => AlertDescription::CertificateExpired,
            LegacyAlert::CertificateUnknown => AlertDescription::CertificateUnknown,
            LegacyAlert::HandshakeFailure => AlertDescription::HandshakeFailure,
            LegacyAlert::DecryptError => AlertDescription::DecryptError,
        }
    }

    /// The X.509 error OpenSSL maps to this alert (its `ssl_x509err2alert` table).
    #[allow(unsafe_code)]
    pub(crate) fn x509_error(self) -> X509VerifyResult {
        use openssl_sys as c;
        let code = match self {
            LegacyAlert::UnknownCa => c::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            LegacyAlert::BadCertificate => c::X509_V_ERR_CERT_REJECTED,
            LegacyAlert::UnsupportedCertificate => c::X509_V_ERR_INVALID_PURPOSE,
            LegacyAlert::CertificateRevoked => c::X509_V_ERR_CERT_REVOKED,
            LegacyAlert::CertificateExpired => c::X509_V_ERR_CERT_HAS_EXPIRED,
            // Not in the table: OpenSSL's default alert is certificate_unknown.
            LegacyAlert::CertificateUnknown => c::X509_V_ERR_SUBJECT_ISSUER_MISMATCH,
            LegacyAlert::HandshakeFailure => c::X509_V_ERR_APPLICATION_VERIFICATION,
            LegacyAlert::DecryptError => c::X509_V_ERR_CERT_SIGNATURE_FAILURE,
        };
        // SAFETY: `from_raw` is unsafe only because the code must be an X509_V_ERR value
        // (OpenSSL looks up its text); these are OpenSSL's own constants.
        unsafe { X509VerifyResult::from_raw(code) }
    }
}

/// Checks a client certificate on the OpenSSL path, with the same `pki` code as the rustls
/// path's verifier.
pub trait LegacyClientVerifier: Send + Sync {
    /// `chain`: DER, the client's certificate first, then the issuers OpenSSL found among the
    /// certificates the client sent (OpenSSL trusts nothing itself: this call decides).
    fn verify(&self, chain: &[Vec<u8>]) -> Result<(), LegacyAlert>;
}

/// Why a [`LegacyAcceptor`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error("the legacy policy allows no cipher suite (CBC and NULL-SHA are both off)")]
    NoSuite,
    #[error("no certificate to serve")]
    NoCertificate,
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

/// An OpenSSL server configuration: one certificate, the policy's versions and suites.
#[derive(Clone)]
pub struct LegacyAcceptor {
    context: SslContext,
    policy: LegacyPolicy,
    verifier: Option<Arc<dyn LegacyClientVerifier>>,
}

impl std::fmt::Debug for LegacyAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyAcceptor")
            .field("policy", &self.policy)
            .field("verifies_clients", &self.verifier.is_some())
            .finish_non_exhaustive()
    }
}

impl LegacyAcceptor {
    /// `chain`: the certificate first, then its issuers (DER); `key`: PKCS#8 DER.
    /// With a verifier, the client must present a certificate that the verifier accepts.
    pub fn new(
        chain: &[Vec<u8>],
        key: &[u8],
        policy: &LegacyPolicy,
        verifier: Option<Arc<dyn LegacyClientVerifier>>,
    ) -> Result<Self, LegacyError> {
        let suites = policy.suites();
        if suites.is_empty() {
            return Err(LegacyError::NoSuite);
        }
        let (leaf, issuers) = chain.split_first().ok_or(LegacyError::NoCertificate)?;
        let mut b = SslContext::builder(SslMethod::tls_server())?;
        b.set_min_proto_version(Some(match policy.min_version {
            crate::MinVersion::Tls10 => SslVersion::TLS1,
            crate::MinVersion::Tls11 => SslVersion::TLS1_1,
            crate::MinVersion::Tls12 => SslVersion::TLS1_2,
        }))?;
        b.set_max_proto_version(Some(SslVersion::TLS1_2))?;
        // SECLEVEL 0: level 1 and up refuse SHA-1 MACs below TLS 1.2 and NULL ciphers.
        let names: Vec<&str> = suites.iter().map(|(_, name)| *name).collect();
        b.set_cipher_list(&format!("{}:@SECLEVEL=0", names.join(":")))?;
        let mut options = SslOptions::NO_RENEGOTIATION | SslOptions::NO_COMPRESSION | SslOptions::NO_TICKET;
        if !policy.empty_fragments {
            options |= SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
        }
        b.set_options(options);
        // No session cache: each connection verifies its certificate against the store of
        // that moment, as on the rustls path with a verifier.
        b.set_session_cache_mode(openssl::ssl::SslSessionCacheMode::OFF);
        let leaf = X509::from_der(leaf)?;
        b.set_certificate(&leaf)?;
        for issuer in issuers {
            b.add_extra_chain_cert(X509::from_der(issuer)?)?;
        }
        let key = PKey::private_key_from_pkcs8(key)?;
        b.set_private_key(&key)?;
        b.check_private_key()?;
        Ok(LegacyAcceptor { context: b.build(), policy: *policy, verifier })
    }

    /// The policy this acceptor enforces.
    pub fn policy(&self) -> &LegacyPolicy {
        &self.policy
    }

    /// Whether clients must present a certificate (a verifier was given).
    pub fn verifies_clients(&self) -> bool {
        self.verifier.is_some()
    }

    /// A server session for one connection, and the verdict its verify callback will record.
    pub(crate) fn session(&self) -> Result<(Ssl, Verdict), openssl::error::ErrorStack> {
        let mut ssl = Ssl::new(&self.context)?;
        let verdict = Verdict::default();
        match &self.verifier {
            None => ssl.set_verify(SslVerifyMode::NONE),
            Some(verifier) => {
                let (verifier, seen) = (verifier.clone(), verdict.clone());
                let mode = SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT;
                ssl.set_verify_callback(mode, move |_, ctx| check_at_leaf(ctx, verifier.as_ref(), &seen));
            }
        }
        Ok((ssl, verdict))
    }
}

/// What the verify callback decided for a connection: `None` until it ran at depth 0.
#[derive(Clone, Default)]
pub(crate) struct Verdict(Arc<Mutex<Option<Result<(), LegacyAlert>>>>);

impl Verdict {
    pub(crate) fn get(&self) -> Option<Result<(), LegacyAlert>> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// OpenSSL calls back for every certificate and every error it finds (here, always "no trusted
/// issuer", as it trusts nothing). Errors above the leaf are the verifier's to judge, so they
/// pass; at depth 0, which OpenSSL reaches on every path, the verifier decides, once.
fn check_at_leaf(ctx: &mut X509StoreContextRef, verifier: &dyn LegacyClientVerifier, verdict: &Verdict) -> bool {
    if ctx.error_depth() != 0 {
        return true;
    }
    let mut slot = verdict.0.lock().unwrap_or_else(|e| e.into_inner());
    let result = *slot.get_or_insert_with(|| {
        let chain: Vec<Vec<u8>> = match ctx.chain() {
            Some(stack) => stack.iter().filter_map(|c| c.to_der().ok()).collect(),
            None => ctx.current_cert().and_then(|c| c.to_der().ok()).into_iter().collect(),
        };
        if chain.is_empty() {
            return Err(LegacyAlert::BadCertificate);
        }
        verifier.verify(&chain)
    });
    match result {
        Ok(()) => {
            ctx.set_error(X509VerifyResult::OK);
            true
        }
        Err(alert) => {
            ctx.set_error(alert.x509_error());
            false
        }
    }
}
