//! `SignedFile::parse` on arbitrary bytes (a `.sgn` file from the network), then the signature
//! checked with a fixed certificate: errors, never a panic.
//!
//! `cargo fuzz run sgn` from crates/pki (needs cargo-fuzz and a nightly toolchain, or
//! RUSTC_BOOTSTRAP=1).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use opencapf_pki::{build_sgn, FileHash, FileSigner, KeyAlgorithm, PrivateKey, SignedFile};

/// A signer made once, so that inputs can be mutations of a valid file and reach the verifier.
fn signer() -> &'static (Vec<u8>, Vec<u8>) {
    static SIGNER: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let cert = opencapf_pki::profiles::lab_manufacturer_root(&key, time_now()).unwrap().der;
        let seed = build_sgn(&FileSigner { certificate: &cert, key: &key }, b"<x/>", "x.sgn", FileHash::Sha1, 0).unwrap();
        (cert, seed)
    })
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fuzz_target!(|data: &[u8]| {
    let (cert, seed) = signer();
    if let Ok(file) = SignedFile::parse(data) {
        let _ = file.verify_with(cert);
        let _ = file.header.summary();
    }
    // The valid file with the input's bytes laid over its start: reaches deeper header paths.
    let mut mutated = seed.clone();
    for (m, d) in mutated.iter_mut().zip(data) {
        *m ^= d;
    }
    if let Ok(file) = SignedFile::parse(&mutated) {
        let _ = file.verify_with(cert);
    }
});
