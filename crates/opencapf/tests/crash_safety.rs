//! Crash safety (issue 15): `opencapf serve` is killed with SIGKILL at random points while 1,000
//! phones install their LSCs, and started again each time. An administrator schedules again
//! the devices whose status says the install failed and whose phone stored nothing, until
//! every phone holds an LSC; then every phone registers to CallManager with it. Afterwards the
//! records must be true: each phone's LSC is recorded once, installed, as its device's LSC;
//! every other LSC is `failed` as never confirmed, none is left `issued`; every device's status
//! says what happened; the audit chain verifies.
//!
//! The kill points are drawn from a seeded generator; the seed is printed, and
//! `CRASH_SAFETY_SEED=<n>` runs the same draw again.

use crate::support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opencapf_capf::client::{CapfClient, ClientConfig, Credentials, PhoneIdentity, SessionHandler};
use opencapf_capf::proto::message::CertType;
use opencapf_cluster::{Cluster, UNCONFIRMED};
use opencapf_phone::LoadPhone;
use opencapf_pki::{CertificateInfo, KeyAlgorithm, PrivateKey};
use support::Lab;
use tokio::sync::Semaphore;

const PHONES: usize = 1000;
const KILLS: usize = 6;
/// Phones in session at once.
const CONCURRENCY: usize = 16;
/// More rounds than kills plus the rescheduling after each can need.
const MAX_ROUNDS: usize = 40;
const WAIT: Duration = Duration::from_secs(20);

fn name(i: usize) -> String {
    format!("SEP00000C{i:06X}")
}

/// splitmix64: enough for kill points, and the same for the same seed everywhere.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What one phone holds: the LSCs it stored (DER) and the key of the last one.
#[derive(Default)]
struct Held {
    stored: Vec<Vec<u8>>,
    key: Option<PrivateKey>,
}

/// A phone of the simulator's client: hands out its key made beforehand and keeps what it
/// stores, also when the server dies before the session ends.
struct CrashPhone {
    key: PrivateKey,
    held: Arc<Mutex<Held>>,
    stored_count: Arc<AtomicUsize>,
}

impl SessionHandler for CrashPhone {
    fn store_lsc(&mut self, lsc_der: &[u8], key: &PrivateKey) -> Result<(), String> {
        let mut held = self.held.lock().unwrap();
        held.stored.push(lsc_der.to_vec());
        held.key = Some(key.clone());
        self.stored_count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn delete_lsc(&mut self) -> Result<bool, String> {
        Err("this phone only installs".into())
    }
    fn certificate_to_upload(&mut self, _: Option<CertType>) -> Option<Vec<u8>> {
        None
    }
    fn prepared_key(&mut self, _: KeyAlgorithm) -> Option<PrivateKey> {
        Some(self.key.clone())
    }
}

struct Fleet {
    names: Vec<String>,
    keys: Vec<PrivateKey>,
    held: Vec<Arc<Mutex<Held>>>,
    stored_count: Arc<AtomicUsize>,
}

impl Fleet {
    fn holds_nothing(&self, i: usize) -> bool {
        self.held[i].lock().unwrap().stored.is_empty()
    }
}

/// One Install session for each phone of `which`, `CONCURRENCY` at once, against `server`.
async fn drive(fleet: Arc<Fleet>, which: Vec<usize>, server: String, trust: Vec<Vec<u8>>) {
    let config = Arc::new(ClientConfig::new(server, trust));
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for i in which {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (config, fleet) = (config.clone(), fleet.clone());
        tasks.push(tokio::spawn(async move {
            let identity =
                PhoneIdentity { device_name: fleet.names[i].clone(), credentials: Credentials::NullString, sudi: None };
            let mut phone = CrashPhone {
                key: fleet.keys[i].clone(),
                held: fleet.held[i].clone(),
                stored_count: fleet.stored_count.clone(),
            };
            // Refused, cut off or ended: what counts is what the phone stored.
            let _ = CapfClient::run(&config, &identity, &mut phone).await;
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[test]
fn installs_survive_sigkill_of_the_server() {
    let seed = std::env::var("CRASH_SAFETY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("crash_safety seed {seed} (CRASH_SAFETY_SEED={seed} repeats it)");
    let mut draw = Draw(seed);

    let mut lab = Lab::new("cucm.lab");
    let mut csv = String::from("name,model,protocol,security,description,lines\n");
    for i in 0..PHONES {
        csv.push_str(&format!("{},CP-8861,SIP,Encrypted,,\n", name(i)));
    }
    let csv_path = lab.path("devices.csv");
    std::fs::write(&csv_path, csv).unwrap();
    lab.ok(&["device", "import", csv_path.to_str().unwrap()]);
    lab.ok(&["device", "set", "--all", "--operation", "install", "--auth", "null", "--key-order", "ec"]);
    lab.serve();
    let capf_trust = opencapf_pki::pem::parse_certificates(&std::fs::read(lab.cert_own("capf")).unwrap()).unwrap();
    let cm_trust = opencapf_pki::pem::parse_certificates(&std::fs::read(lab.cert_own("callmanager")).unwrap()).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let keys = rt
        .block_on(async {
            tokio::task::spawn_blocking(|| {
                (0..PHONES).map(|_| PrivateKey::generate(KeyAlgorithm::Ec256).unwrap()).collect::<Vec<_>>()
            })
            .await
        })
        .unwrap();
    let fleet = Arc::new(Fleet {
        names: (0..PHONES).map(name).collect(),
        keys,
        held: (0..PHONES).map(|_| Arc::default()).collect(),
        stored_count: Arc::default(),
    });

    // Kill points: numbers of LSCs stored so far, spread over the run, then a little later
    // still, so that the kill lands anywhere in the sessions in flight.
    let mut kill_at: Vec<usize> = (0..KILLS).map(|_| 50 + draw.below(PHONES as u64 - 150) as usize).collect();
    kill_at.sort_unstable();
    let mut kills = 0;
    let mut rounds = 0;
    loop {
        let which: Vec<usize> = (0..PHONES).filter(|&i| fleet.holds_nothing(i)).collect();
        if which.is_empty() {
            break;
        }
        rounds += 1;
        assert!(rounds <= MAX_ROUNDS, "{} phones still hold no LSC after {MAX_ROUNDS} rounds", which.len());
        let run = rt.spawn(drive(fleet.clone(), which, lab.addrs().capf.to_string(), capf_trust.clone()));
        let kill = kill_at.get(kills).copied();
        if let Some(at) = kill {
            while fleet.stored_count.load(Ordering::SeqCst) < at && !run.is_finished() {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_micros(draw.below(20_000)));
            lab.kill_server();
            kills += 1;
            println!("kill {kills}: after {} LSCs stored", fleet.stored_count.load(Ordering::SeqCst));
        }
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(120), run).await }).unwrap().unwrap();
        if kill.is_some() {
            lab.serve();
        }
        // The administrator: devices whose status says the install failed and whose phone stored
        // nothing are scheduled again (the credential was spent).
        let mut again = Vec::new();
        let failed = failed_devices(&lab);
        for i in 0..PHONES {
            if failed.contains(&fleet.names[i]) && fleet.holds_nothing(i) {
                again.push(fleet.names[i].clone());
            }
        }
        if !again.is_empty() {
            println!("scheduled again: {} devices whose phone stored nothing", again.len());
            let mut args = vec!["device", "set"];
            args.extend(again.iter().map(String::as_str));
            args.extend(["--operation", "install", "--auth", "null", "--key-order", "ec"]);
            lab.ok(&args);
        }
    }
    assert_eq!(kills, KILLS, "every kill happened");

    // Every phone registers with the LSC it holds, as it does after an install.
    let sip_tls = lab.addrs().sip_tls;
    let refused = rt.block_on(register_all(fleet.clone(), sip_tls, cm_trust));
    assert!(refused.is_empty(), "registrations refused: {refused:?}\n{}", lab.server_log());

    let run = lab.run(&["audit", "verify"]);
    assert_eq!(run.code, 0, "{}", run.all());
    lab.kill_server();
    rt.block_on(check_records(&lab, &fleet));
}

/// The devices whose Certificate Operation Status says Failed, read as an administrator would.
fn failed_devices(lab: &Lab) -> HashSet<String> {
    let rows = lab.json(&["device", "list", "--status", "Failed"]);
    rows.as_array().unwrap().iter().filter_map(|d| d["name"].as_str().map(str::to_owned)).collect()
}

async fn register_all(fleet: Arc<Fleet>, sip_tls: std::net::SocketAddr, trust: Vec<Vec<u8>>) -> Vec<String> {
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for i in 0..PHONES {
        let (lsc, key) = {
            let held = fleet.held[i].lock().unwrap();
            (held.stored.last().cloned().unwrap(), held.key.clone().unwrap())
        };
        let device = fleet.names[i].parse().unwrap();
        let phone = LoadPhone::new(&device, "CP-8861", lsc, key, trust.clone()).unwrap();
        let permit = gate.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let r = phone.register(sip_tls, 3600, WAIT).await;
            drop(permit);
            match r {
                Ok(reg) => {
                    reg.close().await;
                    None
                }
                Err(e) => Some(format!("{device}: {e}")),
            }
        }));
    }
    let mut refused = Vec::new();
    for t in tasks {
        refused.extend(t.await.unwrap());
    }
    refused
}

/// The records, read from the cluster's store once the server is gone.
async fn check_records(lab: &Lab, fleet: &Fleet) {
    let cluster = Cluster::open(&lab.data()).await.unwrap();
    let mut serials: BTreeMap<String, String> = BTreeMap::new();
    let mut states: HashMap<&str, usize> = HashMap::new();
    for (i, name) in fleet.names.iter().enumerate() {
        let held = fleet.held[i].lock().unwrap().stored.clone();
        assert_eq!(
            held.len(),
            1,
            "{name}: each phone stored one LSC (it was scheduled again only when it stored none)"
        );
        let mine = CertificateInfo::parse(&held[0]).unwrap().serial;
        let device_name = name.parse().unwrap();
        let device = cluster.device(&device_name).await.unwrap();
        assert_eq!(
            device.lsc.as_ref().map(|l| l.serial.as_str()),
            Some(mine.as_str()),
            "{name}: the phone's LSC is the device's"
        );
        assert_eq!(device.capf.status, "Upgrade Success", "{name}");
        let history = cluster.history(&device_name, 1000).await.unwrap();
        let last = history.first().unwrap();
        assert!(last.status == "Upgrade Success" && last.detail.contains(&mine), "{name}: {last:?}");
        for h in &history {
            // A success is only ever recorded for the LSC the phone stored.
            if h.status == "Upgrade Success" {
                assert!(h.detail.contains(&mine), "{name}: {h:?}");
            }
        }
        for rec in cluster.issued_for(&device_name).await.unwrap() {
            *states.entry(if rec.state == "installed" { "installed" } else { "other" }).or_default() += 1;
            assert!(serials.insert(rec.serial.clone(), name.clone()).is_none(), "serial {} recorded twice", rec.serial);
            if rec.serial == mine {
                assert_eq!(rec.state, "installed", "{name}: its phone's LSC");
            } else {
                // Sent, never stored by the phone: failed, and the history says why, once.
                assert_eq!(rec.state, "failed", "{name}: LSC {} the phone never stored", rec.serial);
                let told = history.iter().filter(|h| h.detail.contains(&rec.serial) && h.detail.contains(UNCONFIRMED));
                assert_eq!(told.count(), 1, "{name}: LSC {} {history:?}", rec.serial);
            }
        }
    }
    assert_eq!(states.get("installed"), Some(&PHONES));
    let audit = cluster.audit(1_000_000).await.unwrap();
    let unconfirmed = audit.iter().filter(|a| a.action == "capf.lsc.unconfirmed").count();
    println!(
        "{} LSCs issued for {PHONES} phones: {} failed as never confirmed, {} confirmed late",
        serials.len(),
        unconfirmed,
        audit.iter().filter(|a| a.action == "capf.lsc.confirmed").count()
    );
    assert_eq!(
        unconfirmed,
        states.get("other").copied().unwrap_or(0) + audit.iter().filter(|a| a.action == "capf.lsc.confirmed").count()
    );
    cluster.close().await;
}
