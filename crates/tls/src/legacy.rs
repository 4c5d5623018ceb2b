//! RSA PKCS#1 v1.5 for keys of 1024 to 2047 bits, which rustls' own algorithms refuse: CUCM
//! issues LSCs with 1024-bit RSA keys (older profiles default to it). Only TLS 1.2 can use them
//! (TLS 1.3 signs with RSA-PSS, which needs 2048 bits).

use std::sync::{Arc, LazyLock};

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as lc, RsaParameters, UnparsedPublicKey};
use opencapf_pki::PrivateKey;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, InvalidSignature, PrivateKeyDer, PrivatePkcs8KeyDer, SignatureVerificationAlgorithm,
};
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};

use crate::TlsError;

/// RSA PKCS#1 v1.5 verification for keys of 1024 to 8192 bits.
#[derive(Debug)]
struct LegacyRsa {
    params: &'static RsaParameters,
    signature: AlgorithmIdentifier,
}

impl SignatureVerificationAlgorithm for LegacyRsa {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        UnparsedPublicKey::new(self.params, public_key).verify(message, signature).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature
    }

    fn fips(&self) -> bool {
        false
    }
}

static RSA_PKCS1_1024_SHA256: LegacyRsa =
    LegacyRsa { params: &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, signature: alg_id::RSA_PKCS1_SHA256 };
static RSA_PKCS1_1024_SHA512: LegacyRsa =
    LegacyRsa { params: &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY, signature: alg_id::RSA_PKCS1_SHA512 };
static SHA256_1024: &[&dyn SignatureVerificationAlgorithm] = &[&RSA_PKCS1_1024_SHA256];
static SHA512_1024: &[&dyn SignatureVerificationAlgorithm] = &[&RSA_PKCS1_1024_SHA512];

static PHONE_SIGNATURES: LazyLock<WebPkiSupportedAlgorithms> = LazyLock::new(|| {
    let base = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
    let mapping: Vec<_> = base
        .mapping
        .iter()
        .map(|(scheme, algs)| match scheme {
            SignatureScheme::RSA_PKCS1_SHA256 => (*scheme, SHA256_1024),
            SignatureScheme::RSA_PKCS1_SHA512 => (*scheme, SHA512_1024),
            _ => (*scheme, *algs),
        })
        .collect();
    WebPkiSupportedAlgorithms { all: base.all, mapping: Vec::leak(mapping) }
});

/// The provider's handshake-signature algorithms, with RSA PKCS#1 SHA-256/SHA-512 from 1024
/// bits: what a server checks a phone's TLS 1.2 CertificateVerify with.
pub fn phone_signature_algorithms() -> &'static WebPkiSupportedAlgorithms {
    &PHONE_SIGNATURES
}

/// A TLS signing key for `key`: RSA under 2048 bits signs PKCS#1 v1.5 here (AWS-LC's ordinary
/// API refuses such keys), any other key with the provider's signers.
pub fn legacy_signing_key(key: &PrivateKey) -> Result<Arc<dyn SigningKey>, TlsError> {
    if key.algorithm().is_rsa() && key.algorithm().bits() < 2048 {
        return Ok(Arc::new(LegacyRsaKey { key: key.clone() }));
    }
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der().to_vec()));
    rustls::crypto::aws_lc_rs::sign::any_supported_type(&der).map_err(|e| TlsError::Key(e.to_string()))
}

/// RSA PKCS#1 v1.5 signing: the DigestInfo is built here and padded and signed by
/// [`opencapf_pki::rsa_sign_raw_pkcs1`].
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
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        [SignatureScheme::RSA_PKCS1_SHA256, SignatureScheme::RSA_PKCS1_SHA512]
            .into_iter()
            .find(|s| offered.contains(s))
            .map(|scheme| Box::new(LegacyRsaSigner { key: self.key.clone(), scheme }) as Box<dyn Signer>)
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

impl Signer for LegacyRsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        legacy_rsa_sign(&self.key, self.scheme, message).map_err(rustls::Error::General)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256 or SHA-512, for any RSA key size AWS-LC can use.
fn legacy_rsa_sign(key: &PrivateKey, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, String> {
    let (prefix, algorithm) = match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => (SHA256_DIGEST_INFO, &digest::SHA256),
        SignatureScheme::RSA_PKCS1_SHA512 => (SHA512_DIGEST_INFO, &digest::SHA512),
        other => return Err(format!("{other:?} is not offered for this key")),
    };
    let mut t = prefix.to_vec();
    t.extend_from_slice(digest::digest(algorithm, message).as_ref());
    opencapf_pki::rsa_sign_raw_pkcs1(key.pkcs8_der(), &t).map_err(|e| e.to_string())
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
            let block = opencapf_pki::rsa_public_raw(key.public_key_der(), &sig).unwrap();
            let mut t = prefix.to_vec();
            t.extend_from_slice(digest::digest(alg, b"handshake transcript").as_ref());
            let mut expected = vec![0x00, 0x01];
            expected.resize(128 - t.len() - 1, 0xff);
            expected.push(0x00);
            expected.extend_from_slice(&t);
            assert_eq!(block, expected);
        }
    }

    #[test]
    fn legacy_verification_only_for_pkcs1_sha256_and_sha512() {
        let algs = phone_signature_algorithms();
        let base = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        assert_eq!(algs.mapping.len(), base.mapping.len());
    }
}
