//! CAPF end to end, as an administrator and a phone see it: `opencapf serve` in its own process,
//! `opencapf device set` on the cluster, and `opencapf phone capf` for the phone, over real TLS on
//! 127.0.0.1. Every operation × authentication mode, then the seed's refusals.

use crate::support;

use support::{Lab, Phone, Security};

/// A cluster whose CAPF-trust holds the lab manufacturer, serving.
fn serving_lab() -> Lab {
    let mut lab = Lab::new("cucm.lab");
    lab.trust_manufacturer("CAPF-trust");
    lab.serve();
    lab
}

/// A secure device and its phone folder.
fn phone(lab: &Lab, name: &str) -> Phone {
    lab.sip_phone(name, Security::Encrypted)
}

/// A serving lab with phone `name` scheduled to install By `auth`.
fn installing(name: &str, auth: &str) -> (Lab, Phone) {
    let lab = serving_lab();
    let dir = phone(&lab, name);
    schedule(&lab, name, "install", auth);
    (lab, dir)
}

fn phone_lsc_serial(lab: &Lab, phone: &Phone) -> Option<String> {
    let shown = lab.json(&["phone", "show", phone.dir()]);
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
    if auth == "string" {
        lab.ok(&["device", "set", name, "--operation", op, "--auth", auth, "--auth-string", "20261127"]);
        assert_eq!(lab.capf_status(name), "Operation Pending");
    } else {
        lab.schedule(name, op, auth);
    }
}

#[test]
fn every_operation_with_every_authentication_mode() {
    let lab = serving_lab();
    for (i, auth) in ["string", "null", "lsc", "mic"].iter().enumerate() {
        let name = format!("SEP00000000AA0{i}");
        let dir = phone(&lab, &name);

        // Install/Upgrade: the phone gets an LSC, and the cluster records the same one.
        schedule(&lab, &name, "install", auth);
        let r = lab.capf(&dir, &phone_flags(auth));
        assert_eq!(r.code, 0, "install by {auth}: {}{}", r.stdout, r.stderr);
        assert_eq!(lab.capf_status(&name), "Upgrade Success", "install by {auth}");
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
        if matches!(*auth, "lsc" | "mic") {
            // It proved itself with its MIC (no LSC yet): CAPF keeps the MIC it verified.
            assert!(shown["mic"]["subject"].as_str().unwrap().ends_with(&format!("CN=CP-8861-{name}")), "{shown}");
        } else {
            assert!(shown["mic"].is_null(), "no certificate was presented: {shown}");
        }

        // Troubleshoot: the phone uploads its certificate; the administrator can read it.
        schedule(&lab, &name, "troubleshoot", auth);
        let r = lab.capf(&dir, &phone_flags(auth));
        assert_eq!(r.code, 0, "troubleshoot by {auth}: {}{}", r.stdout, r.stderr);
        assert_eq!(lab.capf_status(&name), "Troubleshoot Success", "troubleshoot by {auth}");
        let certs = lab.json(&["device", "certs", &name]);
        assert!(certs.to_string().contains(&name), "uploaded certificates of {name}: {certs}");
        let out = lab.path(&format!("certs-{name}"));
        lab.ok(&["device", "certs", &name, "--out", out.to_str().unwrap()]);
        assert!(std::fs::read_dir(&out).unwrap().count() >= 1);

        // Delete: the LSC is gone from the phone and from the cluster's record.
        schedule(&lab, &name, "delete", auth);
        let r = lab.capf(&dir, &phone_flags(auth));
        assert_eq!(r.code, 0, "delete by {auth}: {}{}", r.stdout, r.stderr);
        assert_eq!(lab.capf_status(&name), "Delete Success", "delete by {auth}");
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
    let lab = serving_lab();
    let dir = phone(&lab, "SEP00000000BB01");
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 0, "nothing to do is not a failure: {}{}", r.stdout, r.stderr);
    assert_eq!(lab.capf_status("SEP00000000BB01"), "None");
    lab.ok(&["device", "remove", "SEP00000000BB01"]);
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("reason 9") || r.stderr.contains("reason 9"), "{}{}", r.stdout, r.stderr);
}

#[test]
fn wrong_and_reused_authentication_strings() {
    let name = "SEP00000000CC01";
    let (lab, dir) = installing(name, "string");
    let r = lab.capf(&dir, &["--auth-string", "1111"]);
    assert_eq!(r.code, 1);
    assert_eq!(lab.capf_status(name), "Upgrade Failed: Invalid Authentication String");
    assert!(phone_lsc_serial(&lab, &dir).is_none());
    // The right string still works, once.
    let r = lab.capf(&dir, &["--auth-string", "20261127"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(lab.capf_status(name), "Upgrade Success");
    let shown = lab.json(&["device", "show", name]);
    assert_eq!(shown["capf"]["auth_string_set"], false, "single-use: cleared on success");
    // A new operation needs a new string; the used one is refused.
    let r = lab.run(&["device", "set", name, "--operation", "install", "--auth", "string"]);
    assert_eq!(r.code, 1, "no string left to reuse");
    lab.ok(&["device", "set", name, "--operation", "install", "--auth", "string", "--auth-string", "55443322"]);
    let r = lab.capf(&dir, &["--auth-string", "20261127"]);
    assert_eq!(r.code, 1);
    assert_eq!(lab.capf_status(name), "Upgrade Failed: Invalid Authentication String");
}

#[test]
fn the_seeds_invalid_lsc_and_other_refused_certificates() {
    let lab = serving_lab();
    let other = serving_lab();
    // A phone that got its LSC from another cluster's CAPF...
    let name = "SEP00000000DD01";
    let dir = phone(&other, name);
    schedule(&other, name, "install", "null");
    assert_eq!(other.capf(&dir, &["--null-string"]).code, 0);
    // ...moves to this cluster, which trusts its own CAPF only (seed rule 5).
    lab.ok(&["device", "add", name]);
    lab.give_itl(&dir);
    schedule(&lab, name, "install", "lsc");
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(lab.capf_status(name), "Upgrade Failed: Invalid LSC", "the seed's case");

    // An LSC whose device name differs from the phone's.
    let a = phone(&lab, "SEP00000000DD02");
    schedule(&lab, "SEP00000000DD02", "install", "null");
    assert_eq!(lab.capf(&a, &["--null-string"]).code, 0);
    lab.ok(&["device", "add", "SEP00000000DD03"]);
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.file("phone.json")).unwrap()).unwrap();
    cfg["device_name"] = "SEP00000000DD03".into();
    std::fs::write(a.file("phone.json"), cfg.to_string()).unwrap();
    schedule(&lab, "SEP00000000DD03", "install", "lsc");
    assert_eq!(lab.capf(&a, &[]).code, 1);
    assert_eq!(lab.capf_status("SEP00000000DD03"), "Upgrade Failed: Invalid LSC");

    // A MIC from a manufacturer this cluster does not trust.
    let stranger = phone(&other, "SEP00000000DD04");
    lab.ok(&["device", "add", "SEP00000000DD04"]);
    lab.give_itl(&stranger);
    schedule(&lab, "SEP00000000DD04", "install", "mic");
    assert_eq!(lab.capf(&stranger, &["--prefer-mic"]).code, 1);
    assert_eq!(lab.capf_status("SEP00000000DD04"), "Upgrade Failed: Invalid MIC");
}

#[test]
fn an_operation_past_its_deadline_fails_late() {
    let name = "SEP00000000EE01";
    let (lab, dir) = installing(name, "null");
    // The deadline passes (set in the database: the CLI refuses past dates).
    let data = lab.data();
    opencapf_testkit::runtime().block_on(async {
        let cluster = opencapf_cluster::Cluster::open(&data).await.unwrap();
        let device: opencapf_model::DeviceName = name.parse().unwrap();
        let c = cluster.device(&device).await.unwrap().capf;
        let update = opencapf_model::CapfUpdate {
            operation: c.operation,
            auth_mode: c.auth_mode,
            auth_string: c.auth_string,
            key_order: c.key_order,
            rsa_bits: c.rsa_bits,
            ec_bits: c.ec_bits,
            completes_by: Some(opencapf_model::parse_ts("2026-01-01T00:00:00Z").unwrap()),
        };
        cluster.save_capf(&device, &update, "test: deadline in the past", "test").await.unwrap();
    });
    assert_eq!(lab.capf(&dir, &["--null-string"]).code, 1);
    assert_eq!(lab.capf_status(name), "Upgrade Failed: User Initiated Request Late/Timedout");
    assert!(lab.lsc_serial(name).is_none());
}

/// Issue 9 item 3 as the administrator does it: `device revoke`, then `capf crl` for a RADIUS
/// server, through `serve` and the phone simulator.
#[test]
fn a_revoked_lsc_is_refused_and_listed_in_the_crl() {
    let mut lab = Lab::new("cucm.lab");
    lab.trust_manufacturer("CAPF-trust");
    lab.serve();
    let name = "SEP00000000FF01";
    let dir = phone(&lab, name);
    schedule(&lab, name, "install", "null");
    assert_eq!(lab.capf(&dir, &["--null-string"]).code, 0);
    let serial = lab.lsc_serial(name).unwrap();
    assert_eq!(lab.register(&dir, "sip", Security::Encrypted).code, 0, "the installed LSC registers");

    let revoked = lab.json(&["device", "revoke", name]);
    assert_eq!(revoked["serial"], serial.as_str());
    assert_eq!(revoked["previous_state"], "installed");
    assert!(lab.lsc_serial(name).is_none(), "the device has no LSC after it");
    let audit = lab.ok(&["audit"]);
    assert!(audit.contains("device.revoke"), "{audit}");
    assert!(lab.run(&["device", "revoke", name, "--serial", &serial]).all().contains("already revoked"));

    // CallManager refuses it in the handshake, and says why.
    assert_eq!(lab.register(&dir, "sip", Security::Encrypted).code, 1);
    let r = lab.wait_last_registration(name, |r| r["result"] == "refused");
    assert!(r["reason"].as_str().unwrap().contains("revoked on"), "{r}");
    // CAPF By Existing Certificate: Invalid LSC.
    schedule(&lab, name, "install", "lsc");
    assert_eq!(lab.capf(&dir, &[]).code, 1);
    assert_eq!(lab.capf_status(name), "Upgrade Failed: Invalid LSC");

    // The CRL, PEM (the default) and DER, read by openssl.
    let pem = lab.path("crl.pem");
    lab.ok(&["capf", "crl", "--out", pem.to_str().unwrap()]);
    let text = std::process::Command::new("openssl")
        .args(["crl", "-in", pem.to_str().unwrap(), "-noout", "-text"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&serial.to_ascii_uppercase()), "{serial} not in\n{text}");
    let der = lab.path("crl.der");
    lab.ok(&["capf", "crl", "--der", "--out", der.to_str().unwrap()]);
    let ok = std::process::Command::new("openssl")
        .args(["crl", "-inform", "DER", "-in", der.to_str().unwrap(), "-noout"])
        .status()
        .unwrap();
    assert!(ok.success());

    // Two CAPF certificates: PEM holds one CRL each; DER needs --capf.
    lab.ok(&["capf", "regenerate"]);
    lab.ok(&["capf", "crl", "--out", pem.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&pem).unwrap().matches("BEGIN X509 CRL").count(), 2);
    assert!(lab.run(&["capf", "crl", "--der", "--out", der.to_str().unwrap()]).all().contains("--capf"));
    let fp = lab.json(&["capf", "show"])[1]["fingerprint"].as_str().unwrap()[..16].to_owned();
    let crls = lab.json(&["capf", "crl", "--der", "--capf", &fp, "--out", der.to_str().unwrap()]);
    assert_eq!(crls[0]["active"], false);
    assert_eq!(crls[0]["revoked"], 1);
}

/// A phone migrated from CUCM: its LSC reads `CN=CP-8861-SEP…` (cucm-reference §4) and comes from
/// CUCM's CAPF, which the administrator put in CAPF-trust and CallManager-trust. It registers over
/// SIP TLS, re-keys By Existing Certificate (Precedence to LSC), and the LSC OpenCAPF issues has
/// CUCM's layout, as `openssl x509 -subject` reads it.
#[test]
fn a_phone_holding_a_cucm_lsc_registers_and_rekeys_to_a_cucm_style_lsc() {
    use opencapf_pki::profiles::{self, LscRequest};
    use opencapf_pki::{pem, CaSigner, KeyAlgorithm, PrivateKey, SubjectFields};

    let name = "SEPB000B4BA0AEE";
    let mut lab = Lab::new_with(
        "cucm.lab",
        &["--org", "stormin", "--ou", "IST", "--country", "AU", "--state", "NSW", "--locality", "Sydney"],
    );
    let now = time::OffsetDateTime::now_utc();
    let cucm_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let cucm_subject = SubjectFields {
        organization: Some("stormin".into()),
        organizational_unit: Some("IST".into()),
        locality: Some("Sydney".into()),
        state: Some("NSW".into()),
        country: Some("AU".into()),
    };
    let cucm = profiles::capf_certificate(&cucm_key, &cucm_subject, 1825, now).unwrap();
    let cucm_pem = lab.path("cucm-capf.pem");
    std::fs::write(&cucm_pem, cucm.pem()).unwrap();
    for store in ["CAPF-trust", "CallManager-trust"] {
        lab.ok(&["trust", "add", store, cucm_pem.to_str().unwrap()]);
    }
    lab.serve();
    let dir = phone(&lab, name);

    // The phone's LSC from CUCM, with its MIC's PID and SN.
    let held = opencapf_phone::Phone::open(&dir.dir).unwrap();
    let mic = held.mic().unwrap();
    let (pid, sn) = (mic.info.pid.clone().unwrap(), mic.info.sn.clone().unwrap());
    let device = name.parse().unwrap();
    let lsc_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let request = LscRequest {
        device: &device,
        model: Some("CP-8861"),
        public_key_der: lsc_key.public_key_der(),
        pid_sn: Some((pid.clone(), sn.clone())),
        validity_days: 365,
        now,
    };
    let cucm_lsc = profiles::lsc(&CaSigner::new(&cucm.der, &cucm_key).unwrap(), &request).unwrap();
    assert_eq!(cucm_lsc.info.subject_cn.as_deref(), Some("CP-8861-SEPB000B4BA0AEE"));
    held.install_lsc(&cucm_lsc.der, &lsc_key).unwrap();
    // The administrator records what the phone holds: the CUCM LSC binds to the device as
    // `CN=CP-8861-SEP…`, and the MIC gives CAPF the PID and SN to carry over.
    for (file, kind) in [("lsc.pem", "LSC"), ("mic.pem", "MIC")] {
        let out = lab.ok(&["device", "record-cert", name, dir.file(file).to_str().unwrap()]);
        assert!(out.contains(kind), "{out}");
    }
    let inspected = lab.json(&["cert", "inspect", dir.file("lsc.pem").to_str().unwrap()]);
    assert_eq!((inspected["device"].as_str(), inspected["kind"].as_str()), (Some(name), Some("lsc-other-cluster")));

    let r = lab.register(&dir, "sip", Security::Encrypted);
    assert_eq!(r.code, 0, "the CUCM LSC registers: {}{}", r.stdout, r.stderr);
    let reg = lab.last_registration(name);
    assert_eq!((reg["result"].as_str(), reg["cert_kind"].as_str()), (Some("registered"), Some("LSC")), "{reg}");

    lab.schedule(name, "install", "lsc");
    let r = lab.capf(&dir, &[]);
    assert_eq!(r.code, 0, "re-key by the CUCM LSC: {}{}", r.stdout, r.stderr);
    assert_eq!(lab.capf_status(name), "Upgrade Success");
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in", dir.file("lsc.pem").to_str().unwrap()])
        .output()
        .expect("openssl is installed (see .ci/run)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("subject=serialNumber = PID:{pid} SN:{sn}, C = AU, O = stormin, OU = IST, CN = CP-8861-{name}")
    );
    let new = pem::parse_certificates(&std::fs::read(dir.file("lsc.pem")).unwrap()).unwrap();
    assert_ne!(new[0], cucm_lsc.der, "a new LSC, from this cluster's CAPF");
    assert_eq!(lab.register(&dir, "sip", Security::Encrypted).code, 0, "the new LSC registers too");
}
