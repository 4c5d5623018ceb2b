//! `classify()`: the reading a TAC engineer does on a capture (seed rule 8). An issuer
//! `CN=CAPF-xxxxxxxx` means an LSC, ours or another cluster's; a manufacturing CA means a MIC.

use ::time::macros::datetime;
use ::time::{Duration, OffsetDateTime};
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{
    classify, CaSigner, CertificateInfo, CertificateKind, DeviceName, IssuedCertificate, KeyAlgorithm, PrivateKey,
    SubjectFields,
};
use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyUsagePurpose};
use rustls_pki_types::PrivatePkcs8KeyDer;

const NOW: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

// ---- Helpers -------------------------------------------------------------------------------

fn capf(now: OffsetDateTime) -> (PrivateKey, IssuedCertificate) {
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let cert = profiles::capf_certificate(&key, &SubjectFields::default(), 1825, now).unwrap();
    (key, cert)
}

fn lsc(capf: &(PrivateKey, IssuedCertificate), name: &str) -> CertificateInfo {
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let device: DeviceName = name.parse().unwrap();
    let req = LscRequest {
        device: &device,
        public_key_der: phone.public_key_der(),
        model: None,
        pid_sn: None,
        validity_days: 365,
        now: NOW,
    };
    profiles::lsc(&CaSigner::new(&capf.1.der, &capf.0).unwrap(), &req).unwrap().info
}

fn cisco(file: &str) -> Vec<u8> {
    let path = format!("{}/../../../shared/data/cisco-ca/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    opencapf_pki::pem::parse_certificates(&bytes).unwrap().remove(0)
}

fn info(der: &[u8]) -> CertificateInfo {
    CertificateInfo::parse(der).unwrap()
}

// ---- Tests ---------------------------------------------------------------------------------

#[test]
fn lscs_of_the_current_and_a_retired_capf_are_this_clusters() {
    let retired = capf(NOW - Duration::days(400));
    let current = capf(NOW);
    let by_retired = lsc(&retired, "SEP0011223344AA");
    let by_current = lsc(&current, "SEP0011223344BB");
    let ours = [current.1.info.clone(), retired.1.info.clone()];

    assert_eq!(classify(&by_current, Some(&ours)), CertificateKind::LscThisCluster);
    assert_eq!(classify(&by_retired, Some(&ours)), CertificateKind::LscThisCluster);
    assert_eq!(CertificateKind::LscThisCluster.to_string(), "LSC (this cluster)");
    // Once the retired CAPF is forgotten, its LSCs read as another cluster's.
    assert_eq!(classify(&by_retired, Some(&ours[..1])), CertificateKind::LscOtherCluster);
}

#[test]
fn an_lsc_whose_capf_is_not_ours_is_another_clusters() {
    // Seed rule 5: a phone moved from another cluster keeps that cluster's LSC.
    let theirs = capf(NOW);
    let ours = capf(NOW);
    let moved = lsc(&theirs, "SEP0011223344AA");
    let issuer_cn = moved.issuer_cn.clone().unwrap();
    assert!(opencapf_pki::is_capf_name(&issuer_cn), "{issuer_cn}");
    assert_ne!(Some(issuer_cn), ours.1.info.subject_cn);

    assert_eq!(classify(&moved, Some(std::slice::from_ref(&ours.1.info))), CertificateKind::LscOtherCluster);
    assert_eq!(classify(&moved, Some(&[])), CertificateKind::LscOtherCluster);
    assert_eq!(CertificateKind::LscOtherCluster.to_string(), "LSC (another cluster)");
}

#[test]
fn a_lab_mic_is_a_mic() {
    let root_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let root = profiles::lab_manufacturer_root(&root_key, NOW).unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let device: DeviceName = "SEP0011223344AA".parse().unwrap();
    let signer = CaSigner::new(&root.der, &root_key).unwrap();
    let mic = profiles::lab_mic(&signer, &device, "CP-8861", "LAB12345678", phone.public_key_der(), NOW).unwrap();

    assert_eq!(classify(&mic.info, Some(&[capf(NOW).1.info])), CertificateKind::Mic);
    assert_eq!(CertificateKind::Mic.to_string(), "MIC");
}

#[test]
fn a_leaf_naming_ciscos_manufacturing_ca_as_issuer_is_a_mic() {
    // The issuer name copied byte for byte from the real "Cisco Manufacturing CA SHA2", signed by
    // a key of our own: classification reads names, as on a capture (verify() checks signatures).
    let real = cisco("Cisco_Manufacturing_CA_SHA2.pem");
    let own = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(own.pkcs8_der()),
        &rcgen::PKCS_ECDSA_P256_SHA256,
    )
    .unwrap();
    let issuer = Issuer::from_ca_cert_der(&real.as_slice().into(), &signer).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, "CP-8861-SEP0011223344AA");
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let public = rcgen::SubjectPublicKeyInfo::from_der(phone.public_key_der()).unwrap();
    let forged = info(p.signed_by(&public, &issuer).unwrap().der());

    assert_eq!(forged.issuer_der, info(&real).subject_der);
    assert_eq!(forged.issuer_cn.as_deref(), Some("Cisco Manufacturing CA SHA2"));
    assert_eq!(classify(&forged, Some(&[])), CertificateKind::Mic);
}

#[test]
fn the_callmanager_certificate_and_ca_certificates_are_other() {
    let ours = capf(NOW);
    let cluster = [ours.1.info.clone()];
    let cm_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let cm = profiles::callmanager_certificate(&cm_key, "cucm-pub.example.com", &SubjectFields::default(), 1825, NOW)
        .unwrap();
    assert_eq!(classify(&cm.info, Some(&cluster)), CertificateKind::Other);
    assert_eq!(CertificateKind::Other.to_string(), "other");

    // CA certificates are never a phone's certificate, even our own CAPF (self-issued, so its
    // issuer is a CAPF name) or a manufacturing CA issued by a manufacturing root.
    assert_eq!(classify(&ours.1.info, Some(&cluster)), CertificateKind::Other);
    for file in ["Cisco_Manufacturing_CA_SHA2.pem", "Cisco_Manufacturing_CA.pem", "Cisco_Root_CA_M2.pem"] {
        assert_eq!(classify(&info(&cisco(file)), Some(&cluster)), CertificateKind::Other, "{file}");
    }
    let root_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let lab_root = profiles::lab_manufacturer_root(&root_key, NOW).unwrap();
    assert_eq!(classify(&lab_root.info, Some(&cluster)), CertificateKind::Other);
}
