use std::process::Command;

use crate::cli::common::{Cluster, CISCO_CA};

fn capf_cn(c: &Cluster) -> String {
    c.json(&["status"])["capf"]["common_name"].as_str().unwrap().to_owned()
}

#[test]
fn unknown_store_names_are_refused() {
    let c = Cluster::init(&[]);
    let err = c.usage(&["trust", "list", "ipsec-trust"]);
    assert!(err.contains("CallManager-trust, CAPF-trust, Phone-SAST-trust"), "{err}");
    let f = format!("{CISCO_CA}/Cisco_Root_CA_M2.pem");
    assert!(c.usage(&["trust", "add", "tomcat-trust", &f]).contains("invalid value 'tomcat-trust'"));
}

#[test]
fn add_is_idempotent_and_export_gives_a_bundle_openssl_reads() {
    let c = Cluster::init(&[]);
    let f = format!("{CISCO_CA}/Cisco_Manufacturing_CA_SHA2.pem");
    assert!(c.ok(&["trust", "add", "CallManager-trust", &f]).contains("Added to CallManager-trust"));
    assert!(c.ok(&["trust", "add", "CallManager-trust", &f]).contains("Already in CallManager-trust"));
    let list = c.json(&["trust", "list", "CallManager-trust"]);
    assert_eq!(list.as_array().unwrap().len(), 3, "CAPF, CallManager, Cisco Manufacturing CA SHA2");

    let out = c.path("cm-trust.pem");
    c.ok(&["trust", "export", "CallManager-trust", "--out", out.to_str().unwrap()]);
    let pem = std::fs::read_to_string(&out).unwrap();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 3);
    // openssl reads every certificate of the bundle, as an 802.1x server would.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("openssl crl2pkcs7 -nocrl -certfile {} | openssl pkcs7 -print_certs -noout", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success());
    let printed = String::from_utf8_lossy(&o.stdout);
    assert_eq!(printed.matches("subject=").count(), 3, "{printed}");
    assert!(printed.contains("Cisco Manufacturing CA SHA2"), "{printed}");
    // standard output too
    assert_eq!(c.ok(&["trust", "export", "CAPF-trust"]).matches("BEGIN CERTIFICATE").count(), 1);
}

#[test]
fn a_bad_file_is_refused_and_adds_nothing() {
    let c = Cluster::init(&[]);
    let junk = c.path("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = c.fail(&["trust", "add", "CAPF-trust", junk.to_str().unwrap()]);
    assert!(err.contains("no certificate found"), "{err}");
    assert_eq!(c.json(&["trust", "list", "CAPF-trust"]).as_array().unwrap().len(), 1);
}

#[test]
fn legacy_sha1_policy_defaults_on_for_manufacturing_cas_and_can_be_set() {
    let c = Cluster::init(&[]);
    c.ok(&["trust", "add", "CAPF-trust", &format!("{CISCO_CA}/Cisco_Root_CA_2048.pem")]);
    c.ok(&["trust", "add", "CAPF-trust", &format!("{CISCO_CA}/Cisco_Root_CA_M2.pem"), "--legacy-sha1", "off"]);
    let list = c.json(&["trust", "list", "CAPF-trust"]);
    let get =
        |cn: &str| list.as_array().unwrap().iter().find(|e| e["common_name"] == cn).unwrap()["legacy_sha1"].clone();
    assert_eq!(get("Cisco Root CA 2048"), true);
    assert_eq!(get("Cisco Root CA M2"), false);
    assert!(c
        .usage(&["trust", "add", "CAPF-trust", &format!("{CISCO_CA}/Cisco_Root_CA_M2.pem"), "--legacy-sha1", "maybe"])
        .contains("on, off"));
}

#[test]
fn removal_is_refused_while_a_device_holds_an_lsc_it_issued_and_force_is_audited() {
    let c = Cluster::init(&[]);
    let cn = capf_cn(&c);
    for i in 1..=25 {
        let d = format!("SEP0000000000{i:02}");
        c.ok(&["device", "add", &d]);
        let lsc = c.issue_lsc(&d, 365);
        c.record(&d, &lsc);
    }
    // The active CAPF: refused for the devices first.
    let err = c.fail(&["trust", "remove", "CallManager-trust", &cn]);
    assert!(err.contains("25 device(s)"), "{err}");
    assert!(err.contains("SEP000000000001") && err.contains("SEP000000000020"), "{err}");
    assert!(!err.contains("SEP000000000021"), "only the first 20 are named: {err}");
    assert!(err.contains("and 5 more"), "{err}");
    assert!(err.contains("unknown CA"), "{err}");
    let err = c.fail(&["trust", "remove", "CAPF-trust", &cn]);
    assert!(err.contains("Invalid LSC"), "{err}");
    assert_eq!(c.json(&["trust", "list", "CallManager-trust"]).as_array().unwrap().len(), 2, "nothing removed");

    let out = c.cmd().args(["trust", "remove", "CallManager-trust", &cn, "--force"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("25 device(s)"));
    assert_eq!(c.json(&["trust", "list", "CallManager-trust"]).as_array().unwrap().len(), 1);
    let audit = c.json(&["audit", "--limit", "1"]);
    assert_eq!(audit[0]["action"], "trust.remove.forced");
    assert!(audit[0]["detail"].as_str().unwrap().contains("25"));
}

#[test]
fn removal_by_fingerprint_prefix_and_of_an_unused_certificate_needs_no_force() {
    let c = Cluster::init(&["--manufacturer-ca", CISCO_CA]);
    let list = c.json(&["trust", "list", "CAPF-trust"]);
    let fp = list.as_array().unwrap().iter().find(|e| e["common_name"] == "ACT2 SUDI CA").unwrap()["fingerprint"]
        .as_str()
        .unwrap()[..10]
        .to_owned();
    assert!(c.ok(&["trust", "remove", "CAPF-trust", &fp]).contains("ACT2 SUDI CA"));
    assert!(c.fail(&["trust", "remove", "CAPF-trust", &fp]).contains("no certificate"));
    // The CallManager certificate is guarded as the active service certificate.
    assert!(c.fail(&["trust", "remove", "CallManager-trust", "cucm-pub.lab"]).contains("active CallManager"));
    // Too short to be a fingerprint, and not a name.
    assert!(c.fail(&["trust", "remove", "CAPF-trust", "ab"]).contains("no certificate"));
}

#[test]
fn removal_is_refused_while_a_secure_phone_without_an_lsc_registers_with_a_mic_it_issued() {
    let c = Cluster::init(&[]);
    c.ok(&["mfg", "init"]);
    let dir = c.path("phone1");
    c.ok(&["mfg", "issue", "SEP2C3124C9F8E1", "--out", dir.to_str().unwrap()]);
    c.ok(&["device", "add", "SEP2C3124C9F8E1"]);
    c.record("SEP2C3124C9F8E1", &dir.join("mic.pem"));
    let ca = dir.join("manufacturer-ca.pem");
    for store in ["CallManager-trust", "CAPF-trust"] {
        c.ok(&["trust", "add", store, ca.to_str().unwrap()]);
    }
    let cn = "OpenCAPF Lab Manufacturing CA";
    for store in ["CallManager-trust", "CAPF-trust"] {
        let err = c.fail(&["trust", "remove", store, cn]);
        assert!(err.contains("1 device(s)") && err.contains("SEP2C3124C9F8E1"), "{err}");
    }
    // Once the phone holds an LSC, its MIC no longer matters.
    let lsc = c.issue_lsc("SEP2C3124C9F8E1", 365);
    c.record("SEP2C3124C9F8E1", &lsc);
    assert!(c.ok(&["trust", "remove", "CallManager-trust", cn]).contains(cn));
}

#[test]
fn an_expired_ca_is_added_with_a_warning() {
    use opencapf_pki::KeyAlgorithm;
    let c = Cluster::init(&[]);
    let then = opencapf_testkit::now() - time::Duration::days(400);
    let ca = opencapf_testkit::Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 30, then);
    let f = c.path("old-ca.pem");
    std::fs::write(&f, opencapf_pki::pem::encode("CERTIFICATE", &ca.der)).unwrap();
    let out = c.cmd().args(["trust", "add", "CAPF-trust", f.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning:") && stderr.contains("expired on"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added to CAPF-trust"));
    assert_eq!(c.json(&["trust", "list", "CAPF-trust"]).as_array().unwrap().len(), 2, "still added");

    let again = c.json(&["trust", "add", "CAPF-trust", f.to_str().unwrap()]);
    assert_eq!(again[0]["added"], "already-present");
    assert!(again[0]["warning"].as_str().unwrap().contains("expired on"));
    let fresh = c.json(&["trust", "add", "CAPF-trust", &format!("{CISCO_CA}/Cisco_Root_CA_M2.pem")]);
    assert!(fresh[0]["warning"].is_null());
}

#[test]
fn export_itl_writes_the_signed_itl_phones_trust_and_needs_out() {
    let c = Cluster::init(&[]);
    let file = c.path("ITLFile.tlv");
    let out = c.cmd().args(["trust", "export-itl", "--out", file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Wrote the ITL (ITLFile.tlv"), "{said}");

    // Signed by the cluster's ITLRecovery, with the records phones trust by role.
    let itl = opencapf_pki::Itl::parse(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(itl.header.filename, "ITLFile.tlv");
    let recovery = c.path("itlrecovery.pem");
    c.ok(&["cert", "own", "itlrecovery", "--out", recovery.to_str().unwrap()]);
    let recovery = opencapf_pki::pem::parse_certificates(&std::fs::read(&recovery).unwrap()).unwrap().remove(0);
    itl.verify_with(&recovery).unwrap();
    let roles: Vec<String> = itl.records.iter().map(|r| r.role().unwrap().name().to_owned()).collect();
    for role in ["SAST", "CCM+TFTP", "CAPF", "TVS"] {
        assert!(roles.iter().any(|r| r == role), "{role} in {roles:?}");
        assert!(said.contains(role), "the records are listed: {said}");
    }

    // Binary: never to a terminal, so --out is required; and no JSON of it.
    let missing = c.cmd().args(["trust", "export-itl"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(missing.stdout.is_empty());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("--out <FILE>"), "{err}");
    let json = c.cmd().args(["--json", "trust", "export-itl", "--out", file.to_str().unwrap()]).output().unwrap();
    assert_ne!(json.status.code(), Some(0), "no JSON of a binary file");
    let gone = c.cmd().args(["trust", "export-phone"]).output().unwrap();
    assert_eq!(gone.status.code(), Some(2), "the PEM trust list is gone: the phone's trust list is its ITL");
}
