//! The AuthResponse a phone sends (§1.9.0 step 3) and the certificate-authentication signatures
//! (§1.8.3, §1.8.4).

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{
    EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
};
use opencapf_pki::{rsa_sign_raw_pkcs1, KeyAlgorithm, PrivateKey};

use super::{CertifiedKey, ClientError, Credentials, PhoneIdentity};
use crate::proto::auth::{self, signed_content, sudi_signed_content};
use crate::proto::message::{AuthResponse, CertPackage, HashId, Reason, SignatureRecord, SudiData};

fn cred_err(e: impl std::fmt::Display) -> ClientError {
    ClientError::Credentials(e.to_string())
}

/// Signs `content` the way the protocol wants for the key's type:
/// - RSA: the raw PKCS#1 type-1 block over the bare digest, no DigestInfo (§1.8.3);
/// - EC: ordinary ECDSA over `content` with `hash`, DER `Ecdsa-Sig-Value`, the digest truncated to
///   the curve order as ECDSA prescribes.
pub fn sign_content(key: &PrivateKey, hash: HashId, content: &[u8]) -> Result<Vec<u8>, ClientError> {
    let h = auth::digest(hash, content).map_err(cred_err)?;
    if key.algorithm().is_rsa() {
        return rsa_sign_raw_pkcs1(key.pkcs8_der(), &h).map_err(cred_err);
    }
    // aws-lc-rs offers ECDSA signing only with the curve's own hash (P-256/SHA-256, …), while CAPF
    // wants SHA-1 and SHA-512 on any curve. ECDSA reads the digest as the integer of its leftmost
    // bits, as many as the curve order has (FIPS 186-4 §6.4; 256, 384, 521 bits). Cutting a longer
    // digest to the curve's digest size keeps exactly those bits, and left-padding a shorter one
    // with zeros keeps its integer value: the signature is the ECDSA signature with `hash`.
    let (algorithm, curve_digest) = match key.algorithm() {
        KeyAlgorithm::Ec256 => (&ECDSA_P256_SHA256_ASN1_SIGNING, &digest::SHA256),
        KeyAlgorithm::Ec384 => (&ECDSA_P384_SHA384_ASN1_SIGNING, &digest::SHA384),
        KeyAlgorithm::Ec521 => (&ECDSA_P521_SHA512_ASN1_SIGNING, &digest::SHA512),
        other => return Err(ClientError::Credentials(format!("{other} keys cannot sign"))),
    };
    let n = curve_digest.output_len();
    let mut e = vec![0u8; n];
    if h.len() >= n {
        e.copy_from_slice(&h[..n]);
    } else {
        e[n - h.len()..].copy_from_slice(&h);
    }
    let pair = EcdsaKeyPair::from_pkcs8(algorithm, key.pkcs8_der()).map_err(|e| cred_err(format!("EC key: {e}")))?;
    let digest = Digest::import_less_safe(&e, curve_digest).map_err(|_| cred_err("digest size"))?;
    let sig = pair.sign_digest(&digest).map_err(|_| cred_err("ECDSA signing failed"))?;
    Ok(sig.as_ref().to_vec())
}

/// Checks that a certificate carries the public half of `key`.
fn check_pair(what: &str, cert_der: &[u8], key: &PrivateKey) -> Result<(), ClientError> {
    let info = opencapf_pki::CertificateInfo::parse(cert_der).map_err(|e| cred_err(format!("{what}: {e}")))?;
    if info.public_key_der != key.public_key_der() {
        return Err(ClientError::Credentials(format!("the {what} key does not match its certificate")));
    }
    Ok(())
}

/// The AuthResponse for `identity` in session `session_id` (the session id is signed only in the
/// SudiData). Always Reason 1 and the version; then the Password (authentication or null string),
/// or the Certificate package with SignedData (SHA-1) and Sha2SignedData (SHA-512), and SudiData
/// when given.
pub fn auth_response(identity: &PhoneIdentity, version: u8, session_id: u32) -> Result<AuthResponse, ClientError> {
    let mut r = AuthResponse {
        reason: Some(Reason::OK),
        version,
        device_name: identity.device_name.clone(),
        password: None,
        certificate: None,
        signed_data_sha1: None,
        sha2_signed_data: None,
        sudi: None,
    };
    match &identity.credentials {
        Credentials::AuthString(s) => r.password = Some(s.clone()),
        Credentials::NullString => r.password = Some(String::new()),
        Credentials::Certificate { cert, key } => {
            check_pair("authentication certificate", cert, key)?;
            let content = signed_content(&identity.device_name, cert);
            r.certificate = Some(CertPackage::new(cert.clone()));
            r.signed_data_sha1 = Some(sign_content(key, HashId::Sha1, &content)?);
            r.sha2_signed_data =
                Some(SignatureRecord { hash: HashId::Sha512, signature: sign_content(key, HashId::Sha512, &content)? });
        }
    }
    if let Some(CertifiedKey { cert_der, key }) = &identity.sudi {
        if !key.algorithm().is_rsa() {
            return Err(ClientError::Credentials("SUDI data needs an RSA key (§1.8.4)".into()));
        }
        check_pair("SUDI", cert_der, key)?;
        let content = sudi_signed_content(session_id, cert_der);
        r.sudi = Some(SudiData {
            certificate_tag: 0,
            certificate: cert_der.clone(),
            sha1: SignatureRecord { hash: HashId::Sha1, signature: sign_content(key, HashId::Sha1, &content)? },
            sha512: SignatureRecord { hash: HashId::Sha512, signature: sign_content(key, HashId::Sha512, &content)? },
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::message::Curve;
    use opencapf_pki::rsa_public_raw;

    fn ec_point(key: &PrivateKey) -> Vec<u8> {
        // The uncompressed point is the tail of the SPKI's BIT STRING: 65, 97 or 133 bytes.
        let spki = key.public_key_der();
        let len = match key.algorithm() {
            KeyAlgorithm::Ec256 => 65,
            KeyAlgorithm::Ec384 => 97,
            _ => 133,
        };
        spki[spki.len() - len..].to_vec()
    }

    #[test]
    fn ecdsa_with_any_hash_verifies_with_the_matching_verifier() {
        let content = b"SEP000000000001\0\x30\x82";
        for (alg, curve, hashes) in [
            (KeyAlgorithm::Ec256, Curve::P256, &[HashId::Sha1, HashId::Sha256, HashId::Sha512][..]),
            (KeyAlgorithm::Ec384, Curve::P384, &[HashId::Sha1, HashId::Sha256, HashId::Sha512][..]),
            (KeyAlgorithm::Ec521, Curve::P521, &[HashId::Sha1, HashId::Sha256, HashId::Sha512][..]),
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            let point = ec_point(&key);
            for &hash in hashes {
                let sig = sign_content(&key, hash, content).unwrap();
                auth::verify_ecdsa(curve, hash, &point, content, &sig)
                    .unwrap_or_else(|e| panic!("{alg} {hash:?}: {e}"));
                // And it does not verify other content.
                assert!(auth::verify_ecdsa(curve, hash, &point, b"other", &sig).is_err());
            }
        }
    }

    #[test]
    fn rsa_signature_is_the_raw_type1_block() {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
        for hash in [HashId::Sha1, HashId::Sha512] {
            let sig = sign_content(&key, hash, b"abc").unwrap();
            assert_eq!(sig.len(), 128);
            let block = rsa_public_raw(key.public_key_der(), &sig).unwrap();
            auth::verify_rsa_block(&block, 128, hash, b"abc").unwrap();
        }
    }
}
