//! The phone's TLS client: the TLS versions it offers and its rustls configuration (CallManager
//! checked against the trust list, AES-128 suites first, the LSC or MIC as client certificate,
//! RSA keys under 2048 bits signing PKCS#1 v1.5: see [`opencapf_tls::legacy_signing_key`]).

use std::sync::Arc;

use opencapf_capf::client::tls::TrustListVerifier;
use opencapf_capf::client::TlsVersions;
use opencapf_model::SecurityMode;
use opencapf_tls::TlsError;

use super::RegisterOptions;
use crate::{DeviceCertificate, PhoneError, Result};

/// The rustls configuration ([`opencapf_tls::client_config`] with the phone's suite order):
/// trust-list check of CallManager, and the phone's certificate.
pub(super) fn client_config(
    verifier: Arc<TrustListVerifier>,
    versions: TlsVersions,
    cert: &DeviceCertificate,
) -> std::result::Result<rustls::ClientConfig, String> {
    let key = opencapf_tls::certified_key(vec![cert.der.clone()], &cert.key).map_err(|e| match e {
        TlsError::Key(detail) => format!("the {} key cannot sign in TLS: {detail}", cert.kind),
        other => other.to_string(),
    })?;
    opencapf_tls::client_config(opencapf_tls::phone_provider(), versions, verifier, Some(key))
        .map_err(|e| e.to_string())
}

/// The TLS versions the phone offers.
pub(super) fn versions_for(opts: &RegisterOptions, cert: &DeviceCertificate) -> Result<TlsVersions> {
    let legacy_rsa = cert.key.algorithm().is_rsa() && cert.key.algorithm().bits() < 2048;
    let chosen = opts.tls_versions.unwrap_or(match opts.security {
        SecurityMode::Authenticated => TlsVersions::Tls12Only,
        _ => TlsVersions::Tls12And13,
    });
    if legacy_rsa {
        if chosen == TlsVersions::Tls13Only {
            return Err(PhoneError::Invalid(format!(
                "the {}'s key is {}: TLS 1.3 signs with RSA-PSS, which needs 2048 bits; use TLS 1.2",
                cert.kind,
                cert.key.algorithm()
            )));
        }
        return Ok(TlsVersions::Tls12Only);
    }
    Ok(chosen)
}
