//! Cluster migration (issue 16): 20 phones move from one cluster to another by each of the
//! seed's remedies, guided by `opencapf migrate plan` on the destination. Before each step the
//! plan marks safe, and after it, every phone registers (SIP over TLS, Encrypted) on the cluster
//! it is on at that step, with the certificate it should present there; `migrate status` reports
//! each device's state as the phones move.
//!
//! The phones are the simulator's: they boot from factory state on the old cluster (ITL, signed
//! configuration, CAPF, registration), and move with `phone boot` against the new one: the new
//! ITL vouched for by the old cluster's TVS, CAPF as the new configuration says, registration with
//! the new LSC. Phones run four at a time.

use crate::support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use opencapf_pki::CertificateInfo;
use serde_json::Value;
use support::{Lab, Phone, Run, LOOPBACK_LISTENERS};

const FLEET: usize = 20;
/// Phones moved in the first wave; the others move after the plan is checked half-way.
const FIRST_WAVE: usize = 10;

/// Runs `f` for every item, four at a time, in order of the items.
fn par<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(4).max(1))
            .map(|chunk| s.spawn(|| chunk.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// A cluster serving on 127.0.0.1 (phones are told 127.0.0.1), trusting the old cluster's lab
/// manufacturer when `manufacturer` is given (as clusters trust Cisco's manufacturing CAs).
fn cluster(host: &str, prepare: impl FnOnce(&Lab)) -> Lab {
    let mut lab = Lab::new(host);
    prepare(&lab);
    let mut flags = LOOPBACK_LISTENERS.to_vec();
    flags.push(("--advertise", "127.0.0.1"));
    lab.serve_on(&flags);
    lab
}

fn names(prefix: &str) -> Vec<String> {
    (1..=FLEET).map(|i| format!("SEP{prefix}{i:04X}")).collect()
}

/// The old cluster's fleet: 20 SIP phones with the Encrypted profile and one line each, an
/// Install/Upgrade pending (`auth`), booted from factory state: each gets its LSC and registers.
fn old_cluster_with_fleet(prefix: &str, auth: &str) -> (Lab, Vec<Phone>) {
    let old = cluster("cucm-old.lab", |lab| {
        lab.trust_manufacturer("CallManager-trust");
        lab.trust_manufacturer("CAPF-trust");
        let csv = lab.path("fleet.csv");
        let mut rows = String::from("name,model,protocol,security,description,lines\n");
        for (i, name) in names(prefix).iter().enumerate() {
            rows.push_str(&format!("{name},CP-8861,sip,encrypted,Fleet {i},{}\n", 4000 + i));
        }
        std::fs::write(&csv, rows).unwrap();
        lab.ok(&["device", "import", csv.to_str().unwrap()]);
        lab.ok(&["device", "set", "--all", "--operation", "install", "--auth", auth]);
    });
    let phones: Vec<Phone> = names(prefix)
        .into_iter()
        .map(|name| {
            let dir = old.path(&format!("phone-{name}"));
            old.ok(&["phone", "init", dir.to_str().unwrap(), "--name", &name, "--factory"]);
            Phone { dir, name }
        })
        .collect();
    for (phone, r) in phones.iter().zip(par(&phones, |p| boot(&old, p))) {
        assert_eq!(r.code, 0, "{} at home:\n{}\n{}", phone.name, r.all(), phone.console());
    }
    (old, phones)
}

/// `phone boot` against `lab`'s provisioning service (HTTP, TFTP): ITL, configuration, CAPF when
/// an operation is pending, registration.
fn boot(lab: &Lab, phone: &Phone) -> Run {
    let a = lab.addrs();
    let (http, tftp) = (a.http.port().to_string(), a.tftp.port().to_string());
    lab.run(&["phone", "boot", phone.dir(), "--server", "127.0.0.1", "--http-port", &http, "--tftp-port", &tftp])
}

/// What a phone must present where it registers.
#[derive(Debug, Clone, PartialEq)]
enum Presents {
    /// An LSC issued by this CAPF certificate (its common name).
    Lsc(String),
    /// Its MIC (it has no LSC).
    Mic,
}

/// Every phone registers (SIP over TLS, Encrypted) on the cluster `home` names for it, presenting
/// the certificate `presents` names; CallManager records each registration there.
fn all_register<'a>(phones: &[Phone], home: impl Fn(&Phone) -> (&'a Lab, Presents) + Sync, step: &str) {
    let runs = par(phones, |p| {
        let (lab, _) = home(p);
        let port = lab.addrs().sip_tls.port().to_string();
        lab.run(&[
            "phone",
            "register",
            p.dir(),
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--protocol",
            "sip",
            "--security",
            "encrypted",
            "--timeout",
            "10",
        ])
    });
    for (p, r) in phones.iter().zip(runs) {
        assert_eq!(r.code, 0, "{step}: {} cannot register where it is:\n{}\n{}", p.name, r.all(), p.console());
        assert!(r.stdout.starts_with("Registered with CallManager"), "{step}: {}", r.stdout);
        let want = home(p).1;
        let lsc = p.file("lsc.pem");
        let has = match std::fs::read(&lsc) {
            Ok(pem) => {
                let der = opencapf_pki::pem::parse_certificates(&pem).unwrap().remove(0);
                Presents::Lsc(CertificateInfo::parse(&der).unwrap().issuer_cn.unwrap())
            }
            Err(_) => Presents::Mic,
        };
        assert_eq!(has, want, "{step}: {} presents the wrong certificate", p.name);
    }
}

/// `migrate plan --json` on `lab` with `args`; the step named `id`.
fn step<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no step {id}: {plan}"))
}

fn plan(lab: &Lab) -> Value {
    lab.json(&["migrate", "plan"])
}

/// `migrate status --json` once its counts are `want` (bounded wait: CallManager records a
/// registration just after the phone's boot ends); its device states by name.
fn status_once(lab: &Lab, want: &[(&str, usize)]) -> HashMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = lab.json(&["migrate", "status"]);
        let counts = &status["counts"];
        if want.iter().all(|(k, n)| counts[*k] == *n) {
            return status["device_progress"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d["name"].as_str().unwrap().to_owned(), d["state"].as_str().unwrap().to_owned()))
                .collect();
        }
        assert!(Instant::now() < deadline, "migrate status: want {want:?}, got {counts}\n{status:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The old cluster's TVS vouches for the new cluster's ITLRecovery and CallManager (the plan's
/// `itl` step), confirmed on the new cluster.
fn itl_step(old: &Lab, new: &Lab) {
    old.ok(&["trust", "add", "Phone-SAST-trust", new.cert_own("itlrecovery").to_str().unwrap()]);
    old.ok(&["trust", "add", "CallManager-trust", new.cert_own("callmanager").to_str().unwrap()]);
    assert!(new.ok(&["migrate", "confirm", "itl"]).contains("Confirmed: itl"));
}

/// Moves these phones: `phone boot` against the new cluster.
fn move_phones(new: &Lab, phones: &[Phone]) {
    for (p, r) in phones.iter().zip(par(phones, |p| boot(new, p))) {
        assert_eq!(r.code, 0, "{} moving:\n{}\n{}", p.name, r.all(), p.console());
    }
}

fn export(lab: &Lab, file: &str) -> std::path::PathBuf {
    let out = lab.path(file);
    lab.ok(&["cluster", "export-bundle", "--out", out.to_str().unwrap()]);
    out
}

#[test]
fn twenty_phones_move_by_trusting_the_old_capf_and_rekeying_by_their_old_lsc() {
    let (old, phones) = old_cluster_with_fleet("00000C10", "null");
    let new = cluster("cucm-new.lab", |_| {});
    let (old_capf, new_capf) = (old.capf_cn(), new.capf_cn());
    let at_home = |_: &Phone| (&old, Presents::Lsc(old_capf.clone()));
    all_register(&phones, at_home, "at home");

    // 1. The old cluster's bundle: its certificates and devices, public material only.
    let bundle = export(&old, "bundle.json");
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(!text.contains("PRIVATE KEY"));
    let b: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["format"], "opencapf-cluster-bundle");
    assert_eq!(b["devices"].as_array().unwrap().len(), FLEET);
    assert_eq!(b["devices"][0]["lsc"]["issuer_cn"], old_capf.as_str());
    for svc in ["CAPF", "CallManager", "ITLRecovery", "TVS"] {
        assert!(b["certificates"].as_array().unwrap().iter().any(|c| c["service"] == svc), "{svc} in the bundle");
    }

    // 2. The plan before anything: nothing started, moving the phones is not safe.
    let bundle_arg = bundle.to_str().unwrap();
    let p = new.json(&["migrate", "plan", "--from", bundle_arg, "--remedy", "trust-old-capf"]);
    assert_eq!(p["state"], "not-started");
    assert_eq!(p["counts"]["not-here"], FLEET);
    let ids: Vec<&str> = p["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["export", "start", "itl", "trust-old-capf", "schedule", "move", "untrust-old-capf", "finish"]);
    assert_eq!(step(&p, "move")["safe"], false);
    assert_eq!(step(&p, "start")["safe"], true);
    assert_eq!(step(&p, "itl")["side"], "old-cluster");

    // 3. Start: the devices are added here with the LSC each holds; the phones stay home.
    let started = new.json(&["migrate", "start", "--from", bundle_arg, "--remedy", "trust-old-capf"]);
    assert_eq!(started["added"].as_array().unwrap().len(), FLEET);
    assert_eq!(started["lscs_recorded"], FLEET);
    let r = new.fail(&["migrate", "start", "--from", bundle_arg]);
    assert!(r.stderr.contains("in progress"), "{}", r.stderr);
    status_once(&new, &[("on-old-cluster", FLEET)]);
    all_register(&phones, at_home, "after start");

    // 4. The old cluster's TVS vouches for the new cluster's ITL.
    assert_eq!(step(&plan(&new), "itl")["safe"], true);
    itl_step(&old, &new);
    all_register(&phones, at_home, "after itl");

    // 5. The old CAPF in CAPF-trust here; moving is still not safe: nothing is scheduled.
    let p = plan(&new);
    assert_eq!(step(&p, "trust-old-capf")["safe"], true);
    new.ok(&["migrate", "trust-old-capf"]);
    let p = plan(&new);
    assert_eq!(step(&p, "trust-old-capf")["state"], "done");
    let mv = step(&p, "move");
    assert_eq!(mv["safe"], false);
    assert!(mv["why"].as_str().unwrap().contains("no Install/Upgrade scheduled"), "{mv}");
    all_register(&phones, at_home, "after trust-old-capf");

    // 6. Re-key by the existing LSC, scheduled for every device; now the move is safe, and
    //    removing the old CAPF is not (the guard names the phones).
    assert_eq!(step(&p, "schedule")["safe"], true);
    let scheduled = new.json(&["migrate", "schedule"]);
    assert_eq!(scheduled.as_array().unwrap().len(), FLEET);
    assert_eq!(scheduled[0]["auth_mode"], "By Existing Certificate (Precedence to LSC)");
    status_once(&new, &[("scheduled", FLEET)]);
    let p = plan(&new);
    assert_eq!(step(&p, "move")["safe"], true, "{}", step(&p, "move"));
    assert_eq!(step(&p, "untrust-old-capf")["safe"], false);
    let r = new.fail(&["migrate", "untrust-old-capf"]);
    assert!(r.stderr.contains(&format!("{FLEET} device(s)")) && r.stderr.contains(&phones[0].name), "{}", r.stderr);
    all_register(&phones, at_home, "after schedule");

    // 7. The first wave moves: new ITL, re-key by the old LSC, registered with the new LSC; the
    //    others stay home. The old CAPF cannot go yet, nor can the migration finish.
    let (first, rest) = phones.split_at(FIRST_WAVE);
    move_phones(&new, first);
    for p in first {
        assert!(p.console().contains("Authenticating with cert [LSC]"), "{}", p.console());
    }
    let states = status_once(&new, &[("migrated", FIRST_WAVE), ("scheduled", FLEET - FIRST_WAVE)]);
    assert!(first.iter().all(|p| states[&p.name] == "migrated"));
    assert!(rest.iter().all(|p| states[&p.name] == "scheduled"));
    let moved = |p: &Phone| first.iter().any(|f| f.name == p.name);
    let half_way = |p: &Phone| {
        if moved(p) {
            (&new, Presents::Lsc(new_capf.clone()))
        } else {
            (&old, Presents::Lsc(old_capf.clone()))
        }
    };
    all_register(&phones, half_way, "half-way");
    let p = plan(&new);
    assert_eq!(step(&p, "move")["state"], "in-progress");
    assert_eq!(step(&p, "untrust-old-capf")["safe"], false);
    let r = new.fail(&["migrate", "untrust-old-capf"]);
    assert!(r.stderr.contains(&format!("{} device(s)", FLEET - FIRST_WAVE)) && r.stderr.contains(&rest[0].name));
    assert!(!r.stderr.contains(&first[0].name), "{}", r.stderr);
    assert!(new.fail(&["migrate", "finish"]).stderr.contains("not migrated yet"));

    // 8. The rest move; then the old CAPF leaves CAPF-trust without --force.
    move_phones(&new, rest);
    status_once(&new, &[("migrated", FLEET)]);
    let on_new = |_: &Phone| (&new, Presents::Lsc(new_capf.clone()));
    all_register(&phones, on_new, "all moved");
    assert_eq!(step(&plan(&new), "untrust-old-capf")["safe"], true);
    new.ok(&["migrate", "untrust-old-capf"]);
    assert!(!new.ok(&["trust", "list", "CAPF-trust"]).contains(&old_capf));
    all_register(&phones, on_new, "old CAPF removed");

    // 9. Finished, and audited.
    let p = plan(&new);
    assert!(
        p["steps"].as_array().unwrap().iter().filter(|s| s["id"] != "finish").all(|s| s["state"] == "done"),
        "{p:#}"
    );
    new.ok(&["migrate", "finish"]);
    assert_eq!(plan(&new)["state"], "finished");
    let audit = new.ok(&["audit", "--limit", "500"]);
    for action in ["migrate.start", "migrate.confirm", "migrate.finish", "trust.add", "trust.remove"] {
        assert!(audit.contains(action), "{action} in the audit log:\n{audit}");
    }
}

#[test]
fn twenty_phones_move_by_deleting_the_old_lscs_and_enrolling_by_mic() {
    let (old, phones) = old_cluster_with_fleet("00000C20", "mic");
    let new = cluster("cucm-new.lab", |_| {});
    let (old_capf, new_capf) = (old.capf_cn(), new.capf_cn());
    all_register(&phones, |_: &Phone| (&old, Presents::Lsc(old_capf.clone())), "at home");

    // The old cluster saw each MIC (they enrolled by it): the bundle carries them.
    let bundle = export(&old, "bundle.json");
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert!(b["devices"].as_array().unwrap().iter().all(|d| d["mic"] == true && d["mic_pem"].is_string()));
    let bundle_arg = bundle.to_str().unwrap();
    new.ok(&["migrate", "start", "--from", bundle_arg, "--remedy", "delete-and-enrol"]);
    let p = plan(&new);
    let ids: Vec<&str> = p["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["export", "start", "trust-manufacturers", "itl", "delete-old-lscs", "schedule", "move", "finish"]);
    assert_eq!(step(&p, "move")["safe"], false);
    status_once(&new, &[("on-old-cluster", FLEET)]);

    // The phones' manufacturing CA (from the old cluster's CallManager-trust) in both stores here.
    assert_eq!(step(&p, "trust-manufacturers")["safe"], true);
    new.ok(&["migrate", "trust-manufacturers"]);
    assert_eq!(step(&plan(&new), "trust-manufacturers")["state"], "done");
    let at_home = |_: &Phone| (&old, Presents::Lsc(old_capf.clone()));
    all_register(&phones, at_home, "after trust-manufacturers");
    itl_step(&old, &new);
    all_register(&phones, at_home, "after itl");

    // Moving is not safe while the phones hold the old LSC; deleting it is (the old
    // CallManager-trust trusts their MICs).
    let p = plan(&new);
    let mv = step(&p, "move");
    assert_eq!(mv["safe"], false);
    assert!(mv["why"].as_str().unwrap().contains("still hold the old cluster's LSC"), "{mv}");
    assert_eq!(step(&p, "delete-old-lscs")["safe"], true, "{}", step(&p, "delete-old-lscs"));

    // The old cluster deletes the LSCs (Delete operation); the phones register there with their MIC.
    old.ok(&["device", "set", "--all", "--operation", "delete", "--auth", "null"]);
    let capf = old.addrs().capf.to_string();
    let deleted =
        par(&phones, |p| old.run(&["phone", "capf", p.dir(), "--server", &capf, "--timeout", "20", "--null-string"]));
    for (p, r) in phones.iter().zip(deleted) {
        assert_eq!(r.code, 0, "{}: {}", p.name, r.all());
        assert!(!p.has_lsc());
    }
    let on_mic = |_: &Phone| (&old, Presents::Mic);
    all_register(&phones, on_mic, "old LSCs deleted");

    // The new cluster learns it from a fresh bundle; now the move is safe.
    let second = export(&old, "bundle-2.json");
    let refreshed = new.json(&["migrate", "refresh", "--from", second.to_str().unwrap()]);
    assert_eq!(refreshed["old_lscs_gone"].as_array().unwrap().len(), FLEET);
    status_once(&new, &[("old-lsc-deleted", FLEET)]);
    let p = plan(&new);
    assert_eq!(step(&p, "delete-old-lscs")["state"], "done");
    assert_eq!(step(&p, "move")["safe"], true, "{}", step(&p, "move"));

    // Enrol by MIC here: scheduled, then the phones move in two waves.
    let scheduled = new.json(&["migrate", "schedule"]);
    assert_eq!(scheduled[0]["auth_mode"], "By Existing Certificate (Precedence to MIC)");
    status_once(&new, &[("scheduled", FLEET)]);
    all_register(&phones, on_mic, "after schedule");
    let (first, rest) = phones.split_at(FIRST_WAVE);
    move_phones(&new, first);
    for p in first {
        assert!(p.console().contains("Authenticating with cert [MIC]"), "{}", p.console());
    }
    let states = status_once(&new, &[("migrated", FIRST_WAVE), ("scheduled", FLEET - FIRST_WAVE)]);
    assert!(rest.iter().all(|p| states[&p.name] == "scheduled"));
    let moved = |p: &Phone| first.iter().any(|f| f.name == p.name);
    all_register(
        &phones,
        |p: &Phone| if moved(p) { (&new, Presents::Lsc(new_capf.clone())) } else { (&old, Presents::Mic) },
        "half-way",
    );
    assert_eq!(step(&plan(&new), "move")["safe"], true);
    assert!(new.fail(&["migrate", "finish"]).stderr.contains("not migrated yet"));

    move_phones(&new, rest);
    status_once(&new, &[("migrated", FLEET)]);
    all_register(&phones, |_: &Phone| (&new, Presents::Lsc(new_capf.clone())), "all moved");
    new.ok(&["migrate", "finish"]);
    let status = new.json(&["migrate", "status"]);
    assert_eq!(status["state"], "finished");
    assert!(status["migration"]["finished_at"].is_string());
}
