//! A `.sgn` file (a signed configuration file from TFTP) as the phone simulator checks it: parsed,
//! matched against the ITL's TFTP record its header names, and verified; errors, never a panic.
//! Inputs are used as they are and XORed over a valid file, to reach the deeper header paths.

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
        let seed =
            build_sgn(&FileSigner { certificate: &cert, key: &key }, b"<x/>", "x.sgn", FileHash::Sha1, 0).unwrap();
        (cert, seed)
    })
}

/// The ITL's TFTP record for the seed's signer: (issuer, serial, certificate).
fn signers() -> &'static [(String, Vec<u8>, Vec<u8>)] {
    static SIGNERS: OnceLock<Vec<(String, Vec<u8>, Vec<u8>)>> = OnceLock::new();
    SIGNERS.get_or_init(|| {
        let (cert, seed) = signer();
        let header = SignedFile::parse(seed).unwrap().header;
        vec![(header.issuer_name, header.serial, cert.clone())]
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
    let signers = signers();
    for bytes in [data, &mutated[..]] {
        if let Ok(content) = opencapf_phone::fuzzing::verify_sgn(bytes, signers) {
            assert_eq!(SignedFile::parse(bytes).unwrap().content, content);
        }
    }
});
