//! `opencapf diagnose pcap` on captures of OpenCAPF's own services: tshark records the loopback
//! interface while phones run CAPF sessions and register to CallManager with TLS 1.2 and 1.3, on
//! the standard ports so that the services read by port as a TAC engineer's capture would.

mod support;

use support::{Capture, Lab, Phone, Security};

/// The connections of a report to one server port, in order.
fn to_port(report: &serde_json::Value, port: u16) -> Vec<serde_json::Value> {
    report["connections"].as_array().unwrap().iter().filter(|c| c["server_port"] == port).cloned().collect()
}

fn phone_with_lsc(lab: &Lab, name: &str) -> Phone {
    let phone = lab.sip_phone(name, Security::Encrypted);
    lab.schedule(name, "install", "mic");
    let r = lab.capf(&phone, &["--prefer-mic", "--tls", "1.2"]);
    assert_eq!(r.code, 0, "{}", r.all());
    phone
}

#[test]
fn a_capture_of_capf_and_callmanager_sessions_reads_like_a_tac_engineer_would() {
    let mut lab = Lab::new("cucm.lab");
    lab.trust_manufacturer("CAPF-trust");
    lab.serve_on(&[
        ("--capf-listen", "127.0.0.1:3804"),
        ("--sip-tls-listen", "127.0.0.1:5061"),
        ("--sip-tcp-listen", "off"),
        ("--sip-udp-listen", "off"),
        ("--sccp-tls-listen", "off"),
        ("--sccp-tcp-listen", "off"),
    ]);
    let capture = Capture::start("tcp port 3804 or tcp port 5061", lab.path("services.pcapng"));

    // A CAPF session (TLS 1.2): the phone gets its LSC; CAPF asks no client certificate.
    let with_lsc = phone_with_lsc(&lab, "SEP00000000C001");
    // It registers with that LSC over TLS 1.2: the client certificate is in clear.
    let register = |phone: &Phone, security, tls| lab.register_with(phone, "sip", security, &["--tls", tls]);
    let r = register(&with_lsc, Security::Encrypted, "1.2");
    assert_eq!(r.code, 0, "{}", r.all());
    // A phone with no LSC tries its MIC, whose manufacturer is not in CallManager-trust: refused.
    lab.add_device("SEP00000000C002", "sip", Security::Authenticated);
    let mic_only = lab.new_phone("SEP00000000C002");
    assert_eq!(register(&mic_only, Security::Authenticated, "1.2").code, 1);
    // The same LSC phone over TLS 1.3: its certificate travels encrypted.
    let r = register(&with_lsc, Security::Encrypted, "1.3");
    assert_eq!(r.code, 0, "{}", r.all());
    capture.stop();

    let report = lab.json_problem(&["diagnose", "pcap", lab.path("services.pcapng").to_str().unwrap()]);
    assert_eq!(report["cluster_checked"], true);
    let capf_cn = lab.capf_cn();

    let capf = to_port(&report, 3804);
    assert_eq!(capf.len(), 1, "{report}");
    assert_eq!(capf[0]["service"], "capf");
    assert_eq!(capf[0]["version"], "TLS 1.2");
    assert_eq!(capf[0]["client_certificate"], "not-requested", "CAPF proves the phone inside the protocol");
    assert!(capf[0]["server_certificates"][0]["subject"].as_str().unwrap().contains(&capf_cn), "{}", capf[0]);
    assert_eq!(capf[0]["outcome"]["kind"], "completed");

    let sip = to_port(&report, 5061);
    assert_eq!(sip.len(), 3, "{report}");
    // 1. The LSC, issued by this cluster's CAPF, accepted.
    assert_eq!(sip[0]["service"], "sip");
    assert_eq!(sip[0]["client_certificate"], "presented");
    assert_eq!(sip[0]["client_certificate_kind"], "lsc-this-cluster");
    assert_eq!(sip[0]["device"], "SEP00000000C001");
    assert!(sip[0]["client_certificates"][0]["issuer"].as_str().unwrap().contains(&capf_cn));
    assert_eq!(sip[0]["outcome"]["kind"], "completed");
    // 2. The MIC, refused by CallManager with a fatal unknown CA, and why.
    assert_eq!(sip[1]["client_certificate_kind"], "mic");
    assert_eq!(sip[1]["device"], "SEP00000000C002");
    assert_eq!(sip[1]["outcome"]["kind"], "refused");
    let alerts = sip[1]["alerts"].to_string();
    assert!(alerts.contains("server sent fatal unknown_ca"), "{alerts}");
    let verdicts = sip[1]["trust"].to_string();
    assert!(verdicts.contains("OpenCAPF Lab Manufacturing CA"), "{verdicts}");
    // 3. TLS 1.3: the client certificate is hidden, and the report says what to do.
    assert_eq!(sip[2]["version"], "TLS 1.3");
    assert_eq!(sip[2]["client_certificate"], "hidden-by-tls13");
    let notes = sip[2]["notes"].to_string();
    assert!(notes.contains("TLS 1.2") || notes.contains("--keylog"), "{notes}");

    // The text report names the same things for a person.
    let text = lab.fail(&["diagnose", "pcap", lab.path("services.pcapng").to_str().unwrap()]).stdout;
    assert!(text.contains("unknown_ca"), "{text}");
    assert!(text.contains("SEP00000000C001") && text.contains("SEP00000000C002"), "{text}");
}
