//! An ITL offered at boot, as the phone simulator judges it (phone-boot.md §1.4): parsed,
//! verified with its own signer record, compared with the ITL the phone holds (none, or a valid
//! one). Inputs are used as they are and XORed over the held file at an offset the first byte
//! picks (so most reach the signature check). Taking a file means it parsed and verified.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use opencapf_pki::{build_itl, FileHash, FileSigner, Itl, KeyAlgorithm, PrivateKey, Role, SignerVersion};

/// The ITL a phone holds: a SAST (RSA, as ITLs are signed) and a CAPF (EC) record.
fn held() -> &'static (Vec<u8>, Itl) {
    static HELD: OnceLock<(Vec<u8>, Itl)> = OnceLock::new();
    HELD.get_or_init(|| {
        let now = time::OffsetDateTime::now_utc();
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let cert = opencapf_pki::profiles::lab_manufacturer_root(&key, now).unwrap().der;
        let capf_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let capf = opencapf_pki::profiles::lab_manufacturer_root(&capf_key, now).unwrap().der;
        let signer = FileSigner { certificate: &cert, key: &key };
        let records = [(Role::Sast, &cert[..]), (Role::Capf, &capf[..])];
        let bytes = build_itl(&signer, &records, "ITLFile.tlv", SignerVersion::V1_1, FileHash::Sha512, 1).unwrap();
        let itl = Itl::parse(&bytes).unwrap();
        (bytes, itl)
    })
}

fn judge(offered: &[u8]) {
    let (_, itl) = held();
    for holding in [None, Some(itl)] {
        if let Ok(taken) = opencapf_phone::fuzzing::judge_itl(holding, offered) {
            let parsed = Itl::parse(offered).expect("a file the phone takes or asks TVS about parses");
            if taken {
                assert!(parsed.signer().is_some(), "a file taken has a signer record");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    judge(data);
    if let Some((&at, rest)) = data.split_first() {
        let mut mutated = held().0.clone();
        let at = usize::from(at) * mutated.len() / 256;
        for (m, d) in mutated[at..].iter_mut().zip(rest) {
            *m ^= d;
        }
        judge(&mutated);
    }
});
