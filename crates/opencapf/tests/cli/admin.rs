//! Cluster settings, an enterprise-signed CAPF certificate, the phone's console log and `--help`.

use crate::cli::common::{ca_sign, enterprise_ca, openssl, Cluster};

#[test]
fn help_names_the_environment_variables() {
    let c = Cluster::empty();
    let help = c.ok(&["--help"]);
    assert!(help.contains("RUST_LOG"), "{help}");
    assert!(help.contains("OPENCAPF_DATA_DIR"), "{help}");
}

#[test]
fn console_log_lines_end_with_a_newline_even_after_a_cut_log() {
    let c = Cluster::init(&[]);
    c.ok(&["mfg", "init"]);
    let dir = c.path("phone");
    c.ok(&["phone", "init", dir.to_str().unwrap(), "--name", "SEP000000000001", "--mic-key-type", "ec256"]);
    let log = dir.join("console.log");
    // A log cut short (copied mid-write, or edited): its last line has no newline.
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.trim_end_matches('\n')).unwrap();
    let before = text.lines().count();
    c.ok(&["phone", "delete-lsc", dir.to_str().unwrap()]);
    let after = std::fs::read_to_string(&log).unwrap();
    assert!(after.ends_with('\n'), "{after:?}");
    assert!(after.lines().count() > before, "{after}");
    for line in after.lines() {
        let entries = [" INF ", " WRN ", " ERR "].iter().map(|l| line.matches(l).count()).sum::<usize>();
        assert_eq!(entries, 1, "one entry per line: {line}");
    }
}

#[test]
fn settings_are_shown_changed_and_audited() {
    let c = Cluster::init(&["--org", "Example", "--country", "FR"]);
    let shown = c.json(&["settings", "show"]);
    let value = |v: &serde_json::Value, key: &str| {
        v.as_array().unwrap().iter().find(|s| s["key"] == key).unwrap_or_else(|| panic!("{key} in {v}"))["value"]
            .clone()
    };
    assert_eq!(value(&shown, "subject.organization"), "Example");
    assert_eq!(value(&shown, "subject.organizational_unit"), serde_json::Value::Null);
    assert_eq!(value(&shown, "capf.require_sudi"), "off");
    let text = c.ok(&["settings", "show"]);
    assert!(text.contains("lsc.validity_days"), "{text}");

    c.ok(&["settings", "set", "lsc.validity_days", "730"]);
    c.ok(&["settings", "set", "subject.organizational_unit", "Voice"]);
    c.ok(&["settings", "set", "capf.require_sudi", "on"]);
    let shown = c.json(&["settings", "show"]);
    assert_eq!(value(&shown, "lsc.validity_days"), "730");
    assert_eq!(value(&shown, "subject.organizational_unit"), "Voice");
    assert_eq!(value(&shown, "capf.require_sudi"), "on");
    let audit = c.json(&["audit", "--limit", "3"]);
    assert!(audit.as_array().unwrap().iter().all(|e| e["action"] == "settings.set"), "{audit}");
    assert_eq!(audit[1]["target"], "subject.organizational_unit");

    // A new CAPF certificate carries the new OU.
    c.ok(&["capf", "regenerate"]);
    assert!(c.ok(&["capf", "show"]).contains("OU=Voice"), "{}", c.ok(&["capf", "show"]));

    let e = c.fail(&["settings", "set", "lsc.validty_days", "730"]);
    assert!(e.contains("unknown setting") && e.contains("lsc.validity_days"), "{e}");
    assert!(c.fail(&["settings", "set", "lsc.validity_days", "0"]).contains("1 to"));
    assert!(c.fail(&["settings", "set", "subject.country", "France"]).contains("two-letter"));
}

#[test]
fn an_enterprise_ca_signs_the_capf_certificate_and_the_key_is_kept() {
    let c = Cluster::init(&["--org", "Example", "--capf-key", "ec256"]);
    let dir = c.dir.path();
    let cn = c.json(&["status"])["capf"]["common_name"].as_str().unwrap().to_owned();
    c.ok(&["capf", "csr", "--out", c.path("capf.csr").to_str().unwrap()]);
    let subject = std::process::Command::new("openssl")
        .args(["req", "-in", c.path("capf.csr").to_str().unwrap(), "-verify", "-noout", "-subject"])
        .output()
        .unwrap();
    assert!(subject.status.success(), "{subject:?}");
    assert!(String::from_utf8_lossy(&subject.stdout).contains(&cn), "{subject:?}");

    // The enterprise CA, and another one that did not sign.
    enterprise_ca(dir, "ca");
    enterprise_ca(dir, "other-ca");
    let ext = "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n\
               subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
    ca_sign(dir, "ca", "capf.csr", ext, "capf-signed.pem", &[]);
    let signed = c.path("capf-signed.pem");
    let signed = signed.to_str().unwrap();

    // Refusals change nothing: no issuer, the wrong issuer, a certificate of another key.
    assert!(c.fail(&["capf", "import-signed", signed]).contains("no issuer certificate"));
    let other = c.path("other-ca.pem");
    assert!(c
        .fail(&["capf", "import-signed", signed, "--chain", other.to_str().unwrap()])
        .contains("does not chain to its issuers"));
    let ca = c.path("ca.pem");
    assert!(c.fail(&["capf", "import-signed", ca.to_str().unwrap()]).contains("does not carry the CAPF key"));
    assert_eq!(c.json(&["capf", "show"]).as_array().unwrap().len(), 1);

    let out = c.ok(&["capf", "import-signed", signed, "--chain", ca.to_str().unwrap()]);
    assert!(out.contains("Example ca"), "{out}");
    let shown = c.json(&["capf", "show"]);
    assert_eq!(shown.as_array().unwrap().len(), 2, "the self-signed one is retired: {shown}");
    assert_eq!(shown[0]["state"], "active");
    assert_eq!(shown[0]["common_name"], cn.as_str(), "the same key, the same name");
    for store in ["CAPF-trust", "CallManager-trust"] {
        let list = c.ok(&["trust", "list", store]);
        assert!(list.contains("Example ca"), "{store}: {list}");
    }
    assert_eq!(c.json(&["audit", "--limit", "1"])[0]["action"], "capf.import_signed");

    // An LSC issued now chains through the enterprise CA.
    let lsc = c.issue_lsc("SEP000000000001", 30);
    openssl(dir, &["verify", "-CAfile", "ca.pem", "-untrusted", "capf-signed.pem", lsc.to_str().unwrap()]);
}
