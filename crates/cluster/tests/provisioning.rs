//! The files phones boot from: what the ITL holds and who signs it, the device configuration and
//! its signature, and what an unknown device's request leaves behind.

use std::net::IpAddr;
use std::process::Command;

use opencapf_cluster::{CapfSettings, Endpoints, InitOptions, ProvisionedFile, Selection};
use opencapf_model::{AuthMode, CertificateOperation, Role, SecurityMode, Service, TrustStore};
use opencapf_pki::KeyAlgorithm;
use opencapf_pki::{Itl, SignedFile, SignerVersion};
use opencapf_testkit::{add_device, init_options, new_device, TestCluster};

const PHONE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

fn at() -> Endpoints {
    Endpoints::standard("cucm.lab")
}

async fn fetch(t: &TestCluster, name: &str) -> ProvisionedFile {
    t.cluster.provisioning_file(name, &at(), PHONE).await.unwrap()
}

async fn found(t: &TestCluster, name: &str) -> Vec<u8> {
    match fetch(t, name).await {
        ProvisionedFile::Found(b) => b,
        other => panic!("{name}: {other:?}"),
    }
}

/// A cluster with an RSA CAPF key, as CUCM's (test clusters default to EC for speed).
async fn rsa_cluster() -> TestCluster {
    TestCluster::with(InitOptions { capf_key: KeyAlgorithm::Rsa2048, ..init_options() }).await
}

fn roles(itl: &Itl) -> Vec<Option<Role>> {
    itl.records.iter().map(|r| r.role()).collect()
}

#[tokio::test]
async fn the_itl_is_signed_by_itlrecovery_and_holds_the_servers_phones_need() {
    let t = rsa_cluster().await;
    let bytes = found(&t, "ITLFile.tlv").await;
    assert_eq!(found(&t, "ITLSEPC80084AA8743.tlv").await, bytes, "per-device ITL is the cluster's ITL");
    assert_eq!(found(&t, "ITLFile.tlv").await, bytes, "the same bytes on every request");
    let itl = Itl::parse(&bytes).unwrap();
    assert_eq!(itl.header.filename, "ITLFile.tlv");
    assert_eq!(itl.header.version, (1, 2));
    assert_eq!(itl.header.signer_version, Some(SignerVersion::V1_0.bytes()));
    assert_eq!(roles(&itl), [Some(Role::Sast), Some(Role::CcmTftp), Some(Role::Capf), Some(Role::Tvs)]);
    let recovery = t.cluster.require_certificate(Service::ItlRecovery).await.unwrap();
    itl.verify_with(&recovery.der).unwrap();
    assert_eq!(itl.signer().unwrap().certificate.as_deref(), Some(recovery.der.as_slice()));
    let cm = t.cluster.require_certificate(Service::CallManager).await.unwrap();
    assert!(itl.verify_with(&cm.der).is_err(), "CallManager does not sign the ITL");

    // A regenerated CAPF joins the list; the retired one stays while a store trusts it.
    let old = t.cluster.require_certificate(Service::Capf).await.unwrap();
    t.cluster.regenerate_capf(None, "test").await.unwrap();
    let new = t.cluster.require_certificate(Service::Capf).await.unwrap();
    let itl = Itl::parse(&found(&t, "ITLFile.tlv").await).unwrap();
    let capfs: Vec<&[u8]> = itl.certificates_with(Role::Capf).collect();
    assert_eq!(capfs, [new.der.as_slice(), old.der.as_slice()]);
    itl.verify_with(&recovery.der).unwrap();
    for store in TrustStore::PHONE_CERTIFICATES {
        t.cluster.remove_trust(store, &old.fingerprint, true, "test").await.unwrap();
    }
    let itl = Itl::parse(&found(&t, "ITLFile.tlv").await).unwrap();
    assert_eq!(itl.certificates_with(Role::Capf).collect::<Vec<_>>(), [new.der.as_slice()]);
}

#[tokio::test]
async fn ec_makes_the_itl_signer_version_1_1() {
    let ec_capf = TestCluster::new().await;
    let itl = Itl::parse(&found(&ec_capf, "ITLFile.tlv").await).unwrap();
    assert_eq!(itl.header.signer_version, Some(SignerVersion::V1_1.bytes()), "EC CAPF certificate");

    let t = rsa_cluster().await;
    let mut d = new_device("SEPC80084AA8743");
    d.security_mode = SecurityMode::Encrypted;
    let name = add_device(&t.cluster, d).await;
    let ec = CapfSettings { key_order: Some(opencapf_model::KeyOrder::EcOnly), ..CapfSettings::default() };
    t.cluster.set_capf(&Selection::Names(vec![name]), &ec, opencapf_testkit::now(), "test", |_, _| {}).await.unwrap();
    let itl = Itl::parse(&found(&t, "ITLFile.tlv").await).unwrap();
    assert_eq!(itl.header.signer_version, Some(SignerVersion::V1_1.bytes()));
}

#[tokio::test]
async fn the_configuration_says_how_to_reach_capf_only_while_an_operation_is_pending() {
    let t = TestCluster::new().await;
    let mut d = new_device("SEPC80084AA8743");
    d.security_mode = SecurityMode::Encrypted;
    d.lines = opencapf_cluster::parse_lines(&["2222", "2223"]).unwrap();
    d.load_information = Some("sip88xx.14-2-1-0001-14".into());
    let name = add_device(&t.cluster, d).await;

    let xml = String::from_utf8(found(&t, "SEPC80084AA8743.cnf.xml").await).unwrap();
    for part in [
        "<deviceProtocol>SIP</deviceProtocol>",
        "<deviceSecurityMode>3</deviceSecurityMode>",
        "<transportLayerProtocol>3</transportLayerProtocol>",
        "<processNodeName>cucm.lab</processNodeName>",
        "<securedSipPort>5061</securedSipPort>",
        "<port>2445</port>",
        "<name>2222</name>",
        "<name>2223</name>",
        "<loadInformation>sip88xx.14-2-1-0001-14</loadInformation>",
        "<certHash></certHash>",
    ] {
        assert!(xml.contains(part), "{part} missing from\n{xml}");
    }
    assert!(!xml.contains("capfAuthMode") && !xml.contains("capfList"), "no operation pending:\n{xml}");
    xmllint(&xml);

    let install = CapfSettings {
        operation: Some(CertificateOperation::InstallUpgrade),
        auth_mode: Some(AuthMode::NullString),
        ..CapfSettings::default()
    };
    let deadline = opencapf_testkit::now() + time::Duration::days(1);
    t.cluster.set_capf(&Selection::Names(vec![name]), &install, deadline, "test", |_, _| {}).await.unwrap();
    let xml = String::from_utf8(found(&t, "SEPC80084AA8743.cnf.xml").await).unwrap();
    assert!(xml.contains("<capfAuthMode>2</capfAuthMode>"), "{xml}");
    assert!(xml.contains("<phonePort>3804</phonePort>"), "{xml}");
    xmllint(&xml);

    // The signed file: the same XML after a header signed by CallManager (CCM+TFTP).
    let sgn = SignedFile::parse(&found(&t, "SEPC80084AA8743.cnf.xml.sgn").await).unwrap();
    assert_eq!(sgn.header.filename, "SEPC80084AA8743.cnf.xml.sgn");
    assert_eq!(String::from_utf8(sgn.content.clone()).unwrap(), xml);
    let cm = t.cluster.require_certificate(Service::CallManager).await.unwrap();
    sgn.verify_with(&cm.der).unwrap();
    let recovery = t.cluster.require_certificate(Service::ItlRecovery).await.unwrap();
    assert!(sgn.verify_with(&recovery.der).is_err());
}

#[tokio::test]
async fn unknown_devices_get_not_found_and_are_listed_and_ctl_is_unavailable() {
    let t = TestCluster::new().await;
    assert_eq!(fetch(&t, "SEP0011223344AA.cnf.xml.sgn").await, ProvisionedFile::NotFound);
    assert_eq!(fetch(&t, "CTLSEP0011223344AA.tlv").await, ProvisionedFile::Unavailable);
    assert_eq!(fetch(&t, "Ringlist-wb.xml").await, ProvisionedFile::NotFound);
    let asked = t.cluster.unknown_requests().await.unwrap();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].device.as_str(), "SEP0011223344AA");
    assert_eq!(asked[0].last_file, "SEP0011223344AA.cnf.xml.sgn");
    assert_eq!(asked[0].last_source, PHONE.to_string());
}

/// The real peer: libxml2's parser accepts the file.
fn xmllint(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("SEP.cnf.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint").arg("--noout").arg(&file).output().expect("xmllint (apt install libxml2-utils)");
    assert!(out.status.success(), "xmllint refused:\n{}\n{xml}", String::from_utf8_lossy(&out.stderr));
}
