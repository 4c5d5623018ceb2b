//! TFTP (UDP 69) as the server reads a datagram and the phone simulator reads the answers: the
//! packet parser may refuse a datagram, never panic, and what it accepts encodes back to a
//! datagram that parses to the same packet. A read request then goes where the server takes it:
//! the name check, CUCM's file names (`Requested`), the option negotiation (RFC 2347-2349).
//! The same bytes as an HTTP path (6970) and through the netascii translation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_cluster::Requested;
use opencapf_tftp::{checked_name, from_netascii, to_netascii, Packet, MAX_NAME};

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = Packet::parse(data) {
        let again = Packet::parse(&packet.encode());
        // ERROR texts are kept lossily (not UTF-8, no NUL): compare the rest exactly.
        if !matches!(packet, Packet::Error { .. }) {
            assert_eq!(again.as_ref(), Ok(&packet));
        }
        if let Packet::Rrq(request) | Packet::Wrq(request) = &packet {
            if let Ok(name) = checked_name(&request.filename) {
                assert!(!name.contains('/') && !name.contains("..") && name.len() <= MAX_NAME);
                let _ = Requested::parse(name);
            }
            let size = data.len() * 1000;
            let (blksize, timeout, oack) = opencapf_tftp::fuzzing::negotiate(&request.options, size, 16384);
            assert!((8..=16384).contains(&blksize) || blksize == 512);
            assert!((1..=255).contains(&timeout.as_secs()));
            assert!(oack.len() <= request.options.len());
        }
    }
    let path = String::from_utf8_lossy(data);
    if let Some(name) = opencapf_tftp::fuzzing::http_name(&path) {
        assert!(!name.contains('/') && !name.contains(".."));
        let _ = Requested::parse(&name);
    }
    assert_eq!(from_netascii(&to_netascii(data)), data);
});
