//! A fleet of phones boots from factory state the way real phones do (ITL, signed configuration,
//! CAPF with the null string, registration with the new LSC), then lives through the seed's CAPF
//! regeneration story without a phone left unregistered at any step: `capf regenerate`; a
//! re-key by existing LSC scheduled and `device reset --all --restart` (phones take the new ITL,
//! whose SAST they already hold, and re-key); `capf reissue` for the stragglers; the old CAPF
//! certificate removed from the stores (no `--force`: no phone depends on it any more), and a last
//! restart that leaves it out of every phone's ITL.

use crate::support;

use std::collections::HashMap;
use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use opencapf_model::Role;
use opencapf_pki::Itl;
use support::{Lab, Phone, BIN, LOOPBACK_LISTENERS};

const FLEET: usize = 50;
/// Phones re-keyed in the first wave; the others are the stragglers `capf reissue` finds.
const FIRST_WAVE: usize = 40;

/// The phones kept registered (`phone boot --stay`), stopped when the test ends.
struct Fleet {
    phones: Vec<Phone>,
    running: Vec<Child>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &mut self.running {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Fleet {
    /// Every phone process is still running (a boot that failed would have exited).
    fn all_running(&mut self) {
        for (child, phone) in self.running.iter_mut().zip(&self.phones) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{} stopped ({status}):\n{}", phone.name, phone.console());
            }
        }
    }
}

fn names() -> Vec<String> {
    (1..=FLEET).map(|i| format!("SEP00000000E{i:03X}")).collect()
}

fn start_fleet(lab: &Lab) -> Fleet {
    let a = lab.addrs();
    let (http, tftp) = (a.http.port().to_string(), a.tftp.port().to_string());
    let mut fleet = Fleet { phones: Vec::new(), running: Vec::new() };
    for name in names() {
        let dir = lab.path(&format!("phone-{name}"));
        // Factory state: a MIC, no LSC, no ITL, no configuration.
        lab.ok(&["phone", "init", dir.to_str().unwrap(), "--name", &name, "--factory"]);
        let phone = Phone { dir, name };
        let out = File::create(phone.file("boot.out")).unwrap();
        let child = Command::cargo_bin(BIN)
            .unwrap()
            .env_remove("OPENCAPF_DATA_DIR")
            .args(["phone", "boot", phone.dir(), "--server", "127.0.0.1", "--http-port", &http])
            .args(["--tftp-port", &tftp, "--stay"])
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap();
        fleet.phones.push(phone);
        fleet.running.push(child);
    }
    fleet
}

/// The newest registration record of every device.
fn newest(lab: &Lab) -> HashMap<String, serde_json::Value> {
    let all = lab.json(&["registrations", "--limit", "100000"]);
    let mut out = HashMap::new();
    for r in all.as_array().unwrap() {
        out.entry(r["device"].as_str().unwrap().to_owned()).or_insert_with(|| r.clone());
    }
    out
}

/// Waits (bounded) until every phone's newest registration is newer than `after` (a record id),
/// registered, with an LSC from the CAPF certificate `want[name]` names; returns the highest id.
fn wait_registered(lab: &Lab, fleet: &mut Fleet, after: i64, want: &dyn Fn(&str) -> String) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        fleet.all_running();
        let now = newest(lab);
        let pending: Vec<String> = names()
            .into_iter()
            .filter(|n| {
                now.get(n).is_none_or(|r| {
                    r["id"].as_i64().unwrap() <= after
                        || r["result"] != "registered"
                        || r["cert_kind"] != "LSC"
                        || r["issuer_cn"] != want(n).as_str()
                })
            })
            .collect();
        if pending.is_empty() {
            // At every step, every phone is registered: not one newest record says otherwise.
            assert!(now.values().all(|r| r["result"] == "registered"));
            return now.values().map(|r| r["id"].as_i64().unwrap()).max().unwrap();
        }
        if Instant::now() > deadline {
            let first = &fleet.phones[names().iter().position(|n| *n == pending[0]).unwrap()];
            panic!(
                "{} phones not registered as expected, e.g. {}: {:?}\n{}\n{}",
                pending.len(),
                pending[0],
                now.get(&pending[0]),
                first.console(),
                lab.server_log()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The CAPF certificates in a phone's ITL.
fn itl_capfs(phone: &Phone) -> usize {
    let itl = Itl::parse(&std::fs::read(phone.file("itl.tlv")).unwrap()).unwrap();
    itl.certificates_with(Role::Capf).count()
}

#[test]
fn a_fleet_boots_from_factory_state_and_survives_capf_regeneration_without_a_gap() {
    let mut lab = Lab::new("cucm.lab");
    let csv = lab.path("fleet.csv");
    let mut rows = String::from("name,model,protocol,security,description,lines\n");
    for (i, name) in names().iter().enumerate() {
        rows.push_str(&format!("{name},CP-8861,sip,encrypted,Fleet {i},{}\n", 3000 + i));
    }
    std::fs::write(&csv, rows).unwrap();
    lab.ok(&["device", "import", csv.to_str().unwrap()]);
    lab.ok(&["device", "set", "--all", "--operation", "install", "--auth", "null"]);
    let mut flags = LOOPBACK_LISTENERS.to_vec();
    flags.push(("--advertise", "127.0.0.1"));
    lab.serve_on(&flags);
    let old_capf = lab.capf_cn();

    // 1. Factory state to an LSC and a secure registration, through the provisioning files only.
    let mut fleet = start_fleet(&lab);
    let mut last = wait_registered(&lab, &mut fleet, 0, &|_| old_capf.clone());
    for phone in &fleet.phones {
        let console = phone.console();
        assert!(console.contains(&format!("dgetfile: src=ITL{}.tlv", phone.name)), "{console}");
        assert!(console.contains(&format!("dgetfile: src={}.cnf.xml.sgn", phone.name)), "{console}");
        assert_eq!(itl_capfs(phone), 1);
    }

    // 2. `capf regenerate`: the old certificate is retired but trusted; nobody notices.
    lab.ok(&["capf", "regenerate"]);
    let new_capf = lab.capf_cn();
    assert_ne!(new_capf, old_capf);
    let still = newest(&lab);
    assert!(still.values().all(|r| r["result"] == "registered" && r["issuer_cn"] == old_capf.as_str()));

    // 3. Re-key by existing LSC for most phones, then Restart: they fetch the new ITL (signed by
    //    the ITLRecovery they hold), run CAPF as their configuration now says, and register with
    //    the new LSC. The others just take the new ITL and register again with their old LSC.
    let wave: Vec<String> = names()[..FIRST_WAVE].to_vec();
    let mut set = vec!["device", "set"];
    set.extend(wave.iter().map(String::as_str));
    set.extend(["--operation", "install", "--auth", "lsc"]);
    lab.ok(&set);
    lab.ok(&["device", "reset", "--all", "--restart"]);
    let in_wave = |n: &str| wave.iter().any(|w| w == n);
    last = wait_registered(&lab, &mut fleet, last, &|n| if in_wave(n) { new_capf.clone() } else { old_capf.clone() });
    for phone in &fleet.phones {
        assert_eq!(itl_capfs(phone), 2, "{}: the new and the retired CAPF", phone.name);
    }

    // 4. `capf reissue` finds exactly the stragglers; a Restart finishes them.
    let scheduled = lab.json(&["capf", "reissue"]);
    let mut stragglers: Vec<String> =
        scheduled.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    stragglers.sort();
    assert_eq!(stragglers, names()[FIRST_WAVE..].to_vec());
    let mut reset = vec!["device", "reset", "--restart"];
    reset.extend(stragglers.iter().map(String::as_str));
    lab.ok(&reset);
    // The first wave was not restarted: its newest records stay; the stragglers' are new.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = newest(&lab);
        let done = |n: &String| {
            let r = &now[n];
            let fresh = !stragglers.contains(n) || r["id"].as_i64().unwrap() > last;
            fresh && r["issuer_cn"] == new_capf.as_str() && r["result"] == "registered"
        };
        if names().iter().all(done) {
            last = now.values().map(|r| r["id"].as_i64().unwrap()).max().unwrap();
            break;
        }
        fleet.all_running();
        assert!(Instant::now() < deadline, "stragglers not re-keyed:\n{}", lab.server_log());
        std::thread::sleep(Duration::from_millis(250));
    }

    // 5. The old CAPF certificate leaves both stores without --force: no phone depends on it.
    for store in ["CallManager-trust", "CAPF-trust"] {
        lab.ok(&["trust", "remove", store, &old_capf]);
    }
    lab.ok(&["device", "reset", "--all", "--restart"]);
    wait_registered(&lab, &mut fleet, last, &|_| new_capf.clone());
    for phone in &fleet.phones {
        assert_eq!(itl_capfs(phone), 1, "{}: the retired CAPF is gone from the ITL", phone.name);
        assert!(phone.console().contains("SECUREAPP-TL file verified successfully"), "{}", phone.console());
    }
}
