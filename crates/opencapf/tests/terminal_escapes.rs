//! A certificate whose subject carries terminal escape sequences, presented in a real handshake,
//! in a capture and in a phone's console log, never drives the administrator's terminal: every
//! text output escapes control characters, and `--json` keeps the exact string (issue 9, item 8).

use crate::support;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opencapf_diagnostics::synth::{self, Conversation, Link};
use rcgen::{CertificateParams, DnType, DnValue, KeyPair};
use support::Lab;

/// Clears the screen, rings the bell, sets the window title, a C1 CSI, DEL and a bidi override.
const EVIL_CN: &str = "SEP\x1b[2J\x07\x1b]0;owned\x07\u{9b}31m\x7f\u{202e}AABBCCDDEEFF";

/// Every character of a text output is printable (or a line break).
fn assert_printable(what: &str, out: &str) {
    let bad: Vec<char> = out.chars().filter(|&c| (c.is_control() && c != '\n') || c == '\u{202e}').collect();
    assert!(bad.is_empty(), "{what} printed raw control characters {bad:?}:\n{}", out.escape_debug());
    assert!(!out.as_bytes().contains(&0x1b), "{what}: ESC byte");
}

fn evil_certificate() -> (String, String, Vec<u8>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, DnValue::Utf8String(EVIL_CN.into()));
    params.distinguished_name.push(DnType::OrganizationName, "Evil \x1b[31mCorp");
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

/// `openssl s_client` with the certificate to SIP TLS: CallManager refuses and records it.
fn present_in_a_handshake(lab: &Lab, sip_tls: SocketAddr) {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &sip_tls.to_string(), "-tls1_2", "-cert"])
        .arg(lab.path("evil.pem"))
        .arg("-key")
        .arg(lab.path("evil.key"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let recorded = lab.json(&["registrations"]).as_array().is_some_and(|a| !a.is_empty());
        if recorded || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_subject_with_escape_sequences_is_escaped_in_text_and_exact_in_json() {
    let lab = Lab::start("cucm.lab");
    let (pem, key, der) = evil_certificate();
    std::fs::write(lab.path("evil.pem"), &pem).unwrap();
    std::fs::write(lab.path("evil.key"), key).unwrap();
    let evil = lab.path("evil.pem");
    let evil = evil.to_str().unwrap();

    // A real handshake: the refusal is in `registrations` and `audit`.
    present_in_a_handshake(&lab, lab.addrs().sip_tls);
    let regs = lab.json(&["registrations"]);
    let subject = regs[0]["cert_subject"].as_str().expect("the refused certificate is recorded");
    assert!(subject.contains(EVIL_CN), "JSON keeps the exact subject: {}", subject.escape_debug());
    let registrations = lab.ok(&["registrations"]);
    assert_printable("registrations", &registrations);
    assert!(registrations.contains("SEP\\x1b[2J\\x07"), "the subject is shown, escaped:\n{registrations}");
    // A stranger's refused handshake is not an administrator's action: nothing of it in the audit.
    let audit = lab.ok(&["audit"]);
    assert_printable("audit", &audit);
    assert!(!lab.json(&["audit"]).to_string().contains("\\u001b"), "{audit}");

    // The certificate file.
    let inspect = lab.fail(&["cert", "inspect", evil]).stdout;
    assert_printable("cert inspect", &inspect);
    assert!(inspect.contains("\\x1b[2J"), "{inspect}");
    assert!(lab.json_problem(&["cert", "inspect", evil]).to_string().contains("SEP\\u001b[2J\\u0007"));

    // A capture of the same certificate presented to CallManager.
    let hs = synth::tls12_handshake(&[&der], Some(&[&der]), &[], None, 16384);
    let mut conv = Conversation::new("10.0.0.20:51034".parse().unwrap(), "10.0.0.1:5061".parse().unwrap());
    let packets = synth::tls12_connection(&mut conv, &hs, 1460, false);
    std::fs::write(lab.path("evil.pcap"), synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0)).unwrap();
    let pcap = lab.path("evil.pcap");
    let pcap = pcap.to_str().unwrap();
    let text = lab.fail(&["diagnose", "pcap", pcap]).stdout;
    assert_printable("diagnose pcap", &text);
    assert!(text.contains("\\x1b[2J"), "the capture's subject is shown, escaped:\n{text}");
    assert!(lab.json_problem(&["diagnose", "pcap", pcap]).to_string().contains("\\u001b[2J"));

    // A phone's console log that quotes it.
    let log = format!(
        "4878 INF 15:47:34.756063 SECD: certificate subject name = CN={EVIL_CN}\n\
         4879 WRN 15:47:34.756064 SECD: certificate subject name {EVIL_CN}\n\
         4880 ERR 15:47:34.756065 SECD: \x1b[2J\x1b[8mhidden\n"
    );
    std::fs::write(lab.path("console.log"), log).unwrap();
    let console = lab.path("console.log");
    let console = console.to_str().unwrap();
    let text = lab.ok(&["diagnose", "log", console]);
    assert_printable("diagnose log", &text);
    assert!(text.contains("\\x1b[2J"), "the log's line is shown, escaped:\n{text}");
    assert!(lab.json(&["diagnose", "log", console]).to_string().contains("\\u001b[2J"));
}
