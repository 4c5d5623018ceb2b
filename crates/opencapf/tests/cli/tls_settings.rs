//! The `tls.*` settings (legacy phones) and how legacy registrations show.

use crate::cli::common::Cluster;

fn value(shown: &serde_json::Value, key: &str) -> serde_json::Value {
    shown.as_array().unwrap().iter().find(|s| s["key"] == key).unwrap_or_else(|| panic!("{key} in {shown}"))["value"]
        .clone()
}

#[test]
fn tls_settings_default_to_modern_phones_and_are_set_shown_and_audited() {
    let c = Cluster::init(&[]);
    let shown = c.json(&["settings", "show"]);
    assert_eq!(value(&shown, "tls.min_version"), "1.2");
    assert_eq!(value(&shown, "tls.cbc"), "off");
    assert_eq!(value(&shown, "tls.null_sha"), "on", "CUCM offers NULL-SHA to Authenticated devices");
    assert_eq!(value(&shown, "tls.empty_fragments"), "on", "as capfd with 79xx phones");
    let status = c.json(&["status"]);
    assert_eq!(status["tls"]["min_version"], "TLSv1.2", "{status}");
    assert_eq!(status["legacy_phones_allowed"], serde_json::Value::Null);
    assert!(!c.ok(&["status"]).contains("legacy phones allowed"));

    c.ok(&["settings", "set", "tls.min_version", "1.0"]);
    c.ok(&["settings", "set", "tls.cbc", "on"]);
    c.ok(&["settings", "set", "tls.empty_fragments", "off"]);
    let shown = c.json(&["settings", "show"]);
    assert_eq!(value(&shown, "tls.min_version"), "1.0");
    assert_eq!(value(&shown, "tls.cbc"), "on");
    assert_eq!(value(&shown, "tls.empty_fragments"), "off");
    assert_eq!(value(&shown, "tls.null_sha"), "on", "the others keep their value");

    let audit = c.json(&["audit", "--limit", "3"]);
    let entries: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["target"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [("tls.empty_fragments", "on -> off"), ("tls.cbc", "off -> on"), ("tls.min_version", "1.2 -> 1.0")],
        "{audit}"
    );
    assert!(audit.as_array().unwrap().iter().all(|e| e["action"] == "settings.set"));

    let status = c.json(&["status"]);
    assert_eq!(status["tls"]["cbc"], true);
    assert_eq!(status["legacy_phones_allowed"], "TLS 1.0 and up, CBC suites");
    let text = c.ok(&["status"]);
    assert!(text.contains("legacy phones allowed: TLS 1.0 and up, CBC suites"), "{text}");
    assert!(text.contains("minimum 1.0, CBC suites on"), "{text}");
}

#[test]
fn bad_tls_values_are_refused_and_change_nothing() {
    let c = Cluster::init(&[]);
    for (key, bad, says) in [
        ("tls.min_version", "1.3", "use 1.0, 1.1 or 1.2"),
        ("tls.min_version", "SSLv3", "use 1.0, 1.1 or 1.2"),
        ("tls.cbc", "maybe", "tls.cbc 'maybe': use on or off"),
        ("tls.null_sha", "2", "use on or off"),
        ("tls.empty_fragments", "", "use on or off"),
    ] {
        let e = c.fail(&["settings", "set", key, bad]);
        assert!(e.contains(says), "{key} {bad}: {e}");
    }
    let e = c.fail(&["settings", "set", "tls.minimum", "1.0"]);
    assert!(e.contains("unknown setting") && e.contains("tls.min_version"), "{e}");
    let shown = c.json(&["settings", "show"]);
    assert_eq!((value(&shown, "tls.min_version"), value(&shown, "tls.cbc")), ("1.2".into(), "off".into()));
    let audit = c.json(&["audit", "--limit", "20"]);
    assert!(!audit.as_array().unwrap().iter().any(|e| e["action"] == "settings.set"), "{audit}");
}

#[test]
fn a_legacy_registration_is_marked_in_the_table_and_in_json() {
    use opencapf_model::{NewRegistration, Protocol, RegistrationResult, TlsEngine, Transport};
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    c.ok(&["device", "add", "SEP000000000002"]);
    c.store(async |s| {
        let bare = NewRegistration::bare(
            "10.0.0.1:2443".into(),
            Protocol::Sccp,
            Transport::Tls,
            RegistrationResult::Registered,
            String::new(),
        );
        let old = NewRegistration {
            device: Some("SEP000000000001".into()),
            tls_version: Some("TLSv1".into()),
            cipher: Some("AES256-SHA".into()),
            engine: Some(TlsEngine::Openssl),
            ..bare.clone()
        };
        let new = NewRegistration {
            device: Some("SEP000000000002".into()),
            tls_version: Some("TLSv1.3".into()),
            cipher: Some("TLS_AES_256_GCM_SHA384".into()),
            engine: Some(TlsEngine::Rustls),
            ..bare
        };
        for e in [old, new] {
            let name = e.device.clone().unwrap();
            s.record_registration(&e, "test", "registration", &name, "").await.unwrap();
        }
    });
    let json = c.json(&["registrations"]);
    let rows = json.as_array().unwrap();
    assert_eq!((rows[0]["device"].as_str(), rows[0]["legacy"].as_bool()), (Some("SEP000000000002"), Some(false)));
    assert_eq!((rows[1]["legacy"].as_bool(), rows[1]["engine"].as_str()), (Some(true), Some("openssl")), "{json}");
    let text = c.ok(&["registrations"]);
    let line = |device: &str| text.lines().find(|l| l.contains(device)).unwrap_or_else(|| panic!("{text}")).to_owned();
    assert!(line("SEP000000000001").contains("TLSv1 AES256-SHA (legacy)"), "{text}");
    assert!(!line("SEP000000000002").contains("legacy"), "{text}");

    let doctor = c.cmd().args(["doctor", "--verbose"]).output().unwrap();
    let out = String::from_utf8_lossy(&doctor.stdout);
    assert!(out.contains("SEP000000000001") && out.contains("TLS 1.0"), "{out}");
    assert!(!out.lines().any(|l| l.contains("legacy") && l.contains("SEP000000000002")), "{out}");
}
