//! `opencapf diagnose pcap` on captures of OpenCAPF's own services: tshark records the loopback
//! interface while phones run CAPF sessions and register to CallManager with TLS 1.2 and 1.3, on
//! the standard ports so that the services read by port as a TAC engineer's capture would.

use crate::support;

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

/// A 79xx phone's TLS (TLS 1.0, AES128-SHA), between `openssl s_client` and `openssl s_server`
/// with a throw-away certificate: the report names the version and suite and flags them legacy,
/// with the `tls.min_version` remedy.
#[test]
fn a_tls_1_0_cbc_session_is_flagged_legacy() {
    use std::process::Command;
    use std::time::Duration;

    let lab = Lab::new("cucm.lab");
    let (key, cert) = (lab.path("legacy-key.pem"), lab.path("legacy-cert.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=legacy.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // A port the system picks, free again once the probe listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let legacy = ["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"];

    let capture = Capture::start(&format!("tcp port {port}"), lab.path("legacy.pcapng"));
    let mut server = support::Peer::spawn(
        Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-naccept", "1", "-cert"])
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .args(legacy),
        "openssl",
    );
    assert!(server.wait_for(Duration::from_secs(20), |o| o.contains("ACCEPT")), "{}", server.output());
    let client = Command::new("timeout")
        .args(["20", "openssl", "s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(legacy)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&client.stdout);
    assert!(said.contains("Protocol  : TLSv1\n") && said.contains("AES128-SHA"), "{said}");
    server.stop();
    capture.stop();

    let run = lab.run(&["--json", "diagnose", "pcap", lab.path("legacy.pcapng").to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.all()));
    let c = &to_port(&report, port)[0];
    assert_eq!(c["version"], "TLS 1.0", "{c}");
    assert_eq!(c["cipher"], "TLS_RSA_WITH_AES_128_CBC_SHA");
    assert_eq!(c["legacy"], true);
    assert_eq!(c["legacy_reasons"], serde_json::json!(["TLS 1.0", "CBC suite"]));
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "tls-legacy");
    let finding = finding.unwrap_or_else(|| panic!("no tls-legacy finding: {}", report["findings"]));
    assert_eq!(finding["severity"], "warning");
    let title = finding["title"].as_str().unwrap();
    assert!(title.contains("legacy TLS: TLS 1.0, TLS_RSA_WITH_AES_128_CBC_SHA (TLS 1.0, CBC suite)"), "{title}");
    assert!(finding.to_string().contains("settings set tls.min_version"), "{finding}");

    let text = lab.run(&["diagnose", "pcap", lab.path("legacy.pcapng").to_str().unwrap()]).stdout;
    assert!(text.contains("TLS 1.0, cipher TLS_RSA_WITH_AES_128_CBC_SHA [legacy: TLS 1.0, CBC suite]"), "{text}");
}
