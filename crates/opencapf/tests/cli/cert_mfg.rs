use std::os::unix::fs::PermissionsExt;

use crate::cli::common::{Cluster, CISCO_CA};

fn verdict(report: &serde_json::Value, store: &str) -> serde_json::Value {
    report["verification"].as_array().unwrap().iter().find(|v| v["store"] == store).unwrap().clone()
}

#[test]
fn inspect_an_lsc_of_this_cluster_and_of_another() {
    let c = Cluster::init(&[]);
    let other = Cluster::init(&[]);
    let ours = c.issue_lsc("SEP000000000001", 365);
    let r = c.json(&["cert", "inspect", ours.to_str().unwrap()]);
    assert_eq!(r["kind"], "lsc-this-cluster");
    assert_eq!(r["certificate"]["subject_cn"], "SEP000000000001");
    let capf = c.json(&["status"])["capf"]["common_name"].as_str().unwrap().to_owned();
    for store in ["CallManager-trust", "CAPF-trust"] {
        let v = verdict(&r, store);
        assert_eq!(v["outcome"], "trusted");
        assert!(v["anchor"].as_str().unwrap().contains(&capf));
    }
    let theirs = other.issue_lsc("SEP000000000001", 365);
    let r = c.json_untrusted(&["cert", "inspect", theirs.to_str().unwrap()]);
    assert_eq!(r["kind"], "lsc-other-cluster");
    assert_eq!(verdict(&r, "CallManager-trust")["outcome"], "unknown-ca");
    let human = c.out_untrusted(&["cert", "inspect", theirs.to_str().unwrap(), "--store", "CallManager-trust"]);
    assert!(human.contains("LSC (another cluster)"), "{human}");
    assert!(human.contains("unknown CA"), "{human}");
    assert!(!human.contains("CAPF-trust:"), "{human}");
}

#[test]
fn inspect_a_cisco_ca_certificate_and_a_file_without_a_cluster() {
    let c = Cluster::init(&["--manufacturer-ca", CISCO_CA]);
    let r = c.json(&["cert", "inspect", &format!("{CISCO_CA}/Cisco_Manufacturing_CA_SHA2.pem")]);
    assert_eq!(r["kind"], "other");
    assert_eq!(verdict(&r, "CAPF-trust")["outcome"], "trusted");
    let none = Cluster::empty();
    let out = none.ok(&["cert", "inspect", &format!("{CISCO_CA}/Cisco_Root_CA_M2.pem")]);
    assert!(out.contains("CN=Cisco Root CA M2"), "{out}");
    assert!(out.contains("trust stores not checked"), "{out}");
    assert!(none.fail(&["cert", "inspect", "/nonexistent.pem"]).contains("nonexistent.pem"));
}

#[test]
fn lab_manufacturer_issues_mics_trusted_only_after_trust_add() {
    let c = Cluster::init(&[]);
    assert!(c.fail(&["mfg", "issue", "SEP000000000001", "--out", c.path("p").to_str().unwrap()]).contains("mfg init"));
    c.ok(&["mfg", "init"]);
    assert!(c.fail(&["mfg", "init"]).contains("already exists"));
    let dir = c.path("phone1");
    c.ok(&["mfg", "issue", "SEP2C3124C9F8E1", "--model", "CP-8861", "--out", dir.to_str().unwrap()]);
    let key_mode = std::fs::metadata(dir.join("mic.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(key_mode, 0o600);
    assert!(c.fail(&["mfg", "issue", "SEP2C3124C9F8E1", "--out", dir.to_str().unwrap()]).contains("never replaced"));

    let mic = dir.join("mic.pem");
    let r = c.json_untrusted(&["cert", "inspect", mic.to_str().unwrap()]);
    assert_eq!(r["kind"], "mic");
    assert!(r["certificate"]["subject"].as_str().unwrap().starts_with("serialNumber=PID:CP-8861 SN:"));
    assert_eq!(r["certificate"]["subject_cn"], "CP-8861-SEP2C3124C9F8E1");
    assert_eq!(verdict(&r, "CAPF-trust")["outcome"], "unknown-ca", "its root enters no store by itself");

    c.ok(&["trust", "add", "CAPF-trust", dir.join("manufacturer-ca.pem").to_str().unwrap()]);
    let r = c.json(&["cert", "inspect", mic.to_str().unwrap()]);
    assert_eq!(verdict(&r, "CAPF-trust")["outcome"], "trusted");
    assert_eq!(verdict(&r, "CallManager-trust")["outcome"], "unknown-ca");
}

#[test]
fn mfg_export_writes_the_root_that_trust_add_takes() {
    let c = Cluster::init(&[]);
    assert!(c.fail(&["mfg", "export"]).contains("mfg init"));
    c.ok(&["mfg", "init"]);
    let pem = c.ok(&["mfg", "export"]);
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1);
    let f = c.path("lab-ca.pem");
    c.ok(&["mfg", "export", "--out", f.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), pem);
    assert!(c.ok(&["trust", "add", "CAPF-trust", f.to_str().unwrap()]).contains("OpenCAPF Lab Manufacturing CA"));
}

#[test]
fn a_verdict_lists_every_reason_most_fundamental_first() {
    use opencapf_pki::KeyAlgorithm;
    let c = Cluster::init(&[]);
    let then = opencapf_testkit::now() - time::Duration::days(400);
    let stranger = opencapf_testkit::Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 30, then);
    let f = c.path("stranger.pem");
    std::fs::write(&f, opencapf_pki::pem::encode("CERTIFICATE", &stranger.der)).unwrap();
    let r = c.json_untrusted(&["cert", "inspect", f.to_str().unwrap()]);
    let v = verdict(&r, "CAPF-trust");
    assert_eq!(v["outcome"], "expired", "the primary outcome stays what the verifier stopped at");
    let reasons: Vec<&str> = v["reasons"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["unknown-ca", "expired"]);
    assert_eq!(v["self_signed"], true);

    let text = c.out_untrusted(&["cert", "inspect", f.to_str().unwrap(), "--store", "CAPF-trust"]);
    let unknown = text.find("unknown CA").unwrap_or_else(|| panic!("{text}"));
    assert!(text[unknown..].contains("(self-signed)") && text[unknown..].contains("expired"), "{text}");
    assert!(c.fail(&["cert", "inspect", f.to_str().unwrap()]).contains("untrusted"));
    // Trusted where it is checked: exit 0 (`ok`), as without a cluster.
    let ours = c.issue_lsc("SEP000000000001", 365);
    c.ok(&["cert", "inspect", ours.to_str().unwrap()]);
    Cluster::empty().ok(&["cert", "inspect", f.to_str().unwrap()]);
    for cmd in [&["cert", "inspect", "--help"][..], &["diagnose", "pcap", "--help"], &["diagnose", "log", "--help"]] {
        assert!(c.ok(cmd).contains("Exit status: 1 when"), "{cmd:?}");
    }
}

#[test]
fn a_file_that_is_not_a_certificate_is_named_with_what_was_expected() {
    let c = Cluster::init(&[]);
    let cases: [(&str, &[u8], &str); 4] = [
        ("garbage.pem", b"-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n", "DER structure"),
        ("garbage.der", &[0x30, 0x03, 0x02, 0x01, 0x01], "DER structure"),
        ("bad64.pem", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64"),
        ("key.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY block"),
    ];
    for (name, bytes, why) in cases {
        let f = c.path(name);
        std::fs::write(&f, bytes).unwrap();
        for args in [&["cert", "inspect"][..], &["trust", "add", "CAPF-trust"]] {
            let err = c.fail(&[args, &[f.to_str().unwrap()]].concat());
            assert!(err.contains(name) && err.contains(why), "{err}");
            assert!(err.contains("expected PEM CERTIFICATE blocks or a DER certificate"), "{err}");
            assert!(
                !err.contains("UnexpectedTag") && !err.contains("Der(") && !err.contains("InvalidCharacter"),
                "{err}"
            );
        }
    }
}
