//! `opencapf device reset`: CUCM's Reset, Restart and Apply Config, sent by the running server as
//! a NOTIFY `service-control` on the registration connection of a phone kept registered with
//! `phone register --stay`, which logs it, answers 200, and registers again.

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use support::{Lab, Phone, BIN};

/// `phone register --stay`, killed when dropped.
struct Staying(Child);

impl Drop for Staying {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stay(lab: &Lab, phone: &Phone) -> Staying {
    let port = lab.addrs().sip_tcp.port().to_string();
    let child = Command::cargo_bin(BIN)
        .unwrap()
        .env_remove("OPENCAPF_DATA_DIR")
        .args(["phone", "register", phone.dir(), "--server", "127.0.0.1", "--port", &port, "--stay"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Staying(child)
}

/// Waits (at most 10 s) until the device has `n` "registered" records.
fn wait_registered(lab: &Lab, name: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let count = lab.registrations(name).iter().filter(|r| r["result"] == "registered").count();
        if count >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{name}: {count} registrations, not {n}:\n{}", lab.server_log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (at most 10 s) until the phone's console says `text`.
fn wait_console(phone: &Phone, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = phone.console();
        if log.contains(text) {
            return log;
        }
        assert!(Instant::now() < deadline, "no '{text}' in:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn reset_restart_and_apply_config_reach_a_phone_kept_registered() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000D001";
    lab.ok(&["device", "add", name, "--line", "2222", "--line", "2223"]);
    let phone = lab.new_phone(name);
    let _staying = stay(&lab, &phone);
    wait_registered(&lab, name, 1);
    let shown = lab.json(&["device", "show", name]);
    assert_eq!(shown["line_registrations"][1]["registration"], "registered", "{shown}");

    // Reset: the NOTIFY reaches the phone, which answers 200 and registers again.
    let answer = lab.json(&["device", "reset", name]);
    assert_eq!(answer["reached"][0]["device"], name, "{answer}");
    assert_eq!(answer["reached"][0]["answer"], 200, "{answer}");
    let log = wait_console(&phone, "service-control action=reset RegisterCallId={");
    assert!(log.contains("SIP: -Sent 200 OK to the service-control NOTIFY"), "{log}");
    wait_registered(&lab, name, 2);

    // Restart, to every registered phone, on the new connection.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let r = lab.run(&["device", "reset", "--all", "--restart"]);
        if r.code == 0 && r.stdout.contains("1 device(s) reached") {
            break r.stdout;
        }
        assert!(Instant::now() < deadline, "{}", r.all());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(text.contains(name) && text.contains("200"), "{text}");
    wait_console(&phone, "service-control action=restart");
    wait_registered(&lab, name, 3);

    // Apply Config: the phone refreshes its registration on the same connection.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = lab.json(&["device", "reset", name, "--apply-config"]);
        if answer["reached"][0]["answer"] == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_console(&phone, "service-control apply-config: configuration applied");
    // Each action that reached the phone is in the audit log, with who asked for it.
    let audit = lab.json(&["audit"]).to_string();
    for action in ["device.reset", "device.restart", "device.apply-config"] {
        assert!(audit.contains(&format!("\"action\":\"{action}\"")), "{action}: {audit}");
    }

    // A device with no open registration is not reached, and said so.
    lab.ok(&["device", "add", "SEP00000000D002"]);
    let r = lab.fail(&["device", "reset", "SEP00000000D002"]);
    assert!(r.stdout.contains("SEP00000000D002: not registered over SIP now"), "{}", r.all());
}
