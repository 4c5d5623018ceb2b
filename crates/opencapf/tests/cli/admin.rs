//! Cluster settings, an enterprise-signed CAPF certificate, the phone's console log and `--help`.

use crate::common::Cluster;

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
    c.ok(&["phone", "update-trust-list", dir.to_str().unwrap()]);
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
