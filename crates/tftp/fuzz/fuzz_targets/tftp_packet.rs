//! The TFTP packet parser on arbitrary datagrams: it may refuse one, never panic, and what it
//! accepts encodes back to a datagram that parses to the same packet. The name check and the
//! netascii translation see the same bytes.
//!
//! `cargo fuzz run tftp_packet` from crates/tftp (needs cargo-fuzz and a nightly toolchain).

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_tftp::{checked_name, from_netascii, to_netascii, Packet};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = Packet::parse(data) {
        let again = Packet::parse(&packet.encode());
        // ERROR texts are kept lossily (not UTF-8, no NUL): compare the rest exactly.
        if !matches!(packet, Packet::Error { .. }) {
            assert_eq!(again.as_ref(), Ok(&packet));
        }
        if let Packet::Rrq(request) | Packet::Wrq(request) = &packet {
            if let Ok(name) = checked_name(&request.filename) {
                assert!(!name.contains('/') && !name.contains("..") && name.len() <= 128);
            }
        }
    }
    assert_eq!(from_netascii(&to_netascii(data)), data);
});
