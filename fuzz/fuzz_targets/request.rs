//! The REST API's own reading of requests: a Find and List Phones query string and a bulk CAPF
//! JSON body, into the cluster's query and settings. Any bytes give a value or a problem.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (query, body) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    opencapf_api::fuzzing::parse_request(&String::from_utf8_lossy(query), body);
});
