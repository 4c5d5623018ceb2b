//! Issue 14: `device list` searches (Find and List Phones) and `device set --match` (BAT).

use crate::cli::common::Cluster;

/// SEP…01 CP-8861 line 2001 (LSC a year), SEP…02 CP-7841 line 2002 (LSC 10 days), SEP…03
/// CP-7841 line 3003 (no LSC), SEP…04 CP-8861 (no LSC, Install/Upgrade pending).
fn fleet() -> Cluster {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001", "--line", "2001"]);
    c.ok(&["device", "add", "SEP000000000002", "--model", "CP-7841", "--line", "2002"]);
    c.ok(&["device", "add", "SEP000000000003", "--model", "CP-7841", "--line", "3003"]);
    c.ok(&["device", "add", "SEP000000000004"]);
    let year = c.issue_lsc("SEP000000000001", 365);
    c.record("SEP000000000001", &year);
    let short = c.issue_lsc("SEP000000000002", 10);
    c.record("SEP000000000002", &short);
    c.ok(&["device", "set", "SEP000000000004", "--operation", "install", "--auth", "null"]);
    c
}

fn names(c: &Cluster, args: &[&str]) -> Vec<String> {
    let mut all = vec!["device", "list"];
    all.extend_from_slice(args);
    c.json(&all).as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn list_finds_by_each_filter_sorts_and_pages() {
    let c = fleet();
    assert_eq!(names(&c, &[]), ["SEP000000000001", "SEP000000000002", "SEP000000000003", "SEP000000000004"]);
    assert_eq!(names(&c, &["--name", "0003"]), ["SEP000000000003"]);
    assert_eq!(names(&c, &["--model", "cp-7841"]), ["SEP000000000002", "SEP000000000003"]);
    assert_eq!(names(&c, &["--line", "200"]), ["SEP000000000001", "SEP000000000002"]);
    assert_eq!(names(&c, &["--lsc", "expiring"]), ["SEP000000000002"]);
    assert_eq!(names(&c, &["--lsc", "this"]), ["SEP000000000001", "SEP000000000002"]);
    assert!(names(&c, &["--lsc", "other"]).is_empty());
    assert_eq!(names(&c, &["--lsc", "none", "--model", "CP-7841"]), ["SEP000000000003"]);
    assert_eq!(names(&c, &["--issuer", "capf-"]), ["SEP000000000001", "SEP000000000002"]);
    assert_eq!(names(&c, &["--status", "pending"]), ["SEP000000000004"]);
    assert_eq!(names(&c, &["--operation", "install"]), ["SEP000000000004"]);
    assert_eq!(
        names(&c, &["--sort", "lsc-expiry"]),
        ["SEP000000000002", "SEP000000000001", "SEP000000000003", "SEP000000000004"],
        "no LSC last"
    );
    assert_eq!(
        names(&c, &["--sort", "model", "--desc"]),
        ["SEP000000000001", "SEP000000000004", "SEP000000000002", "SEP000000000003"]
    );
    assert_eq!(names(&c, &["--limit", "2", "--offset", "1"]), ["SEP000000000002", "SEP000000000003"]);
    let out = c.cmd().args(["device", "list", "--limit", "2", "--offset", "1"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 of the 4 matching devices, from number 2"), "{stderr}");
    let rows = c.json(&["device", "list", "--name", "0002"]);
    assert_eq!((rows[0]["lsc_state"].as_str(), rows[0]["lsc_expiring"].as_bool()), (Some("valid"), Some(true)));
    assert_eq!(rows[0]["capf"]["operation_token"], "none", "the token siblings as before");

    let csv = c.ok(&["device", "list", "--csv", "--model", "CP-7841"]);
    assert_eq!(csv.lines().count(), 3, "header and two devices: {csv}");
    assert!(c.usage(&["device", "list", "--lsc", "stale"]).contains("expiring"));
    assert!(c.usage(&["device", "list", "--sort", "age"]).contains("lsc-expiry"));
    assert!(c.fail(&["device", "list", "--limit", "0"]).contains("1 to 1000"));
    assert!(
        c.cmd().args(["device", "list", "--unknown-requests", "--model", "CP-8861"]).output().unwrap().status.code()
            == Some(2)
    );
}

#[test]
fn set_match_changes_the_devices_the_filter_finds_and_no_other() {
    let c = fleet();
    let names_and_filter = ["device", "set", "SEP000000000001", "--model", "CP-7841", "--operation", "install"];
    assert!(c.fail(&names_and_filter).contains("--match"), "a filter with names is not silently ignored");
    assert!(c.fail(&["device", "set", "--match", "--operation", "install"]).contains("needs a filter"));
    let err = c.fail(&["device", "set", "--match", "--model", "CP-9999", "--operation", "install", "--auth", "null"]);
    assert!(err.contains("no device matches"), "{err}");

    let done = c.json(&[
        "device",
        "set",
        "--match",
        "--model",
        "CP-7841",
        "--lsc",
        "none",
        "--operation",
        "install",
        "--auth",
        "null",
    ]);
    let changed: Vec<&str> = done.as_array().unwrap().iter().map(|r| r["device"].as_str().unwrap()).collect();
    assert_eq!(changed, ["SEP000000000003"]);
    assert_eq!(names(&c, &["--operation", "install"]), ["SEP000000000003", "SEP000000000004"]);
    let audit = c.json(&["audit", "--limit", "1"]);
    assert_eq!(
        (audit[0]["action"].as_str(), audit[0]["target"].as_str()),
        (Some("device.set"), Some("SEP000000000003"))
    );

    // --replace rules hold: both pending, so a change by the current operation needs it.
    let by_op =
        ["device", "set", "--match", "--current-operation", "install", "--operation", "delete", "--auth", "null"];
    assert!(c.fail(&by_op).contains("replaces the pending operation of 2 device(s)"));
    let mut replace = by_op.to_vec();
    replace.push("--replace");
    assert_eq!(c.json(&replace).as_array().unwrap().len(), 2);
    assert_eq!(names(&c, &["--operation", "delete"]), ["SEP000000000003", "SEP000000000004"]);
    assert!(names(&c, &["--operation", "delete", "--lsc", "this"]).is_empty(), "the LSC holders untouched");
}
