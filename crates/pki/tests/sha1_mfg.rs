//! The lab manufacturer's older, SHA-1 CA and the 79xx-era MICs it issues: re-signed outside
//! rcgen, read back with x509-parser and checked by the openssl command line.

use std::process::Command;

use ::time::OffsetDateTime;
use opencapf_pki::profiles::{self, LAB_MFG_SHA1_CA_CN};
use opencapf_pki::{
    classify, resign_sha1, verify, Anchor, CaSigner, CertificateKind, DeviceName, IssuedCertificate, KeyAlgorithm,
    PrivateKey, Verification,
};
use x509_parser::oid_registry::{OID_PKCS1_SHA1WITHRSA, OID_PKCS1_SHA256WITHRSA};
use x509_parser::prelude::*;

fn manufacturer(now: OffsetDateTime) -> (IssuedCertificate, CaSigner, PrivateKey) {
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let root = profiles::lab_manufacturer_root(&key, now).unwrap();
    let signer = CaSigner::new(&root.der, &key).unwrap();
    (root, signer, key)
}

/// Both algorithm identifiers of a certificate: the TBS one and the outer one.
fn algorithms(der: &[u8]) -> (x509_parser::der_parser::Oid<'static>, x509_parser::der_parser::Oid<'static>) {
    let (rest, cert) = parse_x509_certificate(der).unwrap();
    assert!(rest.is_empty());
    (cert.tbs_certificate.signature.algorithm.to_owned(), cert.signature_algorithm.algorithm.to_owned())
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed (see .ci/run)");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_sha1_ca_is_self_signed_with_sha1_and_the_same_every_time() {
    let now = OffsetDateTime::now_utc();
    let (root, signer, key) = manufacturer(now);
    let old = profiles::lab_manufacturer_sha1_root(&signer).unwrap();
    assert_eq!(old.info.subject_cn.as_deref(), Some(LAB_MFG_SHA1_CA_CN));
    assert!(old.info.is_ca && old.info.self_issued && old.info.sha1_signed);
    assert_eq!(old.info.public_key_der, key.public_key_der());
    assert_eq!((old.info.not_before, old.info.not_after), (root.info.not_before, root.info.not_after));
    assert_eq!(algorithms(&old.der), (OID_PKCS1_SHA1WITHRSA, OID_PKCS1_SHA1WITHRSA));
    // Derived, not stored: the same root gives the same older CA.
    assert_eq!(profiles::lab_manufacturer_sha1_root(&signer).unwrap().der, old.der);
    assert!(opencapf_pki::check_issued_by(&old.der, key.public_key_der(), true).unwrap().is_ok());
}

#[test]
fn a_79xx_mic_is_sha1_signed_by_the_older_ca_and_openssl_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let (root, signer, key) = manufacturer(now);
    let old = profiles::lab_manufacturer_sha1_root(&signer).unwrap();
    let old_signer = CaSigner::new(&old.der, &key).unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
    let device: DeviceName = "SEP001122334455".parse().unwrap();
    let mic = profiles::lab_mic(&old_signer, &device, "CP-7965", "LAB12345678", phone.public_key_der(), now).unwrap();
    assert_eq!(mic.info.issuer_cn.as_deref(), Some(LAB_MFG_SHA1_CA_CN));
    assert_eq!(algorithms(&mic.der), (OID_PKCS1_SHA1WITHRSA, OID_PKCS1_SHA1WITHRSA));
    assert_eq!(mic.info.key, "RSA 1024");
    assert_eq!(classify(&mic.info, None), CertificateKind::Mic);
    // The SHA-256 manufacturer still signs with SHA-256.
    let modern = profiles::lab_mic(&signer, &device, "CP-8861", "LAB12345678", phone.public_key_der(), now).unwrap();
    assert_eq!(algorithms(&modern.der), (OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA256WITHRSA));

    // A store trusts it only under its legacy-SHA-1 policy.
    let anchor = |legacy_sha1| vec![Anchor { der: old.der.clone(), legacy_sha1 }];
    assert!(verify(std::slice::from_ref(&mic.der), &anchor(true), now).unwrap().is_trusted());
    assert!(matches!(
        verify(std::slice::from_ref(&mic.der), &anchor(false), now).unwrap(),
        Verification::LegacySha1Refused { .. }
    ));

    let path = |name: &str, pem: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let (old_pem, root_pem, mic_pem) =
        (path("old.pem", old.pem()), path("root.pem", root.pem()), path("mic.pem", mic.pem()));
    let (ok, out) = openssl(&["verify", "-auth_level", "0", "-x509_strict", "-CAfile", &old_pem, &mic_pem]);
    assert!(ok && out.contains(": OK"), "{out}");
    let (ok, out) = openssl(&["verify", "-auth_level", "0", "-CAfile", &root_pem, &mic_pem]);
    assert!(!ok, "the SHA-256 root must not be the MIC's issuer: {out}");
    let (ok, text) = openssl(&["x509", "-in", &mic_pem, "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(text.contains("Signature Algorithm: sha1WithRSAEncryption"), "{text}");
    assert!(!text.contains("sha256"), "{text}");
    assert!(text.contains("OpenCAPF Lab Manufacturing CA (SHA-1)"), "{text}");
}

#[test]
fn resigning_refuses_ec_issuers_and_what_is_not_sha256_rsa() {
    let now = OffsetDateTime::now_utc();
    let (root, _, key) = manufacturer(now);
    let ec = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    assert!(resign_sha1(&root.der, &ec).is_err());
    assert!(resign_sha1(&root.der[..root.der.len() - 1], &key).is_err());
    assert!(resign_sha1(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &key).is_err());
    let once = resign_sha1(&root.der, &key).unwrap();
    // Already SHA-1: nothing of sha256WithRSAEncryption left to replace.
    assert!(resign_sha1(&once, &key).is_err());
    let ec_root = profiles::lab_manufacturer_root(&ec, now).unwrap();
    assert!(resign_sha1(&ec_root.der, &key).is_err());
}
