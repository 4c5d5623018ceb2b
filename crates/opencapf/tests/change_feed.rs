//! Trust changes reach every node without a restart (issue 15): `opencapf serve` keeps
//! CallManager-trust between connections and reloads it when the store's change feed reports a
//! change, from the CLI or another node. On PostgreSQL two nodes share one database; on SQLite
//! the CLI changes the file while `serve` runs. Each wait is bounded; nothing here times speed.

use crate::support;

use std::time::{Duration, Instant};

use opencapf_store::testing::ScratchPostgres;
use opencapf_store::Database;
use support::{Addrs, Lab, Phone, Security};

/// Far above the second the feed takes: the tests say whether a change applies, not how fast.
const BOUND: Duration = Duration::from_secs(15);

/// A phone with an LSC of the cluster (CAPF install By Null String through the lab's node).
fn phone_with_lsc(lab: &Lab, name: &str) -> Phone {
    let phone = lab.sip_phone(name, Security::Encrypted);
    lab.schedule(name, "install", "null");
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    phone
}

/// Registers over SIP TLS at `node` until the exit code is `code` (0 registered, 1 refused),
/// within [`BOUND`]; the last registration record of the phone.
fn register_until(lab: &Lab, node: Addrs, phone: &Phone, code: i32) -> serde_json::Value {
    let deadline = Instant::now() + BOUND;
    loop {
        let r = lab.register_at(node, phone, "sip", Security::Encrypted, &[]);
        if r.code == code {
            return lab.last_registration(&phone.name);
        }
        assert!(Instant::now() < deadline, "still exit {} after {BOUND:?}, wanted {code}:\n{}", r.code, r.all());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `trust remove CallManager-trust <CAPF> --force` makes the next LSC registration refused with
/// `unknown CA`; `trust add` of the CAPF certificate makes it register again. No restart.
fn remove_and_restore(lab: &Lab, node: Addrs, phone: &Phone) {
    let capf_pem = lab.cert_own("capf");
    let registered = register_until(lab, node, phone, 0);
    assert_eq!(registered["result"], "registered", "{registered}");

    lab.ok(&["trust", "remove", "CallManager-trust", &lab.capf_cn(), "--force"]);
    let refused = register_until(lab, node, phone, 1);
    assert_eq!(refused["result"], "refused", "{refused}");
    assert!(refused["reason"].as_str().unwrap().starts_with("unknown CA"), "{refused}");

    lab.ok(&["trust", "add", "CallManager-trust", capf_pem.to_str().unwrap()]);
    let again = register_until(lab, node, phone, 0);
    assert_eq!(again["result"], "registered", "{again}");
}

/// Two nodes on one PostgreSQL database and one data folder: the CLI changes trust (as on node
/// A), and node B applies it to the phone's next TLS handshake.
#[test]
fn a_trust_change_reaches_the_other_node_without_a_restart() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(pg) = rt.block_on(ScratchPostgres::new()) else { return };
    let Database::Postgres(url) = pg.database.clone() else { unreachable!("a PostgreSQL database") };
    let mut lab = Lab::new_on("cucm-pub.lab", &[], Some(&url));
    lab.serve();
    let node_b = lab.spawn_node(&[("--node-name", "b")], "serve-b.log");
    let phone = phone_with_lsc(&lab, "SEP00000000F001");
    remove_and_restore(&lab, node_b.addrs, &phone);
    drop(node_b);
    drop(lab);
    drop(pg);
}

/// SQLite: `serve` running, the CLI changes the trust store in the same file.
#[test]
fn a_trust_change_by_the_cli_reaches_a_running_server() {
    let lab = Lab::start("cucm-pub.lab");
    let phone = phone_with_lsc(&lab, "SEP00000000F002");
    remove_and_restore(&lab, lab.addrs(), &phone);
}
