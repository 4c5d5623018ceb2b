//! The vectors of `docs/capf-protocol.md` §5.3, and the refusals of the parsers.

use opencapf_model::Role;

use super::*;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// A stand-in for DER: the codec does not parse the certificate.
fn der() -> Vec<u8> {
    let mut d = vec![0x30, 0x82, 0x01, 0x2c];
    d.extend((0..300u16).map(|i| i as u8));
    d
}

#[test]
fn verify_request_matches_the_vector_prefix() {
    let cert = der();
    let req = VerifyRequest { session: 1, device_name: "CP-0000-SEP000000000000".into(), certificate: cert.clone() };
    let bytes = req.encode().unwrap();
    let body_len = 3 + 0x18 + 3 + cert.len();
    let expected_prefix = format!(
        "57 01 01 00 00000001 {body_len:04x} 01 0018 01 43502d303030302d534550303030303030303030303030 02 {:04x}",
        cert.len()
    );
    let prefix = unhex(&expected_prefix);
    assert_eq!(&bytes[..prefix.len()], &prefix[..]);
    assert_eq!(&bytes[prefix.len()..], &cert[..]);
    assert_eq!(VerifyRequest::parse(&bytes).unwrap(), req);
}

#[test]
fn valid_response_matches_the_vector() {
    let resp =
        VerifyResponse { session: 1, answer: Answer::Valid { roles: vec![Role::Ccm, Role::AppServer], ttl: 86400 } };
    let expected = unhex("57 01 02 00 00000001 0010 07 0001 00 08 0002 01 07 09 0004 00015180");
    assert_eq!(resp.encode(), expected);
    assert_eq!(VerifyResponse::parse(&expected).unwrap(), resp);
}

#[test]
fn tvsd_response_with_its_session_and_ttl_parses() {
    let tvsd = unhex("57 01 02 00 00001234 0010 07 0001 00 08 0002 01 07 09 0004 00000e10");
    let resp = VerifyResponse::parse(&tvsd).unwrap();
    assert_eq!(resp.session, 0x1234);
    assert_eq!(resp.answer, Answer::Valid { roles: vec![Role::Ccm, Role::AppServer], ttl: 3600 });
}

#[test]
fn invalid_response_matches_the_vector() {
    let resp = VerifyResponse { session: 1, answer: Answer::Invalid };
    let expected = unhex("57 01 02 00 00000001 0004 07 0001 01");
    assert_eq!(resp.encode(), expected);
    assert_eq!(VerifyResponse::parse(&expected).unwrap(), resp);
}

#[test]
fn roles_are_written_once_each_in_canonical_order() {
    let roles = vec![Role::Tvs, Role::Ccm, Role::Tvs, Role::Sast];
    let resp = VerifyResponse { session: 7, answer: Answer::Valid { roles, ttl: 60 } };
    let parsed = VerifyResponse::parse(&resp.encode()).unwrap();
    assert_eq!(parsed.answer, Answer::Valid { roles: vec![Role::Sast, Role::Ccm, Role::Tvs], ttl: 60 });
}

fn request(header: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = unhex(header);
    msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
    msg.extend_from_slice(body);
    msg
}

fn name_and_cert(name: &[u8]) -> Vec<u8> {
    let mut body = vec![1];
    body.extend_from_slice(&((name.len() + 1) as u16).to_be_bytes());
    body.push(1);
    body.extend_from_slice(name);
    body.extend_from_slice(&[2, 0, 3, 0x30, 0x01, 0x00]);
    body
}

#[test]
fn header_refusals() {
    let body = name_and_cert(b"CP-8861-SEP58971ECC97C1");
    assert!(Request::parse(&request("57 01 01 00 00000009", &body)).is_ok());
    assert!(Request::parse(&request("57 00 01 00 00000009", &body)).is_ok(), "version 0 is accepted (≤ 1)");
    assert!(Request::parse(&request("57 01 01 f5 00000009", &body)).is_ok(), "the reserved byte is ignored");
    assert_eq!(Request::parse(&request("55 01 01 00 00000009", &body)), Err(ProtoError::ProtocolId(0x55)));
    assert_eq!(Request::parse(&request("57 02 01 00 00000009", &body)), Err(ProtoError::Version(2)));
    assert_eq!(Request::parse(&request("57 01 09 00 00000009", &body)), Err(ProtoError::Command(9)));
    assert_eq!(
        Request::parse(&request("57 01 02 00 00000009", &body)),
        Err(ProtoError::Unexpected(Command::VerifyResponse))
    );
    assert_eq!(Request::parse(&request("57 01 03 00 0000000a", &[])), Ok(Request::Query { session: 10 }));
    assert!(matches!(Request::parse(&unhex("57 01 01 00")), Err(ProtoError::Truncated { .. })));
    let mut short = request("57 01 01 00 00000009", &body);
    short.pop();
    assert!(matches!(Request::parse(&short), Err(ProtoError::BodyLength { .. })));
}

#[test]
fn body_refusals() {
    let parse = |body: &[u8]| Request::parse(&request("57 01 01 00 00000001", body));
    let mut unknown = name_and_cert(b"CP-8861-SEP58971ECC97C1");
    unknown.extend_from_slice(&[7, 0, 1, 0]);
    assert_eq!(parse(&unknown), Err(ProtoError::UnknownTag(7)));
    let mut twice = name_and_cert(b"CP-8861-SEP58971ECC97C1");
    twice.extend_from_slice(&[2, 0, 1, 0x30]);
    assert_eq!(parse(&twice), Err(ProtoError::Duplicate(2)));
    assert_eq!(parse(&[2, 0, 1, 0x30]), Err(ProtoError::Missing("DeviceName")));
    assert_eq!(parse(&[1, 0, 4, 1, b'A', b'B', b'C']), Err(ProtoError::Missing("Certificate")));
    assert!(matches!(parse(&[1, 0, 9, 1, b'A']), Err(ProtoError::ElementOverrun { tag: 1, len: 9, got: 2 })));
    assert!(matches!(parse(&[1, 0]), Err(ProtoError::Truncated { .. })));
    let mut big = vec![1, 0, 2, 1, b'A', 2];
    big.extend_from_slice(&((MAX_CERTIFICATE + 1) as u16).to_be_bytes());
    big.resize(big.len() + MAX_CERTIFICATE + 1, 0x30);
    assert_eq!(parse(&big), Err(ProtoError::CertificateSize(MAX_CERTIFICATE + 1)));
    assert_eq!(parse(&[1, 0, 2, 1, b'A', 2, 0, 0]), Err(ProtoError::CertificateSize(0)));
}

#[test]
fn device_names_are_permissive_but_printable_and_short() {
    let name_of = |name: &[u8]| match Request::parse(&request("57 01 01 00 00000001", &name_and_cert(name))) {
        Ok(Request::Verify(req)) => Ok(req.device_name),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    assert_eq!(name_of(b"CP-7962G-SEP001122AABBCC").unwrap(), "CP-7962G-SEP001122AABBCC");
    assert_eq!(name_of(b"CP-8861-SEP58971ECC97C1\0").unwrap(), "CP-8861-SEP58971ECC97C1", "a trailing NUL is dropped");
    assert_eq!(name_of(&[b'A'; 64]).unwrap().len(), 64);
    for bad in [&b""[..], b"\0", b"CP 8861", b"CP-\x1b[31m", b"caf\xc3\xa9", &[b'A'; 65]] {
        assert!(matches!(name_of(bad), Err(ProtoError::DeviceName { .. })), "{bad:?}");
    }
    let mut no_prefix = vec![1, 0, 0];
    no_prefix.extend_from_slice(&[2, 0, 1, 0x30]);
    assert!(matches!(
        Request::parse(&request("57 01 01 00 00000001", &no_prefix)),
        Err(ProtoError::DeviceName { reason: "empty", .. })
    ));
}

#[test]
fn response_refusals() {
    let parse = |s: &str| VerifyResponse::parse(&unhex(s));
    assert_eq!(parse("57 01 02 00 00000001 0004 07 0001 02"), Err(ProtoError::Status(2)));
    assert_eq!(parse("57 01 02 00 00000001 0004 07 0001 00"), Err(ProtoError::Missing("Roles")));
    assert_eq!(parse("57 01 02 00 00000001 0000"), Err(ProtoError::Missing("Status")));
    assert_eq!(parse("57 01 02 00 00000001 0009 07 0001 00 08 0002 01 05"), Err(ProtoError::UnknownRole(5)));
    assert_eq!(
        parse("57 01 02 00 00000001 000d 07 0001 00 08 0001 01 09 0002 0001"),
        Err(ProtoError::ElementSize { tag: 9, len: 2 })
    );
    assert_eq!(parse("57 01 01 00 00000001 0004 07 0001 01"), Err(ProtoError::Unexpected(Command::VerifyRequest)));
    // Unknown elements in a response are skipped.
    assert_eq!(parse("57 01 02 00 00000001 0008 07 0001 01 63 0001 00").unwrap().answer, Answer::Invalid);
}

#[test]
fn oversized_requests_cannot_be_encoded() {
    let req = VerifyRequest { session: 1, device_name: "A".into(), certificate: vec![0; 70_000] };
    assert!(matches!(req.encode(), Err(ProtoError::TooLong { .. })));
}
