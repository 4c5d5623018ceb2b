//! Certificate authentication content and checks (§1.8.3, §1.8.4).
//!
//! Pure functions: the signed content, digests, the strict check of a
//! recovered RSA block (raw form, or raw or DigestInfo form), and ECDSA
//! verification. The raw RSA public
//! operation (`sig^e mod n`) and certificate parsing live elsewhere.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::{digest, signature};

use super::message::{Curve, HashId};

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("hash id {0:?} is not supported")]
    UnsupportedHash(HashId),
    #[error("recovered RSA block is {got} bytes, the modulus is {expected}")]
    BlockLength { expected: usize, got: usize },
    #[error("a {modulus_len}-byte RSA modulus cannot carry a {digest_len}-byte digest")]
    KeyTooSmall { modulus_len: usize, digest_len: usize },
    #[error("RSA signature block does not match the expected PKCS#1 type-1 block")]
    RsaMismatch,
    #[error("ECDSA on {curve:?} with {hash:?} is not supported")]
    UnsupportedEcdsa { curve: Curve, hash: HashId },
    #[error("ECDSA signature does not verify")]
    EcdsaMismatch,
}

/// `DeviceName value (name + one NUL) || certificate DER`, the content both
/// certificate-auth signatures cover (§1.8.3). Built from the parsed name,
/// as capfd does, so a name received without its NUL still gets one.
pub fn signed_content(device_name: &str, cert_der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(device_name.len() + 1 + cert_der.len());
    out.extend_from_slice(device_name.as_bytes());
    out.push(0);
    out.extend_from_slice(cert_der);
    out
}

/// `u32 LITTLE-endian session id || SUDI certificate DER` (§1.8.4): the one
/// little-endian integer of the protocol.
pub fn sudi_signed_content(session_id: u32, cert_der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + cert_der.len());
    out.extend_from_slice(&session_id.to_le_bytes());
    out.extend_from_slice(cert_der);
    out
}

fn digest_algorithm(hash: HashId) -> Result<&'static digest::Algorithm, AuthError> {
    match hash {
        HashId::Sha1 => Ok(&digest::SHA1_FOR_LEGACY_USE_ONLY),
        HashId::Sha256 => Ok(&digest::SHA256),
        HashId::Sha512 => Ok(&digest::SHA512),
        other @ HashId::Unknown(_) => Err(AuthError::UnsupportedHash(other)),
    }
}

/// The digest of `data` with the hash a hash id names.
pub fn digest(hash: HashId, data: &[u8]) -> Result<Vec<u8>, AuthError> {
    Ok(digest::digest(digest_algorithm(hash)?, data).as_ref().to_vec())
}

/// `00 01 FF.. 00 H`, k bytes, with the bare digest and no DigestInfo: the
/// form phones sign (OpenSSL `RSA_private_encrypt` with PKCS#1 padding).
/// Needs at least 8 padding bytes, as PKCS#1 does, so k ≥ len(H) + 11.
pub fn pkcs1_type1_block(modulus_len: usize, digest: &[u8]) -> Result<Vec<u8>, AuthError> {
    let too_small = AuthError::KeyTooSmall { modulus_len, digest_len: digest.len() };
    let padding = modulus_len.checked_sub(3 + digest.len()).filter(|&p| p >= 8).ok_or(too_small)?;
    let mut block = Vec::with_capacity(modulus_len);
    block.extend_from_slice(&[0x00, 0x01]);
    block.resize(2 + padding, 0xff);
    block.push(0x00);
    block.extend_from_slice(digest);
    Ok(block)
}

/// Strict check of the raw form only (§1.8.3, "Recommended"): `recovered` is
/// `sig^e mod n` as exactly `modulus_len` big-endian bytes. The whole expected
/// block is rebuilt from `signed_content` and compared in constant time, so the
/// padding is checked too and a DigestInfo-style block is refused here; the
/// server takes both forms through [`verify_rsa_signature`].
pub fn verify_rsa_block(
    recovered: &[u8],
    modulus_len: usize,
    hash: HashId,
    signed_content: &[u8],
) -> Result<(), AuthError> {
    if recovered.len() != modulus_len {
        return Err(AuthError::BlockLength { expected: modulus_len, got: recovered.len() });
    }
    let expected = pkcs1_type1_block(modulus_len, &digest(hash, signed_content)?)?;
    verify_slices_are_equal(recovered, &expected).map_err(|_| AuthError::RsaMismatch)
}

/// The PKCS#1 type-1 form an RSA signature was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaSignatureForm {
    /// The bare digest, no DigestInfo: what phones sign (`RSA_private_encrypt`).
    Raw,
    /// Standard RSASSA-PKCS1-v1_5, DigestInfo before the digest: what `openssl dgst -sign` and
    /// `pkeyutl -sign -pkeyopt digest:…` give, and what capfd's tail check also accepts.
    DigestInfo,
}

/// The DER DigestInfo header before a digest of `hash` (RFC 8017 §9.2, note 1).
fn digest_info_prefix(hash: HashId) -> Result<&'static [u8], AuthError> {
    match hash {
        HashId::Sha1 => Ok(&[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]),
        HashId::Sha256 => Ok(&[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ]),
        HashId::Sha512 => Ok(&[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ]),
        other @ HashId::Unknown(_) => Err(AuthError::UnsupportedHash(other)),
    }
}

/// The RSA check CAPF applies: the raw form, or the standard DigestInfo form, each block rebuilt
/// whole and compared in constant time (capfd compares only the digest at the end of the block;
/// rebuilding both blocks accepts the same two forms and nothing else). Says which form matched.
pub fn verify_rsa_signature(
    recovered: &[u8],
    modulus_len: usize,
    hash: HashId,
    signed_content: &[u8],
) -> Result<RsaSignatureForm, AuthError> {
    if recovered.len() != modulus_len {
        return Err(AuthError::BlockLength { expected: modulus_len, got: recovered.len() });
    }
    let h = digest(hash, signed_content)?;
    let raw = pkcs1_type1_block(modulus_len, &h)?;
    if verify_slices_are_equal(recovered, &raw).is_ok() {
        return Ok(RsaSignatureForm::Raw);
    }
    let info = [digest_info_prefix(hash)?, h.as_slice()].concat();
    // A key too small for the DigestInfo form can only have signed the raw one.
    let standard = pkcs1_type1_block(modulus_len, &info).map_err(|_| AuthError::RsaMismatch)?;
    verify_slices_are_equal(recovered, &standard).map_err(|_| AuthError::RsaMismatch)?;
    Ok(RsaSignatureForm::DigestInfo)
}

fn ecdsa_algorithm(curve: Curve, hash: HashId) -> Result<&'static signature::EcdsaVerificationAlgorithm, AuthError> {
    use signature::*;
    match (curve, hash) {
        (Curve::P256, HashId::Sha1) => Ok(&ECDSA_P256_SHA1_ASN1),
        (Curve::P256, HashId::Sha256) => Ok(&ECDSA_P256_SHA256_ASN1),
        (Curve::P256, HashId::Sha512) => Ok(&ECDSA_P256_SHA512_ASN1),
        (Curve::P384, HashId::Sha256) => Ok(&ECDSA_P384_SHA256_ASN1),
        (Curve::P384, HashId::Sha512) => Ok(&ECDSA_P384_SHA512_ASN1),
        (Curve::P521, HashId::Sha1) => Ok(&ECDSA_P521_SHA1_ASN1),
        (Curve::P521, HashId::Sha256) => Ok(&ECDSA_P521_SHA256_ASN1),
        (Curve::P521, HashId::Sha512) => Ok(&ECDSA_P521_SHA512_ASN1),
        // P-384 + SHA-1 has no aws-lc-rs verifier: `verify_ecdsa` checks it
        // through the digest instead.
        (curve, hash) => Err(AuthError::UnsupportedEcdsa { curve, hash }),
    }
}

/// Verifies an ordinary ECDSA signature (DER `Ecdsa-Sig-Value`) over
/// `signed_content` (§1.8.3): SHA-1 for element 6, SHA-512 for element 20,
/// the digest truncated to the curve size as ECDSA prescribes.
/// `public_key` is the uncompressed point from the certificate's SPKI.
pub fn verify_ecdsa(
    curve: Curve,
    hash: HashId,
    public_key: &[u8],
    signed_content: &[u8],
    signature: &[u8],
) -> Result<(), AuthError> {
    if let (Curve::P384, HashId::Sha1) = (curve, hash) {
        return verify_p384_sha1(public_key, signed_content, signature);
    }
    let algorithm = ecdsa_algorithm(curve, hash)?;
    signature::UnparsedPublicKey::new(algorithm, public_key)
        .verify(signed_content, signature)
        .map_err(|_| AuthError::EcdsaMismatch)
}

/// ECDSA reads the digest as an integer of at most the order's bit length
/// (384 bits for P-384): a 160-bit SHA-1 digest left-padded with zeros to
/// 48 bytes is the same integer, so the P-384/SHA-384 verifier checks it.
fn verify_p384_sha1(public_key: &[u8], signed_content: &[u8], signature: &[u8]) -> Result<(), AuthError> {
    let mut padded = [0u8; 48];
    padded[28..].copy_from_slice(&digest(HashId::Sha1, signed_content)?);
    let e = digest::Digest::import_less_safe(&padded, &digest::SHA384).map_err(|_| AuthError::EcdsaMismatch)?;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, public_key)
        .verify_digest(&e, signature)
        .map_err(|_| AuthError::EcdsaMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_layout_matches_section_5_2() {
        // RSA-2048: 233 FF for SHA-1, 189 FF for SHA-512.
        let b = pkcs1_type1_block(256, &[0xaa; 20]).unwrap();
        assert_eq!(&b[..2], &[0, 1]);
        assert!(b[2..235].iter().all(|&x| x == 0xff));
        assert_eq!(b[235], 0);
        assert_eq!(&b[236..], &[0xaa; 20]);
        let b = pkcs1_type1_block(256, &[0xbb; 64]).unwrap();
        assert_eq!(b.iter().filter(|&&x| x == 0xff).count(), 189);
        assert_eq!(b.len(), 256);
    }

    #[test]
    fn sha512_needs_75_bytes() {
        assert!(pkcs1_type1_block(75, &[0; 64]).is_ok());
        assert_eq!(pkcs1_type1_block(74, &[0; 64]), Err(AuthError::KeyTooSmall { modulus_len: 74, digest_len: 64 }));
        assert!(pkcs1_type1_block(0, &[0; 64]).is_err());
    }

    #[test]
    fn both_rsa_forms_are_recognised_and_nothing_else() {
        let content = b"SEP2C3124C9F8E1\0\x30";
        for hash in [HashId::Sha1, HashId::Sha256, HashId::Sha512] {
            let h = digest(hash, content).unwrap();
            let raw = pkcs1_type1_block(256, &h).unwrap();
            assert_eq!(verify_rsa_signature(&raw, 256, hash, content), Ok(RsaSignatureForm::Raw));
            let info = [digest_info_prefix(hash).unwrap(), h.as_slice()].concat();
            let standard = pkcs1_type1_block(256, &info).unwrap();
            assert_eq!(verify_rsa_signature(&standard, 256, hash, content), Ok(RsaSignatureForm::DigestInfo));
            // The digest at the end is not enough: capfd's tail check would take this block.
            let mut forged = standard.clone();
            forged[5] = 0x00;
            assert_eq!(verify_rsa_signature(&forged, 256, hash, content), Err(AuthError::RsaMismatch));
            assert_eq!(verify_rsa_signature(&standard, 256, hash, b"other"), Err(AuthError::RsaMismatch));
        }
        // 80 bytes carry a raw SHA-512 block but no DigestInfo one.
        let h = digest(HashId::Sha512, content).unwrap();
        let raw = pkcs1_type1_block(80, &h).unwrap();
        assert_eq!(verify_rsa_signature(&raw, 80, HashId::Sha512, content), Ok(RsaSignatureForm::Raw));
        assert_eq!(verify_rsa_signature(&[1; 80], 80, HashId::Sha512, content), Err(AuthError::RsaMismatch));
    }

    #[test]
    fn sudi_content_is_little_endian() {
        assert_eq!(sudi_signed_content(1, &[0x30]), [1, 0, 0, 0, 0x30]);
        assert_eq!(sudi_signed_content(0x2a, &[]), [0x2a, 0, 0, 0]);
    }

    #[test]
    fn wrong_block_length_and_unknown_hash_are_refused() {
        let content = b"x";
        let block = pkcs1_type1_block(128, &digest(HashId::Sha1, content).unwrap()).unwrap();
        assert!(verify_rsa_block(&block, 128, HashId::Sha1, content).is_ok());
        assert!(matches!(
            verify_rsa_block(&block[1..], 128, HashId::Sha1, content),
            Err(AuthError::BlockLength { .. })
        ));
        assert!(matches!(
            verify_rsa_block(&block, 128, HashId::Unknown(9), content),
            Err(AuthError::UnsupportedHash(HashId::Unknown(9)))
        ));
        // A garbage point or signature is a mismatch, never a panic, in every form.
        assert_eq!(
            verify_ecdsa(Curve::P384, HashId::Sha1, &[4; 97], content, &[0x30, 0]),
            Err(AuthError::EcdsaMismatch)
        );
    }
}
