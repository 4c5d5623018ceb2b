//! CAPF messages built from typed elements (`arbitrary`): random bytes rarely make a body whose
//! TLVs line up, so this target writes well-framed element sets (known tags with values of their
//! shape: NUL-terminated texts, numbers, certificate packages holding real certificates,
//! signature records, SUDI data) and lets the fuzzer vary them. Every body goes through the
//! server's decoding; an AuthResponse's certificate and signatures through the server's check
//! ("By Existing Certificate"). Decoded messages must re-encode to the same message.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use opencapf_capf::proto::auth::signed_content;
use opencapf_capf::proto::element::ElementSet;
use opencapf_capf::proto::frame::{RawMessage, HEADER_LEN, MAGIC};
use opencapf_capf::proto::message::{CertPackage, Message, SignatureRecord, SudiData};
use opencapf_pki::{KeyAlgorithm, PrivateKey};

/// The tags of §1.4, so that most elements are ones a message reads.
const TAGS: [u8; 18] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20];

#[derive(Arbitrary, Debug)]
struct Input {
    /// 1..=23 mostly (the defined commands).
    command: u8,
    session_id: u32,
    elements: Vec<Element>,
}

#[derive(Arbitrary, Debug)]
struct Element {
    /// An index into [`TAGS`], or (when above) a raw tag.
    tag: u8,
    value: Value,
}

#[derive(Arbitrary, Debug)]
enum Value {
    Bytes(Vec<u8>),
    /// A NUL-terminated text (device name, password, reason info).
    Text(String),
    Byte(u8),
    Short(u16),
    Word(u32),
    Package {
        reserved: u8,
        cert_type: u8,
        cert: Cert,
        extra: Vec<(u8, Vec<u8>)>,
    },
    Signature {
        hash: u8,
        signature: Vec<u8>,
    },
    Sudi {
        tag: u8,
        cert: Cert,
        sha1: Vec<u8>,
        sha512: Vec<u8>,
    },
    /// A real SubjectPublicKeyInfo.
    PublicKey(Cert),
}

#[derive(Arbitrary, Debug)]
enum Cert {
    Rsa,
    Ec256,
    Ec384,
    /// A real certificate cut short.
    Cut(u16),
    Raw(Vec<u8>),
}

struct Real {
    certs: [Vec<u8>; 3],
    spkis: [Vec<u8>; 3],
}

fn real() -> &'static Real {
    static REAL: OnceLock<Real> = OnceLock::new();
    REAL.get_or_init(|| {
        let now = time::OffsetDateTime::now_utc();
        let make = |alg| {
            let key = PrivateKey::generate(alg).unwrap();
            let cert = opencapf_pki::profiles::lab_manufacturer_root(&key, now).unwrap().der;
            (cert, key.public_key_der().to_vec())
        };
        let (a, b, c) = (make(KeyAlgorithm::Rsa2048), make(KeyAlgorithm::Ec256), make(KeyAlgorithm::Ec384));
        Real { certs: [a.0, b.0, c.0], spkis: [a.1, b.1, c.1] }
    })
}

impl Cert {
    fn der(&self) -> Vec<u8> {
        let r = real();
        match self {
            Cert::Rsa => r.certs[0].clone(),
            Cert::Ec256 => r.certs[1].clone(),
            Cert::Ec384 => r.certs[2].clone(),
            Cert::Cut(n) => {
                r.certs[usize::from(*n) % 3][..usize::from(*n) % r.certs[0].len().min(r.certs[1].len())].to_vec()
            }
            Cert::Raw(b) => b.clone(),
        }
    }

    fn spki(&self) -> Vec<u8> {
        let r = real();
        match self {
            Cert::Rsa => r.spkis[0].clone(),
            Cert::Ec256 => r.spkis[1].clone(),
            Cert::Ec384 => r.spkis[2].clone(),
            Cert::Cut(n) => r.spkis[0][..usize::from(*n) % r.spkis[0].len()].to_vec(),
            Cert::Raw(b) => b.clone(),
        }
    }
}

fn record(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    out.push(tag);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

impl Value {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.clone(),
            Value::Text(s) => [s.as_bytes(), &[0]].concat(),
            Value::Byte(b) => vec![*b],
            Value::Short(s) => s.to_be_bytes().to_vec(),
            Value::Word(w) => w.to_be_bytes().to_vec(),
            Value::Package { reserved, cert_type, cert, extra } => {
                let mut out = Vec::new();
                record(&mut out, 1, &[&[*reserved, *cert_type][..], &cert.der()].concat());
                for (tag, value) in extra {
                    record(&mut out, *tag, value);
                }
                out
            }
            Value::Signature { hash, signature } => {
                let mut out = Vec::new();
                record(&mut out, *hash, signature);
                out
            }
            Value::Sudi { tag, cert, sha1, sha512 } => {
                let mut out = Vec::new();
                record(&mut out, *tag, &cert.der());
                record(&mut out, 1, sha1);
                record(&mut out, 3, sha512);
                out
            }
            Value::PublicKey(cert) => cert.spki(),
        }
    }
}

fuzz_target!(|input: Input| {
    let mut body = Vec::new();
    for e in &input.elements {
        let tag = TAGS.get(usize::from(e.tag)).copied().unwrap_or(e.tag);
        record(&mut body, tag, &e.value.bytes());
        if body.len() > usize::from(u16::MAX) {
            return;
        }
    }
    let command = if input.command < 0xe0 { 1 + input.command % 23 } else { input.command };
    let mut frame = vec![MAGIC, command];
    frame.extend_from_slice(&input.session_id.to_be_bytes());
    frame.extend_from_slice(&(body.len() as u16).to_be_bytes());
    frame.extend_from_slice(&body);
    assert_eq!(frame.len(), HEADER_LEN + body.len());

    let raw = RawMessage::decode(&frame).expect("a well-framed message frames");
    let elements = ElementSet::parse(&raw.body).expect("well-formed elements parse");
    assert!(elements.len() <= input.elements.len());
    for tag in elements.tags() {
        let value = elements.get(tag).unwrap();
        let _ = CertPackage::parse(value);
        let _ = SignatureRecord::parse(value);
        let _ = SudiData::parse(value);
    }
    let Ok(decoded) = Message::decode(&raw) else { return };
    let bytes = decoded.message.encode(decoded.session_id).expect("a decoded message encodes");
    let again = Message::decode(&RawMessage::decode(&bytes).unwrap()).expect("an encoded message decodes");
    assert_eq!(again.message, decoded.message);

    if let Message::AuthResponse(auth) = &decoded.message {
        if let Some(package) = &auth.certificate {
            let content = signed_content(&auth.device_name, &package.der);
            if let Some(sig) = &auth.signed_data_sha1 {
                let _ = opencapf_capf::fuzzing::check_signature(&package.der, 1, &content, sig);
            }
            if let Some(sha2) = &auth.sha2_signed_data {
                let _ =
                    opencapf_capf::fuzzing::check_signature(&package.der, sha2.hash.into(), &content, &sha2.signature);
            }
        }
        if let Some(sudi) = &auth.sudi {
            let content = opencapf_capf::proto::auth::sudi_signed_content(decoded.session_id, &sudi.certificate);
            let _ = opencapf_capf::fuzzing::check_signature(&sudi.certificate, 3, &content, &sudi.sha512.signature);
        }
    }
});
