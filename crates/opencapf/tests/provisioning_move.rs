//! Moving a phone to a second cluster, as on real phones (cucm-reference.md §5): the phone holds
//! the old cluster's ITL, so the new cluster's ITL (signed by an ITLRecovery it does not know)
//! is refused and every signed file fails with `Reason:14`, until the old cluster's TVS vouches
//! for the new cluster's certificates (its ITLRecovery in the old cluster's Phone-SAST-trust).
//! Then the phone takes the new ITL, gets an LSC from the new CAPF and registers there.

use crate::support;

use support::{Lab, Phone, Security, LOOPBACK_LISTENERS};

const NAME: &str = "SEP00000000F001";

fn cluster(host: &str) -> Lab {
    let mut lab = Lab::new(host);
    lab.add_device(NAME, "sip", Security::Encrypted);
    lab.ok(&["device", "line", "add", NAME, "4001"]);
    lab.ok(&["device", "set", NAME, "--operation", "install", "--auth", "null"]);
    let mut flags = LOOPBACK_LISTENERS.to_vec();
    flags.push(("--advertise", "127.0.0.1"));
    lab.serve_on(&flags);
    lab
}

/// `phone boot` against `lab`'s provisioning service; the run.
fn boot(lab: &Lab, phone: &Phone) -> support::Run {
    let a = lab.addrs();
    let (http, tftp) = (a.http.port().to_string(), a.tftp.port().to_string());
    lab.run(&["phone", "boot", phone.dir(), "--server", "127.0.0.1", "--http-port", &http, "--tftp-port", &tftp])
}

#[test]
fn a_new_clusters_itl_is_refused_until_the_old_clusters_tvs_vouches_for_it() {
    let old = cluster("cucm-old.lab");
    let new = cluster("cucm-new.lab");
    let dir = old.path("phone");
    old.ok(&["phone", "init", dir.to_str().unwrap(), "--name", NAME, "--factory"]);
    let phone = Phone { dir, name: NAME.into() };

    // At home: first ITL trusted, LSC from the old CAPF, registered.
    let r = boot(&old, &phone);
    assert_eq!(r.code, 0, "{}\n{}", r.all(), phone.console());
    assert_eq!(old.last_registration(NAME)["issuer_cn"], old.capf_cn().as_str());
    let home_itl = std::fs::read(phone.file("itl.tlv")).unwrap();

    // Pointed at the new cluster: its ITL is refused, the old one kept, its configuration fails
    // with Reason:14 and nothing registers there.
    let skip = phone.console_len();
    let r = boot(&new, &phone);
    assert_eq!(r.code, 1, "{}", r.all());
    let said = phone.console_since(skip);
    assert!(said.contains(&format!("invalid file {NAME}.cnf.xml.sgn, authenticated fail. Reason:14")), "{said}");
    assert!(said.contains("SECUREAPP-TVS: asking TVS"), "the old cluster's TVS was asked:\n{said}");
    assert_eq!(std::fs::read(phone.file("itl.tlv")).unwrap(), home_itl, "the old ITL is kept");
    assert!(new.registrations(NAME).is_empty());

    // The documented cure: the old cluster trusts the new cluster's ITLRecovery as a SAST (and
    // its CallManager), so that its TVS vouches for them.
    old.ok(&["trust", "add", "Phone-SAST-trust", new.cert_own("itlrecovery").to_str().unwrap()]);
    old.ok(&["trust", "add", "CallManager-trust", new.cert_own("callmanager").to_str().unwrap()]);
    let skip = phone.console_len();
    let r = boot(&new, &phone);
    assert_eq!(r.code, 0, "{}\n{}", r.all(), phone.console_since(skip));
    let said = phone.console_since(skip);
    assert!(said.contains("SECUREAPP-Hashes match... authentication successful. (TVS roles SAST"), "{said}");
    assert_ne!(std::fs::read(phone.file("itl.tlv")).unwrap(), home_itl, "the new cluster's ITL is installed");
    let there = new.last_registration(NAME);
    assert_eq!(there["result"], "registered");
    assert_eq!(there["issuer_cn"], new.capf_cn().as_str(), "an LSC of the new cluster");
}
