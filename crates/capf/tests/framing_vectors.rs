//! Every CAPF framing vector of `framing_vectors.json` (§5.1), both ways:
//! the bytes decode to the expected typed message, and encoding that
//! message gives the bytes back exactly.

use crate::common;

use opencapf_capf::proto::element::{iter_elements, Tag};
use opencapf_capf::proto::frame::RawMessage;
use opencapf_capf::proto::message::*;
use x509_parser::prelude::{FromDer, X509Certificate};

const DEVICE: &str = "SEP58971ECC97C1";

fn auth_response(version: u8, name: &str, password: Option<&str>) -> AuthResponse {
    AuthResponse {
        reason: Some(Reason::OK),
        version,
        device_name: name.to_string(),
        password: password.map(str::to_string),
        certificate: None,
        signed_data_sha1: None,
        sha2_signed_data: None,
        sudi: None,
    }
}

fn end(reason: u8) -> Message {
    EndSession { reason: Reason::from(reason) }.into()
}

fn ec_keygen(curve: Curve) -> Message {
    KeyGenRequest::new(KeySpec::Ec { curve }).into()
}

/// The typed message each CAPF vector must decode to.
fn expected(name: &str, ec_der: &[u8], ec_spki: &[u8]) -> Option<Message> {
    Some(match name {
        "auth_request_capfd" => AuthRequest { version: 3, auth_type: Some(AuthType::Unspecified) }.into(),
        "auth_request_cucm_observed" => AuthRequest { version: 3, auth_type: None }.into(),
        "auth_response_password" => auth_response(3, DEVICE, Some("123456")).into(),
        "auth_response_null_string" => auth_response(3, DEVICE, Some("")).into(),
        "auth_response_j4l_style" => auth_response(2, "CSF123", None).into(),
        "keygen_request_rsa2048_capfd" => KeyGenRequest::new(KeySpec::Rsa { bits: 2048 }).into(),
        "keygen_request_rsa2048_cucm_observed" => {
            KeyGenRequest { key: KeySpec::Rsa { bits: 2048 }, omit_key_type: true }.into()
        }
        "keygen_request_ec_p256" => ec_keygen(Curve::P256),
        "keygen_request_ec_p384" => ec_keygen(Curve::P384),
        "keygen_request_ec_p521" => ec_keygen(Curve::P521),
        "request_in_progress" => RequestInProgress.into(),
        "store_cert_response_ok" => StoreCertificateResponse { reason: Reason::OK }.into(),
        "end_session_reason_0" => end(0),
        "end_session_reason_1" => end(1),
        "end_session_reason_7" => end(7),
        "end_session_reason_9" => end(9),
        "delete_request" => DeleteCertificateRequest.into(),
        "delete_response_ok" => DeleteCertificateResponse { reason: Reason::OK }.into(),
        "delete_response_fail" => DeleteCertificateResponse { reason: Reason::InvalidElement }.into(),
        "fetch_request" => FetchCertificateRequest.into(),
        "fetch_response_fail" => FetchCertificateResponse { reason: Reason::InvalidElement, certificate: None }.into(),
        "keygen_response_ec_p256" => KeyGenResponse { reason: None, public_key: Some(ec_spki.to_vec()) }.into(),
        "store_cert_request_ec_example" => {
            StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(ec_der.to_vec()) }.into()
        }
        _ => return None,
    })
}

/// Vectors whose element order is not ascending, so our encoding (capfd's
/// ascending order) is a permutation of them.
const NOT_ASCENDING: &[&str] = &["auth_response_j4l_style"];

#[test]
fn every_capf_framing_vector_round_trips_byte_for_byte() {
    let vectors = common::load("framing_vectors.json");
    let ec = common::load("ecp256_auth_example.json");
    let ec_der = common::hex_field(&ec, "certificate_der_hex");
    let (_, cert) = X509Certificate::from_der(&ec_der).unwrap();
    let ec_spki = cert.tbs_certificate.subject_pki.raw.to_vec();

    let mut checked = 0;
    for (name, value) in vectors.as_object().unwrap() {
        // TVS, ITL and SGN vectors belong to other protocols.
        if name.starts_with("tvs_") || !value.is_string() {
            continue;
        }
        let bytes = common::hex_field(&vectors, name);
        let want = expected(name, &ec_der, &ec_spki).unwrap_or_else(|| panic!("no expectation for CAPF vector {name}"));

        let raw = RawMessage::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(raw.session_id, 1, "{name}");
        assert_eq!(raw.command, want.command(), "{name}");
        assert_eq!(raw.encode().unwrap(), bytes, "{name}: raw re-encode");

        let decoded = Message::decode(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.message, want, "{name}: fields");
        assert!(decoded.ignored_tags.is_empty(), "{name}");
        assert!(decoded.duplicate_tags.is_empty(), "{name}");

        let encoded = want.encode(1).unwrap();
        if NOT_ASCENDING.contains(&name.as_str()) {
            assert_ne!(encoded, bytes, "{name} is expected to be out of order");
            let again = RawMessage::decode(&encoded).unwrap();
            assert_eq!(again.elements().unwrap(), raw.elements().unwrap(), "{name}");
            assert_eq!(encoded.len(), bytes.len(), "{name}");
        } else {
            assert_eq!(encoded, bytes, "{name}: typed encode");
        }
        checked += 1;
    }
    assert_eq!(checked, 23, "number of CAPF vectors");
}

#[test]
fn jabber_order_is_read_in_wire_order() {
    let vectors = common::load("framing_vectors.json");
    let bytes = common::hex_field(&vectors, "auth_response_j4l_style");
    let tags: Vec<Tag> = iter_elements(&bytes[8..]).map(|e| e.unwrap().0).collect();
    assert_eq!(tags, [Tag::Version, Tag::DeviceName, Tag::Reason]);
}

#[test]
fn ec_keygen_response_carries_a_91_byte_p256_spki() {
    let vectors = common::load("framing_vectors.json");
    let bytes = common::hex_field(&vectors, "keygen_response_ec_p256");
    let Message::KeyGenResponse(r) = Message::decode(&RawMessage::decode(&bytes).unwrap()).unwrap().message else {
        panic!("not a KeyGenResponse");
    };
    let spki = r.public_key.unwrap();
    assert_eq!(spki.len(), 91);
    assert!(spki.starts_with(&hex::decode("3059301306072a8648ce3d020106082a8648ce3d03010703420004").unwrap()));
}

/// A fake certificate of `n` bytes: a DER SEQUENCE with a long-form length.
fn fake_der(n: usize) -> Vec<u8> {
    let content = n - 4;
    let mut der = vec![0x30, 0x82, (content >> 8) as u8, content as u8];
    der.resize(n, 0xa5);
    der
}

#[test]
fn store_request_lengths_match_the_cucm_capture() {
    // §1.5.1 and §5.1: a 979-byte certificate gives 03DF / 03D8 / 03D5.
    let der = fake_der(979);
    assert_eq!(&der[..4], &[0x30, 0x82, 0x03, 0xcf]);
    let msg = StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(der.clone()) };
    let bytes = msg.encode(0x1234).unwrap();
    // header 55 09 00001234 03df | 03 0001 01 | 04 03d8 | 01 03d5 | 00 01
    let mut want = hex::decode("55090000123403df030001010403d80103d50001").unwrap();
    want.extend_from_slice(&der);
    assert_eq!(bytes, want);
    assert_eq!(StoreCertificateRequest::from_raw(&RawMessage::decode(&bytes).unwrap()).unwrap(), msg);
}

#[test]
fn fetch_response_with_certificate_and_rsa2048_keygen_response() {
    let der = fake_der(979);
    let msg = FetchCertificateResponse { reason: Reason::OK, certificate: Some(CertPackage::new(der.clone())) };
    let bytes = msg.encode(1).unwrap();
    assert_eq!(&bytes[..15], &hex::decode("550c0000000103df010001010403d8").unwrap()[..]);
    assert_eq!(&bytes[15..20], &[0x01, 0x03, 0xd5, 0x00, 0x01]);
    assert_eq!(&bytes[20..], &der[..]);

    // §5.1: an RSA-2048 SPKI is 294 bytes, so the body is 0x0129.
    let spki = [
        hex::decode("30820122300d06092a864886f70d01010105000382010f003082010a0282010100").unwrap(),
        vec![0xc3; 294 - 33],
    ]
    .concat();
    let bytes = KeyGenResponse { reason: None, public_key: Some(spki) }.encode(7).unwrap();
    assert_eq!(bytes.len(), 8 + 0x129);
    assert_eq!(&bytes[..11], &hex::decode("5504000000070129090126").unwrap()[..]);
}

#[test]
fn tvs_bodies_use_the_same_tlv_rules() {
    // TVS has a 10-byte header (§3.2) but the same elements.
    let vectors = common::load("framing_vectors.json");
    let bytes = common::hex_field(&vectors, "tvs_verify_response_valid");
    let tags: Vec<(Tag, Vec<u8>)> =
        iter_elements(&bytes[10..]).map(|e| e.map(|(t, v)| (t, v.to_vec())).unwrap()).collect();
    assert_eq!(tags.len(), 3);
    assert_eq!(tags[0], (Tag::from(7), vec![0]));
    assert_eq!(tags[2].1, 86400u32.to_be_bytes());
}
