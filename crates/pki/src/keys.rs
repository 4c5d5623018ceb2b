//! Private keys: the sizes and curves CUCM offers, generated and held as PKCS#8.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use crate::{rawkey, KeyAlgorithm, PkiError};

/// The signature algorithm a key of this kind signs certificates with.
fn rcgen_alg(alg: KeyAlgorithm) -> &'static rcgen::SignatureAlgorithm {
    match alg {
        KeyAlgorithm::Rsa1024 | KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            &rcgen::PKCS_RSA_SHA256
        }
        KeyAlgorithm::Ec256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ec384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyAlgorithm::Ec521 => &rcgen::PKCS_ECDSA_P521_SHA512,
    }
}

/// A private key, held as PKCS#8 DER and wiped from memory when dropped. Never printed.
#[derive(Clone)]
pub struct PrivateKey {
    algorithm: KeyAlgorithm,
    pkcs8: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.algorithm)
    }
}

impl PrivateKey {
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, PkiError> {
        let pkcs8 = if algorithm.is_rsa() {
            rawkey::generate_rsa_pkcs8(algorithm.bits())?
        } else {
            let alg = match algorithm {
                KeyAlgorithm::Ec256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
                KeyAlgorithm::Ec384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
                _ => &ECDSA_P521_SHA512_ASN1_SIGNING,
            };
            let doc = EcdsaKeyPair::generate_pkcs8(alg, &SystemRandom::new())
                .map_err(|_| PkiError::Key(format!("could not generate an {algorithm} key")))?;
            Zeroizing::new(doc.as_ref().to_vec())
        };
        Self::from_der(&pkcs8)
    }

    /// Loads PKCS#8, PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) DER.
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        let pkcs8 = rawkey::to_pkcs8(der)?;
        let spki = rawkey::spki_of(&pkcs8)?;
        let (is_rsa, bits) = rawkey::describe(&pkcs8)?;
        let algorithm = if is_rsa { KeyAlgorithm::rsa(bits) } else { KeyAlgorithm::ec(bits) }
            .ok_or_else(|| PkiError::Key(format!("unsupported key size: {bits} bits")))?;
        Ok(Self { algorithm, pkcs8, spki })
    }

    /// Loads a PEM private key (any of the three forms `from_der` takes).
    pub fn from_pem(pem: &[u8]) -> Result<Self, PkiError> {
        let der = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| PkiError::Key(format!("no private key found in PEM: {e}")))?;
        Self::from_der(der.secret_der())
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::pem::encode("PRIVATE KEY", &self.pkcs8))
    }

    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// DER SubjectPublicKeyInfo of the public half.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// The rcgen signer for this key. Only keys that sign certificates get here (≥ 2048-bit RSA, EC).
    pub(crate) fn signer(&self) -> Result<rcgen::KeyPair, PkiError> {
        let der = PrivatePkcs8KeyDer::from(self.pkcs8.as_slice());
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, rcgen_alg(self.algorithm))
            .map_err(|e| PkiError::Key(format!("{} cannot sign certificates: {e}", self.algorithm)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_and_round_trips_through_pem() {
        for alg in KeyAlgorithm::ALL {
            let key = PrivateKey::generate(alg).unwrap();
            assert_eq!(key.algorithm(), alg);
            let back = PrivateKey::from_pem(key.to_pem().as_bytes()).unwrap();
            assert_eq!(back.public_key_der(), key.public_key_der());
            assert_eq!(back.algorithm(), alg);
        }
    }

    #[test]
    fn parses_cli_tokens_and_refuses_others() {
        assert_eq!("rsa2048".parse::<KeyAlgorithm>().unwrap(), KeyAlgorithm::Rsa2048);
        assert_eq!("EC-P384".parse::<KeyAlgorithm>().unwrap(), KeyAlgorithm::Ec384);
        assert!("rsa512".parse::<KeyAlgorithm>().is_err());
        assert_eq!(KeyAlgorithm::Ec256.to_string(), "EC P-256");
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        assert_eq!(format!("{key:?}"), "PrivateKey(EC P-256, <redacted>)");
    }
}
