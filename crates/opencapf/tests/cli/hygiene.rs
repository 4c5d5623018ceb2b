//! The data folder's modes, and `serve` creating a cluster only where it may (issue 9, items 7
//! and 10).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use assert_cmd::cargo::CommandCargoExt;

use crate::cli::common::Cluster;

const LISTENERS: [&str; 22] = [
    "--admin-listen",
    "127.0.0.1:0",
    "--est-listen",
    "127.0.0.1:0",
    "--capf-listen",
    "127.0.0.1:0",
    "--sip-tls-listen",
    "127.0.0.1:0",
    "--sip-tcp-listen",
    "127.0.0.1:0",
    "--sip-udp-listen",
    "127.0.0.1:0",
    "--sccp-tls-listen",
    "127.0.0.1:0",
    "--sccp-tcp-listen",
    "127.0.0.1:0",
    "--http-listen",
    "127.0.0.1:0",
    "--tftp-listen",
    "127.0.0.1:0",
    "--tvs-listen",
    "127.0.0.1:0",
];

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_private(data: &Path) {
    assert_eq!(mode(data), 0o700, "data folder {}", data.display());
    for file in ["cluster.db", "cluster.db-wal", "cluster.db-shm"] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    assert_eq!(mode(&data.join("cluster.db")), 0o600);
    assert_eq!(mode(&data.join("keys")), 0o700);
    for key in std::fs::read_dir(data.join("keys")).unwrap() {
        assert_eq!(mode(&key.unwrap().path()), 0o600);
    }
}

/// Runs `opencapf GLOBAL serve SERVE` in `cwd` until it prints `Ready` (then stops it), or until
/// it exits; returns whether it got ready and what it printed on standard output and error.
fn serve(cwd: &Path, global: &[&str], serve: &[&str]) -> (bool, String) {
    let mut child = Process::cargo_bin("opencapf")
        .unwrap()
        .current_dir(cwd)
        .env_remove("OPENCAPF_DATA_DIR")
        .args(global)
        .arg("serve")
        .args(serve)
        .args(LISTENERS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    let mut ready = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Ready") {
            ready = true;
            let _ = child.kill();
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    (ready, seen)
}

#[test]
fn init_makes_the_data_folder_private() {
    let c = Cluster::init(&[]);
    assert_private(&c.data());
}

#[test]
fn serve_creates_a_cluster_only_in_the_default_folder_or_with_init() {
    let c = Cluster::empty();
    let named = c.data();
    let global = ["--data-dir", named.to_str().unwrap()];
    let (ready, out) = serve(c.dir.path(), &global, &[]);
    assert!(!ready, "{out}");
    assert!(out.contains("error: no cluster in") && out.contains("--init"), "{out}");
    assert!(!named.exists(), "nothing created in a named folder");

    let (ready, out) = serve(c.dir.path(), &global, &["--init"]);
    assert!(ready, "{out}");
    assert!(out.contains("created one with default settings"), "{out}");
    assert_private(&named);

    // The default folder (no --data-dir, no OPENCAPF_DATA_DIR) is still created on first start.
    let (ready, out) = serve(c.dir.path(), &[], &[]);
    assert!(ready, "{out}");
    assert!(out.contains("created one with default settings"), "{out}");
    assert_private(&c.dir.path().join("opencapf-data"));
}

/// Runs SQL on the cluster's database with the sqlite3 command, as someone who can write the file.
fn sqlite3(db: &Path, sql: &str) {
    let out = Process::new("sqlite3").arg(db).arg(sql).output().expect("the sqlite3 command");
    assert!(out.status.success(), "sqlite3: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn audit_verify_names_the_record_changed_behind_the_triggers_and_doctor_reports_it() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP001122334455"]);
    c.ok(&["device", "add", "SEP001122334466"]);
    let out = c.ok(&["audit", "verify"]);
    assert_eq!(out.trim(), "3 records, chain intact");
    let json = c.json(&["audit", "verify"]);
    assert_eq!(json["intact"], true);
    assert_eq!(json["records"], 3);
    assert!(c.ok(&["audit", "--limit", "1"]).contains("device.add"), "listing still works");

    let db = c.data().join("cluster.db");
    sqlite3(&db, "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'someone-else' WHERE id = 2;");
    let err = c.fail(&["audit", "verify"]);
    assert!(err.contains("broken at record 2") && err.contains("changed after it was written"), "{err}");
    let out = c.cmd().args(["--json", "audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["intact"], false);
    assert_eq!(json["broken"]["id"], 2);

    let out = c.cmd().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hash chain is broken at record 2"), "{text}");
}
