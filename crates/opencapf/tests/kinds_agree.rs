//! `diagnose pcap` and `cert inspect` read every certificate as the same kind (issue 8: one
//! classifier), with a cluster and without one, through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use opencapf_cluster::Cluster as Store;
use opencapf_diagnostics::synth::{self, Conversation, Link};
use opencapf_model::Service;
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{CaSigner, DeviceName, KeyAlgorithm, PrivateKey};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const CISCO_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/cisco-ca");

fn cmd(data: &Path) -> Command {
    let mut c = Command::cargo_bin("opencapf").unwrap();
    c.env_remove("OPENCAPF_DATA_DIR").arg("--data-dir").arg(data);
    c
}

fn json(data: &Path, args: &[&str], file: &Path) -> Value {
    let out = cmd(data).arg("--json").args(args).arg(file).output().unwrap();
    // 1 is an untrusted verdict (the report is printed all the same); kinds are compared here.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn device(n: u8) -> DeviceName {
    format!("SEP0000000000{n:02X}").parse().unwrap()
}

fn lsc_from(signer: &CaSigner, device: &DeviceName) -> Vec<u8> {
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let req = LscRequest {
        device,
        public_key_der: phone.public_key_der(),
        model: None,
        pid_sn: None,
        validity_days: 365,
        now: now(),
    };
    profiles::lsc(signer, &req).unwrap().der
}

/// A CA named `cn` (self-signed) and its key.
fn ca_named(cn: &str) -> (Vec<u8>, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
    (p.self_signed(&key).unwrap().der().to_vec(), key)
}

/// A client leaf named `cn`, signed by `issuer` (or by itself).
fn leaf(cn: &str, issuer: Option<&(Vec<u8>, rcgen::KeyPair)>) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.not_before = now() - Duration::days(1);
    p.not_after = now() + Duration::days(365);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    match issuer {
        Some((der, ca_key)) => {
            p.use_authority_key_identifier_extension = true;
            let issuer = rcgen::Issuer::from_ca_cert_der(&der.as_slice().into(), ca_key).unwrap();
            p.signed_by(&key, &issuer).unwrap().der().to_vec()
        }
        None => p.self_signed(&key).unwrap().der().to_vec(),
    }
}

fn cisco_cas() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CISCO_CA).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let der = opencapf_pki::pem::parse_certificates(&std::fs::read(&f).unwrap()).unwrap().remove(0);
            (f.file_name().unwrap().to_string_lossy().into_owned(), der)
        })
        .collect()
}

/// Every certificate of the test, named, with the kind expected with the cluster and without.
fn certificates(data: &Path) -> Vec<(String, Vec<u8>, &'static str, &'static str)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (active, retired) = rt.block_on(async {
        opencapf_cluster::init(
            data,
            opencapf_cluster::InitOptions {
                capf_key: KeyAlgorithm::Ec256,
                subject: Default::default(),
                hostname: "cucm-pub.lab".into(),
                manufacturer_cas: Vec::new(),
                actor: "test".into(),
            },
        )
        .await
        .unwrap();
        let store = Store::open(data).await.unwrap();
        let old = store.signer(Service::Capf).await.unwrap();
        store.regenerate_capf(Some(KeyAlgorithm::Ec256), "test").await.unwrap();
        let new = store.signer(Service::Capf).await.unwrap();
        store.close().await;
        (new, old)
    });
    let their_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let theirs = profiles::capf_certificate(&their_key, &Default::default(), 365, now()).unwrap();
    let theirs = CaSigner::new(&theirs.der, &their_key).unwrap();
    let mfg_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let mfg = profiles::lab_manufacturer_root(&mfg_key, now()).unwrap();
    let mfg = CaSigner::new(&mfg.der, &mfg_key).unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let mic = profiles::lab_mic(&mfg, &device(5), "CP-8861", "FCH18198CNQ", phone.public_key_der(), now()).unwrap();

    let mut certs = vec![
        ("LSC of the active CAPF".to_owned(), lsc_from(&active, &device(1)), "lsc-this-cluster", "lsc"),
        ("LSC of a retired CAPF".to_owned(), lsc_from(&retired, &device(2)), "lsc-this-cluster", "lsc"),
        ("LSC of another cluster".to_owned(), lsc_from(&theirs, &device(3)), "lsc-other-cluster", "lsc"),
        ("issuer CAPF-lab".to_owned(), leaf("SEP000000000004", Some(&ca_named("CAPF-lab"))), "other", "other"),
        ("lab MIC".to_owned(), mic.der, "mic", "mic"),
        (
            "issuer named Cisco Manufacturing CA SHA2".to_owned(),
            leaf("CP-8861-SEP000000000006", Some(&ca_named("Cisco Manufacturing CA SHA2"))),
            "mic",
            "mic",
        ),
        ("self-signed leaf".to_owned(), leaf("SEP000000000007", None), "other", "other"),
    ];
    certs.extend(cisco_cas().into_iter().map(|(name, der)| (name, der, "other", "other")));
    certs
}

/// One capture: each certificate the client certificate of one TLS 1.2 connection, in order.
fn capture(certs: &[(String, Vec<u8>, &str, &str)], file: &Path) {
    let server_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let server =
        profiles::callmanager_certificate(&server_key, "cucm-pub.lab", &Default::default(), 30, now()).unwrap();
    let mut packets = Vec::new();
    for (i, (_, der, _, _)) in certs.iter().enumerate() {
        let hs = synth::tls12_handshake(&[&server.der], Some(&[der]), &[], None, 16384);
        let client = format!("10.106.104.243:{}", 51000 + i).parse().unwrap();
        let mut conv = Conversation::new(client, "10.106.104.211:5061".parse().unwrap());
        packets.extend(synth::tls12_connection(&mut conv, &hs, 1460, false));
    }
    std::fs::write(file, synth::pcap_of(&Link::Ethernet(vec![10]), &packets, 1_790_000_000.0)).unwrap();
}

#[test]
fn diagnose_pcap_and_cert_inspect_agree_on_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("cluster");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let certs = certificates(&cluster);
    let pcap = dir.path().join("kinds.pcap");
    capture(&certs, &pcap);

    for (data, with_cluster) in [(&cluster, true), (&empty, false)] {
        let report = json(data, &["diagnose", "pcap"], &pcap);
        let connections = report["connections"].as_array().unwrap();
        assert_eq!(connections.len(), certs.len());
        for (i, (name, der, with, without)) in certs.iter().enumerate() {
            let file = dir.path().join(format!("cert-{i}.pem"));
            std::fs::write(&file, opencapf_pki::pem::encode("CERTIFICATE", der)).unwrap();
            let inspected = json(data, &["cert", "inspect"], &file);
            let fingerprint = &inspected["certificate"]["fingerprint"];
            let c = connections
                .iter()
                .find(|c| &c["client_certificates"][0]["fingerprint"] == fingerprint)
                .unwrap_or_else(|| panic!("{name}: not in the capture"));
            let expected = if with_cluster { with } else { without };
            assert_eq!(inspected["kind"], *expected, "{name}, cluster: {with_cluster}: cert inspect");
            assert_eq!(c["client_certificate_kind"], inspected["kind"], "{name}, cluster: {with_cluster}");
        }
    }
}
