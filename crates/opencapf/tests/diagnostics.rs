//! `opencapf doctor` and `opencapf diagnose pcap|log` through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use opencapf_cluster::{Cluster as Store, InitOptions};
use opencapf_diagnostics::synth::{self, Conversation, Link};
use opencapf_model::{
    AuthMode, CapfUpdate, CertKind, CertificateOperation, KeyOrder, NewDevice, SecurityMode, Service, SubjectFields,
};
use opencapf_pki::profiles;
use opencapf_pki::{CaSigner, DeviceName, KeyAlgorithm, PrivateKey, TrustStore};
use opencapf_testkit::{self as testkit, cisco_ca, now, runtime, Ca};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

fn cmd(data: &Path) -> Command {
    let mut c = Command::cargo_bin("opencapf").unwrap();
    c.env_remove("OPENCAPF_DATA_DIR").arg("--data-dir").arg(data);
    c
}

/// A cluster that trusts Cisco's manufacturing CAs, as a real one does.
async fn init(dir: &Path) -> Store {
    let opts = InitOptions {
        subject: SubjectFields { organization: Some("OpenCAPF".into()), ..Default::default() },
        hostname: "cucm-pub.lab".into(),
        manufacturer_cas: testkit::cisco_manufacturer_cas(),
        ..testkit::init_options()
    };
    testkit::init_cluster(dir, opts).await
}

async fn add(store: &Store, name: &str) -> DeviceName {
    testkit::add_device(store, NewDevice { security_mode: SecurityMode::Encrypted, ..testkit::new_device(name) }).await
}

fn lsc_from(signer: &CaSigner, device: &DeviceName, days: u32) -> Vec<u8> {
    testkit::lsc(signer, device.as_str(), testkit::phone_key().public_key_der(), days, now()).der
}

async fn set_lsc(store: &Store, device: &DeviceName, der: &[u8]) {
    store.record_cert(device, der, Some(CertKind::Lsc), "test").await.unwrap();
}

/// A leaf certificate with `issuer_der`'s name, signed by `issuer_key`, valid from/to.
fn crafted(
    issuer_der: &[u8],
    issuer_key: &rcgen::KeyPair,
    cn: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Vec<u8> {
    let issuer = rcgen::Issuer::from_ca_cert_der(&issuer_der.into(), issuer_key).unwrap();
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.not_before = from;
    p.not_after = to;
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    let key = rcgen::KeyPair::generate().unwrap();
    p.signed_by(&key, &issuer).unwrap().der().to_vec()
}

async fn set_capf(store: &Store, d: &DeviceName, auth: AuthMode, string: Option<&str>, completes_by: OffsetDateTime) {
    let u = CapfUpdate {
        operation: CertificateOperation::InstallUpgrade,
        auth_mode: auth,
        auth_string: string.map(str::to_owned),
        key_order: KeyOrder::RsaOnly,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: Some(completes_by),
    };
    store.save_capf(d, &u, "test", "test").await.unwrap();
}

async fn remove(store: &Store, kind: TrustStore, fingerprint: &str) {
    store.remove_trust(kind, fingerprint, true, "test").await.unwrap();
}

struct Broken {
    _dir: tempfile::TempDir,
    data: PathBuf,
    capf_cn: [String; 4],
}

/// A cluster with every problem the doctor looks for.
fn broken_cluster() -> Broken {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let capf_cn = runtime().block_on(async {
        let store = init(&data).await;
        let mut cns = Vec::new();
        let mut fps = Vec::new();
        // CAPF A: dev 01; B: dev 02; C: dev 03, 04; E: none; F: active.
        let plan: [&[&str]; 4] =
            [&["SEP000000000001"], &["SEP000000000002"], &["SEP000000000003", "SEP000000000004"], &[]];
        for names in plan {
            let signer = store.signer(Service::Capf).await.unwrap();
            cns.push(signer.info().subject_cn.clone().unwrap());
            fps.push(signer.info().fingerprint.clone());
            for n in names {
                let d = add(&store, n).await;
                set_lsc(&store, &d, &lsc_from(&signer, &d, 365)).await;
            }
            store.regenerate_capf(Some(KeyAlgorithm::Ec256), "test").await.unwrap();
        }
        // A only in CallManager-trust; B only in CAPF-trust; C in neither; E in both (unused).
        remove(&store, TrustStore::Capf, &fps[0]).await;
        remove(&store, TrustStore::CallManager, &fps[1]).await;
        remove(&store, TrustStore::CallManager, &fps[2]).await;
        remove(&store, TrustStore::Capf, &fps[2]).await;

        let active = store.signer(Service::Capf).await.unwrap();
        let healthy = add(&store, "SEP0000000000AA").await;
        set_lsc(&store, &healthy, &lsc_from(&active, &healthy, 365)).await;
        // Another cluster's LSC.
        let other_signer = Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 365, now()).signer();
        let d5 = add(&store, "SEP000000000005").await;
        set_lsc(&store, &d5, &lsc_from(&other_signer, &d5, 365)).await;
        // An expired LSC, crafted with the active CAPF key, and one expiring in 10 days.
        let capf_row = store.require_certificate(Service::Capf).await.unwrap();
        let capf_key = store.key_of(&capf_row).await.unwrap();
        let capf_kp = rcgen::KeyPair::try_from(capf_key.pkcs8_der()).unwrap();
        let d6 = add(&store, "SEP000000000006").await;
        let expired =
            crafted(&capf_row.der, &capf_kp, "SEP000000000006", now() - Duration::days(400), now() - Duration::days(3));
        set_lsc(&store, &d6, &expired).await;
        let d7 = add(&store, "SEP000000000007").await;
        set_lsc(&store, &d7, &lsc_from(&active, &d7, 10)).await;
        // MICs: one under Cisco Manufacturing CA (Root CA 2048), one expired, one expiring.
        let mfg_key = rcgen::KeyPair::generate().unwrap();
        let mfg = cisco_ca("Cisco_Manufacturing_CA.pem");
        for (name, from, to) in [
            ("SEP000000000008", now() - Duration::days(100), now() + Duration::days(900)),
            ("SEP000000000009", now() - Duration::days(3000), now() - Duration::days(5)),
            ("SEP00000000000A", now() - Duration::days(3000), now() + Duration::days(12)),
        ] {
            let d = add(&store, name).await;
            let mic = crafted(&mfg, &mfg_key, &format!("CP-8861-{name}"), from, to);
            store.record_cert(&d, &mic, Some(CertKind::Mic), "test").await.unwrap();
        }
        // Operations: one past its deadline, one waiting for its string, one that will fail
        // 'Invalid LSC' (device 01: issuer A is not in CAPF-trust).
        let d11 = add(&store, "SEP00000000000B").await;
        set_capf(&store, &d11, AuthMode::NullString, None, now() - Duration::days(2)).await;
        let d12 = add(&store, "SEP00000000000C").await;
        set_capf(&store, &d12, AuthMode::AuthenticationString, Some("246810"), now() + Duration::days(5)).await;
        let d1: DeviceName = "SEP000000000001".parse().unwrap();
        set_capf(&store, &d1, AuthMode::ExistingCertificateLsc, None, now() + Duration::days(5)).await;
        store.close().await;
        cns
    });
    Broken { _dir: dir, data, capf_cn: capf_cn.try_into().unwrap() }
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no finding {code} in {report:#}"))
}

fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).collect()
}

fn names(f: &Value) -> Vec<String> {
    f["devices"].as_array().map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

/// The command exited 1 and its error output says `needle`.
fn exits_1_saying(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(needle));
}

#[test]
fn doctor_finds_every_problem_with_severity_count_and_remedy() {
    let b = broken_cluster();
    let out = cmd(&b.data).args(["--json", "doctor", "--verbose"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: the cluster has"), "{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let [a, bb, c, _e] = &b.capf_cn;

    let f = finding(&r, "lsc-issuer-not-in-capf-trust");
    assert_eq!((f["severity"].as_str(), f["devices_affected"].as_u64()), (Some("warning"), Some(1)));
    assert!(f["title"].as_str().unwrap().contains(a.as_str()));
    assert_eq!(names(f), ["SEP000000000001"]);

    let f = finding(&r, "lsc-issuer-not-in-callmanager-trust");
    assert_eq!((f["severity"].as_str(), f["devices_affected"].as_u64()), (Some("error"), Some(1)));
    assert!(f["title"].as_str().unwrap().contains(&format!("issued by {bb}, which is not in CallManager-trust")));

    let f = finding(&r, "lsc-issuer-in-no-store");
    assert_eq!((f["severity"].as_str(), f["devices_affected"].as_u64()), (Some("error"), Some(2)));
    assert_eq!(names(f), ["SEP000000000003", "SEP000000000004"]);
    assert!(f["remedy"][0].as_str().unwrap().contains("rule 9"));
    assert!(f["title"].as_str().unwrap().contains(c.as_str()));

    let f = finding(&r, "lsc-from-other-cluster");
    assert_eq!((f["severity"].as_str(), f["devices_affected"].as_u64()), (Some("error"), Some(1)));
    assert!(f["remedy"][0].as_str().unwrap().contains("rule 5"));

    let still = findings(&r, "retired-capf-still-needed");
    assert_eq!(still.len(), 3, "A, B and C still back LSCs");
    assert!(still.iter().all(|f| f["severity"] == "warning"));
    let removable = finding(&r, "retired-capf-removable");
    assert_eq!(removable["severity"], "info");
    assert!(removable["title"].as_str().unwrap().contains("CallManager-trust and CAPF-trust"));
    assert!(removable["remedy"][0].as_str().unwrap().starts_with("`opencapf trust remove CallManager-trust CAPF-"));

    let f = finding(&r, "lsc-expired");
    assert_eq!((f["severity"].as_str(), f["devices_affected"].as_u64()), (Some("error"), Some(1)));
    assert_eq!(names(f), ["SEP000000000006"]);
    let f = finding(&r, "lsc-expiring");
    assert_eq!((f["severity"].as_str(), f["devices_affected"].as_u64()), (Some("warning"), Some(1)));
    assert_eq!(names(f), ["SEP000000000007"]);

    let f = finding(&r, "mic-expired-no-lsc");
    assert_eq!((f["severity"].as_str(), names(f)), (Some("error"), vec!["SEP000000000009".to_owned()]));
    let f = finding(&r, "mic-expiring");
    assert_eq!((f["severity"].as_str(), names(f)), (Some("warning"), vec!["SEP00000000000A".to_owned()]));
    let root = findings(&r, "manufacturing-ca-dependency")
        .into_iter()
        .find(|f| f["title"].as_str().unwrap().contains("Cisco Root CA 2048"))
        .expect("Cisco Root CA 2048 dependency");
    assert!(root["title"].as_str().unwrap().contains("2029-05-14"), "{root}");
    assert_eq!(names(root), ["SEP000000000008", "SEP00000000000A"]);

    let f = finding(&r, "operation-overdue");
    assert_eq!((f["severity"].as_str(), names(f)), (Some("warning"), vec!["SEP00000000000B".to_owned()]));
    let f = finding(&r, "auth-string-unused");
    assert_eq!((f["severity"].as_str(), names(f)), (Some("info"), vec!["SEP00000000000C".to_owned()]));
    let f = finding(&r, "pending-will-fail-invalid-lsc");
    assert_eq!((f["severity"].as_str(), names(f)), (Some("error"), vec!["SEP000000000001".to_owned()]));
    assert_eq!(finding(&r, "capf-valid")["severity"], "info");

    // Errors first; the summary counts them.
    let sev: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["severity"].as_str().unwrap()).collect();
    let rank = |s: &str| ["info", "warning", "error"].iter().position(|x| *x == s).unwrap();
    assert!(sev.windows(2).all(|w| rank(w[0]) >= rank(w[1])), "{sev:?}");
    assert_eq!(r["summary"]["errors"].as_u64().unwrap() as usize, sev.iter().filter(|s| **s == "error").count());

    // Without --verbose: counts, no names.
    let out = cmd(&b.data).args(["--json", "doctor"]).output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = finding(&r, "lsc-issuer-in-no-store");
    assert_eq!(f["devices_affected"], 2);
    assert!(f.get("devices").is_none());

    // Text: severities, counts and remedies for people.
    let out = cmd(&b.data).args(["doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ERROR   2 device(s) hold an LSC issued by"), "{text}");
    assert!(text.contains("devices affected: 2"), "{text}");
    assert!(text.contains("remedy 1: CAPF certificate removed too early (rule 9)"), "{text}");
    assert!(!text.contains("SEP000000000003"), "names only with --verbose");
    let text =
        String::from_utf8_lossy(&cmd(&b.data).args(["doctor", "--verbose"]).output().unwrap().stdout).into_owned();
    assert!(text.contains("devices (2):\n          SEP000000000003\n          SEP000000000004\n"), "{text}");

    // A longer expiry window reaches the CAPF certificate and Cisco Root CA 2048.
    let out = cmd(&b.data).args(["--json", "doctor", "--expiry-days", "4000"]).output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(finding(&r, "capf-expiring")["severity"], "warning");
    assert!(findings(&r, "manufacturing-ca-expiring")
        .iter()
        .any(|f| f["title"].as_str().unwrap().contains("Cisco Root CA 2048")));
}

#[test]
fn doctor_exits_0_on_a_healthy_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    runtime().block_on(async {
        let store = init(&data).await;
        let signer = store.signer(Service::Capf).await.unwrap();
        let d = add(&store, "SEP2C3124C9F8E1").await;
        set_lsc(&store, &d, &lsc_from(&signer, &d, 365)).await;
        store.close().await;
    });
    let out = cmd(&data).args(["doctor"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("0 error(s)"), "{text}");
    assert!(text.contains("INFO    The CAPF certificate CAPF-"), "{text}");
    // No cluster: a clear error.
    let out = cmd(&dir.path().join("none")).args(["doctor"]).output().unwrap();
    exits_1_saying(&out, "no cluster");
}

/// `<dir>/phone.pcap`: one SIP TLS 1.2 connection to a CallManager whose phone shows
/// `client_cert`.
fn sip_tls_capture(dir: &std::path::Path, client_cert: &[u8]) -> std::path::PathBuf {
    let server_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let server =
        profiles::callmanager_certificate(&server_key, "cucm-pub.lab", &Default::default(), 30, now()).unwrap();
    let hs = synth::tls12_handshake(&[&server.der], Some(&[client_cert]), &[], Some(48), 16384);
    let mut conv = Conversation::new("10.106.104.243:51034".parse().unwrap(), "10.106.104.211:5061".parse().unwrap());
    let packets = synth::tls12_connection(&mut conv, &hs, 1460, true);
    let file = dir.join("phone.pcap");
    std::fs::write(&file, synth::pcap_of(&Link::Ethernet(vec![10]), &packets, 1_790_000_000.0)).unwrap();
    file
}

/// A stranger's expired self-signed certificate: the verdict gives both reasons, the unknown
/// issuer first, and the command exits 1 (an untrusted client certificate).
#[test]
fn diagnose_pcap_gives_every_reason_of_a_verdict_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    runtime().block_on(async { init(&data).await.close().await });
    let stranger = Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 30, now() - Duration::days(400));
    let file = sip_tls_capture(dir.path(), &stranger.der);

    let out = cmd(&data).args(["--json", "diagnose", "pcap"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verdict = &r["connections"][0]["trust"][0];
    assert_eq!(verdict["store"], "CallManager-trust");
    let reasons: Vec<&str> =
        verdict["reasons"].as_array().unwrap().iter().map(|v| v["outcome"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["unknown-ca", "expired"]);
    let message = verdict["message"].as_str().unwrap();
    assert!(message.starts_with("issuer") && message.contains("(self-signed)"), "{message}");
    assert!(message.contains("; expired"), "{message}");
}

#[test]
fn diagnose_pcap_with_the_cluster_says_which_connections_will_fail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (lsc, old_cn) = runtime().block_on(async {
        let store = init(&data).await;
        let old = store.signer(Service::Capf).await.unwrap();
        let d = add(&store, "SEP2C3124C9F8E1").await;
        let lsc = lsc_from(&old, &d, 365);
        set_lsc(&store, &d, &lsc).await;
        store.regenerate_capf(Some(KeyAlgorithm::Ec256), "test").await.unwrap();
        remove(&store, TrustStore::CallManager, &old.info().fingerprint).await;
        store.close().await;
        (lsc, old.info().subject_cn.clone().unwrap())
    });
    let file = sip_tls_capture(dir.path(), &lsc);

    let out = cmd(&data).args(["--json", "diagnose", "pcap"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "an untrusted client certificate: {}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &r["connections"][0];
    assert_eq!(c["client_certificate_kind"], "lsc-this-cluster");
    assert_eq!(c["service"], "sip");
    assert_eq!(c["alerts"][0]["text"], "server sent fatal unknown_ca");
    assert_eq!(c["trust"][0]["store"], "CallManager-trust");
    assert_eq!(c["trust"][0]["message"], format!("issuer {old_cn} is not in CallManager-trust"));
    assert_eq!(c["trust"][1]["trusted"], true);
    let refused = finding(&r, "tls-refused");
    assert!(refused["remedy"][0].as_str().unwrap().contains("rule 9"), "{refused}");

    let out = cmd(&data).args(["diagnose", "pcap"]).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("client certificate: LSC of this cluster of SEP2C3124C9F8E1"), "{text}");
    assert!(text.contains(&format!("CallManager-trust: issuer {old_cn} is not in CallManager-trust")), "{text}");
    assert!(text.contains("alert:    server sent fatal unknown_ca"), "{text}");

    // Not a capture: exit 1 and one clear error line.
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "hello").unwrap();
    let out = cmd(&data).args(["diagnose", "pcap"]).arg(&bad).output().unwrap();
    exits_1_saying(&out, "not a pcap or pcapng file");
}

#[test]
fn diagnose_log_reads_the_seed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("console.log");
    std::fs::write(
        &file,
        "3469 PAS 00:01:31.935298 SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]\n\
         3486 ERR 00:01:31.938954 SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]\n\
         some unrelated line\n",
    )
    .unwrap();
    let out = cmd(&dir.path().join("none")).args(["diagnose", "log"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "an error-level finding (the unknown CA alert)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INFO    The phone uses its LSC for SCCP over TLSv1"), "{text}");
    assert!(
        text.contains("ERROR   The server refused the phone's certificate: fatal unknown CA alert received (line 2)"),
        "{text}"
    );
    let out = cmd(&dir.path().join("none")).args(["diagnose", "log", "--json"]).arg(&file).output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["lines_skipped"], 1);
    assert_eq!(r["events"][0]["event"], "cert-cipher");
    assert_eq!(r["findings"][1]["code"], "unknown-ca");
}

/// `diagnose pcap --json` on `packets`, without a cluster.
fn pcap_report(dir: &Path, packets: &[synth::Packet]) -> Value {
    let file = dir.join("starttls.pcap");
    std::fs::write(&file, synth::pcap_of(&Link::Ethernet(vec![10]), packets, 1_790_000_000.0)).unwrap();
    let out = cmd(&dir.join("none")).args(["--json", "diagnose", "pcap"]).arg(&file).output().unwrap();
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn diagnose_pcap_finds_the_handshake_after_starttls_and_mid_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let server =
        profiles::callmanager_certificate(&server_key, "cucm-pub.lab", &Default::default(), 30, now()).unwrap();
    let hs = synth::tls12_handshake(&[&server.der], None, &[], None, 16384);
    let flights = |conv: &mut Conversation, p: &mut Vec<synth::Packet>| {
        p.extend(conv.send(true, &hs.client_hello, 1460));
        p.extend(conv.send(false, &hs.server_flight, 1460));
        p.extend(conv.send(true, &hs.client_flight, 1460));
        p.extend(conv.send(false, &hs.server_finish, 1460));
        p.push(conv.fin(true));
        p.push(conv.fin(false));
    };

    // STARTTLS: plain-text lines both ways, then TLS in the same TCP stream.
    let mut conv = Conversation::new("10.1.1.20:51000".parse().unwrap(), "10.1.1.1:5061".parse().unwrap());
    let mut p = conv.open();
    p.extend(conv.send(false, b"220 cucm-pub.lab ready\r\n", 1460));
    p.extend(conv.send(true, b"EHLO phone\r\nSTARTTLS\r\n", 1460));
    p.extend(conv.send(false, b"220 2.0.0 go ahead\r\n", 1460));
    flights(&mut conv, &mut p);
    let r = pcap_report(dir.path(), &p);
    let c = &r["connections"][0];
    assert_eq!(c["version"], "TLS 1.2", "{r}");
    assert_eq!(c["server_certificates"].as_array().unwrap().len(), 1, "{r}");
    assert!(c["notes"].to_string().contains("starts after"), "{c}");

    // A capture begun mid-connection: no SYN, the tail of earlier traffic, then a handshake.
    let mut conv = Conversation::new("10.1.1.21:51001".parse().unwrap(), "10.1.1.1:5061".parse().unwrap());
    let mut p = conv.send(true, &[0x5a; 3000], 1460);
    p.extend(conv.send(false, &[0xa5; 700], 1460));
    flights(&mut conv, &mut p);
    let r = pcap_report(dir.path(), &p);
    assert_eq!(r["connections"][0]["version"], "TLS 1.2", "{r}");

    // Plain text only: bounded search, no TLS connection, no panic.
    let mut conv = Conversation::new("10.1.1.22:51002".parse().unwrap(), "10.1.1.1:5060".parse().unwrap());
    let mut p = conv.open();
    p.extend(conv.send(true, &b"REGISTER sip:cucm SIP/2.0\r\n".repeat(5000), 1460));
    let r = pcap_report(dir.path(), &p);
    assert_eq!(r["connections"].as_array().unwrap().len(), 0, "{r}");
    assert_eq!(r["stats"]["other_tcp_flows"], 1, "{r}");
}

#[test]
fn doctor_weighs_security_mode_missing_certificates_and_expired_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    runtime().block_on(async {
        let store = init(&data).await;
        let other = Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 365, now()).signer();
        let non_secure = NewDevice { security_mode: SecurityMode::NonSecure, ..testkit::new_device("SEP00000000AB01") };
        let d1 = testkit::add_device(&store, non_secure).await;
        set_lsc(&store, &d1, &lsc_from(&other, &d1, 365)).await;
        let d2 = add(&store, "SEP00000000AB02").await;
        set_lsc(&store, &d2, &lsc_from(&other, &d2, 365)).await;
        // Secure, with neither LSC nor MIC; a Non Secure one alike is fine.
        add(&store, "SEP00000000AB03").await;
        add(&store, "SEP00000000AB04").await;
        let plain = NewDevice { security_mode: SecurityMode::NonSecure, ..testkit::new_device("SEP00000000AB05") };
        testkit::add_device(&store, plain).await;
        // An expired CA left in CAPF-trust.
        let old = Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 30, now() - Duration::days(100));
        store.add_trust(TrustStore::Capf, std::slice::from_ref(&old.der), None, "test").await.unwrap();
        store.close().await;
    });
    let out = cmd(&data).args(["--json", "doctor", "--verbose"]).output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let other = findings(&r, "lsc-from-other-cluster");
    let sev = |name: &str| other.iter().find(|f| names(f) == [name]).map(|f| f["severity"].clone());
    assert_eq!(sev("SEP00000000AB01"), Some("info".into()), "Non Secure: no TLS to CallManager {r:#}");
    assert_eq!(sev("SEP00000000AB02"), Some("error".into()), "{r:#}");
    let f = finding(&r, "secure-without-lsc-or-mic");
    assert_eq!(
        (f["severity"].as_str(), names(f)),
        (Some("error"), vec!["SEP00000000AB03".into(), "SEP00000000AB04".into()])
    );
    let f = finding(&r, "trust-anchor-expired");
    assert_eq!(f["severity"], "warning");
    assert!(f["title"].as_str().unwrap().starts_with("CAPF-trust holds CAPF-"), "{f}");

    let text = String::from_utf8_lossy(&cmd(&data).args(["doctor", "--verbose"]).output().unwrap().stdout).into_owned();
    assert!(text.contains("devices (2):\n          SEP00000000AB03\n          SEP00000000AB04\n"), "{text}");
}

/// `--json` (issue 12): what a certificate that does not parse lacks is `null`, not "".
#[test]
fn diagnose_pcap_json_gives_null_for_what_a_broken_certificate_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let broken: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x01];
    let hs = synth::tls12_handshake(&[broken], None, &[], Some(48), 16384);
    let mut conv = Conversation::new("10.106.104.243:51034".parse().unwrap(), "10.106.104.211:5061".parse().unwrap());
    let packets = synth::tls12_connection(&mut conv, &hs, 1460, true);
    let file = dir.path().join("phone.pcap");
    std::fs::write(&file, synth::pcap_of(&Link::Ethernet(vec![10]), &packets, 1_790_000_000.0)).unwrap();

    let out = cmd(&dir.path().join("none")).args(["--json", "diagnose", "pcap"]).arg(&file).output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = r.to_string();
    assert!(text.contains("parse_error"), "{text}");
    assert!(!text.contains("\"subject\":\"\""), "{text}");
    assert!(text.contains("\"subject\":null") && text.contains("\"not_after\":null"), "{text}");
}
