//! The phone's TLS client: the TLS versions it offers, its rustls configuration (CallManager
//! checked against the trust list, AES-128 suites first, the LSC or MIC as client certificate),
//! and RSA PKCS#1 v1.5 signing for RSA keys under 2048 bits, which AWS-LC's ordinary API refuses.

use std::sync::Arc;

use aws_lc_rs::digest;
use opencapf_capf::client::tls::{self, TrustListVerifier};
use opencapf_capf::client::TlsVersions;
use opencapf_model::SecurityMode;
use opencapf_pki::PrivateKey;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::{CertifiedKey, SigningKey, SingleCertAndKey};
use rustls::{CipherSuite, SignatureAlgorithm, SignatureScheme};

use super::RegisterOptions;
use crate::{DeviceCertificate, PhoneError, Result};

/// RSA PKCS#1 v1.5 signing for RSA keys AWS-LC's ordinary API refuses (below 2048 bits): the
/// DigestInfo is built here and padded and signed by [`opencapf_pki::rawkey::rsa_sign_raw_pkcs1`].
#[derive(Debug)]
struct LegacyRsaKey {
    key: PrivateKey,
}

/// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO: &[u8] =
    &[0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
const SHA512_DIGEST_INFO: &[u8] =
    &[0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40];

impl SigningKey for LegacyRsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        [SignatureScheme::RSA_PKCS1_SHA256, SignatureScheme::RSA_PKCS1_SHA512]
            .into_iter()
            .find(|s| offered.contains(s))
            .map(|scheme| Box::new(LegacyRsaSigner { key: self.key.clone(), scheme }) as Box<dyn rustls::sign::Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

#[derive(Debug)]
struct LegacyRsaSigner {
    key: PrivateKey,
    scheme: SignatureScheme,
}

impl rustls::sign::Signer for LegacyRsaSigner {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rustls::Error> {
        legacy_rsa_sign(&self.key, self.scheme, message).map_err(rustls::Error::General)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256 or SHA-512, for any RSA key size AWS-LC can use.
fn legacy_rsa_sign(key: &PrivateKey, scheme: SignatureScheme, message: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let (prefix, algorithm) = match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => (SHA256_DIGEST_INFO, &digest::SHA256),
        SignatureScheme::RSA_PKCS1_SHA512 => (SHA512_DIGEST_INFO, &digest::SHA512),
        other => return Err(format!("{other:?} is not offered for this key")),
    };
    let mut t = prefix.to_vec();
    t.extend_from_slice(digest::digest(algorithm, message).as_ref());
    opencapf_pki::rawkey::rsa_sign_raw_pkcs1(key.pkcs8_der(), &t).map_err(|e| e.to_string())
}

/// A provider with the AES-128 suites first (phones prefer AES128-SHA to AES256-SHA).
fn phone_provider() -> CryptoProvider {
    let mut p = tls::provider();
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
    p
}

/// The rustls configuration: trust-list check of CallManager, and the phone's certificate.
pub(super) fn client_config(
    verifier: Arc<TrustListVerifier>,
    versions: TlsVersions,
    cert: &DeviceCertificate,
) -> std::result::Result<rustls::ClientConfig, String> {
    let key: Arc<dyn SigningKey> = if cert.key.algorithm().is_rsa() && cert.key.algorithm().bits() < 2048 {
        Arc::new(LegacyRsaKey { key: cert.key.clone() })
    } else {
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.pkcs8_der().to_vec()));
        rustls::crypto::aws_lc_rs::sign::any_supported_type(&der)
            .map_err(|e| format!("the {} key cannot sign in TLS: {e}", cert.kind))?
    };
    let certified = CertifiedKey::new(vec![CertificateDer::from(cert.der.clone())], key);
    let versions: &[&'static rustls::SupportedProtocolVersion] = match versions {
        TlsVersions::Tls12And13 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
    };
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(phone_provider()))
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified))))
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

#[cfg(test)]
mod tests {
    use super::*;
    use opencapf_pki::KeyAlgorithm;

    #[test]
    fn a_1024_bit_rsa_key_signs_pkcs1_v1_5_with_the_digest_info() {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
        let signing = LegacyRsaKey { key: key.clone() };
        // TLS 1.3 offers only PSS for RSA: nothing to sign with.
        assert!(signing.choose_scheme(&[SignatureScheme::RSA_PSS_SHA256]).is_none());
        for (scheme, prefix, alg) in [
            (SignatureScheme::RSA_PKCS1_SHA256, SHA256_DIGEST_INFO, &digest::SHA256),
            (SignatureScheme::RSA_PKCS1_SHA512, SHA512_DIGEST_INFO, &digest::SHA512),
        ] {
            let signer = signing.choose_scheme(&[SignatureScheme::RSA_PSS_SHA256, scheme]).unwrap();
            assert_eq!(signer.scheme(), scheme);
            let sig = signer.sign(b"handshake transcript").unwrap();
            assert_eq!(sig.len(), 128);
            // The whole block, checked strictly: 00 01 FF.. 00 DigestInfo hash.
            let block = opencapf_pki::rawkey::rsa_public_raw(key.public_key_der(), &sig).unwrap();
            let mut t = prefix.to_vec();
            t.extend_from_slice(digest::digest(alg, b"handshake transcript").as_ref());
            let mut expected = vec![0x00, 0x01];
            expected.resize(128 - t.len() - 1, 0xff);
            expected.push(0x00);
            expected.extend_from_slice(&t);
            assert_eq!(block, expected);
        }
    }
}
