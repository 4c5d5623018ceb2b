//! The seed's five stories, end to end: `opencapf serve` (CAPF and CallManager) as a child
//! process on 127.0.0.1, the administrator's commands, and `opencapf phone capf|register|
//! delete-lsc` for the phone, over real TCP and TLS. Two clusters where the story needs them.
//!
//! What the phone logs is read back from its console.log, in the seed's words; what CallManager
//! decided is read back from `opencapf registrations`.

use crate::support;

use support::{Lab, Phone, Security};

const NO_LSC_SIP: &str = "SECD: -PXY_NO_LSC: No LSC for [SIP], will try MIC";
const UNKNOWN_CA: &str = "SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]";

/// Runs one CAPF session that must succeed and end with `status`.
fn capf_ok(lab: &Lab, phone: &Phone, flags: &[&str], status: &str) {
    let r = lab.capf(phone, flags);
    assert_eq!(r.code, 0, "phone capf {flags:?} for {}:\n{}", phone.name, r.all());
    assert_eq!(lab.capf_status(&phone.name), status);
}

/// Registers and expects CallManager's yes; returns what the phone logged meanwhile.
fn registers(lab: &Lab, phone: &Phone, protocol: &str, security: Security) -> String {
    let before = phone.console_len();
    let r = lab.register(phone, protocol, security);
    assert_eq!(r.code, 0, "{} should register ({protocol}, {security:?}):\n{}", phone.name, r.all());
    assert!(r.stdout.starts_with("Registered with CallManager"), "{}", r.stdout);
    let reg = lab.last_registration(&phone.name);
    assert_eq!(reg["result"], "registered", "{reg}");
    phone.console_since(before)
}

/// Registers and expects a refusal (exit 1); returns the command's output and the console lines.
fn refused(lab: &Lab, phone: &Phone, protocol: &str, security: Security) -> (String, String) {
    let before = phone.console_len();
    let r = lab.register(phone, protocol, security);
    assert_eq!(r.code, 1, "{} should be refused ({protocol}, {security:?}):\n{}", phone.name, r.all());
    (r.all(), phone.console_since(before))
}

/// The administrator changes the device's security profile (`device update`); the phone keeps
/// its certificates.
fn change_profile(lab: &Lab, phone: &Phone, security: Security) {
    lab.ok(&["device", "update", &phone.name, "--security", security.token()]);
}

/// Story 1. Seed rule 4: "A phone with a secure profile (Authenticated or Encrypted) registers
/// with its MIC when it has no LSC." Rule 1: it says so, `PXY_NO_LSC … will try MIC`. Rule 2: the
/// MIC is accepted through its manufacturing CA in CallManager-trust, an unknown CA otherwise.
#[test]
fn story_1_a_secure_phone_without_an_lsc_registers_with_its_mic() {
    let lab = Lab::start("cucm-pub.lab");
    let (enc, auth) = ("SEP00000000A101", "SEP00000000A102");
    lab.add_device(enc, "sip", Security::Encrypted);
    lab.add_device(auth, "sip", Security::Authenticated);
    let enc = lab.new_phone(enc);
    let auth = lab.new_phone(auth);

    // The manufacturing CA is not in CallManager-trust yet: the MIC is an unknown CA.
    let (out, log) = refused(&lab, &enc, "sip", Security::Encrypted);
    assert!(out.contains("unknown CA"), "{out}");
    assert!(log.contains(NO_LSC_SIP), "{log}");
    assert!(log.contains(UNKNOWN_CA), "{log}");
    let reg = lab.last_registration(&enc.name);
    assert_eq!(reg["result"], "refused");
    assert_eq!(reg["cert_kind"], "MIC");
    assert!(reg["reason"].as_str().unwrap().starts_with("unknown CA"), "{reg}");

    // `opencapf trust add CallManager-trust manufacturer-ca.pem`: the next connection sees it.
    lab.trust_manufacturer("CallManager-trust");
    let log = registers(&lab, &enc, "sip", Security::Encrypted);
    assert!(log.contains(NO_LSC_SIP), "{log}");
    assert!(
        log.contains("SECD: -PXY_CERT_CIPHER: [SIP], [TLSv1.3], cert [MIC], cipher [TLS_AES_128_GCM_SHA256]"),
        "{log}"
    );
    let reg = lab.last_registration(&enc.name);
    assert_eq!(reg["transport"], "TLS");
    assert_eq!(reg["cert_kind"], "MIC");
    assert_eq!(reg["issuer_cn"], "OpenCAPF Lab Manufacturing CA");

    // Authenticated: TLS below 1.3 (CUCM 15SU2), the seed's line with the MIC.
    let log = registers(&lab, &auth, "sip", Security::Authenticated);
    assert!(log.contains(NO_LSC_SIP), "{log}");
    assert!(
        log.contains("SECD: -PXY_CERT_CIPHER: [SIP], [TLSv1.2], cert [MIC], cipher [ECDHE-RSA-AES128-GCM-SHA256]"),
        "{log}"
    );
    assert_eq!(lab.last_registration(&auth.name)["tls_version"], "TLSv1.2");
}

/// Story 2. Seed rule 4, "No prerequisites": installing an LSC works with a Non Secure device
/// security profile and the cluster in non-secure mode (OpenCAPF has no mixed mode: nothing to
/// turn on). Rule 3: Install/Upgrade By Null String. Then, with a secure profile, the phone
/// registers with that LSC (rule 1), accepted through the CAPF certificate (rule 2).
#[test]
fn story_2_install_by_null_string_non_secure_then_register_securely_with_the_lsc() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000A201";
    let phone = lab.sip_phone(name, Security::NonSecure);

    // Non Secure: plain TCP, no certificate at all.
    let log = registers(&lab, &phone, "sip", Security::NonSecure);
    assert!(!log.contains("PXY_"), "no TLS, no certificate: {log}");
    let reg = lab.last_registration(name);
    assert_eq!(reg["transport"], "TCP");
    assert!(reg["cert_kind"].is_null());

    // Install/Upgrade By Null String, still Non Secure.
    lab.schedule(name, "install", "null");
    capf_ok(&lab, &phone, &["--null-string"], "Upgrade Success");
    let (serial, issuer) = phone.lsc(&lab).expect("the phone has an LSC");
    assert_eq!(lab.lsc_serial(name).as_deref(), Some(serial.as_str()), "the cluster records the same LSC");
    let capf = lab.capf_cn();
    assert!(issuer.contains(&capf), "{issuer}");

    // A secure profile, and the phone registers over TLS with its LSC: no PXY_NO_LSC this time.
    change_profile(&lab, &phone, Security::Encrypted);
    let log = registers(&lab, &phone, "sip", Security::Encrypted);
    assert!(!log.contains("PXY_NO_LSC"), "{log}");
    assert!(log.contains("SECD: -PXY_CERT_CIPHER: [SIP], [TLSv1.3], cert [LSC], cipher ["), "{log}");
    let reg = lab.last_registration(name);
    assert_eq!(reg["cert_kind"], "LSC");
    assert_eq!(reg["issuer_cn"], capf.as_str());
    assert_eq!(reg["serial"], serial.as_str());

    // The secure profile now refuses plain TCP.
    let (out, _) = refused(&lab, &phone, "sip", Security::NonSecure);
    assert!(out.contains("403") && out.contains("must register over TLS"), "{out}");
}

/// Story 3. Seed rule 5, "Moving to a new cluster": a phone that keeps an LSC from the old
/// cluster fails TLS to the new one (`unknown CA`), because the new CallManager-trust lacks the
/// old CAPF. Remedies: register non-secure, delete the LSC, install the new cluster's LSC,
/// register secure again; or register secure with the MIC.
#[test]
fn story_3_an_lsc_from_another_cluster_fails_with_unknown_ca_and_both_remedies_work() {
    let old = Lab::start("cucm-old.lab");
    let new = Lab::start("cucm-new.lab");
    // Both clusters trust the phones' manufacturer, as both would trust Cisco's manufacturing CAs.
    new.ok(&["trust", "add", "CallManager-trust", old.manufacturer_ca().to_str().unwrap()]);
    let (a, b) = ("SEP00000000A301", "SEP00000000A302");
    let mut phones = Vec::new();
    for name in [a, b] {
        let phone = old.sip_phone(name, Security::Encrypted);
        old.schedule(name, "install", "null");
        capf_ok(&old, &phone, &["--null-string"], "Upgrade Success");
        registers(&old, &phone, "sip", Security::Encrypted);
        // Moved: added to the new cluster with a secure profile; the phone gets its ITL.
        new.add_device(name, "sip", Security::Encrypted);
        new.give_itl(&phone);
        phones.push(phone);
    }
    let (pa, pb) = (&phones[0], &phones[1]);
    let old_capf = old.capf_cn();
    let new_capf = new.capf_cn();

    // The old LSC: unknown CA, on the phone and in CallManager's record.
    let (out, log) = refused(&new, pa, "sip", Security::Encrypted);
    assert!(out.contains("unknown CA"), "{out}");
    assert!(log.contains("cert [LSC]"), "{log}");
    assert!(log.contains(UNKNOWN_CA), "{log}");
    let reg = new.last_registration(a);
    assert_eq!(reg["result"], "refused");
    assert_eq!(reg["cert_kind"], "LSC");
    assert_eq!(reg["issuer_cn"], old_capf.as_str());
    let reason = reg["reason"].as_str().unwrap();
    assert!(reason.starts_with("unknown CA") && reason.contains("another cluster"), "{reason}");

    // Remedy A: non-secure registration, Delete through CAPF, Install/Upgrade, secure again.
    change_profile(&new, pa, Security::NonSecure);
    registers(&new, pa, "sip", Security::NonSecure);
    new.schedule(a, "delete", "null");
    capf_ok(&new, pa, &["--null-string"], "Delete Success");
    assert!(!pa.has_lsc());
    new.schedule(a, "install", "null");
    capf_ok(&new, pa, &["--null-string"], "Upgrade Success");
    let (serial, issuer) = pa.lsc(&new).unwrap();
    assert!(issuer.contains(&new_capf), "{issuer}");
    change_profile(&new, pa, Security::Encrypted);
    let log = registers(&new, pa, "sip", Security::Encrypted);
    assert!(log.contains("cert [LSC]"), "{log}");
    let reg = new.last_registration(a);
    assert_eq!(reg["issuer_cn"], new_capf.as_str());
    assert_eq!(reg["serial"], serial.as_str());

    // Remedy B: delete the LSC on the phone; it registers secure with its MIC.
    refused(&new, pb, "sip", Security::Encrypted);
    assert!(new.ok(&["phone", "delete-lsc", pb.dir()]).contains("now presents its MIC"));
    let log = registers(&new, pb, "sip", Security::Encrypted);
    assert!(log.contains(NO_LSC_SIP), "{log}");
    assert!(log.contains("cert [MIC]"), "{log}");
    assert_eq!(new.last_registration(b)["cert_kind"], "MIC");
}

/// Story 4. Seed rule 6, "Quick test": deleting the LSC on one phone forces it onto its MIC; if
/// all is well with the MIC, the fault is in the LSC. Over SCCP, the protocol of the seed's
/// console lines; the fault here is the CAPF certificate missing from CallManager-trust.
#[test]
fn story_4_deleting_the_lsc_on_the_phone_makes_it_register_with_its_mic() {
    let lab = Lab::start("cucm-pub.lab");
    lab.trust_manufacturer("CallManager-trust");
    let name = "SEP00000000A401";
    lab.add_device(name, "sccp", Security::Authenticated);
    let phone = lab.new_phone(name);
    lab.schedule(name, "install", "null");
    capf_ok(&lab, &phone, &["--null-string"], "Upgrade Success");
    let log = registers(&lab, &phone, "sccp", Security::Authenticated);
    assert!(
        log.contains("SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1.2], cert [LSC], cipher [ECDHE-RSA-AES128-GCM-SHA256]"),
        "{log}"
    );
    assert_eq!(lab.last_registration(name)["protocol"], "SCCP");

    // The fault: the CAPF certificate leaves CallManager-trust (forced: it backs this LSC).
    let capf = lab.capf_cn();
    lab.ok(&["trust", "remove", "CallManager-trust", &capf, "--force"]);
    let (_, log) = refused(&lab, &phone, "sccp", Security::Authenticated);
    assert!(log.contains(UNKNOWN_CA), "{log}");

    // The quick test: delete the LSC on the phone (its settings page); the MIC registers, so
    // the fault is in the LSC.
    assert!(lab.ok(&["phone", "delete-lsc", phone.dir()]).contains("now presents its MIC"));
    let log = registers(&lab, &phone, "sccp", Security::Authenticated);
    assert!(log.contains("SECD: -PXY_NO_LSC: No LSC for [SCCP], will try MIC"), "{log}");
    assert!(log.contains("SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1.2], cert [MIC]"), "{log}");
    let reg = lab.last_registration(name);
    assert_eq!(reg["cert_kind"], "MIC");
    assert_eq!(reg["protocol"], "SCCP");
}

/// Two phones with LSCs from the current CAPF, registered; then `capf regenerate` and the new
/// trust list (ITL) on the phones; `capf reissue`. Returns the phones and the old CAPF name.
fn regenerated_cluster(lab: &Lab, names: [&str; 2]) -> (Vec<Phone>, String) {
    let mut phones = Vec::new();
    for name in names {
        let phone = lab.sip_phone(name, Security::Encrypted);
        lab.schedule(name, "install", "null");
        capf_ok(lab, &phone, &["--null-string"], "Upgrade Success");
        registers(lab, &phone, "sip", Security::Encrypted);
        phones.push(phone);
    }
    let old = lab.capf_cn();
    lab.ok(&["capf", "regenerate"]);
    assert_ne!(lab.capf_cn(), old);
    for phone in &phones {
        // The old CAPF certificate stays in CallManager-trust: the old LSCs still register.
        registers(lab, phone, "sip", Security::Encrypted);
        // CAPF now presents the new certificate; phones learn it from the new ITL.
        lab.give_itl(phone);
    }
    let scheduled = lab.json(&["capf", "reissue"]);
    assert_eq!(scheduled, serde_json::json!(names));
    for name in names {
        let capf = &lab.json(&["device", "show", name])["capf"];
        assert_eq!(capf["auth_mode"], "By Existing Certificate (Precedence to LSC)");
    }
    (phones, old)
}

/// Story 5, as the seed wants it. Rule 9: "install the new LSC on every phone before removing
/// the old CAPF certificate from CallManager-trust … from CAPF-trust". After `capf regenerate`
/// and `capf reissue`, the phones get new LSCs By Existing Certificate (Precedence to LSC), with
/// their old LSC; then the old CAPF certificate leaves both stores without --force.
#[test]
fn story_5_capf_regeneration_new_lscs_first_then_the_old_capf_goes_without_force() {
    let lab = Lab::start("cucm-pub.lab");
    let names = ["SEP00000000A501", "SEP00000000A502"];
    let (phones, old) = regenerated_cluster(&lab, names);
    let new = lab.capf_cn();

    // Too early: refused, naming the phones that still hold LSCs from the old CAPF.
    let r = lab.fail(&["trust", "remove", "CallManager-trust", &old]);
    assert!(r.stderr.contains("2 device(s)") && r.stderr.contains(names[0]), "{}", r.stderr);

    for phone in &phones {
        let before = phone.console_len();
        capf_ok(&lab, phone, &[], "Upgrade Success");
        assert!(phone.console_since(before).contains("Authenticating with cert [LSC]"), "{}", phone.console());
        let (_, issuer) = phone.lsc(&lab).unwrap();
        assert!(issuer.contains(&new), "{issuer}");
    }

    // Every phone has a new LSC: the old CAPF certificate leaves both stores, no --force.
    lab.ok(&["trust", "remove", "CallManager-trust", &old]);
    lab.ok(&["trust", "remove", "CAPF-trust", &old]);
    for phone in &phones {
        registers(&lab, phone, "sip", Security::Encrypted);
        let reg = lab.last_registration(&phone.name);
        assert_eq!(reg["cert_kind"], "LSC");
        assert_eq!(reg["issuer_cn"], new.as_str());
    }
}

/// Story 5, the other way (another set of phones): the old CAPF certificate removed with
/// --force before the phones got new LSCs. Rule 9: phones whose LSC it issued stop registering
/// (`unknown CA`), and the by-existing-certificate reissue fails "Invalid LSC".
#[test]
fn story_5_a_forced_early_removal_of_the_old_capf_strands_the_phones_with_old_lscs() {
    let lab = Lab::start("cucm-pub.lab");
    let names = ["SEP00000000A511", "SEP00000000A512"];
    let (phones, old) = regenerated_cluster(&lab, names);

    let r = lab.run(&["trust", "remove", "CallManager-trust", &old, "--force"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("2 device(s)"), "the forced removal says whom it strands: {}", r.stderr);
    for phone in &phones {
        let (out, log) = refused(&lab, phone, "sip", Security::Encrypted);
        assert!(out.contains("unknown CA"), "{out}");
        assert!(log.contains(UNKNOWN_CA), "{log}");
        let reg = lab.last_registration(&phone.name);
        assert_eq!(reg["issuer_cn"], old.as_str());
        assert!(reg["reason"].as_str().unwrap().contains("no longer in CallManager-trust"), "{reg}");
    }

    // And out of CAPF-trust too: the scheduled reissue, by the old LSC, fails "Invalid LSC".
    lab.ok(&["trust", "remove", "CAPF-trust", &old, "--force"]);
    let r = lab.capf(&phones[0], &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(lab.capf_status(names[0]), "Upgrade Failed: Invalid LSC");
}
