//! A SIP message in one datagram (UDP 5060), as the CallManager and the phone simulator read it:
//! `parse_datagram`, then what the server does with a request (header helpers, a REGISTER's
//! claim, a response built from it). What parses writes back to a message that parses the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_callmanager::sip::{parse_datagram, parse_head, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(Some(message)) = parse_datagram(data, &limits) {
        assert!(message.headers.len() <= limits.max_headers);
        assert!(message.body.len() <= limits.max_body_bytes);
        opencapf_fuzz::exercise_sip(&message);
        opencapf_fuzz::sip_round_trip(&message, &limits);
    }
    let _ = parse_head(data, &Limits { max_head_bytes: 512, max_headers: 4, max_body_bytes: 16 });
});
