//! `opencapf phone register` beyond the seed's stories: an old phone's 1024-bit RSA LSC, a
//! CallManager the phone does not trust, CallManager's refusals as the phone reports them
//! (exit code, JSON, console), and a CallManager that is not there.

use crate::support;

use support::{Lab, Security};

/// CUCM offered 1024-bit RSA LSC keys; such a phone signs its CertificateVerify with RSA PKCS#1
/// v1.5 over TLS 1.2 (TLS 1.3 would need RSA-PSS, which CallManager takes from 2048 bits only).
#[test]
fn an_rsa_1024_lsc_registers_over_tls_1_2() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000C001";
    let phone = lab.sip_phone(name, Security::Encrypted);
    let key = ["--key-order", "rsa", "--rsa-bits", "1024"];
    lab.ok(&[&["device", "set", name, "--operation", "install", "--auth", "null"][..], &key].concat());
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(lab.json(&["phone", "show", phone.dir()])["lsc"]["key"], "RSA 1024");

    let before = phone.console_len();
    let r = lab.register(&phone, "sip", Security::Encrypted);
    assert_eq!(r.code, 0, "{}", r.all());
    let log = phone.console_since(before);
    assert!(
        log.contains("SECD: -PXY_CERT_CIPHER: [SIP], [TLSv1.2], cert [LSC], cipher [ECDHE-RSA-AES128-GCM-SHA256]"),
        "{log}"
    );
    let reg = lab.last_registration(name);
    assert_eq!(reg["result"], "registered");
    assert_eq!(reg["tls_version"], "TLSv1.2");

    // Asked for TLS 1.3 only, the phone refuses before connecting, and says why.
    let port = lab.addrs().sip_tls.port().to_string();
    let args = ["phone", "register", phone.dir(), "--server", "127.0.0.1", "--port", &port, "--security", "encrypted"];
    let r = lab.fail(&[&args[..], &["--tls", "1.3"]].concat());
    assert!(r.stderr.contains("RSA-PSS"), "{}", r.stderr);
}

/// The phone checks CallManager too: a certificate that is not in its trust list is refused by
/// the phone, with the seed's alert line written (`[write]`), before any REGISTER is sent.
#[test]
fn a_callmanager_missing_from_the_trust_list_is_refused_by_the_phone() {
    let lab = Lab::start("cucm-pub.lab");
    let other = Lab::new("cucm-other.lab");
    lab.trust_manufacturer("CallManager-trust");
    let name = "SEP00000000C002";
    let phone = lab.sip_phone(name, Security::Encrypted);
    // The other cluster's ITL: its CAPF and CallManager certificates, not this cluster's.
    other.ok(&["trust", "export-itl", "--out", phone.file("itl.tlv").to_str().unwrap()]);

    let r = lab.register(&phone, "sip", Security::Encrypted);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("not in the phone's trust list"), "{}", r.stdout);
    let log = phone.console();
    assert!(log.contains("SECUREAPP-No match found in trust list against the item"), "{log}");
    assert!(log.contains("SECD: -STATE_SSL3_ALERT: SSL3 alert [write]:[fatal]:[unknown CA]"), "{log}");
    assert!(!log.contains("PXY_CERT_CIPHER"), "{log}");
    assert!(lab.registrations(name).iter().all(|r| r["result"] != "registered"));
}

/// Refusals as a script sees them: exit 1, the JSON report with CallManager's words, and a
/// console line; then a CallManager that is not listening.
#[test]
fn refusals_and_failures_are_reported_and_exit_1() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000C003";
    let phone = lab.new_phone(name);
    let port = lab.addrs().sip_tcp.port().to_string();
    let args = ["--json", "phone", "register", phone.dir(), "--server", "127.0.0.1", "--port", &port];

    // Not a device of the cluster: 404.
    let r = lab.fail(&args);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["outcome"], "refused");
    assert_eq!(report["sip_status"], 404);
    assert_eq!(report["transport"], "TCP");
    assert!(report["reason"].as_str().unwrap().contains("not a device of this cluster"), "{report}");
    assert!(phone.console().contains("SIP: -Refused by CallManager"), "{}", phone.console());

    // A device for SCCP registering over SIP: 403 with the reason.
    lab.add_device(name, "sccp", Security::NonSecure);
    let report: serde_json::Value = serde_json::from_str(&lab.fail(&args).stdout).unwrap();
    assert_eq!(report["sip_status"], 403);
    assert!(report["reason"].as_str().unwrap().contains("configured for the SCCP protocol"), "{report}");
    // Over SCCP it registers; a RegisterReject would carry the short text.
    let r = lab.register(&phone, "sccp", Security::NonSecure);
    assert_eq!(r.code, 0, "{}", r.all());

    // Nobody listening: a failure, not a refusal.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let r = lab.fail(&["--json", "phone", "register", phone.dir(), "--server", "127.0.0.1", "--port", &closed]);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["outcome"], "failed");
    assert!(report["summary"].as_str().unwrap().contains("cannot connect"), "{report}");
}

/// An LSC from a CAPF this cluster never knew, expired too: CallManager's refusal gives both
/// reasons, the unknown issuer first (a new expiry date alone would not make it register).
#[test]
fn a_refusal_lists_every_reason_most_fundamental_first() {
    use opencapf_pki::KeyAlgorithm;
    use opencapf_testkit as testkit;
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000C004";
    let phone = lab.sip_phone(name, Security::Encrypted);
    let then = testkit::now() - time::Duration::days(400);
    let stranger = testkit::Ca::capf(KeyAlgorithm::Ec256, &Default::default(), 365, then).signer();
    let key = testkit::phone_key();
    let lsc = testkit::lsc(&stranger, name, key.public_key_der(), 30, then);
    std::fs::write(phone.file("lsc.pem"), opencapf_pki::pem::encode("CERTIFICATE", &lsc.der)).unwrap();
    std::fs::write(phone.file("lsc.key"), key.to_pem().as_bytes()).unwrap();

    let r = lab.register(&phone, "sip", Security::Encrypted);
    assert_eq!(r.code, 1, "{}", r.all());
    let reg = lab.last_registration(name);
    assert_eq!(reg["result"], "refused");
    let reason = reg["reason"].as_str().unwrap();
    assert!(reason.starts_with("unknown CA"), "{reg}");
    assert!(reason.contains("expired"), "{reg}");
}

/// `registrations --json` (issue 12): IANA cipher names, as `diagnose pcap` prints them, for
/// TLS 1.3 too (not rustls' `TLS13_` spelling); `null`, not "", for no reason and no first_at.
#[test]
fn registrations_json_names_ciphers_as_iana_and_gives_null_for_absent_values() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000C013";
    lab.add_device(name, "sip", Security::Encrypted);
    let phone = lab.new_phone(name);
    lab.ok(&["device", "set", name, "--operation", "install", "--auth", "null"]);
    assert_eq!(lab.capf(&phone, &["--null-string"]).code, 0);
    let r = lab.register_with(&phone, "sip", Security::Encrypted, &["--tls", "1.3", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["security_token"], "encrypted", "{report}");
    let reg = lab.last_registration(name);
    assert_eq!(reg["tls_version"], "TLSv1.3");
    let cipher = reg["cipher"].as_str().unwrap();
    assert!(cipher.starts_with("TLS_AES_") || cipher.starts_with("TLS_CHACHA20_"), "{reg}");
    assert!(reg["reason"].is_null(), "{reg}");
    assert!(reg["first_at"].is_null() && reg.as_object().unwrap().contains_key("first_at"), "{reg}");
    assert_eq!(reg["protocol_token"], "sip");
}
