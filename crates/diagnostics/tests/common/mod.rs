//! Certificates for the tests: a CAPF and its LSCs, a lab manufacturer and its MICs, a MIC whose
//! issuer is Cisco's "Cisco Manufacturing CA SHA2", and a CallManager certificate.
#![allow(dead_code)]

use std::path::PathBuf;

use opencapf_diagnostics::ClusterView;
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::CapfCertificate;
use opencapf_pki::{Anchor, CaSigner, CertificateInfo, DeviceName, KeyAlgorithm, PrivateKey, SubjectFields};
use opencapf_testkit as testkit;
pub(crate) use opencapf_testkit::cisco_ca;
use time::OffsetDateTime;

pub(crate) fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub(crate) struct Ca {
    pub der: Vec<u8>,
    pub signer: CaSigner,
}

impl From<testkit::Ca> for Ca {
    fn from(ca: testkit::Ca) -> Ca {
        Ca { signer: ca.signer(), der: ca.der }
    }
}

pub(crate) fn subject() -> SubjectFields {
    SubjectFields {
        organization: Some("stormin".into()),
        organizational_unit: Some("IST".into()),
        locality: Some("Sydney".into()),
        state: Some("NSW".into()),
        country: Some("AU".into()),
    }
}

pub(crate) fn capf() -> Ca {
    testkit::Ca::capf(KeyAlgorithm::Ec256, &subject(), 1825, OffsetDateTime::now_utc()).into()
}

pub(crate) fn lsc(capf: &Ca, device: &str) -> Vec<u8> {
    let device: DeviceName = device.parse().unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let req = LscRequest {
        device: &device,
        public_key_der: phone.public_key_der(),
        model: None,
        pid_sn: Some(("CP-8861".into(), "FCH18198CNQ".into())),
        validity_days: 365,
        now: OffsetDateTime::now_utc(),
    };
    profiles::lsc(&capf.signer, &req).unwrap().der
}

pub(crate) fn lab_manufacturer() -> Ca {
    testkit::Ca::lab_manufacturer(KeyAlgorithm::Ec256, OffsetDateTime::now_utc()).into()
}

pub(crate) fn lab_mic(mfg: &Ca, device: &str) -> Vec<u8> {
    let device: DeviceName = device.parse().unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    profiles::lab_mic(&mfg.signer, &device, "CP-8861", "FCH2133E8B9", phone.public_key_der(), OffsetDateTime::now_utc())
        .unwrap()
        .der
}

/// A MIC shaped like a CP-8861's, whose issuer name is copied from the real "Cisco Manufacturing CA
/// SHA2" certificate (the signature is ours: only the name matters to the classification).
pub(crate) fn cisco_mic(device: &str) -> Vec<u8> {
    let ca_der = cisco_ca("Cisco_Manufacturing_CA_SHA2.pem");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_der(&ca_der.as_slice().into(), &ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CustomDnType(vec![2, 5, 4, 5]), "PID:CP-8861 SN:FCH2133E8B9");
    p.distinguished_name.push(rcgen::DnType::OrganizationName, "Cisco Systems Inc.");
    p.distinguished_name.push(rcgen::DnType::OrganizationalUnitName, "CTG");
    p.distinguished_name.push(rcgen::DnType::CommonName, format!("CP-8861-{device}"));
    p.signed_by(&leaf_key, &issuer).unwrap().der().to_vec()
}

pub(crate) fn callmanager() -> Vec<u8> {
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    profiles::callmanager_certificate(&key, "cucm-pub.lab", &subject(), 365, OffsetDateTime::now_utc()).unwrap().der
}

/// A cluster view built in memory: `capfs` (the first active), and the two stores.
pub(crate) fn view(capfs: &[&Ca], callmanager_trust: &[&[u8]], capf_trust: &[&[u8]]) -> ClusterView {
    let anchors = |ders: &[&[u8]]| ders.iter().map(|d| Anchor { der: d.to_vec(), legacy_sha1: false }).collect();
    let capfs = capfs
        .iter()
        .enumerate()
        .map(|(i, c)| CapfCertificate { info: CertificateInfo::parse(&c.der).unwrap(), active: i == 0 })
        .collect();
    ClusterView::new(capfs, anchors(callmanager_trust), anchors(capf_trust))
}

pub(crate) fn issuer_cn(der: &[u8]) -> String {
    CertificateInfo::parse(der).unwrap().issuer_cn.unwrap()
}

pub(crate) fn subject_cn(der: &[u8]) -> String {
    CertificateInfo::parse(der).unwrap().subject_cn.unwrap()
}
