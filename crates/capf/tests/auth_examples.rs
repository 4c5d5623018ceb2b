//! The worked certificate-authentication examples (§5.2): decoding the
//! AuthResponse, rebuilding the signed content, and checking the RSA and
//! ECDSA signatures it carries.

use crate::common;

use num_bigint::BigUint;
use opencapf_capf::proto::auth::*;
use opencapf_capf::proto::frame::RawMessage;
use opencapf_capf::proto::message::*;
use x509_parser::oid_registry::OID_EC_P256;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

const DEVICE: &str = "SEP58971ECC97C1";

fn decode_auth(bytes: &[u8]) -> AuthResponse {
    let decoded = Message::decode(&RawMessage::decode(bytes).unwrap()).unwrap();
    assert_eq!(decoded.session_id, 1);
    assert!(decoded.ignored_tags.is_empty());
    match decoded.message {
        Message::AuthResponse(a) => a,
        other => panic!("not an AuthResponse: {other:?}"),
    }
}

/// An example file: its JSON, the AuthResponse bytes, the certificate DER, the decoded message.
fn example(file: &str) -> (serde_json::Value, Vec<u8>, Vec<u8>, AuthResponse) {
    let v = common::load(file);
    let bytes = common::hex_field(&v, "auth_response_message_hex");
    let der = common::hex_field(&v, "certificate_der_hex");
    let a = decode_auth(&bytes);
    (v, bytes, der, a)
}

/// `sig^e mod n` as exactly k big-endian bytes: the raw RSA public operation
/// that the server does outside this crate.
fn rsa_recover(cert_der: &[u8], sig: &[u8]) -> (Vec<u8>, usize) {
    let (_, cert) = X509Certificate::from_der(cert_der).unwrap();
    let Ok(PublicKey::RSA(key)) = cert.public_key().parsed() else {
        panic!("not an RSA certificate");
    };
    let n = BigUint::from_bytes_be(key.modulus);
    let e = BigUint::from_bytes_be(key.exponent);
    let k = n.bits().div_ceil(8) as usize;
    let m = BigUint::from_bytes_be(sig).modpow(&e, &n).to_bytes_be();
    let mut block = vec![0u8; k - m.len()];
    block.extend_from_slice(&m);
    (block, k)
}

#[test]
fn rsa_example_decodes_and_re_encodes_byte_for_byte() {
    let (v, bytes, der, a) = example("rsa1024_auth_example.json");

    assert_eq!(a.device_name, DEVICE);
    assert_eq!(v["device_name"], DEVICE);
    assert_eq!(a.version, 3);
    assert_eq!(a.reason, Some(Reason::OK));
    assert_eq!(a.password.as_deref(), Some(""));
    let package = a.certificate.as_ref().unwrap();
    assert_eq!(package.der, der);
    assert_eq!((package.reserved, package.cert_type), (0, CertType::Lsc));
    assert!(package.extra.is_empty());
    assert_eq!(a.signed_data_sha1, Some(common::hex_field(&v, "sha1_signed_data_hex")));
    let sha2 = a.sha2_signed_data.as_ref().unwrap();
    assert_eq!(sha2.hash, HashId::Sha512);
    assert_eq!(sha2.signature, common::hex_field(&v, "sha512_signed_data_hex"));
    let sudi = a.sudi.as_ref().unwrap();
    assert_eq!((sudi.certificate_tag, &sudi.certificate), (0, &der));
    assert_eq!(sudi.sha1.hash, HashId::Sha1);
    assert_eq!(sudi.sha512.hash, HashId::Sha512);
    assert_eq!(sudi.sha1.signature.len(), 128);

    // The example is in ascending tag order (1,4,6,7,11,13,16,20), capfd's.
    assert_eq!(a.encode(1).unwrap(), bytes);
}

#[test]
fn rsa_signed_contents_match_the_vector() {
    let v = common::load("rsa1024_auth_example.json");
    let a = decode_auth(&common::hex_field(&v, "auth_response_message_hex"));
    let der = &a.certificate.as_ref().unwrap().der;
    assert_eq!(signed_content(&a.device_name, der), common::hex_field(&v, "signed_content_hex"));
    let session = v["session_id"].as_u64().unwrap() as u32;
    assert_eq!(
        sudi_signed_content(session, &a.sudi.as_ref().unwrap().certificate),
        common::hex_field(&v, "sudi_signed_content_hex")
    );
}

#[test]
fn rsa_signatures_pass_the_strict_block_check() {
    let v = common::load("rsa1024_auth_example.json");
    let a = decode_auth(&common::hex_field(&v, "auth_response_message_hex"));
    let der = a.certificate.as_ref().unwrap().der.clone();
    let content = signed_content(&a.device_name, &der);
    let sudi = a.sudi.as_ref().unwrap();
    let sudi_content = sudi_signed_content(1, &sudi.certificate);

    let cases = [
        (a.signed_data_sha1.clone().unwrap(), HashId::Sha1, &content),
        (a.sha2_signed_data.as_ref().unwrap().signature.clone(), HashId::Sha512, &content),
        (sudi.sha1.signature.clone(), HashId::Sha1, &sudi_content),
        (sudi.sha512.signature.clone(), HashId::Sha512, &sudi_content),
    ];
    for (sig, hash, signed) in cases {
        let (block, k) = rsa_recover(&der, &sig);
        assert_eq!(k, 128);
        verify_rsa_block(&block, k, hash, signed).unwrap();

        // Every single changed byte is refused: type, padding, separator, digest.
        for i in [0, 1, 2, k / 2, k - digest(hash, signed).unwrap().len() - 1, k - 1] {
            let mut bad = block.clone();
            bad[i] ^= 0x01;
            assert_eq!(verify_rsa_block(&bad, k, hash, signed), Err(AuthError::RsaMismatch), "byte {i}");
        }
        // A tampered signature recovers to garbage.
        let mut bad_sig = sig.clone();
        bad_sig[40] ^= 0x80;
        let (garbage, _) = rsa_recover(&der, &bad_sig);
        assert!(verify_rsa_block(&garbage, k, hash, signed).is_err());
        // The other hash, and other content, do not match.
        let other = if hash == HashId::Sha1 { HashId::Sha512 } else { HashId::Sha1 };
        assert!(verify_rsa_block(&block, k, other, signed).is_err());
        assert!(verify_rsa_block(&block, k, hash, &signed_content("SEP000000000009", &der)).is_err());
        // A leading zero dropped by a careless big-int conversion is refused.
        assert!(matches!(verify_rsa_block(&block[1..], k, hash, signed), Err(AuthError::BlockLength { .. })));
    }
}

#[test]
fn digest_info_blocks_are_refused_although_their_tail_matches() {
    let v = common::load("rsa1024_auth_example.json");
    let content = common::hex_field(&v, "signed_content_hex");
    let prefixes =
        [(HashId::Sha1, "3021300906052b0e03021a05000414"), (HashId::Sha512, "3051300d060960864801650304020305000440")];
    for (hash, prefix) in prefixes {
        let h = digest(hash, &content).unwrap();
        let info = [hex::decode(prefix).unwrap(), h.clone()].concat();
        // Standard RSASSA-PKCS1-v1_5 block, which capfd's tail check accepts.
        let block = pkcs1_type1_block(128, &info).unwrap();
        assert!(block.ends_with(&h));
        assert_eq!(verify_rsa_block(&block, 128, hash, &content), Err(AuthError::RsaMismatch));
    }
}

fn ec_point(cert_der: &[u8]) -> Vec<u8> {
    let (_, cert) = X509Certificate::from_der(cert_der).unwrap();
    let spki = &cert.tbs_certificate.subject_pki;
    let curve = spki.algorithm.parameters.as_ref().unwrap().as_oid().unwrap();
    assert_eq!(curve, OID_EC_P256);
    spki.subject_public_key.data.to_vec()
}

#[test]
fn ec_example_decodes_re_encodes_and_verifies() {
    let (_, bytes, der, a) = example("ecp256_auth_example.json");
    assert_eq!(a.device_name, DEVICE);
    assert_eq!(a.certificate.as_ref().unwrap().der, der);
    assert!(a.sudi.is_none(), "capfc sends no SUDI for EC keys");
    assert_eq!(a.encode(1).unwrap(), bytes);

    let point = ec_point(&der);
    assert_eq!((point.len(), point[0]), (65, 0x04));
    let content = signed_content(&a.device_name, &der);
    let sig1 = a.signed_data_sha1.clone().unwrap();
    let sig512 = a.sha2_signed_data.as_ref().unwrap();
    assert_eq!(sig1[0], 0x30, "DER Ecdsa-Sig-Value");
    assert_eq!(sig512.hash, HashId::Sha512);

    verify_ecdsa(Curve::P256, HashId::Sha1, &point, &content, &sig1).unwrap();
    verify_ecdsa(Curve::P256, HashId::Sha512, &point, &content, &sig512.signature).unwrap();

    // Tampered signature, tampered content, swapped hash, wrong curve.
    let mut bad = sig512.signature.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    let err = Err(AuthError::EcdsaMismatch);
    assert_eq!(verify_ecdsa(Curve::P256, HashId::Sha512, &point, &content, &bad), err);
    let mut other = content.clone();
    other[3] ^= 0x01;
    assert_eq!(verify_ecdsa(Curve::P256, HashId::Sha512, &point, &other, &sig512.signature), err);
    assert_eq!(verify_ecdsa(Curve::P256, HashId::Sha256, &point, &content, &sig512.signature), err);
    assert_eq!(verify_ecdsa(Curve::P256, HashId::Sha512, &point, &content, &sig1), err);
    assert_eq!(verify_ecdsa(Curve::P521, HashId::Sha512, &point, &content, &sig512.signature), err);
}
