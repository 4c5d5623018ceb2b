//! CAPF and TVS serve legacy phones through the OpenSSL engine once the cluster's `tls.*`
//! settings allow it (`tls.min_version 1.0`, `tls.cbc on`), and refuse them, saying why, when
//! they do not: `gnutls-cli` and `openssl s_client` as TLS 1.0 clients, the simulated CP-7965
//! (TLS 1.0, AES-SHA) beside a modern CP-8861 (TLS 1.3, rustls), and `diagnose pcap` on a capture
//! of the legacy session.

use crate::support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opencapf_tvs::{VerifyRequest, VerifyResponse};
use support::{Capture, Lab, Peer, Phone, Security};

/// A bound on each wait for a peer or the server's log, never a timing assertion.
const WAIT: Duration = Duration::from_secs(30);
/// What a 79xx phone offers: TLS 1.0 only, AES-CBC with SHA-1.
const GNUTLS_TLS10: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.0:+AES-128-CBC:+SHA1";

fn allow_legacy(lab: &Lab) {
    lab.ok(&["settings", "set", "tls.min_version", "1.0"]);
    lab.ok(&["settings", "set", "tls.cbc", "on"]);
}

/// Waits until the server's log holds `what`, at most [`WAIT`].
fn wait_log(lab: &Lab, what: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if lab.server_log().contains(what) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    lab.server_log().contains(what)
}

/// `gnutls-cli` as a 79xx phone to CAPF, until its handshake ends one way or the other and, when
/// it completes, CAPF's first message (AuthRequest: protocol 0x55, command 0x01) has arrived.
fn gnutls_to_capf(lab: &Lab) -> String {
    let port = lab.addrs().capf.port().to_string();
    let mut cmd = Command::new("gnutls-cli");
    cmd.args(["--priority", GNUTLS_TLS10, "--insecure", "-p", &port, "127.0.0.1"]);
    let mut peer = Peer::spawn(&mut cmd, "gnutls-bin");
    let ended = |o: &str| o.contains("U\u{1}") || o.contains("Fatal error") || o.contains("*** Handshake has failed");
    peer.wait_for(WAIT, ended);
    peer.finish()
}

#[test]
fn gnutls_over_tls_1_0_gets_capf_only_when_the_cluster_allows_it() {
    let lab = Lab::start("cucm.lab");

    let refused = gnutls_to_capf(&lab);
    assert!(!refused.contains("Handshake was completed"), "{refused}");
    assert!(refused.contains("alert"), "the client is told by an alert: {refused}");
    assert!(wait_log(&lab, "TLS 1.0 is below the cluster's minimum 1.2"), "{}", lab.server_log());

    allow_legacy(&lab);
    let served = gnutls_to_capf(&lab);
    assert!(served.contains("Handshake was completed"), "{served}");
    assert!(served.contains("(TLS1.0-X.509)-") && served.contains("-CBC)-(SHA1)"), "{served}");
    assert!(served.contains("U\u{1}"), "CAPF's AuthRequest arrives over TLS 1.0: {served:?}");
    // The session's log line names the legacy TLS once the client has gone.
    assert!(wait_log(&lab, "tls=TLSv1 ECDHE-RSA-AES"), "{}", lab.server_log());
    assert!(lab.server_log().contains("-SHA (legacy)"), "{}", lab.server_log());
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl (Debian package openssl)");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A phone folder for `name` of `model` (`phone init --model`).
fn phone_of_model(lab: &Lab, name: &str, model: &str) -> Phone {
    let dir = lab.path(&format!("phone-{name}"));
    lab.ok(&["phone", "init", dir.to_str().unwrap(), "--name", name, "--model", model]);
    Phone { dir, name: name.to_owned() }
}

/// The report's connections to `port`.
fn to_port(report: &serde_json::Value, port: u16) -> Vec<serde_json::Value> {
    report["connections"].as_array().unwrap().iter().filter(|c| c["server_port"] == port).cloned().collect()
}

#[test]
fn a_cp_7965_installs_its_lsc_over_tls_1_0_and_is_refused_at_1_2_while_a_cp_8861_keeps_tls_1_3() {
    let mut lab = Lab::new("cucm.lab");
    lab.trust_manufacturer("CAPF-trust");
    // The CP-7965's MIC comes from the older SHA-1 CA; as a manufacturing CA it enters the store
    // with SHA-1 allowed.
    let added = lab.trust_older_manufacturer("CAPF-trust");
    assert!(added.contains("Added to CAPF-trust: ") && added.contains("Lab Manufacturing CA (SHA-1)"), "{added}");
    let listed = lab.ok(&["trust", "list", "CAPF-trust"]);
    let row = listed.lines().find(|l| l.contains("(SHA-1)")).unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("allowed"), "{listed}");
    lab.serve();
    allow_legacy(&lab);
    let capf_port = lab.addrs().capf.port();

    let old = "SEP000000007965";
    lab.add_device(old, "sccp", Security::Encrypted);
    let phone = phone_of_model(&lab, old, "CP-7965");
    let mic = phone.file("mic.pem");
    let (ok, text) = openssl(&["x509", "-in", mic.to_str().unwrap(), "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(text.contains("Signature Algorithm: sha1WithRSAEncryption") && !text.contains("sha256"), "{text}");
    assert!(text.contains("Issuer: CN = OpenCAPF Lab Manufacturing CA (SHA-1)"), "{text}");
    let ca = lab.path("manufacturer-sha1-ca.pem");
    let (ok, out) = openssl(&["verify", "-auth_level", "0", "-CAfile", ca.to_str().unwrap(), mic.to_str().unwrap()]);
    assert!(ok && out.contains(": OK"), "{out}");
    lab.schedule(old, "install", "mic");
    let capture = Capture::start(&format!("tcp port {capf_port}"), lab.path("legacy.pcapng"));
    let r = lab.capf(&phone, &["--prefer-mic"]);
    capture.stop();
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(lab.capf_status(old), "Upgrade Success");
    assert!(phone.has_lsc());
    let shown = lab.ok(&["device", "show", old]);
    assert!(shown.contains("over TLSv1 AES") && shown.contains("-SHA (legacy)"), "{shown}");
    assert!(phone.console().contains("[TLSv1]"), "{}", phone.console());

    // The capture reads as legacy: TLS 1.0, an AES-SHA suite, flagged.
    let pcap = lab.run(&["--json", "diagnose", "pcap", lab.path("legacy.pcapng").to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(&pcap.stdout).unwrap_or_else(|e| panic!("{e}: {pcap:?}"));
    let capf = to_port(&report, capf_port);
    assert_eq!(capf.len(), 1, "{report}");
    assert_eq!(capf[0]["version"], "TLS 1.0", "{}", capf[0]);
    let cipher = capf[0]["cipher"].as_str().unwrap();
    assert!(cipher.contains("AES") && cipher.contains("CBC_SHA"), "{cipher}");
    assert_eq!(capf[0]["legacy"], true, "{}", capf[0]);
    assert!(report["findings"].to_string().contains("tls-legacy"), "{}", report["findings"]);

    // With TLS 1.2 as the minimum again, its next session is refused and the log says why.
    lab.ok(&["settings", "set", "tls.min_version", "1.2"]);
    lab.schedule(old, "install", "mic");
    let r = lab.capf(&phone, &["--prefer-mic"]);
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("protocol_version") || r.all().contains("protocol version"), "{}", r.all());
    assert!(wait_log(&lab, "TLS 1.0 is below the cluster's minimum 1.2"), "{}", lab.server_log());
    assert_eq!(lab.capf_status(old), "Operation Pending", "nothing happened to the operation");

    // A modern phone still gets TLS 1.3 from rustls on the same port.
    let new = "SEP000000008861";
    lab.add_device(new, "sip", Security::Encrypted);
    let modern = phone_of_model(&lab, new, "CP-8861");
    lab.schedule(new, "install", "mic");
    let r = lab.capf(&modern, &["--prefer-mic"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let shown = lab.ok(&["device", "show", new]);
    assert!(shown.contains("over TLSv1.3 TLS_") && !shown.contains("legacy"), "{shown}");
}

/// `openssl s_client` over TLS 1.0 with AES128-SHA, fed one VerifyRequest: what TVS sent back.
fn s_client_tvs(lab: &Lab, request: &[u8]) -> std::process::Output {
    let addr = lab.addrs().tvs.to_string();
    // `timeout` bounds the peer; -quiet also means -ign_eof: s_client ends when TVS closes.
    let mut child = Command::new("timeout")
        .args(["20", "openssl", "s_client", "-connect", &addr, "-quiet", "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl (Debian package openssl) and timeout (coreutils)");
    let _ = child.stdin.take().unwrap().write_all(request);
    child.wait_with_output().unwrap()
}

#[test]
fn tvs_answers_a_tls_1_0_client_when_legacy_tls_is_on() {
    let lab = Lab::start("cucm.lab");
    let certificate = std::fs::read(lab.manufacturer_ca()).unwrap();
    let der = opencapf_pki::pem::parse_certificates(&certificate).unwrap().remove(0);
    let request =
        VerifyRequest { session: 0x7965, device_name: "SEP000000007965".into(), certificate: der }.encode().unwrap();

    let refused = s_client_tvs(&lab, &request);
    assert!(refused.stdout.is_empty(), "no answer without legacy TLS: {refused:?}");
    assert!(wait_log(&lab, "TVS TLS handshake refused"), "{}", lab.server_log());

    allow_legacy(&lab);
    let served = s_client_tvs(&lab, &request);
    let answer = VerifyResponse::parse(&served.stdout)
        .unwrap_or_else(|e| panic!("{e}: {:02x?} {}", served.stdout, String::from_utf8_lossy(&served.stderr)));
    assert_eq!(answer.session, 0x7965);
}
