//! A real TLS peer: `openssl s_client` with a phone's LSC and key files.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::{register, Cluster};
use opencapf_model::{Protocol, RegistrationResult, SecurityMode};
use opencapf_pki::KeyAlgorithm;
use opencapf_testkit::Peer;

const A: &str = "SEP2C3124C9F8E1";

/// Runs `openssl s_client` against `port` with `args`, writes `input` (stdin stays open), and
/// returns stdout and stderr once `done` holds for them, the process exits, or 15 s pass.
fn s_client(port: u16, args: &[&str], input: &str, done: impl Fn(&str) -> bool) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-quiet", "-nocommands"]).args(args);
    let mut peer = Peer::spawn(&mut cmd, "openssl");
    peer.write(input);
    peer.wait_for(Duration::from_secs(15), done);
    std::thread::sleep(Duration::from_millis(100));
    peer.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_with_an_lsc_registers_and_without_a_certificate_sees_the_alert() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    let phone = c.lsc(A).await;
    let (cert, key) = phone.write_pem(c.dir.path());
    let other = Cluster::new().await;
    let foreign_dir = tempfile::tempdir().unwrap();
    let (foreign_cert, foreign_key) = other.lsc(A).await.write_pem(foreign_dir.path());
    let server = c.start().await;
    let port = server.addrs.sip_tls.unwrap().port();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let (foreign_cert, foreign_key) = (foreign_cert.display().to_string(), foreign_key.display().to_string());

    let out = tokio::task::spawn_blocking(move || {
        let reg = register(A, A, "TLS", 3600);
        let ok = |o: &str| o.contains("SIP/2.0 200 OK");
        let with_lsc_13 = s_client(port, &["-cert", &cert, "-key", &key], &reg, ok);
        let with_lsc_12 = s_client(port, &["-tls1_2", "-cert", &cert, "-key", &key], &reg, ok);
        let alert = |o: &str| o.to_ascii_lowercase().contains("alert");
        let no_cert_12 = s_client(port, &["-tls1_2"], &reg, alert);
        let no_cert_13 = s_client(port, &["-tls1_3"], &reg, alert);
        let foreign = s_client(port, &["-tls1_2", "-cert", &foreign_cert, "-key", &foreign_key], &reg, alert);
        // An old phone that offers only AES128-SHA (TLS_RSA_WITH_AES_128_CBC_SHA).
        let cbc_only = s_client(port, &["-tls1_2", "-cipher", "AES128-SHA", "-cert", &cert, "-key", &key], &reg, alert);
        [with_lsc_13, with_lsc_12, no_cert_12, no_cert_13, foreign, cbc_only]
    })
    .await
    .unwrap();
    let [with_lsc_13, with_lsc_12, no_cert_12, no_cert_13, foreign, cbc_only] = out;
    assert!(cbc_only.contains("alert handshake failure"), "AES128-SHA only: {cbc_only}");
    assert!(with_lsc_13.contains("SIP/2.0 200 OK"), "TLS 1.3 with the LSC: {with_lsc_13}");
    assert!(with_lsc_13.contains(&format!("Contact: <sip:{A}@127.0.0.1:5555;transport=tls>;expires=3600")));
    assert!(with_lsc_12.contains("SIP/2.0 200 OK"), "TLS 1.2 with the LSC: {with_lsc_12}");
    assert!(no_cert_12.to_ascii_lowercase().contains("alert"), "TLS 1.2 without a certificate: {no_cert_12}");
    assert!(no_cert_13.contains("alert certificate required"), "TLS 1.3 without a certificate: {no_cert_13}");
    assert!(!no_cert_13.contains("SIP/2.0"));
    assert!(foreign.contains("alert unknown ca"), "LSC of another cluster: {foreign}");

    let recs = c.wait_registrations(Some(A), 3).await;
    let registered: Vec<_> = recs.iter().filter(|r| r.result == RegistrationResult::Registered).collect();
    assert_eq!(registered.len(), 2, "{recs:?}");
    let mut versions: Vec<_> = registered.iter().map(|r| r.tls_version.clone().unwrap()).collect();
    versions.sort();
    assert_eq!(versions, ["TLSv1.2", "TLSv1.3"]);
    assert!(recs.iter().any(|r| r.result == RegistrationResult::Refused && r.reason.starts_with("unknown CA")));
    let all = c.wait_registrations(None, 6).await;
    assert!(all.iter().any(|r| r.device.is_none() && r.reason.contains("nothing in common")), "{all:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1024_bit_rsa_lsc_registers_over_tls_1_2_with_pkcs1_signatures() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    let phone = c.lsc_at(A, time::OffsetDateTime::now_utc(), 365, KeyAlgorithm::Rsa1024).await;
    let (cert, key) = phone.write_pem(c.dir.path());
    let server = c.start().await;
    let port = server.addrs.sip_tls.unwrap().port();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let (pkcs1, pss) = tokio::task::spawn_blocking(move || {
        let reg = register(A, A, "TLS", 3600);
        let done = |o: &str| o.contains("SIP/2.0") || o.to_ascii_lowercase().contains("alert");
        // Debian's OpenSSL refuses 1024-bit keys at its default security level 2.
        let common = ["-tls1_2", "-cipher", "DEFAULT:@SECLEVEL=0", "-cert", &cert, "-key", &key];
        let pkcs1 = s_client(port, &[&common[..], &["-client_sigalgs", "RSA+SHA256"]].concat(), &reg, done);
        let pss = s_client(port, &[&common[..], &["-client_sigalgs", "RSA-PSS+SHA256"]].concat(), &reg, done);
        (pkcs1, pss)
    })
    .await
    .unwrap();
    assert!(pkcs1.contains("SIP/2.0 200 OK"), "RSA-1024, PKCS#1 SHA-256: {pkcs1}");
    // RSA-PSS needs 2048 bits in AWS-LC: refused, and the record says why.
    assert!(!pss.contains("SIP/2.0 200 OK"), "RSA-1024, PSS: {pss}");
    let recs = c.wait_registrations(Some(A), 2).await;
    assert!(recs[0].reason.contains("trusted but the TLS handshake failed"), "{recs:?}");
    server.stop().await;
}
