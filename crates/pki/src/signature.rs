//! Checking one certificate's signature with one issuer key, outside path building.
//!
//! rustls-webpki refuses SHA-1, and old MICs and Cisco's older manufacturing CAs are SHA-1
//! signed; it also will not verify a CA certificate as a leaf. Both cases come here.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use x509_parser::oid_registry::{
    Oid, OID_EC_P256, OID_NIST_EC_P384, OID_NIST_EC_P521, OID_PKCS1_RSAENCRYPTION, OID_PKCS1_SHA1WITHRSA,
    OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA, OID_SIG_ECDSA_WITH_SHA256,
    OID_SIG_ECDSA_WITH_SHA384, OID_SIG_ECDSA_WITH_SHA512,
};
use x509_parser::prelude::*;

use crate::PkiError;

/// Why a signature did not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureFailure {
    /// SHA-1 signature and the policy in force refuses SHA-1.
    Sha1Refused,
    /// An algorithm OpenCAPF does not verify (named).
    Unsupported(String),
    /// The signature does not match the issuer's key.
    Mismatch,
}

fn curve_of(spki: &SubjectPublicKeyInfo<'_>) -> Option<Oid<'static>> {
    let c = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
    [OID_EC_P256, OID_NIST_EC_P384, OID_NIST_EC_P521].into_iter().find(|k| *k == c)
}

pub(crate) fn algorithm_for(
    sig_oid: &Oid<'_>,
    issuer: &SubjectPublicKeyInfo<'_>,
) -> Result<&'static dyn VerificationAlgorithm, SignatureFailure> {
    let rsa = |a: &'static signature::RsaParameters| -> &'static dyn VerificationAlgorithm { a };
    if *sig_oid == OID_PKCS1_SHA1WITHRSA {
        return Ok(rsa(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY));
    }
    if *sig_oid == OID_PKCS1_SHA256WITHRSA {
        return Ok(rsa(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY));
    }
    if *sig_oid == OID_PKCS1_SHA384WITHRSA {
        return Ok(rsa(&signature::RSA_PKCS1_2048_8192_SHA384));
    }
    if *sig_oid == OID_PKCS1_SHA512WITHRSA {
        return Ok(rsa(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY));
    }
    let curve = curve_of(issuer);
    let ecdsa = [OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384, OID_SIG_ECDSA_WITH_SHA512];
    if issuer.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION && ecdsa.iter().any(|o| o == sig_oid) {
        // An ECDSA signature and an RSA issuer key: that key did not make it (as with an RSA
        // signature and an EC key, which fails verification below).
        return Err(SignatureFailure::Mismatch);
    }
    let ec = |a: &'static signature::EcdsaVerificationAlgorithm| -> &'static dyn VerificationAlgorithm { a };
    let p256 = curve == Some(OID_EC_P256);
    let p384 = curve == Some(OID_NIST_EC_P384);
    let p521 = curve == Some(OID_NIST_EC_P521);
    match () {
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA256 && p256 => Ok(ec(&signature::ECDSA_P256_SHA256_ASN1)),
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA384 && p256 => Ok(ec(&signature::ECDSA_P256_SHA384_ASN1)),
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA256 && p384 => Ok(ec(&signature::ECDSA_P384_SHA256_ASN1)),
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA384 && p384 => Ok(ec(&signature::ECDSA_P384_SHA384_ASN1)),
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA512 && p521 => Ok(ec(&signature::ECDSA_P521_SHA512_ASN1)),
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA384 && p521 => Ok(ec(&signature::ECDSA_P521_SHA384_ASN1)),
        _ if *sig_oid == OID_SIG_ECDSA_WITH_SHA256 && p521 => Ok(ec(&signature::ECDSA_P521_SHA256_ASN1)),
        _ => Err(SignatureFailure::Unsupported(sig_oid.to_id_string())),
    }
}

/// Checks that `issuer_spki_der` signed `cert_der`.
pub fn check_issued_by(
    cert_der: &[u8],
    issuer_spki_der: &[u8],
    allow_sha1: bool,
) -> Result<Result<(), SignatureFailure>, PkiError> {
    let (_, cert) = parse_x509_certificate(cert_der).map_err(|e| PkiError::Parse(e.to_string()))?;
    let (_, issuer) = SubjectPublicKeyInfo::from_der(issuer_spki_der).map_err(|e| PkiError::Parse(e.to_string()))?;
    let sig_oid = &cert.signature_algorithm.algorithm;
    if *sig_oid == OID_PKCS1_SHA1WITHRSA && !allow_sha1 {
        return Ok(Err(SignatureFailure::Sha1Refused));
    }
    let alg = match algorithm_for(sig_oid, &issuer) {
        Ok(a) => a,
        Err(f) => return Ok(Err(f)),
    };
    let key = UnparsedPublicKey::new(alg, issuer.subject_public_key.data.as_ref());
    Ok(key
        .verify(cert.tbs_certificate.as_ref(), cert.signature_value.data.as_ref())
        .map_err(|_| SignatureFailure::Mismatch))
}

/// sha1WithRSAEncryption for rustls-webpki, offered only when a store's legacy-SHA-1 policy is on.
#[derive(Debug)]
pub(crate) struct RsaPkcs1Sha1Legacy;

/// DER contents of the AlgorithmIdentifiers (OID then NULL parameters), as webpki compares them.
const RSA_ENCRYPTION_ALG_ID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
const SHA1_WITH_RSA_ALG_ID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00];

impl SignatureVerificationAlgorithm for RsaPkcs1Sha1Legacy {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        AlgorithmIdentifier::from_slice(RSA_ENCRYPTION_ALG_ID)
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        AlgorithmIdentifier::from_slice(SHA1_WITH_RSA_ALG_ID)
    }

    fn fips(&self) -> bool {
        false
    }
}
