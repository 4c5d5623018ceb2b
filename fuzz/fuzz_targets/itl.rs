//! `Itl::parse` on arbitrary bytes (a trust list from the network, or `trust import-itl`), then
//! the signature checked with the first record's certificate and with the file's own signer:
//! errors, never a panic. Inputs are also XORed over a valid file at an offset the first byte
//! picks, to reach the record parser and the verifier.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use opencapf_pki::{build_itl, FileHash, FileSigner, Itl, KeyAlgorithm, PrivateKey, Role, SignerVersion};

/// A valid trust list made once (SAST + EC record), so that inputs laid over it reach the
/// record parser and the verifier.
fn seed() -> &'static Vec<u8> {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        let now = time::OffsetDateTime::now_utc();
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let cert = opencapf_pki::profiles::lab_manufacturer_root(&key, now).unwrap().der;
        let ec = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let ec_cert = opencapf_pki::profiles::lab_manufacturer_root(&ec, now).unwrap().der;
        let signer = FileSigner { certificate: &cert, key: &key };
        let records = [(Role::Sast, &cert[..]), (Role::Capf, &ec_cert[..])];
        build_itl(&signer, &records, "ITLFile.tlv", SignerVersion::V1_1, FileHash::Sha1, 0).unwrap()
    })
}

fn exercise(data: &[u8]) {
    if let Ok(itl) = Itl::parse(data) {
        if let Some(cert) = itl.records.first().and_then(|r| r.certificate.as_deref()) {
            let _ = itl.verify_with(cert);
        }
        let _ = itl.verify();
        let _ = itl.bytes_signed();
        let _ = itl.header.summary();
        for record in &itl.records {
            let _ = record.summary();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    // The valid file with the input XORed over its start (the first byte picks the offset).
    if let Some((&at, rest)) = data.split_first() {
        let mut mutated = seed().clone();
        let at = usize::from(at) * mutated.len() / 256;
        for (m, d) in mutated[at..].iter_mut().zip(rest) {
            *m ^= d;
        }
        exercise(&mutated);
    }
});
