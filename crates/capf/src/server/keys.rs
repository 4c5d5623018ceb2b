//! The key a KeyGenRequest asks for (from the device's Key Order) and the check that the
//! phone's KeyGenResponse carries exactly that kind of key.

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ECDSA_P521_SHA512_ASN1};
use opencapf_model::{CapfInfo, Failure, KeyOrder};
use opencapf_pki::rsa_public_bits;
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::stop::Refusal;
use crate::proto::message::{Curve, KeySpec};

/// The key to ask for. "EC Preferred, RSA Backup" gives EC to phones that speak CAPF
/// version 3 and RSA to older ones; "EC Only" fails for older ones, as in CUCM.
pub(crate) fn key_spec(capf: &CapfInfo, phone_version: u8) -> Result<KeySpec, Refusal> {
    let rsa = || {
        u16::try_from(capf.rsa_bits)
            .ok()
            .filter(|b| matches!(b, 512 | 1024 | 2048 | 3072 | 4096))
            .map(|bits| KeySpec::Rsa { bits })
            .ok_or_else(|| {
                Refusal::new(
                    Failure::Unspecified,
                    format!("RSA Key Size {} is not one a phone can generate", capf.rsa_bits),
                )
            })
    };
    let ec = || {
        let curve = match capf.ec_bits {
            256 => Curve::P256,
            384 => Curve::P384,
            521 => Curve::P521,
            other => {
                return Err(Refusal::new(
                    Failure::Unspecified,
                    format!("EC Key Size {other} is not one a phone can generate"),
                ))
            }
        };
        Ok(KeySpec::Ec { curve })
    };
    match capf.key_order {
        KeyOrder::RsaOnly => rsa(),
        KeyOrder::EcOnly if phone_version >= 3 => ec(),
        KeyOrder::EcOnly => Err(Refusal::new(
            Failure::NoEcSupport,
            format!("Key Order is EC Only and the phone speaks CAPF version {phone_version}"),
        )),
        KeyOrder::EcPreferredRsaBackup if phone_version >= 3 => ec(),
        KeyOrder::EcPreferredRsaBackup => rsa(),
    }
}

pub(crate) fn describe(spec: KeySpec) -> String {
    match spec {
        KeySpec::Rsa { bits } => format!("RSA {bits}"),
        KeySpec::Ec { curve: Curve::P256 } => "EC P-256".into(),
        KeySpec::Ec { curve: Curve::P384 } => "EC P-384".into(),
        KeySpec::Ec { curve: Curve::P521 } => "EC P-521".into(),
    }
}

/// Whether `spki` (the KeyGenResponse's DER SubjectPublicKeyInfo) is a valid key of the kind
/// and size asked for.
pub(crate) fn check_public_key(spec: KeySpec, spki: &[u8]) -> Result<(), String> {
    let wanted = describe(spec);
    match spec {
        KeySpec::Rsa { bits } => match rsa_public_bits(spki) {
            Ok(got) if got == u32::from(bits) => Ok(()),
            Ok(got) => Err(format!("asked for {wanted}, the phone sent RSA {got}")),
            Err(e) => Err(format!("asked for {wanted}, the phone sent no usable RSA key: {e}")),
        },
        KeySpec::Ec { curve } => {
            let (rest, parsed) = SubjectPublicKeyInfo::from_der(spki)
                .map_err(|e| format!("asked for {wanted}, the public key is not a SubjectPublicKeyInfo: {e}"))?;
            if !rest.is_empty() || parsed.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
                return Err(format!("asked for {wanted}, the phone sent another kind of key"));
            }
            let oid = parsed.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
            let (expected_oid, alg) = match curve {
                Curve::P256 => (OID_EC_P256, &ECDSA_P256_SHA256_ASN1),
                Curve::P384 => (OID_NIST_EC_P384, &ECDSA_P384_SHA384_ASN1),
                Curve::P521 => (OID_NIST_EC_P521, &ECDSA_P521_SHA512_ASN1),
            };
            if oid.as_ref() != Some(&expected_oid) {
                return Err(format!("asked for {wanted}, the phone sent a key on another curve"));
            }
            UnparsedPublicKey::new(alg, parsed.subject_public_key.data.as_ref())
                .parse()
                .map(|_| ())
                .map_err(|_| format!("the {wanted} public key is not a valid point"))
        }
    }
}
