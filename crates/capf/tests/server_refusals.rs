//! Sessions the CAPF server must refuse, each with the status CUCM would show: the seed's
//! "Invalid LSC" (an LSC whose CAPF is not in CAPF-trust), an LSC or MIC of another device, an
//! untrusted manufacturer, signatures that are not the strict form, a passed deadline, keys
//! the phone could not make, and a phone that would not store its LSC.

use crate::server_common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA512};
use opencapf_capf::proto::auth::{digest, signed_content};
use opencapf_capf::proto::message::*;
use opencapf_model::{AuthMode, CapfUpdate, CertificateOperation, KeyOrder, Service};
use opencapf_pki::{rsa_sign_raw_pkcs1, CertificateInfo, KeyAlgorithm, PrivateKey};
use server_common::*;
use tempfile::TempDir;

const PHONE: &str = "SEP2C3124C9F8E1";
const NEIGHBOUR: &str = "SEP2C3124C9F8E2";

async fn lab_with_pending(mode: AuthMode) -> Lab {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule(PHONE, CertificateOperation::InstallUpgrade, mode, None, KeyOrder::EcOnly).await;
    lab
}

/// Refused with EndSession 7, the status recorded, nothing issued, the operation still pending.
async fn assert_refused(lab: &Lab, creds: &Creds, status: &str) {
    assert_eq!(refused(lab, PHONE, creds).await, Reason::InvalidElement);
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, status);
    assert_eq!(d.capf.operation, CertificateOperation::InstallUpgrade);
    assert!(lab.issued(PHONE).await.is_empty(), "nothing may be issued");
}

#[tokio::test]
async fn lsc_from_a_capf_not_in_capf_trust_is_invalid_lsc() {
    // The seed's case: a phone moved from another cluster keeps that cluster's LSC.
    let lab = lab_with_pending(AuthMode::ExistingCertificateLsc).await;
    let other_dir = TempDir::new().unwrap();
    let other = new_cluster(&other_dir.path().join("old-cluster"), KeyAlgorithm::Rsa2048).await;
    let old_capf = other.signer(Service::Capf).await.unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let foreign = lsc_signed_by(&old_capf, PHONE, &key);

    assert_refused(&lab, &Creds::cert(&foreign, &key), "Upgrade Failed: Invalid LSC").await;
    let h = last_history(&lab, PHONE).await;
    assert!(h.detail.contains("not trusted by CAPF-trust"), "{}", h.detail);
    let audit = lab.audit().await;
    let entry = audit.iter().find(|a| a.action == "capf.upgrade").unwrap();
    let serial = CertificateInfo::parse(&foreign).unwrap().serial;
    assert!(entry.detail.contains("Upgrade Failed: Invalid LSC") && entry.detail.contains(&serial), "{}", entry.detail);
}

#[tokio::test]
async fn lsc_of_another_device_is_invalid_lsc() {
    let lab = lab_with_pending(AuthMode::ExistingCertificateLsc).await;
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let neighbours = lab.lsc_from_our_capf(NEIGHBOUR, &key).await;
    assert_refused(&lab, &Creds::cert(&neighbours, &key), "Upgrade Failed: Invalid LSC").await;
    assert!(last_history(&lab, PHONE).await.detail.contains("does not name device"));
}

#[tokio::test]
async fn mic_from_an_untrusted_manufacturer_is_invalid_mic() {
    let lab = lab_with_pending(AuthMode::ExistingCertificateMic).await;
    // Another factory: same name, its own key, not in this cluster's CAPF-trust.
    let other_dir = TempDir::new().unwrap();
    let other = new_cluster(&other_dir.path().join("factory"), KeyAlgorithm::Ec256).await;
    let (_, factory) = opencapf_testkit::lab_manufacturer(&other).await;
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mic = opencapf_testkit::mic(&factory, PHONE, key.public_key_der(), now()).der;
    assert_refused(&lab, &Creds::cert(&mic, &key), "Upgrade Failed: Invalid MIC").await;
}

#[tokio::test]
async fn mic_of_another_device_and_lsc_under_mic_precedence_are_invalid_mic() {
    let lab = lab_with_pending(AuthMode::ExistingCertificateMic).await;
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let neighbours_mic = lab.mic(NEIGHBOUR, &key);
    assert_refused(&lab, &Creds::cert(&neighbours_mic, &key), "Upgrade Failed: Invalid MIC").await;

    let lsc = lab.lsc_from_our_capf(PHONE, &key).await;
    assert_refused(&lab, &Creds::cert(&lsc, &key), "Upgrade Failed: Invalid MIC").await;
    assert!(last_history(&lab, PHONE).await.detail.contains("Precedence to MIC"));

    assert_refused(&lab, &Creds::Null, "Upgrade Failed: Invalid MIC").await;
}

#[tokio::test]
async fn signatures_must_be_the_strict_form() {
    let lab = lab_with_pending(AuthMode::ExistingCertificateMic).await;
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mic = lab.mic(PHONE, &key);
    let content = signed_content(PHONE, &mic);
    let base = auth_response(PHONE, 3, &Creds::cert(&mic, &key), 0);

    // Standard RSASSA-PKCS1-v1_5 (with DigestInfo): capfd accepts it, and so does CAPF (issue 10).
    let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der()).unwrap();
    let mut standard = vec![0; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA512, &SystemRandom::new(), &content, &mut standard).unwrap();
    let mut digest_info = base.clone();
    digest_info.sha2_signed_data = Some(SignatureRecord { hash: HashId::Sha512, signature: standard });
    // A block whose digest matches only at its end (neither form): capfd's tail check accepts
    // it, the strict check does not.
    let tail = [vec![0u8; 19], digest(HashId::Sha512, &content).unwrap()].concat();
    let mut tail_only = base.clone();
    tail_only.sha2_signed_data =
        Some(SignatureRecord { hash: HashId::Sha512, signature: rsa_sign_raw_pkcs1(key.pkcs8_der(), &tail).unwrap() });

    // The SHA-512 form is required; a bad SHA-1 form is refused when present.
    let mut no_sha512 = base.clone();
    no_sha512.sha2_signed_data = None;
    let mut bad_sha1 = base.clone();
    bad_sha1.signed_data_sha1 = Some(rsa_raw(&key, HashId::Sha1, b"something else"));
    // Signed for another device name.
    let mut other_name = base.clone();
    let (_, sig) = sign(&key, &signed_content(NEIGHBOUR, &mic), false);
    other_name.sha2_signed_data = Some(SignatureRecord { hash: HashId::Sha512, signature: sig });

    for response in [tail_only, no_sha512, bad_sha1, other_name] {
        let mut phone = lab.connect().await;
        phone.send(response).await;
        assert_eq!(phone.end_reason().await, Reason::InvalidElement);
        assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Failed: Invalid MIC");
    }
    assert!(lab.issued(PHONE).await.is_empty());
    // The DigestInfo form passes; then the raw form itself.
    let mut phone = lab.connect().await;
    phone.send(digest_info).await;
    phone.answer_keygen(0).await;
    phone.store_lsc(true).await;
    assert_eq!(phone.end_reason().await, Reason::OK);
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateMic, KeyOrder::EcOnly).await;
    install(&lab, PHONE, &Creds::cert(&mic, &key)).await;
}

#[tokio::test]
async fn a_passed_deadline_fails_late_and_ends_the_operation() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    let yesterday = now() - time::Duration::days(1);
    let update = capf_update(CertificateOperation::Delete, AuthMode::NullString, None, KeyOrder::RsaOnly);
    lab.schedule_update(PHONE, CapfUpdate { completes_by: Some(yesterday), ..update }).await;
    assert_eq!(refused(&lab, PHONE, &Creds::Null).await, Reason::InvalidElement);
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Delete Failed: User Initiated Request Late/Timedout");
    assert_eq!(d.capf.operation, CertificateOperation::NoPendingOperation);
}

#[tokio::test]
async fn ec_only_needs_capf_version_3() {
    let lab = lab_with_pending(AuthMode::NullString).await;
    let mut phone = lab.connect().await;
    phone.send(auth_response(PHONE, 2, &Creds::NoPassword, 0)).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Failed: No Support for EC only in CAPF version 3");

    // "EC Preferred, RSA Backup" gives the version-2 phone an RSA key instead.
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcPreferredRsaBackup).await;
    let mut phone = lab.connect().await;
    phone.send(auth_response(PHONE, 2, &Creds::NoPassword, 0)).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(k) if k.key == KeySpec::Rsa { bits: 2048 }));
}

#[tokio::test]
async fn key_generation_failures() {
    let lab = lab_with_pending(AuthMode::NullString).await;
    // The phone could not generate a key: KeyGenResponse without a key.
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)));
    phone.send(KeyGenResponse { reason: Some(Reason::InvalidElement), public_key: None }).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Failed: Key Generation Failed/Timeout");

    // A key of another kind than asked (P-384 for P-256), then garbage as a key.
    let p384 = PrivateKey::generate(KeyAlgorithm::Ec384).unwrap();
    for public_key in [p384.public_key_der().to_vec(), vec![0x30, 0x03, 0x02, 0x01, 0x01]] {
        let mut phone = lab.connect().await;
        phone.authenticate(PHONE, &Creds::Null).await;
        assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)));
        phone.send(KeyGenResponse { reason: None, public_key: Some(public_key) }).await;
        assert_eq!(phone.end_reason().await, Reason::InvalidElement);
        assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Failed: Key Generation Failed/Timeout");
    }
    assert!(lab.issued(PHONE).await.is_empty());
}

#[tokio::test]
async fn a_phone_that_does_not_store_the_lsc_keeps_the_previous_one() {
    let lab = lab_with_pending(AuthMode::NullString).await;
    let (first, _) = install(&lab, PHONE, &Creds::Null).await;

    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    phone.answer_keygen(0).await;
    let refused_lsc = phone.store_lsc(false).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed");
    assert!(last_history(&lab, PHONE).await.detail.contains("did not store the LSC"));
    assert_eq!(d.lsc.unwrap().der, first, "the previous LSC stays active");
    let serial = CertificateInfo::parse(&refused_lsc).unwrap().serial;
    let issued = lab.issued(PHONE).await;
    assert_eq!(issued.iter().find(|i| i.serial == serial).unwrap().state, "failed");
    assert_eq!(issued.iter().filter(|i| i.state == "installed").count(), 1);
}
