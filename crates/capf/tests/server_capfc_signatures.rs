//! Issue 10: the standard PKCS#1 v1.5 signature with DigestInfo, as capfc-style tools make it
//! (`openssl dgst -sha512 -sign`), authenticates through the real CAPF listener beside the raw
//! form, with the CUCM-style LSC (`CN=CP-8861-SEP…`) the server itself issued.

use crate::server_common;

use std::process::Command;

use opencapf_capf::proto::auth::signed_content;
use opencapf_capf::proto::message::*;
use opencapf_model::{AuthMode, KeyOrder};
use opencapf_pki::{pem, CertificateInfo, PrivateKey};
use server_common::*;

const PHONE: &str = "SEP2C3124C9F8E1";

/// `openssl dgst -<hash> -sign key.pem content`: RSASSA-PKCS1-v1_5, DigestInfo included.
fn openssl_sign(key: &PrivateKey, hash: &str, content: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    let content_path = dir.path().join("content.bin");
    std::fs::write(&key_path, pem::encode("PRIVATE KEY", key.pkcs8_der())).unwrap();
    std::fs::write(&content_path, content).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", &format!("-{hash}"), "-sign"])
        .arg(&key_path)
        .arg(&content_path)
        .output()
        .expect("openssl is installed (see .ci/run)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[tokio::test]
async fn a_digest_info_signature_made_by_openssl_authenticates_with_a_cucm_style_lsc() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::RsaOnly).await;
    let (lsc, key) = install(&lab, PHONE, &Creds::Null).await;
    let first = CertificateInfo::parse(&lsc).unwrap();
    assert_eq!(first.subject_cn.as_deref(), Some("CP-8861-SEP2C3124C9F8E1"), "CUCM's LSC name");

    // Re-key By Existing Certificate (Precedence to LSC), both signatures in the DigestInfo form.
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateLsc, KeyOrder::RsaOnly).await;
    let mut phone = lab.connect().await;
    let content = signed_content(PHONE, &lsc);
    let mut response = auth_response(PHONE, 3, &Creds::cert(&lsc, &key), phone.session_id);
    response.signed_data_sha1 = Some(openssl_sign(&key, "sha1", &content));
    response.sha2_signed_data =
        Some(SignatureRecord { hash: HashId::Sha512, signature: openssl_sign(&key, "sha512", &content) });
    assert_ne!(response.sha2_signed_data.as_ref().unwrap().signature, rsa_raw(&key, HashId::Sha512, &content));
    phone.send(response).await;
    phone.answer_keygen(0).await;
    let second = phone.store_lsc(true).await;
    assert_eq!(phone.end_reason().await, Reason::OK);
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");
    assert_ne!(CertificateInfo::parse(&second).unwrap().serial, first.serial);

    // A DigestInfo signature by another key is still refused.
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateLsc, KeyOrder::RsaOnly).await;
    let other = PrivateKey::generate(opencapf_pki::KeyAlgorithm::Rsa2048).unwrap();
    let mut phone = lab.connect().await;
    let content = signed_content(PHONE, &second);
    let mut response = auth_response(PHONE, 3, &Creds::Null, phone.session_id);
    response.password = None;
    response.certificate = Some(CertPackage::new(second.clone()));
    response.sha2_signed_data =
        Some(SignatureRecord { hash: HashId::Sha512, signature: openssl_sign(&other, "sha512", &content) });
    phone.send(response).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);
}
