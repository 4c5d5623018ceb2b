//! Hostile and malformed input: every case must be a typed error, never a
//! panic, and nothing outside the declared bounds may be read.

use crate::common;

use common::{decode, msg};
use opencapf_capf::proto::element::{ElementError, Tag};
use opencapf_capf::proto::frame::{Command, FrameError, RawMessage};
use opencapf_capf::proto::message::*;

#[test]
fn frame_level_errors() {
    let good = msg(15, &[1, 0, 1, 0]);
    for cut in 0..8 {
        assert!(matches!(
            RawMessage::decode(&good[..cut]),
            Err(FrameError::TruncatedHeader { got }) if got == cut
        ));
    }
    assert!(matches!(RawMessage::decode(&good[..11]), Err(FrameError::TruncatedBody { expected: 4, got: 3 })));
    let long = [good.clone(), vec![0]].concat();
    assert!(matches!(RawMessage::decode(&long), Err(FrameError::TrailingBytes { expected: 12, extra: 1 })));
    let mut tvs = good.clone();
    tvs[0] = 0x57;
    assert!(matches!(RawMessage::decode(&tvs), Err(FrameError::BadMagic(0x57))));
    // Header says 65535 but only a few bytes follow.
    let mut huge = good.clone();
    huge[6..8].copy_from_slice(&[0xff, 0xff]);
    assert!(matches!(RawMessage::decode(&huge), Err(FrameError::TruncatedBody { expected: 65535, got: 4 })));
}

#[test]
fn element_past_body_end() {
    let err = decode(&msg(15, &[1, 0, 5, 1])).unwrap_err();
    assert!(matches!(err, MessageError::Element(ElementError::ValuePastEnd { tag: 1, declared: 5, available: 1, .. })));
    let err = decode(&msg(15, &[1, 0, 1, 1, 7])).unwrap_err();
    assert!(matches!(err, MessageError::Element(ElementError::TruncatedHeader { offset: 4, remaining: 1 })));
}

#[test]
fn empty_bodies() {
    assert!(matches!(decode(&msg(15, &[])), Err(MessageError::MissingElement(Tag::Reason))));
    assert!(matches!(decode(&msg(2, &[])), Err(MessageError::MissingElement(Tag::DeviceName))));
    assert!(matches!(decode(&msg(1, &[])), Err(MessageError::MissingElement(Tag::Version))));
    assert!(matches!(decode(&msg(3, &[])), Err(MessageError::MissingElement(Tag::KeySize))));
    assert!(matches!(decode(&msg(9, &[])), Err(MessageError::MissingElement(Tag::CertificateType))));
    // Legal empty bodies.
    assert_eq!(decode(&msg(17, &[])).unwrap().message, RequestInProgress.into());
    assert_eq!(decode(&msg(11, &[])).unwrap().message, FetchCertificateRequest.into());
    // KeyGenResponse without a key is a (legal) failure report.
    let Message::KeyGenResponse(r) = decode(&msg(4, &[])).unwrap().message else { panic!() };
    assert_eq!((r.reason, r.public_key), (None, None));
}

#[test]
fn zero_length_and_wrong_length_elements() {
    let name = b"\x0d\x00\x02A\x00\x07\x00\x01\x03";
    let with = |extra: &[u8]| msg(2, &[name.as_slice(), extra].concat());
    assert!(matches!(
        decode(&msg(15, &[1, 0, 0])),
        Err(MessageError::BadLength { tag: Tag::Reason, expected: 1, got: 0 })
    ));
    assert!(matches!(
        decode(&msg(3, &[10, 0, 3, 8, 0, 0])),
        Err(MessageError::BadLength { tag: Tag::KeySize, expected: 2, got: 3 })
    ));
    assert!(matches!(decode(&msg(2, &[13, 0, 0, 7, 0, 1, 3])), Err(MessageError::EmptyValue(Tag::DeviceName))));
    assert!(matches!(decode(&with(&[6, 0, 0])), Err(MessageError::EmptyValue(Tag::SignedData))));
    assert!(matches!(
        decode(&with(&[4, 0, 0])),
        Err(MessageError::Nested { tag: Tag::Certificate, cause: NestedError::NoCertificateRecord })
    ));
    assert!(matches!(
        decode(&with(&[20, 0, 0])),
        Err(MessageError::Nested { cause: NestedError::RecordCount { expected: 1, found: 0, .. }, .. })
    ));
    assert!(matches!(
        decode(&with(&[16, 0, 0])),
        Err(MessageError::Nested { cause: NestedError::RecordCount { expected: 3, found: 0, .. }, .. })
    ));
    assert!(matches!(decode(&msg(4, &[9, 0, 0])), Err(MessageError::EmptyValue(Tag::PublicKey))));
    assert!(matches!(
        decode(&msg(3, &[17, 0, 1, 1, 18, 0, 1, 3])),
        Err(MessageError::BadValue { tag: Tag::Curve, value: 3 })
    ));
    assert!(matches!(decode(&with(&[13, 0, 3, b'A', 0, b'B'])), Err(MessageError::EmbeddedNul(Tag::DeviceName))));
    assert!(matches!(decode(&with(&[11, 0, 2, 0xc3, 0])), Err(MessageError::NotUtf8(Tag::Password))));
}

#[test]
fn unknown_and_duplicate_tags_are_reported_not_fatal() {
    // AuthType (8) means nothing in an AuthResponse; 99 means nothing at all.
    let body = b"\x63\x00\x01\x00\x0d\x00\x02A\x00\x07\x00\x01\x02\x08\x00\x01\x00\x07\x00\x01\x03";
    let d = decode(&msg(2, body)).unwrap();
    assert_eq!(d.ignored_tags, vec![8, 99]);
    assert_eq!(d.duplicate_tags, vec![7]);
    let Message::AuthResponse(a) = d.message else { panic!() };
    assert_eq!((a.device_name.as_str(), a.version), ("A", 3), "last Version wins");
    // Unknown commands keep their elements.
    let d = decode(&msg(99, &[1, 0, 1, 5])).unwrap();
    let Message::Other { command, elements } = d.message else { panic!() };
    assert_eq!(command, Command::Unknown(99));
    assert_eq!(elements.get(Tag::Reason), Some(&[5u8][..]));
}

#[test]
fn certificate_package_edge_cases() {
    let der = [0x30, 0x03, 1, 2, 3];
    let pkg = |v: &[u8]| CertPackage::parse(v);
    // Any type bytes; trailing bytes after the DER are cut; extra records kept.
    let p = pkg(&[1, 0, 9, 0, 2, 0x30, 0x03, 1, 2, 3, 0xee, 0xee, 7, 0, 1, 0xaa]).unwrap();
    assert_eq!((p.reserved, p.cert_type, p.der.as_slice()), (0, CertType::Mic, &der[..]));
    assert_eq!(p.extra, vec![SubRecord { tag: 7, value: vec![0xaa] }]);
    // A record before the certificate record is skipped too.
    assert_eq!(pkg(&[9, 0, 0, 1, 0, 7, 0, 1, 0x30, 3, 1, 2, 3]).unwrap().der, der);
    let cases: [(&[u8], NestedError); 5] = [
        (&[1, 0, 9, 0, 1, 0x30, 0x08, 1, 2, 3, 4, 5], NestedError::DerPastEnd { declared: 10, available: 7 }),
        (&[1, 0, 4, 0, 1, 0x31, 0], NestedError::NotDerSequence(0x31)),
        (&[1, 0, 4, 0, 1, 0x30, 0x80], NestedError::BadDerLength),
        (&[1, 0, 5, 0, 1, 0x30, 0x82, 1], NestedError::BadDerLength),
        (&[1, 0, 1, 0], NestedError::Truncated { what: "certificate record", need: 2, have: 1 }),
    ];
    for (value, want) in cases {
        assert_eq!(pkg(value), Err(want), "{value:02x?}");
    }
    assert!(matches!(pkg(&[1, 0, 9, 0, 1]), Err(NestedError::SubRecord { .. })));
    assert_eq!(pkg(&[2, 0, 0]), Err(NestedError::NoCertificateRecord));
    // Sha2SignedData: the signature length must fill the element exactly.
    assert!(Sha2SignedData::parse(&[3, 0, 2, 0xaa]).is_err());
    assert!(Sha2SignedData::parse(&[3, 0, 1, 0xaa, 0xbb]).is_err());
    assert_eq!(Sha2SignedData::parse(&[3, 0, 1, 0xaa]).unwrap().hash, HashId::Sha512);
}
