//! RSASSA-PKCS1-v1_5 with DigestInfo (§4.5), unlike CAPF's raw hashes.
//!
//! Both directions go through the raw PKCS#1 primitives of `rawkey` rather than aws-lc-rs's
//! `RsaKeyPair`/`RSA_PKCS1_*`: those refuse keys below 2048 bits, and 1024-bit SASTs and TFTP
//! certificates are still found in clusters. Type-1 padding is deterministic, so the same input
//! gives the same file.

use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA512};

use super::{FileHash, ItlError};
use crate::{rsa_public_bits, rsa_public_raw, rsa_sign_raw_pkcs1, PrivateKey};

/// DER `DigestInfo` prefixes (RFC 8017 §9.2, note 1), followed by the digest.
const SHA1_PREFIX: &[u8] = &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];
const SHA512_PREFIX: &[u8] =
    &[0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40];

fn digest_info(hash: FileHash, data: &[u8]) -> Vec<u8> {
    let (prefix, d) = match hash {
        FileHash::Sha1 => (SHA1_PREFIX, digest(&SHA1_FOR_LEGACY_USE_ONLY, data)),
        FileHash::Sha512 => (SHA512_PREFIX, digest(&SHA512, data)),
    };
    [prefix, d.as_ref()].concat()
}

pub(super) fn sign(key: &PrivateKey, hash: FileHash, data: &[u8]) -> Result<Vec<u8>, ItlError> {
    Ok(rsa_sign_raw_pkcs1(key.pkcs8_der(), &digest_info(hash, data))?)
}

/// Checks `signature` by rebuilding the whole encoded block `00 01 FF… 00 DigestInfo` and
/// comparing it with `signature^e mod n`: strict, no lenient parsing of the padding.
pub(super) fn verify(spki: &[u8], hash: FileHash, data: &[u8], signature: &[u8]) -> Result<(), ItlError> {
    let k = rsa_public_bits(spki)?.div_ceil(8) as usize;
    let info = digest_info(hash, data);
    if signature.len() != k || k < info.len() + 11 {
        return Err(ItlError::SignatureMismatch);
    }
    let block = rsa_public_raw(spki, signature).map_err(|_| ItlError::SignatureMismatch)?;
    let mut expected = vec![0xff; k];
    expected[0] = 0;
    expected[1] = 1;
    expected[k - info.len() - 1] = 0;
    expected[k - info.len()..].copy_from_slice(&info);
    if block != expected {
        return Err(ItlError::SignatureMismatch);
    }
    Ok(())
}
