//! The ClientHello peek and the engine choice on arbitrary first bytes: a typed error or a
//! route, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_tls::{choose, ClientHelloSummary, LegacyPolicy, MinVersion};

fuzz_target!(|data: &[u8]| {
    if let Ok(hello) = ClientHelloSummary::parse(data) {
        let _ = hello.offered_versions();
        for min_version in [MinVersion::Tls10, MinVersion::Tls12] {
            let policy = LegacyPolicy { min_version, cbc: true, null_sha: data.len() % 2 == 0, empty_fragments: false };
            let _ = choose(&hello, &policy).clone();
            let _ = choose(&hello, &LegacyPolicy::default());
        }
    }
});
