//! CallManager's TLS listeners serve the phones rustls cannot, through OpenSSL, as far as the
//! cluster's `tls.*` settings allow; every registration and refusal names the engine, version and
//! suite it had.
//!
//! - `openssl s_client -tls1` with `AES128-SHA` and an LSC registers over SIP TLS (engine
//!   openssl, legacy); a default `s_client` still gets TLS 1.3 from rustls.
//! - NULL-SHA registers an Authenticated device; an Encrypted one is refused, and says why.
//! - The simulated CP-7965 registers over SCCP TLS with TLS 1.0; with the minimum at 1.2 it is
//!   refused and the record says why.
//! - An untrusted certificate gets the same alert and the same recorded reason on both engines.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{register_request, s_client, Lab, Phone, Security};

const LEGACY_AES: [&str; 3] = ["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"];
const NULL_SHA: [&str; 3] = ["-tls1_2", "-cipher", "NULL-SHA:@SECLEVEL=0"];

/// The settings a fleet with 79xx phones needs.
fn allow_tls10_cbc(lab: &Lab) {
    lab.ok(&["settings", "set", "tls.min_version", "1.0"]);
    lab.ok(&["settings", "set", "tls.cbc", "on"]);
}

/// A SIP device with this profile and a phone that got its LSC from CAPF (By Null String).
fn sip_phone_with_lsc(lab: &Lab, name: &str, security: Security) -> Phone {
    let phone = lab.sip_phone(name, security);
    lab.schedule(name, "install", "null");
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(phone.has_lsc());
    phone
}

fn answered(out: &str) -> bool {
    out.contains("SIP/2.0 ")
}

fn alert(out: &str) -> bool {
    out.to_ascii_lowercase().contains("alert")
}

/// `-cert FILE -key FILE` of a phone's certificate (`lsc` or `mic`).
fn cert_args(phone: &Phone, which: &str) -> [String; 4] {
    let file = |ext: &str| phone.file(&format!("{which}.{ext}")).to_str().unwrap().to_owned();
    ["-cert".into(), file("pem"), "-key".into(), file("key")]
}

fn with<'a>(base: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    base.iter().copied().chain(more.iter().map(String::as_str)).collect()
}

/// The newest record of every device (`registrations --json`) that `matches`, bounded:
/// CallManager writes a refusal just after its alert reaches the peer.
fn wait_any_registration(lab: &Lab, matches: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = lab.json(&["registrations"]);
        if let Some(r) = all.as_array().unwrap().iter().find(|r| matches(r)) {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "no such registration record in:\n{all:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn openssl_s_client_registers_with_tls_1_0_aes128_sha_and_a_modern_one_still_gets_tls_1_3() {
    let lab = Lab::start("cucm-pub.lab");
    allow_tls10_cbc(&lab);
    let name = "SEP00000000D001";
    let phone = sip_phone_with_lsc(&lab, name, Security::Encrypted);
    let ca = lab.cert_own("callmanager");
    let port = lab.addrs().sip_tls.port();
    let lsc = cert_args(&phone, "lsc");

    let out = s_client(port, &ca, &with(&LEGACY_AES, &lsc), &register_request(name), answered);
    assert!(out.contains("SIP/2.0 200 OK"), "TLS 1.0 AES128-SHA with the LSC:\n{out}\n{}", lab.server_log());
    let reg = lab.last_registration(name);
    assert_eq!(reg["result"], "registered", "{reg}");
    assert_eq!(reg["engine"], "openssl", "{reg}");
    assert_eq!(reg["tls_version"], "TLSv1", "{reg}");
    assert_eq!(reg["cipher"], "AES128-SHA", "{reg}");
    assert_eq!(reg["legacy"], true, "{reg}");
    assert_eq!(reg["cert_kind"], "LSC", "{reg}");

    // A default client, the same certificate: TLS 1.3 through rustls, not legacy.
    let out = s_client(port, &ca, &with(&[], &lsc), &register_request(name), answered);
    assert!(out.contains("SIP/2.0 200 OK"), "default s_client:\n{out}");
    let reg = lab.wait_last_registration(name, |r| r["engine"] == "rustls");
    assert_eq!(reg["result"], "registered", "{reg}");
    assert_eq!(reg["engine"], "rustls", "{reg}");
    assert_eq!(reg["tls_version"], "TLSv1.3", "{reg}");
    assert_eq!(reg["legacy"], false, "{reg}");
}

#[test]
fn null_sha_registers_an_authenticated_device_and_refuses_an_encrypted_one() {
    let lab = Lab::start("cucm-pub.lab");
    let ca = lab.cert_own("callmanager");
    let port = lab.addrs().sip_tls.port();

    // NULL-SHA is on by default, for Authenticated devices.
    let auth = "SEP00000000D002";
    let phone = sip_phone_with_lsc(&lab, auth, Security::Authenticated);
    let out = s_client(port, &ca, &with(&NULL_SHA, &cert_args(&phone, "lsc")), &register_request(auth), answered);
    assert!(out.contains("SIP/2.0 200 OK"), "NULL-SHA, Authenticated:\n{out}\n{}", lab.server_log());
    let reg = lab.last_registration(auth);
    assert_eq!(reg["result"], "registered", "{reg}");
    assert_eq!(
        (&reg["engine"], &reg["tls_version"], &reg["cipher"]),
        (&"openssl".into(), &"TLSv1.2".into(), &"NULL-SHA".into())
    );
    assert_eq!(reg["legacy"], true, "{reg}");
    // The same over TLS 1.0, as a 79xx in Authenticated mode, once the fleet allows TLS 1.0.
    lab.ok(&["settings", "set", "tls.min_version", "1.0"]);
    let tls10 = ["-tls1", "-cipher", "NULL-SHA:@SECLEVEL=0"];
    let out = s_client(port, &ca, &with(&tls10, &cert_args(&phone, "lsc")), &register_request(auth), answered);
    assert!(out.contains("SIP/2.0 200 OK"), "NULL-SHA over TLS 1.0, Authenticated:\n{out}");
    let reg = lab.wait_last_registration(auth, |r| r["tls_version"] == "TLSv1");
    assert_eq!(
        (&reg["result"], &reg["tls_version"], &reg["cipher"]),
        (&"registered".into(), &"TLSv1".into(), &"NULL-SHA".into())
    );
    lab.ok(&["settings", "set", "tls.min_version", "1.2"]);

    let enc = "SEP00000000D003";
    let phone = sip_phone_with_lsc(&lab, enc, Security::Encrypted);
    let out = s_client(port, &ca, &with(&NULL_SHA, &cert_args(&phone, "lsc")), &register_request(enc), answered);
    assert!(out.contains("SIP/2.0 403"), "NULL-SHA, Encrypted:\n{out}");
    assert!(!out.contains("SIP/2.0 200"), "{out}");
    let reg = lab.wait_last_registration(enc, |r| r["result"] == "refused");
    assert_eq!(reg["result"], "refused", "{reg}");
    assert_eq!(reg["engine"], "openssl", "{reg}");
    assert_eq!(reg["cipher"], "NULL-SHA", "{reg}");
    let reason = reg["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "NULL-SHA (no encryption) is offered to Authenticated devices only; {enc} is Encrypted"
        )),
        "{reason}"
    );
    assert!(lab.registrations(enc).iter().all(|r| r["result"] != "registered"));
}

#[test]
fn an_untrusted_certificate_gets_the_same_alert_and_reason_from_either_engine() {
    let lab = Lab::start("cucm-pub.lab");
    allow_tls10_cbc(&lab);
    let name = "SEP00000000D004";
    // The MIC's manufacturing CA is not in CallManager-trust.
    let phone = lab.sip_phone(name, Security::Encrypted);
    let ca = lab.cert_own("callmanager");
    let port = lab.addrs().sip_tls.port();
    let mic = cert_args(&phone, "mic");
    let register = register_request(name);

    let out = s_client(port, &ca, &with(&LEGACY_AES, &mic), &register, alert);
    assert!(out.contains("alert unknown ca"), "OpenSSL, untrusted MIC:\n{out}");
    assert!(!out.contains("SIP/2.0"), "{out}");
    let legacy = lab.wait_last_registration(name, |r| r["engine"] == "openssl");
    assert_eq!((&legacy["result"], &legacy["engine"]), (&"refused".into(), &"openssl".into()), "{legacy}");
    assert_eq!(legacy["cert_kind"], "MIC", "{legacy}");

    let out = s_client(port, &ca, &with(&["-tls1_2"], &mic), &register, alert);
    assert!(out.contains("alert unknown ca"), "rustls, untrusted MIC:\n{out}");
    let modern = lab.wait_last_registration(name, |r| r["engine"] == "rustls");
    assert_eq!((&modern["result"], &modern["engine"]), (&"refused".into(), &"rustls".into()), "{modern}");
    assert!(modern["reason"].as_str().unwrap().starts_with("unknown CA"), "{modern}");
    assert_eq!(legacy["reason"], modern["reason"]);
}

#[test]
fn a_cp_7965_registers_over_sccp_tls_1_0_unless_the_minimum_is_1_2() {
    let lab = Lab::start("cucm-pub.lab");
    allow_tls10_cbc(&lab);
    let name = "SEP00000000D005";
    lab.add_device(name, "sccp", Security::Encrypted);
    let dir = lab.path(&format!("phone-{name}"));
    lab.ok(&["phone", "init", dir.to_str().unwrap(), "--name", name, "--model", "CP-7965"]);
    let phone = Phone { dir, name: name.to_owned() };
    // Its LSC from CAPF over TLS 1.2 (CAPF's own legacy TLS is not this test's subject).
    lab.schedule(name, "install", "null");
    let r = lab.capf(&phone, &["--null-string", "--tls", "1.2"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(phone.has_lsc());

    let before = phone.console_len();
    let r = lab.register(&phone, "sccp", Security::Encrypted);
    assert_eq!(r.code, 0, "{}\n{}", r.all(), lab.server_log());
    let log = phone.console_since(before);
    assert!(log.contains("PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC]"), "{log}");
    let reg = lab.last_registration(name);
    assert_eq!(reg["result"], "registered", "{reg}");
    assert_eq!(
        (&reg["engine"], &reg["tls_version"], &reg["legacy"]),
        (&"openssl".into(), &"TLSv1".into(), &true.into())
    );

    // The cluster's default minimum: the phone is refused before it shows a certificate, and
    // the record (no device named yet) says why.
    lab.ok(&["settings", "set", "tls.min_version", "1.2"]);
    let r = lab.register(&phone, "sccp", Security::Encrypted);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!lab.registrations(name).iter().any(|r| r["result"] == "refused"));
    let refused = wait_any_registration(&lab, |r| {
        r["result"] == "refused" && r["reason"].as_str().is_some_and(|s| s.contains("below the cluster's minimum"))
    });
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains("TLS 1.0 is below the cluster's minimum 1.2"), "{reason}");
    assert!(reason.contains("tls.min_version 1.0"), "{reason}");
    assert_eq!(refused["protocol"], "SCCP", "{refused}");
    assert_eq!(refused["tls_version"], "TLSv1", "{refused}");
    assert_eq!(refused["legacy"], true, "{refused}");
}
