//! SHA-1 certificates, which rcgen cannot sign: the older manufacturing CAs (Cisco
//! Manufacturing CA, CAP-RTP-00x) signed 79xx-era MICs with sha1WithRSAEncryption
//! (cucm-reference §4), and lab phones of those families must carry the same.
//!
//! rcgen makes the certificate with sha256WithRSAEncryption; [`resign_sha1`] swaps that
//! algorithm identifier for sha1WithRSAEncryption (same length, so no length changes) and signs
//! the new TBS again, RSASSA-PKCS1-v1_5 with a SHA-1 DigestInfo.

use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};

use crate::{rsa_sign_raw_pkcs1, PkiError, PrivateKey};

/// The DER OID of sha256WithRSAEncryption (1.2.840.113549.1.1.11) and sha1WithRSAEncryption (…1.5).
const SHA256_RSA_OID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const SHA1_RSA_OID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
/// DER `DigestInfo` prefix for SHA-1 (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO: &[u8] =
    &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];

/// Re-signs a certificate rcgen made with sha256WithRSAEncryption as sha1WithRSAEncryption by
/// `issuer_key` (RSA only: Cisco's SHA-1 manufacturing CAs are RSA).
pub fn resign_sha1(der: &[u8], issuer_key: &PrivateKey) -> Result<Vec<u8>, PkiError> {
    if !issuer_key.algorithm().is_rsa() {
        return Err(PkiError::Profile(format!(
            "a SHA-1 certificate needs an RSA issuer, not {}",
            issuer_key.algorithm()
        )));
    }
    let bad = |what: &str| PkiError::Parse(format!("cannot re-sign as SHA-1: {what}"));
    let (outer, rest) = element(der, 0x30).ok_or_else(|| bad("not a certificate"))?;
    if !rest.is_empty() {
        return Err(bad("bytes after the certificate"));
    }
    let (tbs, after_tbs) = element(outer.content, 0x30).ok_or_else(|| bad("no TBS"))?;
    let (alg, after_alg) = element(after_tbs, 0x30).ok_or_else(|| bad("no signature algorithm"))?;
    let (_, after_sig) = element(after_alg, 0x03).ok_or_else(|| bad("no signature"))?;
    if !after_sig.is_empty() {
        return Err(bad("bytes after the signature"));
    }
    let mut new_tbs = tbs.whole.to_vec();
    swap_tbs_algorithm(&mut new_tbs, tbs.header).ok_or_else(|| bad("the TBS is not sha256WithRSAEncryption"))?;
    let mut new_alg = alg.whole.to_vec();
    if !alg.content.starts_with(SHA256_RSA_OID) {
        return Err(bad("the signature algorithm is not sha256WithRSAEncryption"));
    }
    new_alg[alg.header..alg.header + SHA1_RSA_OID.len()].copy_from_slice(SHA1_RSA_OID);
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, &new_tbs);
    let signature = rsa_sign_raw_pkcs1(issuer_key.pkcs8_der(), &[SHA1_DIGEST_INFO, hash.as_ref()].concat())?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let body = [new_tbs, new_alg, encode(0x03, &bits)].concat();
    Ok(encode(0x30, &body))
}

/// The TBS `signature` field (after `[0] version` and `serialNumber`): sha256 → sha1 in place.
fn swap_tbs_algorithm(tbs: &mut [u8], header: usize) -> Option<()> {
    let content = &tbs[header..];
    let (version, rest) = element(content, 0xa0)?;
    let (serial, rest) = element(rest, 0x02)?;
    let (alg, _) = element(rest, 0x30)?;
    if !alg.content.starts_with(SHA256_RSA_OID) {
        return None;
    }
    let at = header + version.whole.len() + serial.whole.len() + alg.header;
    tbs[at..at + SHA1_RSA_OID.len()].copy_from_slice(SHA1_RSA_OID);
    Some(())
}

struct Element<'a> {
    whole: &'a [u8],
    header: usize,
    content: &'a [u8],
}

/// One DER element with tag `tag` at the start of `buf`, and what follows it. Bounded: lengths
/// of at most four bytes, and never past `buf`.
fn element(buf: &[u8], tag: u8) -> Option<(Element<'_>, &[u8])> {
    if *buf.first()? != tag {
        return None;
    }
    let first = *buf.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = buf.get(2..2 + n)?;
        (bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = buf.get(..end)?;
    Some((Element { whole, header, content: &whole[header..] }, &buf[end..]))
}

fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}
