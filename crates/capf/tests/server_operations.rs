//! The CAPF server over real TLS on 127.0.0.1: every operation, in each authentication mode,
//! as a phone that behaves does it. What must hold after each: the status the administrator
//! reads, the LSC recorded exactly once, the device's LSC/MIC, the history and the audit log.

use crate::server_common;

use opencapf_capf::proto::message::*;
use opencapf_model::{AuthMode, CapfUpdate, CertificateOperation, KeyOrder};
use opencapf_pki::{CertificateInfo, KeyAlgorithm, PrivateKey};
use opencapf_tls::TlsVersions;
use rustls::ProtocolVersion;
use server_common::*;

const PHONE: &str = "SEP2C3124C9F8E1";

#[tokio::test]
async fn install_by_null_string_records_the_lsc_once() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::RsaOnly).await;

    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    let Message::KeyGenRequest(request) = phone.recv().await else { panic!("expected KeyGenRequest") };
    assert_eq!(request.key, KeySpec::Rsa { bits: 2048 });
    let key = generate(request.key);
    for _ in 0..3 {
        phone.send(RequestInProgress).await; // any number while the key is generated
    }
    phone.send(KeyGenResponse { reason: None, public_key: Some(key.public_key_der().to_vec()) }).await;
    let lsc = phone.store_lsc(true).await;
    assert_eq!(phone.end_reason().await, Reason::OK);

    let info = CertificateInfo::parse(&lsc).unwrap();
    assert_eq!(info.subject_cn.as_deref(), Some("CP-8861-SEP2C3124C9F8E1"), "CUCM names the LSC <model>-<device>");
    assert_eq!(info.public_key_der, key.public_key_der());
    let capf = CertificateInfo::parse(&lab.capf_der().await).unwrap();
    assert_eq!(info.issuer_der, capf.subject_der, "the LSC issuer is the CAPF's subject");

    let device = lab.device(PHONE).await;
    assert_eq!(device.capf.status, "Upgrade Success");
    assert_eq!(device.capf.operation, CertificateOperation::NoPendingOperation);
    assert_eq!(device.lsc.as_ref().unwrap().der, lsc);
    let issued = lab.issued(PHONE).await;
    assert_eq!(issued.len(), 1, "recorded exactly once");
    assert_eq!((issued[0].serial.as_str(), issued[0].state.as_str()), (info.serial.as_str(), "installed"));

    let h = last_history(&lab, PHONE).await;
    assert_eq!((h.status.as_str(), h.auth_mode.as_str()), ("Upgrade Success", "By Null String"));
    assert!(h.detail.contains(&info.serial), "{}", h.detail);
    // The session's TLS is named (a legacy one would read `TLSv1 AES256-SHA (legacy)`).
    assert!(h.detail.contains(" over TLSv1.") && !h.detail.contains("legacy"), "{}", h.detail);
    let audit = lab.audit().await;
    let entry = audit.iter().find(|a| a.action == "capf.upgrade").expect("an audit record");
    assert_eq!(entry.actor, "capf");
    assert_eq!(entry.target, PHONE);
    for part in ["Upgrade Success", "By Null String", info.serial.as_str(), capf.subject.as_str()] {
        assert!(entry.detail.contains(part), "audit detail lacks {part}: {}", entry.detail);
    }
}

#[tokio::test]
async fn install_by_authentication_string_is_single_use() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    let schedule = |s: Option<&'static str>| {
        lab.schedule(PHONE, CertificateOperation::InstallUpgrade, AuthMode::AuthenticationString, s, KeyOrder::EcOnly)
    };
    schedule(Some("12345678")).await;

    // Wrong first: refused, nothing issued, the operation still pending.
    assert_eq!(refused(&lab, PHONE, &Creds::Password("87654321".into())).await, Reason::InvalidElement);
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed: Invalid Authentication String");
    assert_eq!(d.capf.operation, CertificateOperation::InstallUpgrade);
    assert!(lab.issued(PHONE).await.is_empty());

    // Right: an EC P-256 LSC, and the string is spent.
    let (lsc, _) = install(&lab, PHONE, &Creds::Password("12345678".into())).await;
    assert_eq!(CertificateInfo::parse(&lsc).unwrap().key, "EC P-256");
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Success");
    assert!(d.capf.auth_string.is_none(), "the authentication string is single-use");

    // Scheduled again without a new string: the old one no longer works.
    schedule(None).await;
    assert_eq!(refused(&lab, PHONE, &Creds::Password("12345678".into())).await, Reason::InvalidElement);
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed: Invalid Authentication String");
    assert_eq!(d.lsc.unwrap().der, lsc, "the installed LSC is untouched");
    assert!(!lab.audit().await.iter().any(|a| a.detail.contains("12345678")), "strings never reach the audit log");
}

#[tokio::test]
async fn wrong_strings_cancel_the_operation_at_the_limit() {
    let lab = Lab::start().await; // max_auth_failures = 3
    lab.add_device(PHONE).await;
    lab.schedule(
        PHONE,
        CertificateOperation::InstallUpgrade,
        AuthMode::AuthenticationString,
        Some("1111"),
        KeyOrder::EcOnly,
    )
    .await;
    for guess in ["2222", "3333"] {
        refused(&lab, PHONE, &Creds::Password(guess.into())).await;
        assert_eq!(lab.device(PHONE).await.capf.operation, CertificateOperation::InstallUpgrade);
    }
    refused(&lab, PHONE, &Creds::Password("4444".into())).await;
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed: Invalid Authentication String");
    assert_eq!(d.capf.operation, CertificateOperation::NoPendingOperation, "guessing stops");
    assert!(d.capf.auth_string.is_none());
    // Even the right string is now refused: nothing is pending.
    assert_eq!(refused(&lab, PHONE, &Creds::Password("1111".into())).await, Reason::NoAction);
}

#[tokio::test]
async fn install_by_existing_mic_carries_pid_and_sn_into_the_lsc() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    let mic_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mic = lab.mic(PHONE, &mic_key);
    let mic_info = CertificateInfo::parse(&mic).unwrap();
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateMic, KeyOrder::EcOnly).await;

    let creds = Creds::Cert { der: mic.clone(), key: mic_key.clone(), sha1: true, sudi: true };
    let (lsc, _) = install(&lab, PHONE, &creds).await;
    let info = CertificateInfo::parse(&lsc).unwrap();
    assert_eq!((info.pid.as_deref(), info.sn.as_deref()), (Some("CP-8861"), mic_info.sn.as_deref()));
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");
    let h = last_history(&lab, PHONE).await;
    assert!(h.detail.contains(&format!("presented MIC serial {}", mic_info.serial)), "{}", h.detail);

    // Precedence to LSC falls back to the MIC when the phone has no LSC; SHA-1 form omitted.
    let other = "SEP2C3124C9F8E2";
    lab.add_device(other).await;
    let key2 = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mic2 = lab.mic(other, &key2);
    lab.schedule_install(other, AuthMode::ExistingCertificateLsc, KeyOrder::EcOnly).await;
    let creds = Creds::Cert { der: mic2, key: key2, sha1: false, sudi: false };
    install(&lab, other, &creds).await;
    assert_eq!(lab.device(other).await.capf.status, "Upgrade Success");
}

#[tokio::test]
async fn upgrade_by_existing_lsc_supersedes_the_previous_one() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    // First an EC P-521 LSC by null string ("EC Preferred, RSA Backup" for a version-3 phone).
    let update =
        capf_update(CertificateOperation::InstallUpgrade, AuthMode::NullString, None, KeyOrder::EcPreferredRsaBackup);
    lab.schedule_update(PHONE, CapfUpdate { ec_bits: 521, ..update }).await;
    let (first, first_key) = install(&lab, PHONE, &Creds::NoPassword).await;
    assert_eq!(CertificateInfo::parse(&first).unwrap().key, "EC P-521");

    // Then upgrade, proving itself with that LSC (ECDSA, SHA-512 only).
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateLsc, KeyOrder::RsaOnly).await;
    let (second, _) = install(&lab, PHONE, &Creds::cert(&first, &first_key)).await;
    assert_eq!(CertificateInfo::parse(&second).unwrap().key, "RSA 2048");

    let device = lab.device(PHONE).await;
    assert_eq!(device.capf.status, "Upgrade Success");
    assert_eq!(device.lsc.unwrap().der, second);
    let mut states: Vec<(String, String)> = lab.issued(PHONE).await.into_iter().map(|i| (i.serial, i.state)).collect();
    states.sort();
    let mut expected = vec![
        (CertificateInfo::parse(&first).unwrap().serial, "superseded".to_owned()),
        (CertificateInfo::parse(&second).unwrap().serial, "installed".to_owned()),
    ];
    expected.sort();
    assert_eq!(states, expected);

    // And once more with the RSA LSC, both signatures and SudiData.
    let lsc_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let recorded = lab.lsc_from_our_capf(PHONE, &lsc_key).await;
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateLsc, KeyOrder::EcOnly).await;
    let creds = Creds::Cert { der: recorded, key: lsc_key, sha1: true, sudi: true };
    install(&lab, PHONE, &creds).await;
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");
}

#[tokio::test]
async fn delete_clears_the_lsc() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::RsaOnly).await;
    let (lsc, key) = install(&lab, PHONE, &Creds::Null).await;

    // Delete, the phone proving itself with the LSC it is about to lose.
    lab.schedule(PHONE, CertificateOperation::Delete, AuthMode::ExistingCertificateLsc, None, KeyOrder::RsaOnly).await;
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::cert(&lsc, &key)).await;
    assert!(matches!(phone.recv().await, Message::DeleteCertificateRequest(_)));
    phone.send(DeleteCertificateResponse { reason: Reason::OK }).await;
    assert_eq!(phone.end_reason().await, Reason::OK);

    let device = lab.device(PHONE).await;
    assert_eq!(device.capf.status, "Delete Success");
    assert!(device.lsc.is_none());
    let issued = lab.issued(PHONE).await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].serial, CertificateInfo::parse(&lsc).unwrap().serial);
    assert_eq!(issued[0].state, "deleted");
    assert!(lab.audit().await.iter().any(|a| a.action == "capf.delete" && a.detail.contains("Delete Success")));
}

#[tokio::test]
async fn troubleshoot_stores_the_uploaded_lsc_and_mic() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    let mic_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mic = lab.mic(PHONE, &mic_key);
    let lsc_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let lsc = lab.lsc_from_our_capf(PHONE, &lsc_key).await;
    lab.schedule(PHONE, CertificateOperation::Troubleshoot, AuthMode::NullString, None, KeyOrder::RsaOnly).await;

    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(phone.recv().await, Message::FetchCertificateRequest(_)));
    // Reason 1, then two Certificate elements: the LSC and the MIC.
    let mut body = vec![1, 0, 1, 1];
    for der in [&lsc, &mic] {
        let package = CertPackage::new(der.clone()).encode().unwrap();
        body.push(4);
        body.extend_from_slice(&(package.len() as u16).to_be_bytes());
        body.extend_from_slice(&package);
    }
    let raw = opencapf_capf::proto::frame::RawMessage::new(
        opencapf_capf::proto::frame::Command::FetchCertificateResponse,
        phone.session_id,
        body,
    );
    phone.send_raw(&raw.encode().unwrap()).await;
    assert_eq!(phone.end_reason().await, Reason::NoAction);

    let device = lab.device(PHONE).await;
    assert_eq!(device.capf.status, "Troubleshoot Success");
    assert_eq!(device.mic_der.as_deref(), Some(mic.as_slice()), "a verified MIC is recorded");
    assert!(device.lsc.is_none(), "an upload does not change the recorded LSC");
    let uploaded = lab.uploaded(PHONE).await;
    let mut kinds: Vec<(&str, &[u8])> = uploaded.iter().map(|u| (u.kind.as_str(), u.der.as_slice())).collect();
    kinds.sort();
    assert_eq!(kinds, vec![("LSC", lsc.as_slice()), ("MIC", mic.as_slice())]);
    assert!(lab.audit().await.iter().any(|a| a.action == "capf.troubleshoot"));
}

#[tokio::test]
async fn no_pending_operation_and_unknown_devices() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    assert_eq!(refused(&lab, PHONE, &Creds::Null).await, Reason::NoAction);
    assert_eq!(lab.device(PHONE).await.capf.status, "None", "nothing to record");
    assert_eq!(refused(&lab, "SEP000000000009", &Creds::Null).await, Reason::UnknownDevice);
    assert_eq!(refused(&lab, "CSFJOHNDOE", &Creds::NoPassword).await, Reason::UnknownDevice);
}

#[tokio::test]
async fn tls_12_and_13_and_a_regenerated_capf_certificate() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    let old = lab.capf_der().await;
    let pinned =
        [(TlsVersions::Tls12Only, ProtocolVersion::TLSv1_2), (TlsVersions::Tls13Only, ProtocolVersion::TLSv1_3)];
    for (versions, version) in pinned {
        let mut phone = Phone::connect(lab.addr, old.clone(), versions).await;
        let negotiated = phone.stream.get_ref().1.protocol_version().unwrap();
        assert_eq!(negotiated, version);
        phone.authenticate(PHONE, &Creds::Null).await;
        assert_eq!(phone.end_reason().await, Reason::NoAction);
    }

    // Regenerated while the server runs: the next connection presents the new certificate,
    // and LSCs come from the new CAPF.
    lab.store.regenerate_capf(Some(KeyAlgorithm::Ec256), "test").await.unwrap();
    let new = lab.capf_der().await;
    assert_ne!(new, old);
    assert!(Phone::tls(lab.addr, old, TlsVersions::Tls13Only).await.is_err(), "the old certificate is gone");
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let (lsc, _) = install(&lab, PHONE, &Creds::Null).await;
    let issuer = CertificateInfo::parse(&new).unwrap();
    assert_eq!(CertificateInfo::parse(&lsc).unwrap().issuer_der, issuer.subject_der);
}

#[tokio::test]
async fn session_ids_are_distinct_and_increasing() {
    let lab = Lab::start().await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let mut phone = lab.connect().await;
        ids.push(phone.session_id);
        phone.authenticate("SEP000000000001", &Creds::Null).await;
        assert_eq!(phone.end_reason().await, Reason::UnknownDevice);
    }
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_phones_at_once_each_lsc_recorded_once() {
    const PHONES: usize = 200;
    let config = opencapf_capf::CapfConfig { max_sessions: 256, ..test_config() };
    let lab = std::sync::Arc::new(Lab::start_with(KeyAlgorithm::Rsa2048, config).await);
    let names: Vec<String> = (0..PHONES).map(|i| format!("SEP0000000{i:05X}")).collect();
    for name in &names {
        lab.add_device(name).await;
        lab.schedule_install(name, AuthMode::NullString, KeyOrder::EcOnly).await;
    }
    let mut phones = tokio::task::JoinSet::new();
    for name in names.clone() {
        let lab = lab.clone();
        phones.spawn(async move { install(&lab, &name, &Creds::Null).await });
    }
    while let Some(done) = phones.join_next().await {
        done.unwrap();
    }
    for name in &names {
        let device = lab.device(name).await;
        assert_eq!(device.capf.status, "Upgrade Success", "{name}");
        let issued = lab.issued(name).await;
        assert_eq!(issued.len(), 1, "{name}: one LSC, recorded once");
        assert_eq!(issued[0].serial, device.lsc.unwrap().serial);
    }
}
