//! SIP over TCP/TLS (5060/5061), as the CallManager reads a connection: `Reader::next` over
//! arbitrary chunking, with small limits so that the fuzzer reaches them. The first input byte
//! picks the chunking; every message read is handled as the server handles it.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use opencapf_callmanager::sip::{Event, Limits, ReadError, Reader};
use opencapf_fuzz::{block_on, Chunked};

fuzz_target!(|data: &[u8]| {
    let Some((&plan, stream)) = data.split_first() else { return };
    let limits = if plan & 1 == 0 {
        Limits::default()
    } else {
        Limits { max_head_bytes: 600, max_headers: 8, max_body_bytes: 100 }
    };
    block_on(async {
        let mut chunks = Chunked::new(stream, plan);
        let mut reader = Reader::new(limits);
        let long = Duration::from_secs(60);
        for _ in 0..256 {
            match reader.next(&mut chunks, long, long).await {
                Ok(Event::Message(m)) => {
                    assert!(m.headers.len() <= limits.max_headers && m.body.len() <= limits.max_body_bytes);
                    opencapf_fuzz::exercise_sip(&m);
                    opencapf_fuzz::sip_round_trip(&m, &limits);
                }
                Ok(Event::Ping) => {}
                Ok(Event::Closed) => {
                    assert!(chunks.remaining().is_empty());
                    break;
                }
                Err(ReadError::Idle | ReadError::Slow) => panic!("no timeout can fire on a stream that never waits"),
                Err(_) => break,
            }
        }
    });
});
