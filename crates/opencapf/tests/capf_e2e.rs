//! CAPF end to end, as an administrator and a phone see it: `opencapf serve` in its own process,
//! `opencapf device set` on the cluster, and `opencapf phone capf` for the phone, over real TLS on
//! 127.0.0.1. Every operation × authentication mode, then the seed's refusals.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

const BIN: &str = "opencapf";

/// A cluster folder, its `opencapf serve` child (killed on drop) and its phones.
struct Lab {
    dir: tempfile::TempDir,
    server: Option<Child>,
    capf: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Lab {
    /// A cluster with the lab manufacturer trusted in CAPF-trust, and CAPF serving it.
    fn start() -> Lab {
        let mut lab = Lab { dir: tempfile::tempdir().unwrap(), server: None, capf: String::new() };
        lab.ok(&["init", "--hostname", "cucm.lab"]);
        lab.ok(&["mfg", "init"]);
        let ca = lab.path("lab-ca.pem");
        lab.ok(&["mfg", "issue", "SEP0000000000FF", "--out", lab.path("scratch").to_str().unwrap()]);
        std::fs::copy(lab.path("scratch").join("manufacturer-ca.pem"), &ca).unwrap();
        lab.ok(&["trust", "add", "CAPF-trust", ca.to_str().unwrap()]);
        lab.serve();
        lab
    }

    fn serve(&mut self) {
        let mut child = StdCommand::cargo_bin(BIN)
            .unwrap()
            .args(["--data-dir", self.data().to_str().unwrap(), "serve", "--capf-listen", "127.0.0.1:0"])
            .args(["--sip-tls-listen", "off", "--sip-tcp-listen", "off", "--sccp-tls-listen", "off"])
            .args(["--sccp-tcp-listen", "off", "--keygen-timeout", "60", "--shutdown-grace", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(rest) = line.strip_prefix("CAPF listening on ") {
                self.capf = rest.split_whitespace().next().unwrap().to_owned();
            }
            if line.starts_with("Ready") {
                break;
            }
        }
        assert!(!self.capf.is_empty(), "serve did not start");
        self.server = Some(child);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn data(&self) -> PathBuf {
        self.path("data")
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = StdCommand::cargo_bin(BIN)
            .unwrap()
            .env_remove("OPENCAPF_DATA_DIR")
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "opencapf {args:?}:\n{}\n{}", r.stdout, r.stderr);
        r.stdout
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// A device in the cluster and a phone folder for it, with a lab MIC and the cluster's trust list.
    fn phone(&self, name: &str) -> PathBuf {
        self.ok(&["device", "add", name, "--security", "encrypted"]);
        let dir = self.path(&format!("phone-{name}"));
        self.ok(&["phone", "init", dir.to_str().unwrap(), "--name", name, "--mic-key-type", "ec256"]);
        dir
    }

    /// One CAPF session of the phone in `dir`; `extra` are credentials flags.
    fn capf(&self, dir: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["phone", "capf", dir.to_str().unwrap(), "--server", &self.capf, "--timeout", "30"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn status(&self, name: &str) -> String {
        self.json(&["device", "show", name])["capf"]["status"].as_str().unwrap().to_owned()
    }

    fn lsc_serial(&self, name: &str) -> Option<String> {
        self.json(&["device", "show", name])["lsc"]["serial"].as_str().map(str::to_owned)
    }
}

fn phone_lsc_serial(lab: &Lab, dir: &Path) -> Option<String> {
    let shown = lab.json(&["phone", "show", dir.to_str().unwrap()]);
    shown["lsc"]["serial"].as_str().map(str::to_owned)
}

/// The credentials flags a phone uses for each authentication mode.
fn phone_flags(auth: &str) -> Vec<&'static str> {
    match auth {
        "string" => vec!["--auth-string", "20261127"],
        "null" => vec!["--null-string"],
        "lsc" => vec![],
        "mic" => vec!["--prefer-mic"],
        _ => unreachable!(),
    }
}

fn schedule(lab: &Lab, name: &str, op: &str, auth: &str) {
    let mut args = vec!["device", "set", name, "--operation", op, "--auth", auth];
    if auth == "string" {
        args.extend(["--auth-string", "20261127"]);
    }
    lab.ok(&args);
    assert_eq!(lab.status(name), "Operation Pending");
}

#[test]
fn every_operation_with_every_authentication_mode() {
    let lab = Lab::start();
    for (i, auth) in ["string", "null", "lsc", "mic"].iter().enumerate() {
        let name = format!("SEP00000000AA0{i}");
        let dir = lab.phone(&name);

        // Install/Upgrade: the phone gets an LSC, and the cluster records the same one.
        schedule(&lab, &name, "install", auth);
        let r = lab.capf(&dir, &phone_flags(auth));
        assert_eq!(r.code, 0, "install by {auth}: {}{}", r.stdout, r.stderr);
        assert_eq!(lab.status(&name), "Upgrade Success", "install by {auth}");
        let serial = lab.lsc_serial(&name).expect("the cluster records the LSC");
        assert_eq!(phone_lsc_serial(&lab, &dir).as_deref(), Some(serial.as_str()), "install by {auth}");
        let shown = lab.json(&["device", "show", &name]);
        assert_eq!(shown["lsc_state"], "valid");
        assert_eq!(
            shown["lsc"]["issuer_cn"].as_str().unwrap(),
            lab.json(&["status"])["capf"]["common_name"].as_str().unwrap()
        );
        assert_eq!(shown["issued_certificates"].as_array().unwrap().len(), 1, "recorded once");
        assert_eq!(shown["issued_certificates"][0]["state"], "installed");

        // Troubleshoot: the phone uploads its certificate; the administrator can read it.
        schedule(&lab, &name, "troubleshoot", auth);
        let r = lab.capf(&dir, &phone_flags(auth));
        assert_eq!(r.code, 0, "troubleshoot by {auth}: {}{}", r.stdout, r.stderr);
        assert_eq!(lab.status(&name), "Troubleshoot Success", "troubleshoot by {auth}");
        let certs = lab.json(&["device", "certs", &name]);
        assert!(certs.to_string().contains(&name), "uploaded certificates of {name}: {certs}");
        let out = lab.path(&format!("certs-{name}"));
        lab.ok(&["device", "certs", &name, "--out", out.to_str().unwrap()]);
        assert!(std::fs::read_dir(&out).unwrap().count() >= 1);

        // Delete: the LSC is gone from the phone and from the cluster's record.
        schedule(&lab, &name, "delete", auth);
        let r = lab.capf(&dir, &phone_flags(auth));
        assert_eq!(r.code, 0, "delete by {auth}: {}{}", r.stdout, r.stderr);
        assert_eq!(lab.status(&name), "Delete Success", "delete by {auth}");
        assert!(lab.lsc_serial(&name).is_none());
        assert!(phone_lsc_serial(&lab, &dir).is_none());
        let shown = lab.json(&["device", "show", &name]);
        assert_eq!(shown["issued_certificates"][0]["state"], "deleted");
    }
    // The phone's console log speaks like a phone: with no LSC yet, it proved itself with its MIC.
    let log = std::fs::read_to_string(lab.path("phone-SEP00000000AA02").join("console.log")).unwrap();
    assert!(log.contains("SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC"), "{log}");
}

#[test]
fn no_pending_operation_and_unknown_device() {
    let lab = Lab::start();
    let dir = lab.phone("SEP00000000BB01");
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 0, "nothing to do is not a failure: {}{}", r.stdout, r.stderr);
    assert_eq!(lab.status("SEP00000000BB01"), "None");
    lab.ok(&["device", "remove", "SEP00000000BB01"]);
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("reason 9") || r.stderr.contains("reason 9"), "{}{}", r.stdout, r.stderr);
}

#[test]
fn wrong_and_reused_authentication_strings() {
    let lab = Lab::start();
    let name = "SEP00000000CC01";
    let dir = lab.phone(name);
    schedule(&lab, name, "install", "string");
    let r = lab.capf(&dir, &["--auth-string", "1111"]);
    assert_eq!(r.code, 1);
    assert_eq!(lab.status(name), "Upgrade Failed: Invalid Authentication String");
    assert!(phone_lsc_serial(&lab, &dir).is_none());
    // The right string still works, once.
    let r = lab.capf(&dir, &["--auth-string", "20261127"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(lab.status(name), "Upgrade Success");
    let shown = lab.json(&["device", "show", name]);
    assert_eq!(shown["capf"]["auth_string_set"], false, "single-use: cleared on success");
    // A new operation needs a new string; the used one is refused.
    let r = lab.run(&["device", "set", name, "--operation", "install", "--auth", "string"]);
    assert_eq!(r.code, 1, "no string left to reuse");
    lab.ok(&["device", "set", name, "--operation", "install", "--auth", "string", "--auth-string", "55443322"]);
    let r = lab.capf(&dir, &["--auth-string", "20261127"]);
    assert_eq!(r.code, 1);
    assert_eq!(lab.status(name), "Upgrade Failed: Invalid Authentication String");
}

#[test]
fn the_seeds_invalid_lsc_and_other_refused_certificates() {
    let lab = Lab::start();
    let other = Lab::start();
    // A phone that got its LSC from another cluster's CAPF...
    let name = "SEP00000000DD01";
    let dir = other.phone(name);
    schedule(&other, name, "install", "null");
    assert_eq!(other.capf(&dir, &["--null-string"]).code, 0);
    // ...moves to this cluster, which trusts its own CAPF only (seed rule 5).
    lab.ok(&["device", "add", name]);
    let trust = lab.path("trust-list.pem");
    lab.ok(&["trust", "export-phone", "--out", trust.to_str().unwrap()]);
    std::fs::copy(&trust, dir.join("trust-list.pem")).unwrap();
    schedule(&lab, name, "install", "lsc");
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(lab.status(name), "Upgrade Failed: Invalid LSC", "the seed's case");

    // An LSC whose device name differs from the phone's.
    let a = lab.phone("SEP00000000DD02");
    schedule(&lab, "SEP00000000DD02", "install", "null");
    assert_eq!(lab.capf(&a, &["--null-string"]).code, 0);
    lab.ok(&["device", "add", "SEP00000000DD03"]);
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("phone.json")).unwrap()).unwrap();
    cfg["device_name"] = "SEP00000000DD03".into();
    std::fs::write(a.join("phone.json"), cfg.to_string()).unwrap();
    schedule(&lab, "SEP00000000DD03", "install", "lsc");
    assert_eq!(lab.capf(&a, &[]).code, 1);
    assert_eq!(lab.status("SEP00000000DD03"), "Upgrade Failed: Invalid LSC");

    // A MIC from a manufacturer this cluster does not trust.
    let stranger = other.phone("SEP00000000DD04");
    lab.ok(&["device", "add", "SEP00000000DD04"]);
    std::fs::copy(&trust, stranger.join("trust-list.pem")).unwrap();
    schedule(&lab, "SEP00000000DD04", "install", "mic");
    assert_eq!(lab.capf(&stranger, &["--prefer-mic"]).code, 1);
    assert_eq!(lab.status("SEP00000000DD04"), "Upgrade Failed: Invalid MIC");
}

#[test]
fn an_operation_past_its_deadline_fails_late() {
    let lab = Lab::start();
    let name = "SEP00000000EE01";
    let dir = lab.phone(name);
    schedule(&lab, name, "install", "null");
    // The deadline passes (set in the database: the CLI refuses past dates).
    let db = lab.data().join("cluster.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = opencapf_store::Store::open(db.parent().unwrap()).await.unwrap();
        sqlx::query("UPDATE devices SET completes_by = '2026-01-01T00:00:00Z' WHERE name = ?")
            .bind(name)
            .execute(store.pool())
            .await
            .unwrap();
    });
    assert_eq!(lab.capf(&dir, &["--null-string"]).code, 1);
    assert_eq!(lab.status(name), "Upgrade Failed: User Initiated Request Late/Timedout");
    assert!(lab.lsc_serial(name).is_none());
}
