//! Captures recorded for real: dumpcap, tshark or tcpdump on the loopback interface while
//! `openssl s_server -Verify 1` and `openssl s_client -cert … -key …` do a mutual TLS handshake.
//! TLS 1.2 shows the client certificate (an LSC made by our CAPF profile); TLS 1.3 hides it, and
//! the key log file written by s_client opens it again.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use opencapf_diagnostics::pcap::{self, ClientCertificate, KeyLog, OutcomeKind, PcapOptions, Side};
use opencapf_pki::CertificateKind as CertKind;
use opencapf_pki::{KeyAlgorithm, PrivateKey};

const PHONE: &str = "SEP2C3124C9F8E1";

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until a line of `reader` contains one of `marks` (or `secs` pass).
fn wait_for(reader: impl std::io::Read + Send + 'static, marks: &'static [&'static str], secs: u64) -> bool {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if !sent && marks.iter().any(|m| line.contains(m)) {
                let _ = tx.send(());
                sent = true;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(secs)).is_ok()
}

struct Capture {
    child: Child,
}

impl Capture {
    fn start(tool: &str, file: &Path, filter: &str) -> Capture {
        let mut cmd = Command::new(tool);
        match tool {
            "tcpdump" => cmd.args(["-i", "lo", "-U", "-s", "0", "-w"]).arg(file).arg(filter),
            _ => cmd.args(["-i", "lo", "-f", filter, "-w"]).arg(file),
        };
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let ready = wait_for(child.stderr.take().unwrap(), &["Capturing on", "listening on"], 20);
        assert!(ready, "{tool} did not start capturing on lo");
        std::thread::sleep(Duration::from_millis(300));
        Capture { child }
    }

    fn stop(mut self) {
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        for _ in 0..100 {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let capf = common::capf();
    let phone = opencapf_testkit::phone_key();
    let lsc = opencapf_testkit::lsc(&capf.signer, PHONE, phone.public_key_der(), 30, time::OffsetDateTime::now_utc());
    let server_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let server = opencapf_pki::profiles::callmanager_certificate(
        &server_key,
        "cucm-pub.lab",
        &common::subject(),
        30,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let w = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    w("capf.pem", &opencapf_pki::pem::encode("CERTIFICATE", &capf.der));
    w("lsc.pem", &lsc.pem());
    w("lsc.key", &phone.to_pem());
    w("server.pem", &server.pem());
    w("server.key", &server_key.to_pem());
    Files { dir }
}

/// One mutual handshake: s_server trusting `ca`, s_client presenting the LSC.
fn handshake(f: &Files, port: u16, version: &str, ca: &str, keylog: Option<&str>) {
    let mut server = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-cert", &f.arg("server.pem")])
        .args(["-key", &f.arg("server.key"), "-CAfile", &f.arg(ca), "-Verify", "1", "-verify_return_error"])
        .args([version, "-naccept", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_for(server.stdout.take().unwrap(), &["ACCEPT"], 20), "s_server did not start");
    let mut client = Command::new("openssl");
    client.args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-cert", &f.arg("lsc.pem")]).args([
        "-key",
        &f.arg("lsc.key"),
        "-CAfile",
        &f.arg("server.pem"),
        version,
    ]);
    if let Some(k) = keylog {
        client.args(["-keylogfile", &f.arg(k)]);
    }
    let mut client = client.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let _ = client.stdin.as_mut().unwrap().write_all(b"hello\n");
    std::thread::sleep(Duration::from_millis(800));
    drop(client.stdin.take());
    for _ in 0..100 {
        if client.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = client.kill();
    let _ = client.wait();
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn real_loopback_captures_tls12_shows_the_client_certificate_tls13_hides_it() {
    let Some(tool) = ["dumpcap", "tshark", "tcpdump"].into_iter().find(|t| installed(t)) else {
        println!("SKIPPED: no capture tool (dumpcap, tshark or tcpdump) is installed");
        return;
    };
    assert!(installed("openssl"), "openssl is needed to make the TLS sessions");
    let f = files();
    let ports = [free_port(), free_port(), free_port()];
    let filter = format!("tcp port {} or tcp port {} or tcp port {}", ports[0], ports[1], ports[2]);
    let file = f.path("loopback.pcapng");
    let capture = Capture::start(tool, &file, &filter);
    handshake(&f, ports[0], "-tls1_2", "capf.pem", None);
    handshake(&f, ports[1], "-tls1_3", "capf.pem", Some("keys.log"));
    handshake(&f, ports[2], "-tls1_2", "server.pem", None); // the CAPF is not trusted: refused
    capture.stop();

    let report = pcap::analyze_file(&file, &PcapOptions::default()).unwrap();
    let conn = |port: u16| {
        report
            .connections
            .iter()
            .find(|c| c.server_port == port)
            .unwrap_or_else(|| panic!("no connection to {port} in {}", report.render(10)))
    };
    let tls12 = conn(ports[0]);
    assert_eq!(tls12.version.as_deref(), Some("TLS 1.2"));
    assert_eq!(tls12.client_certificate, ClientCertificate::Presented);
    assert_eq!(tls12.client_certificate_kind, Some(CertKind::Lsc));
    assert_eq!(tls12.device.as_deref(), Some(PHONE));
    assert!(tls12.client_certificates[0].issuer_cn.as_deref().unwrap().starts_with("CAPF-"));
    assert_eq!(tls12.client_certificate_requested, Some(true));
    assert_eq!(tls12.outcome.kind, OutcomeKind::Completed, "{:?}", tls12.outcome);

    let tls13 = conn(ports[1]);
    assert_eq!(tls13.version.as_deref(), Some("TLS 1.3"));
    assert_eq!(tls13.client_certificate, ClientCertificate::HiddenByTls13);
    assert!(tls13.notes.iter().any(|n| n.contains("TLS 1.2") && n.contains("--keylog")));
    assert!(report.findings.iter().any(|x| x.code == "client-certificate-hidden-tls13"));

    let refused = conn(ports[2]);
    assert_eq!(refused.outcome.kind, OutcomeKind::Refused, "{:?}", refused.outcome);
    assert_eq!(refused.outcome.by, Some(Side::Server));
    assert!(refused.alerts.iter().any(|a| a.text == "server sent fatal unknown_ca"), "{:?}", refused.alerts);

    // The key log written by s_client opens the TLS 1.3 handshake.
    let keylog = KeyLog::read(&f.path("keys.log")).unwrap();
    let opts = PcapOptions { keylog: Some(std::sync::Arc::new(keylog)), ..Default::default() };
    let report = pcap::analyze_file(&file, &opts).unwrap();
    let tls13 = report.connections.iter().find(|c| c.server_port == ports[1]).unwrap();
    assert!(tls13.decrypted);
    assert_eq!(tls13.client_certificate, ClientCertificate::Presented);
    assert_eq!(tls13.client_certificate_kind, Some(CertKind::Lsc));
    assert_eq!(tls13.device.as_deref(), Some(PHONE));
    assert_eq!(tls13.outcome.kind, OutcomeKind::Completed);
}
