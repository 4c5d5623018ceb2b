//! Real peers against `opencapf serve`: programs that are not ours, from Debian's packages
//! (`openssl`, `baresip`, `tshark`; CI installs them), each driving or reading the real thing.
//!
//! - `openssl s_client` with a phone's LSC and key completes the handshake to the SIP TLS
//!   listener and gets `SIP/2.0 200 OK` for a REGISTER; without a certificate, or with one
//!   CallManager-trust does not back, it sees the alert.
//! - `baresip`, a SIP user agent, registers over TLS with an LSC.
//! - `tshark` decodes a capture of an SCCP registration as skinny RegisterMessage and
//!   RegisterAckMessage with the right device name.

use crate::support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{register_request, s_client, Capture, Lab, Peer, Phone, Security};

/// A device with a secure profile and a phone that got its LSC from CAPF (By Null String).
fn phone_with_lsc(lab: &Lab, name: &str) -> Phone {
    let phone = lab.sip_phone(name, Security::Encrypted);
    lab.schedule(name, "install", "null");
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(phone.has_lsc());
    phone
}

/// The CallManager certificate, as `opencapf cert own callmanager` exports it (the one the
/// phone's ITL names as CCM+TFTP).
fn callmanager_pem(lab: &Lab) -> PathBuf {
    let path = lab.cert_own("callmanager");
    let pem = std::fs::read_to_string(&path).unwrap();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1, "{pem}");
    path
}

/// Seed rule 2 with OpenSSL as the phone: the LSC is accepted and the REGISTER answered; no
/// certificate, or a MIC whose manufacturer is not in CallManager-trust, ends in an alert.
#[test]
fn openssl_s_client_registers_with_an_lsc_and_sees_the_alert_otherwise() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000B001";
    let phone = phone_with_lsc(&lab, name);
    let ca = callmanager_pem(&lab);
    let port = lab.addrs().sip_tls.port();
    let (lsc, key) = (phone.file("lsc.pem"), phone.file("lsc.key"));
    let (lsc, key) = (lsc.to_str().unwrap(), key.to_str().unwrap());
    let register = register_request(name);
    let answered = |o: &str| o.contains("SIP/2.0 ");
    let alert = |o: &str| o.to_ascii_lowercase().contains("alert");

    for version in ["-tls1_3", "-tls1_2"] {
        let out = s_client(port, &ca, &[version, "-cert", lsc, "-key", key], &register, answered);
        assert!(out.contains("SIP/2.0 200 OK"), "{version} with the LSC:\n{out}");
        assert!(out.contains(&format!("Contact: <sip:{name}@127.0.0.1:5555;transport=tls>;expires=600")), "{out}");
    }
    let regs = lab.registrations(name);
    let versions: Vec<&str> = regs.iter().filter_map(|r| r["tls_version"].as_str()).collect();
    assert!(versions.contains(&"TLSv1.3") && versions.contains(&"TLSv1.2"), "{regs:?}");
    assert!(regs.iter().all(|r| r["result"] == "registered" && r["cert_kind"] == "LSC"), "{regs:?}");

    // No certificate: TLS 1.3 says so with certificate_required.
    let out = s_client(port, &ca, &["-tls1_3"], &register, alert);
    assert!(out.contains("alert certificate required"), "no certificate:\n{out}");
    assert!(!out.contains("SIP/2.0"), "{out}");
    let out = s_client(port, &ca, &["-tls1_2"], &register, alert);
    assert!(out.to_ascii_lowercase().contains("alert"), "no certificate, TLS 1.2:\n{out}");

    // The phone's MIC, whose manufacturing CA is not in CallManager-trust: unknown CA.
    let (mic, mic_key) = (phone.file("mic.pem"), phone.file("mic.key"));
    let args = ["-tls1_2", "-cert", mic.to_str().unwrap(), "-key", mic_key.to_str().unwrap()];
    let out = s_client(port, &ca, &args, &register, alert);
    assert!(out.contains("alert unknown ca"), "untrusted MIC:\n{out}");
    assert!(!out.contains("SIP/2.0"), "{out}");
    let last = lab.wait_last_registration(name, |r| r["cert_kind"] == "MIC");
    assert_eq!(last["result"], "refused");
    assert_eq!(last["cert_kind"], "MIC");
    assert!(last["reason"].as_str().unwrap().starts_with("unknown CA"), "{last}");
}

/// A SIP user agent from Debian registers over TLS with a phone's LSC (and unregisters when
/// it quits), as CallManager records it.
#[test]
fn baresip_registers_over_tls_with_an_lsc() {
    let lab = Lab::start("cucm-pub.lab");
    let name = "SEP00000000B002";
    let phone = phone_with_lsc(&lab, name);
    let ca = callmanager_pem(&lab);
    let conf = lab.path("baresip");
    std::fs::create_dir_all(&conf).unwrap();
    // baresip reads the certificate and its key from one PEM file.
    let mut identity = std::fs::read_to_string(phone.file("lsc.pem")).unwrap();
    identity.push_str(&std::fs::read_to_string(phone.file("lsc.key")).unwrap());
    std::fs::write(conf.join("phone.pem"), identity).unwrap();
    std::fs::write(
        conf.join("config"),
        format!(
            "poll_method epoll\nsip_listen 127.0.0.1:0\nsip_certificate {}\nsip_cafile {}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule_tmp account.so\n",
            conf.join("phone.pem").display(),
            ca.display()
        ),
    )
    .unwrap();
    let port = lab.addrs().sip_tls.port();
    std::fs::write(conf.join("accounts"), format!("<sip:{name}@127.0.0.1:{port};transport=tls>;regint=600\n")).unwrap();

    // `-t 4`: quit after four seconds (and unregister).
    let mut cmd = Command::new("baresip");
    cmd.arg("-f").arg(&conf).args(["-t", "4"]);
    let mut peer = Peer::spawn(&mut cmd, "baresip");
    peer.wait_for(Duration::from_secs(20), |_| false);
    let out = peer.stop();
    assert!(out.contains("200 OK (OpenCAPF CallManager)"), "baresip:\n{out}");

    let regs = lab.registrations(name);
    let registered = regs.iter().find(|r| r["result"] == "registered").unwrap_or_else(|| panic!("{regs:?}"));
    assert_eq!(registered["transport"], "TLS");
    assert_eq!(registered["cert_kind"], "LSC");
    assert_eq!(registered["issuer_cn"], lab.capf_cn().as_str());
    let (serial, _) = phone.lsc(&lab).unwrap();
    assert_eq!(registered["serial"], serial.as_str());
    assert_eq!(regs[0]["result"], "unregistered", "baresip unregisters as it quits: {regs:?}");
}

/// Wireshark's skinny dissector reads our SCCP: a capture of `phone register --protocol sccp`
/// on port 2000 decodes as RegisterMessage (0x0001) with the device name and
/// RegisterAckMessage (0x0081), with tshark's own port rules.
#[test]
fn tshark_decodes_an_sccp_registration_on_port_2000() {
    let mut lab = Lab::new("cucm-pub.lab");
    lab.serve_on(&[
        ("--capf-listen", "127.0.0.1:0"),
        ("--sip-tls-listen", "off"),
        ("--sip-tcp-listen", "off"),
        ("--sip-udp-listen", "off"),
        ("--sccp-tls-listen", "off"),
        ("--sccp-tcp-listen", "127.0.0.1:2000"),
    ]);
    let name = "SEP00000000B003";
    lab.add_device(name, "sccp", Security::NonSecure);
    let phone = lab.new_phone(name);
    assert_eq!(lab.addrs().sccp_tcp.port(), 2000);
    let capture = lab.path("sccp.pcapng");

    let tshark = Capture::start("tcp port 2000", capture.clone());
    let r = lab.register(&phone, "sccp", Security::NonSecure);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("RegisterAck"), "{}", r.stdout);
    let out = tshark.stop();

    let decoded = Command::new("tshark")
        .arg("-r")
        .arg(&capture)
        .args(["-Y", "skinny", "-T", "fields"])
        .args(["-e", "skinny.messageId", "-e", "skinny.DeviceName", "-e", "_ws.col.Info"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&decoded.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').map(str::trim).collect()).collect();
    // A segment may carry several messages: their ids come comma-separated.
    let has = |r: &Vec<&str>, id: &str| r[0].split(',').any(|i| i == id);
    let register = rows.iter().find(|r| has(r, "1")).unwrap_or_else(|| {
        panic!(
            "no RegisterMessage:\n{text}\n{}\ntshark (capture) said:\n{out}",
            String::from_utf8_lossy(&decoded.stderr)
        )
    });
    assert_eq!(register[1], name, "{text}");
    assert!(register[2].starts_with("Register"), "{text}");
    let ack = rows.iter().find(|r| has(r, "129")).unwrap_or_else(|| panic!("no RegisterAckMessage:\n{text}"));
    assert!(ack[2].contains("RegisterAck"), "{text}");
    assert!(!rows.iter().any(|r| r[2].contains("Malformed")), "{text}");
}
