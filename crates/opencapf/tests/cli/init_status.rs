use std::os::unix::fs::PermissionsExt;

use crate::cli::common::{Cluster, CISCO_CA};

#[test]
fn init_creates_the_cluster_with_both_stores_and_cisco_anchors() {
    let c = Cluster::init(&["--org", "Stormin", "--ou", "IST", "--country", "AU", "--manufacturer-ca", CISCO_CA]);
    let status = c.json(&["status"]);
    let cn = status["capf"]["common_name"].as_str().unwrap();
    assert!(cn.starts_with("CAPF-") && cn.len() == 13, "{cn}");
    assert_eq!(status["capf"]["key"], "RSA 2048");
    assert!(status["capf"]["days_left"].as_i64().unwrap() >= 1824);
    // 9 Cisco CAs + CAPF in both, + CallManager in CallManager-trust.
    assert_eq!(status["trust_stores"]["CAPF-trust"], 10);
    assert_eq!(status["trust_stores"]["CallManager-trust"], 11);
    assert_eq!(status["devices"], 0);
    assert_eq!(status["callmanager_common_name"], "cucm-pub.lab");

    let entries = c.json(&["trust", "list", "CAPF-trust"]);
    let sha2 = entries.as_array().unwrap().iter().find(|e| e["common_name"] == "Cisco Manufacturing CA SHA2").unwrap();
    assert_eq!(sha2["legacy_sha1"], true, "manufacturing anchors keep legacy SHA-1 on");
    let capf = entries.as_array().unwrap().iter().find(|e| e["common_name"] == cn).unwrap();
    assert_eq!(capf["legacy_sha1"], false);
    let human = c.ok(&["status"]);
    assert!(human.contains(cn) && human.contains("RSA 2048"), "{human}");
}

#[test]
fn private_keys_are_written_0600_in_a_0700_folder() {
    let c = Cluster::init(&[]);
    let keys = c.data().join("keys");
    assert_eq!(std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777, 0o700);
    let files: Vec<_> = std::fs::read_dir(&keys).unwrap().map(|e| e.unwrap().path()).collect();
    let mut kinds: Vec<String> =
        files.iter().map(|f| f.file_name().unwrap().to_string_lossy().split('-').next().unwrap().to_owned()).collect();
    kinds.sort();
    // One key per identity, the authentication-string key and the cluster key (which seals the
    // others into the database for the other nodes).
    assert_eq!(
        kinds,
        ["auth", "callmanager", "capf", "cluster.kek", "itlrecovery", "tomcat", "tvs"],
        "one key per identity and the two secrets: {files:?}"
    );
    for f in files {
        assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
        if f.extension().is_some_and(|e| e == "key") {
            assert!(std::fs::read_to_string(&f).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
        }
    }
}

#[test]
fn init_without_a_manufacturer_says_mics_will_be_refused() {
    let c = Cluster::empty();
    let out = c.cmd().args(["init", "--capf-key", "ec256"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no manufacturer is trusted yet"), "{stderr}");
    assert!(stderr.contains("Cisco Manufacturing CA SHA2"), "{stderr}");
    assert_eq!(c.json(&["status"])["capf"]["key"], "EC P-256");
}

#[test]
fn a_second_init_is_refused_and_changes_nothing() {
    let c = Cluster::init(&[]);
    let before = c.json(&["status"])["capf"]["common_name"].clone();
    let err = c.fail(&["init"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(c.json(&["status"])["capf"]["common_name"], before);
}

#[test]
fn bad_init_arguments_are_refused_and_leave_no_cluster() {
    let c = Cluster::empty();
    assert!(c.fail(&["init", "--capf-key", "rsa1024"]).contains("CAPF key"));
    assert!(c.fail(&["init", "--country", "France"]).contains("two-letter"));
    let err = c.fail(&["init", "--manufacturer-ca", c.path("missing.pem").to_str().unwrap()]);
    assert!(err.contains("missing.pem"), "{err}");
    assert!(!c.data().exists(), "no half-made cluster");
    assert!(c.fail(&["status"]).contains("no cluster"));
}

#[test]
fn usage_errors_exit_2() {
    let c = Cluster::empty();
    let out = c.cmd().args(["init", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = c.cmd().args(["trust"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn status_counts_devices_by_lsc_state_and_pending_operations() {
    let c = Cluster::init(&[]);
    for d in ["SEP000000000001", "SEP000000000002", "SEP000000000003"] {
        c.ok(&["device", "add", d]);
    }
    let lsc = c.issue_lsc("SEP000000000001", 365);
    c.record("SEP000000000001", &lsc);
    c.ok(&["device", "set", "SEP000000000002", "--operation", "delete", "--auth", "null"]);
    let s = c.json(&["status"]);
    assert_eq!(s["devices"], 3);
    assert_eq!(s["devices_by_lsc"]["valid"], 1);
    assert_eq!(s["devices_by_lsc"]["none"], 2);
    assert_eq!(s["pending_operations"], 1);
    assert_eq!(s["overdue_operations"], 0);
}

#[test]
fn the_audit_log_records_changes_with_their_actor() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    let log = c.json(&["audit"]);
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["device.add", "cluster.init"]);
    assert!(log[0]["actor"].as_str().unwrap().starts_with("cli:"));
}

#[test]
fn the_capf_key_defaults_to_rsa_2048_and_an_ec_choice_warns() {
    let warning = "phones accept only an RSA CAPF certificate";
    let c = Cluster::empty();
    let out = c.cmd().args(["init"]).output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains(warning));
    assert_eq!(c.json(&["status"])["capf"]["key"], "RSA 2048");
    let out = c.cmd().args(["capf", "regenerate", "--capf-key", "ec384"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(warning), "regenerate to EC warns");
    assert_eq!(c.json(&["status"])["capf"]["key"], "EC P-384", "EC stays a free choice");

    let ec = Cluster::empty();
    let out = ec.cmd().args(["init", "--capf-key", "ec256"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(warning));
}
