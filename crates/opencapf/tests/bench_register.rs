//! `opencapf bench register` against its in-process CallManager: every phone registers over SIP
//! TLS with its LSC, stays registered through its refreshes, and the numbers agree with each other
//! and with CallManager's registry.

use std::process::Command;

#[test]
fn twenty_phones_register_and_stay_registered_through_their_refreshes() {
    // The throw-away cluster goes under TMPDIR: this test's own.
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opencapf"))
        .args(["bench", "register", "--phones", "20", "--concurrency", "8", "--hold", "2", "--refresh", "1", "--json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["phones"], 20, "{r}");
    assert_eq!(r["registered"], 20, "{r}");
    assert_eq!(r["failures"], 0, "{r}");
    assert_eq!(r["held"], 20, "{r}");
    assert_eq!(r["server_registered"], 20, "CallManager recorded them registered: {r}");
    assert_eq!(r["refresh_failures"], 0, "{r}");
    // Two seconds with a refresh every second: each phone refreshed at least once.
    assert!(r["refreshes"].as_u64().unwrap() >= 20, "{r}");
    assert!(r["registrations_per_second"].as_f64().unwrap() > 0.0, "{r}");
    let (p50, p95, max) = (r["p50_ms"].as_f64().unwrap(), r["p95_ms"].as_f64().unwrap(), r["max_ms"].as_f64().unwrap());
    assert!(0.0 < p50 && p50 <= p95 && p95 <= max, "{r}");
    assert!(r["memory_per_phone_bytes"].as_u64().unwrap() > 0, "{r}");
    assert!(r["rss_after_kib"].as_u64().unwrap() > r["rss_before_kib"].as_u64().unwrap(), "{r}");
}

#[test]
fn target_without_the_phones_material_is_refused_with_what_it_needs() {
    let out = Command::new(env!("CARGO_BIN_EXE_opencapf"))
        .args(["bench", "register", "--target", "127.0.0.1:5061"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--trust") && stderr.contains("--phones-dir"), "{stderr}");
}
