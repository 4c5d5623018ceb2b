//! The few AWS-LC calls that aws-lc-rs does not expose.
//!
//! aws-lc-rs refuses RSA keys below 2048 bits, yet CUCM offers 1024-bit LSC keys and old phones ask
//! for them; and the CAPF protocol signs with raw PKCS#1 type-1 blocks that carry no DigestInfo.
//! Both need the underlying library directly. This is the same AWS-LC that aws-lc-rs links: one
//! crypto backend in the tree.

// The only unsafe code in pki: FFI into AWS-LC for what aws-lc-rs does not expose (above). Each
// block carries its `SAFETY:` argument.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::ptr::null_mut;

use aws_lc_sys as ffi;
use zeroize::Zeroizing;

use crate::PkiError;

struct Pkey(*mut ffi::EVP_PKEY);

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: the pointer came from AWS-LC and is owned by this wrapper.
        unsafe { ffi::EVP_PKEY_free(self.0) }
    }
}

struct Rsa(*mut ffi::RSA);

impl Drop for Rsa {
    fn drop(&mut self) {
        // SAFETY: owned RSA from AWS-LC (RSA_new or EVP_PKEY_get1_RSA, which adds a reference).
        unsafe { ffi::RSA_free(self.0) }
    }
}

fn err(what: &str) -> PkiError {
    PkiError::Key(format!("AWS-LC: {what} failed"))
}

/// Serialises through a CBB (AWS-LC's growable buffer) and copies the result out.
fn marshal(what: &str, f: impl FnOnce(*mut ffi::CBB) -> c_int) -> Result<Vec<u8>, PkiError> {
    // SAFETY: CBB is a plain C struct; CBB_init initialises it, CBB_cleanup / CBB_finish release it.
    unsafe {
        let mut cbb: ffi::CBB = std::mem::zeroed();
        if ffi::CBB_init(&mut cbb, 0) != 1 {
            return Err(err(what));
        }
        if f(&mut cbb) != 1 {
            ffi::CBB_cleanup(&mut cbb);
            return Err(err(what));
        }
        let mut out: *mut u8 = null_mut();
        let mut len: usize = 0;
        if ffi::CBB_finish(&mut cbb, &mut out, &mut len) != 1 {
            ffi::CBB_cleanup(&mut cbb);
            return Err(err(what));
        }
        let bytes = std::slice::from_raw_parts(out, len).to_vec();
        ffi::OPENSSL_cleanse(out.cast(), len);
        ffi::OPENSSL_free(out.cast());
        Ok(bytes)
    }
}

/// Parses any private key DER: PKCS#8, PKCS#1 `RSAPrivateKey` or SEC1 `ECPrivateKey`.
fn parse_private(der: &[u8]) -> Result<Pkey, PkiError> {
    let mut p = der.as_ptr();
    // SAFETY: p/len describe `der`; AWS-LC reads at most len bytes and returns an owned key or null.
    let key = unsafe { ffi::d2i_AutoPrivateKey(null_mut(), &mut p, der.len() as _) };
    if key.is_null() {
        return Err(PkiError::Key("not a private key (PKCS#8, PKCS#1 or SEC1 DER)".into()));
    }
    Ok(Pkey(key))
}

fn parse_public(spki: &[u8]) -> Result<Pkey, PkiError> {
    // SAFETY: CBS borrows `spki` for the duration of the call only.
    unsafe {
        let mut cbs: ffi::CBS = std::mem::zeroed();
        ffi::CBS_init(&mut cbs, spki.as_ptr(), spki.len());
        let key = ffi::EVP_parse_public_key(&mut cbs);
        if key.is_null() || ffi::CBS_len(&cbs) != 0 {
            if !key.is_null() {
                ffi::EVP_PKEY_free(key);
            }
            return Err(PkiError::Key("not a DER SubjectPublicKeyInfo".into()));
        }
        Ok(Pkey(key))
    }
}

fn rsa_of(key: &Pkey) -> Result<Rsa, PkiError> {
    // SAFETY: returns a new reference or null when the key is not RSA.
    let rsa = unsafe { ffi::EVP_PKEY_get1_RSA(key.0) };
    if rsa.is_null() {
        return Err(PkiError::Key("not an RSA key".into()));
    }
    Ok(Rsa(rsa))
}

/// Generates an RSA key of any size from 1024 to 4096 bits (e = 65537), as PKCS#8 DER.
pub(crate) fn generate_rsa_pkcs8(bits: u32) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    // SAFETY: every object is owned by a guard; ownership of the RSA moves into the EVP_PKEY.
    unsafe {
        let e = ffi::BN_new();
        if e.is_null() || ffi::BN_set_word(e, 65537) != 1 {
            ffi::BN_free(e);
            return Err(err("BN_set_word"));
        }
        let rsa = Rsa(ffi::RSA_new());
        let ok = !rsa.0.is_null() && ffi::RSA_generate_key_ex(rsa.0, bits as c_int, e, null_mut()) == 1;
        ffi::BN_free(e);
        if !ok {
            return Err(err("RSA_generate_key_ex"));
        }
        let pkey = Pkey(ffi::EVP_PKEY_new());
        if pkey.0.is_null() || ffi::EVP_PKEY_set1_RSA(pkey.0, rsa.0) != 1 {
            return Err(err("EVP_PKEY_set1_RSA"));
        }
        marshal("EVP_marshal_private_key", |cbb| ffi::EVP_marshal_private_key(cbb, pkey.0)).map(Zeroizing::new)
    }
}

/// Re-encodes any supported private key DER as PKCS#8.
pub(crate) fn to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    let key = parse_private(der)?;
    // SAFETY: key is a valid EVP_PKEY for the duration of the call.
    marshal("EVP_marshal_private_key", |cbb| unsafe { ffi::EVP_marshal_private_key(cbb, key.0) }).map(Zeroizing::new)
}

/// The DER SubjectPublicKeyInfo of a private key.
pub(crate) fn spki_of(der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let key = parse_private(der)?;
    // SAFETY: key is a valid EVP_PKEY for the duration of the call.
    marshal("EVP_marshal_public_key", |cbb| unsafe { ffi::EVP_marshal_public_key(cbb, key.0) })
}

/// Key size in bits (RSA modulus, EC field) and whether the key is RSA.
pub(crate) fn describe(der: &[u8]) -> Result<(bool, u32), PkiError> {
    let key = parse_private(der)?;
    // SAFETY: key is valid.
    unsafe {
        let is_rsa = ffi::EVP_PKEY_id(key.0) == ffi::EVP_PKEY_RSA as c_int;
        Ok((is_rsa, ffi::EVP_PKEY_bits(key.0) as u32))
    }
}

/// Signs `data` (already a digest) with a raw PKCS#1 v1.5 type-1 block and no DigestInfo:
/// `00 01 FF..FF 00 data`, then the private-key operation. This is the CAPF SignedData form.
pub fn rsa_sign_raw_pkcs1(private_key_der: &[u8], data: &[u8]) -> Result<Vec<u8>, PkiError> {
    let key = parse_private(private_key_der)?;
    let rsa = rsa_of(&key)?;
    // SAFETY: `out` has RSA_size bytes, the maximum RSA_private_encrypt writes.
    unsafe {
        let k = ffi::RSA_size(rsa.0) as usize;
        if data.len() + 11 > k {
            return Err(PkiError::Key(format!("{} bytes do not fit a {}-bit RSA block", data.len(), k * 8)));
        }
        let mut out = vec![0u8; k];
        let n = ffi::RSA_private_encrypt(data.len(), data.as_ptr(), out.as_mut_ptr(), rsa.0, ffi::RSA_PKCS1_PADDING);
        if n < 0 {
            return Err(err("RSA_private_encrypt"));
        }
        out.truncate(n as usize);
        Ok(out)
    }
}

/// The raw RSA public operation `sig^e mod n`, with no padding removed, so that a verifier can
/// rebuild the whole expected block and compare it (strict, unlike checking only the tail).
pub fn rsa_public_raw(spki_der: &[u8], signature: &[u8]) -> Result<Vec<u8>, PkiError> {
    let key = parse_public(spki_der)?;
    let rsa = rsa_of(&key)?;
    // SAFETY: `out` has RSA_size bytes; RSA_NO_PADDING requires signature.len() == RSA_size.
    unsafe {
        let k = ffi::RSA_size(rsa.0) as usize;
        if signature.len() != k {
            return Err(PkiError::Key(format!("signature is {} bytes, the key needs {k}", signature.len())));
        }
        let mut out = vec![0u8; k];
        let n = ffi::RSA_public_decrypt(k, signature.as_ptr(), out.as_mut_ptr(), rsa.0, ffi::RSA_NO_PADDING);
        if n < 0 {
            return Err(PkiError::Signature("RSA public operation failed (value out of range)".into()));
        }
        out.truncate(n as usize);
        Ok(out)
    }
}

/// RSA modulus size in bits of a public key.
pub fn rsa_public_bits(spki_der: &[u8]) -> Result<u32, PkiError> {
    let key = parse_public(spki_der)?;
    let rsa = rsa_of(&key)?;
    // SAFETY: rsa is valid.
    Ok(unsafe { ffi::RSA_bits(rsa.0) })
}
