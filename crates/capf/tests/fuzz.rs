//! Limits and fuzz loops: the largest body, random bytes and mutated
//! vectors must give errors or stable decodes, never a panic.

use crate::common;

use common::{decode, msg};
use opencapf_capf::proto::element::{ElementError, ElementSet, Tag};
use opencapf_capf::proto::frame::MAX_BODY_LEN;
use opencapf_capf::proto::message::*;

/// A FetchCertificateResponse whose body is exactly 65535 bytes.
fn max_fetch_response() -> Vec<u8> {
    let content = MAX_BODY_LEN - 4 - 3 - 5 - 4;
    let mut der = vec![0x30, 0x82, (content >> 8) as u8, content as u8];
    der.resize(4 + content, 0x5a);
    FetchCertificateResponse { reason: Reason::OK, certificate: Some(CertPackage::new(der)) }.encode(1).unwrap()
}

#[test]
fn a_65535_byte_body_is_the_limit() {
    let bytes = max_fetch_response();
    assert_eq!(&bytes[6..8], &[0xff, 0xff]);
    let d = decode(&bytes).unwrap();
    assert_eq!(d.message.encode(1).unwrap(), bytes);
    // The same size of junk is an error, not a panic.
    let junk = msg(2, &vec![0xff; MAX_BODY_LEN]);
    assert!(decode(&junk).is_err());
    // One byte more cannot be framed.
    let mut set = ElementSet::new();
    set.insert(Tag::Certificate, vec![0; MAX_BODY_LEN - 2]);
    assert!(matches!(set.encode(), Err(ElementError::BodyTooLong { len: 65536 })));
}

/// Whatever decodes must re-encode and decode to the same message.
fn check_no_panic_and_stable(bytes: &[u8]) {
    let _ = ElementSet::parse(bytes);
    let _ = CertPackage::parse(bytes);
    let _ = SudiData::parse(bytes);
    let _ = Sha2SignedData::parse(bytes);
    let _ = decode_cstring(Tag::DeviceName, bytes);
    if let Ok(d) = decode(bytes) {
        let again = decode(&d.message.encode(d.session_id).unwrap()).unwrap();
        assert_eq!(again.message, d.message);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = common::Prng::new(0x0CA9_F00D);
    let mut decoded = 0;
    for _ in 0..20_000 {
        let len = rng.below(200);
        let mut bytes = rng.bytes(len);
        // Mostly valid headers, so the body parsers are reached too.
        if len >= 8 && rng.below(4) != 0 {
            bytes[0] = 0x55;
            bytes[1] = 1 + rng.below(24) as u8;
            let body = (len - 8) as u16;
            bytes[6..8].copy_from_slice(&body.to_be_bytes());
        }
        check_no_panic_and_stable(&bytes);
        decoded += usize::from(decode(&bytes).is_ok());
    }
    assert!(decoded > 0, "the loop should reach successful decodes too");
}

#[test]
fn mutated_vectors_never_panic() {
    let v = common::load("rsa1024_auth_example.json");
    let good = common::hex_field(&v, "auth_response_message_hex");
    let mut rng = common::Prng::new(42);
    for _ in 0..5_000 {
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            bytes[i] = rng.next_u64() as u8;
        }
        bytes.truncate(bytes.len() - rng.below(3) * rng.below(bytes.len()) / 2);
        check_no_panic_and_stable(&bytes);
    }
}
