use crate::cli::common::Cluster;

fn in_store(c: &Cluster, store: &str, cn: &str) -> bool {
    c.json(&["trust", "list", store]).as_array().unwrap().iter().any(|e| e["common_name"] == cn)
}

/// Devices 1 to 3, of which 1 and 2 hold an LSC from the active CAPF.
fn add_three_devices_two_with_an_lsc(c: &Cluster) {
    for d in ["SEP000000000001", "SEP000000000002", "SEP000000000003"] {
        c.ok(&["device", "add", d]);
    }
    for d in ["SEP000000000001", "SEP000000000002"] {
        let lsc = c.issue_lsc(d, 365);
        c.record(d, &lsc);
    }
}

#[test]
fn regenerate_retires_the_old_certificate_and_keeps_it_trusted() {
    let c = Cluster::init(&["--capf-key", "ec256"]);
    let old = c.json(&["capf", "show"])[0]["common_name"].as_str().unwrap().to_owned();
    add_three_devices_two_with_an_lsc(&c);
    let out = c.ok(&["capf", "regenerate", "--capf-key", "rsa3072"]);
    assert!(out.contains("2 device(s) still hold an LSC from a retired CAPF certificate"), "{out}");
    let show = c.json(&["capf", "show"]);
    assert_eq!(show[0]["state"], "active");
    assert_eq!(show[0]["key"], "RSA 3072");
    assert_eq!(show[1]["state"], "retired");
    assert_eq!(show[1]["common_name"], old.as_str());
    assert_eq!(show[1]["devices_with_lsc"], 2);
    let new = show[0]["common_name"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    for store in ["CallManager-trust", "CAPF-trust"] {
        assert!(in_store(&c, store, &old), "old CAPF kept in {store}");
        assert!(in_store(&c, store, &new), "new CAPF added to {store}");
    }
    // LSCs of the retired CAPF are still "ours" (valid), not foreign.
    assert_eq!(c.json(&["status"])["devices_by_lsc"]["valid"], 2);
    assert_eq!(c.json(&["status"])["retired_capf_certificates"], 1);
    // A new LSC comes from the new CAPF.
    let lsc = c.issue_lsc("SEP000000000003", 365);
    c.record("SEP000000000003", &lsc);
    let d = c.json(&["device", "show", "SEP000000000003"]);
    assert_eq!(d["lsc"]["issuer_cn"], new.as_str());
    assert!(c.fail(&["capf", "regenerate", "--capf-key", "rsa1024"]).contains("cannot be a CAPF key"));
}

#[test]
fn reissue_schedules_devices_on_retired_capf_and_then_the_old_capf_can_go() {
    let c = Cluster::init(&[]);
    let old = c.json(&["capf", "show"])[0]["common_name"].as_str().unwrap().to_owned();
    add_three_devices_two_with_an_lsc(&c);
    c.ok(&["capf", "regenerate"]);
    let scheduled = c.json(&["capf", "reissue", "--expires-in-days", "5"]);
    assert_eq!(scheduled, serde_json::json!(["SEP000000000001", "SEP000000000002"]));
    for d in ["SEP000000000001", "SEP000000000002"] {
        let shown = c.json(&["device", "show", d]);
        assert_eq!(shown["capf"]["operation"], "Install/Upgrade");
        assert_eq!(shown["capf"]["auth_mode"], "By Existing Certificate (Precedence to LSC)");
        assert_eq!(shown["capf"]["status"], "Operation Pending");
    }
    assert_eq!(c.json(&["device", "show", "SEP000000000003"])["capf"]["status"], "None");
    // Still refused: the phones hold old LSCs until CAPF replaces them.
    assert!(c.fail(&["trust", "remove", "CallManager-trust", &old]).contains("2 device(s)"));
    // Once the phones have new LSCs (recorded here as CAPF would), no --force is needed.
    for d in ["SEP000000000001", "SEP000000000002"] {
        let lsc = c.issue_lsc(d, 365);
        c.record(d, &lsc);
    }
    c.ok(&["trust", "remove", "CallManager-trust", &old]);
    c.ok(&["trust", "remove", "CAPF-trust", &old]);
    assert_eq!(c.json(&["audit", "--limit", "1"])[0]["action"], "trust.remove");
}

#[test]
fn require_sudi_is_a_cluster_setting_shown_by_status_and_audited() {
    let c = Cluster::init(&[]);
    assert_eq!(c.json(&["status"])["require_sudi"], false, "off by default");
    assert!(c.ok(&["capf", "set", "--require-sudi", "on"]).contains("capf.require_sudi is on"));
    assert_eq!(c.json(&["status"])["require_sudi"], true);
    assert!(c.ok(&["status"]).contains("Require SUDI (CAPF)"));
    let audit = c.json(&["audit", "--limit", "1"]);
    assert_eq!(audit[0]["target"], "capf.require_sudi");
    assert!(c.usage(&["capf", "set", "--require-sudi", "maybe"]).contains("on, off"));
}

#[test]
fn regenerate_and_doctor_say_what_happens_next_for_the_phones() {
    let c = Cluster::init(&[]);
    add_three_devices_two_with_an_lsc(&c);
    let out = c.ok(&["capf", "regenerate"]);
    assert!(out.contains("What happens next for the phones:"), "{out}");
    assert!(out.contains("`opencapf device reset --all`") && out.contains("new ITL"), "{out}");
    assert!(out.contains("Re-key the 2 phone(s) still on the old CAPF"), "{out}");
    assert!(out.contains("By Existing Certificate (Precedence to LSC)"), "{out}");
    assert!(out.contains("Stragglers"), "{out}");

    let doctor = c.cmd().args(["--json", "doctor"]).output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let f = r["findings"].as_array().unwrap().iter().find(|f| f["code"] == "retired-capf-still-needed").unwrap();
    assert_eq!(f["devices_affected"], 2);
    let remedy = f["remedy"].to_string();
    assert!(remedy.contains("new ITL") && remedy.contains("Re-key the 2 phone(s) still on the old CAPF"), "{f}");
    assert!(remedy.contains("Stragglers"), "{f}");

    let json = c.json(&["capf", "regenerate"]);
    assert_eq!(json["still_on_old_capf"], 2);
    assert!(json["next_steps"][0].as_str().unwrap().contains("ITL"), "{json}");
}
