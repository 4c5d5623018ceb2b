//! Real peers against both servers, programs that are not ours from Debian's packages (`curl`,
//! `tftp-hpa`, `tshark`; CI installs them): each fetches or decodes and the bytes must match.

use crate::support;

use std::process::{Command, Output};
use std::time::Duration;

use opencapf_testkit::Peer;
use support::{rrq, Lab, Raw};

fn run(cmd: &mut Command, package: &str) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{:?}: {e} (install the Debian package {package})", cmd.get_program()))
}

fn curl(args: &[&str]) -> Output {
    run(Command::new("curl").args(["-s", "--max-time", "60"]).args(args), "curl")
}

/// `curl tftp://…/NAME` (with `extra` options) into a file; its bytes.
fn curl_tftp(lab: &Lab, name: &str, extra: &[&str]) -> Vec<u8> {
    let out = lab.dir.path().join(format!("curl-{name}"));
    let url = format!("tftp://{}/{name}", lab.tftp_addr);
    let o = curl(&[extra, &["-o", out.to_str().unwrap(), &url]].concat());
    assert!(o.status.success(), "curl {url}: {:?} {}", o.status, String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).unwrap()
}

/// tftp-hpa's client: `tftp -m MODE 127.0.0.1 PORT -c get NAME OUT`; the bytes it wrote.
fn tftp_hpa(lab: &Lab, mode: &str, name: &str) -> Vec<u8> {
    let out = lab.dir.path().join(format!("hpa-{mode}-{name}"));
    let port = lab.tftp_addr.port().to_string();
    let o = run(
        Command::new("timeout").args(["60", "tftp", "-m", mode, "127.0.0.1", &port, "-c", "get", name]).arg(&out),
        "tftp-hpa",
    );
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success() && !said.contains("Error"), "tftp: {:?} {said}", o.status);
    std::fs::read(out).unwrap()
}

#[test]
fn curl_fetches_from_6970_with_cucms_headers() {
    let lab = Lab::start();
    let url = format!("http://{}/ITLFile.tlv", lab.http_addr);
    let o = curl(&[&url]);
    assert!(o.status.success());
    assert_eq!(o.stdout, lab.file("ITLFile.tlv"));

    let o = curl(&["-i", &url]);
    let text = String::from_utf8_lossy(&o.stdout);
    let head = text.split("\r\n\r\n").next().unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    for header in ["Content-Length: 7879", "Cache-Control: no-store", "Content-Type: */*"] {
        assert!(head.lines().any(|l| l.eq_ignore_ascii_case(header)), "no {header} in:\n{head}");
    }

    let status = |name: &str| {
        let o = curl(&["-o", "/dev/null", "-w", "%{http_code}", &format!("http://{}/{name}", lab.http_addr)]);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(status("nothing.xml"), "404");
    assert_eq!(status("CTLSEP001122334455.tlv"), "503", "as CUCM outside mixed mode");
    assert_eq!(status("..%2Fetc%2Fpasswd"), "404");
}

#[test]
fn curl_fetches_over_tftp_with_and_without_blksize() {
    let lab = Lab::start();
    let itl = lab.file("ITLFile.tlv");
    assert_eq!(curl_tftp(&lab, "ITLFile.tlv", &[]), itl);
    assert_eq!(curl_tftp(&lab, "ITLFile.tlv", &["--tftp-blksize", "1024"]), itl);
    assert_eq!(curl_tftp(&lab, "ITLFile.tlv", &["--tftp-no-options"]), itl);
    // A multiple of the block size ends with an empty DATA block.
    assert_eq!(curl_tftp(&lab, "exact1024.bin", &[]), lab.file("exact1024.bin"));
    assert_eq!(curl_tftp(&lab, "exact1024.bin", &["--tftp-blksize", "1024"]), lab.file("exact1024.bin"));
    let o = curl(&[&format!("tftp://{}/nothing.xml", lab.tftp_addr)]);
    assert!(!o.status.success(), "a missing file is an error to curl");
    assert!(lab.idle_within(Duration::from_secs(5)));
}

#[test]
fn block_numbers_wrap_past_65535() {
    let lab = Lab::start();
    let wrap = lab.file("wrap.bin");
    assert!(wrap.len() > 65_535 * 8);
    assert_eq!(curl_tftp(&lab, "wrap.bin", &["--tftp-blksize", "8"]), wrap);
}

#[test]
fn tftp_hpa_gets_the_exact_bytes_in_octet_and_netascii() {
    let lab = Lab::start();
    // tftp-hpa's client has no blksize setting: it asks with no options, 512-byte blocks.
    assert_eq!(tftp_hpa(&lab, "octet", "ITLFile.tlv"), lab.file("ITLFile.tlv"));
    assert_eq!(tftp_hpa(&lab, "octet", "exact1024.bin"), lab.file("exact1024.bin"));
    let xml = lab.file("SEP001122334455.cnf.xml");
    assert_eq!(tftp_hpa(&lab, "netascii", "SEP001122334455.cnf.xml"), xml, "netascii turned back");
}

#[test]
fn netascii_puts_crlf_on_the_wire() {
    let lab = Lab::start();
    let raw = Raw::new();
    raw.send(&rrq("SEP001122334455.cnf.xml", "netascii", &[]), lab.tftp_addr);
    let (packet, _) = raw.recv().expect("DATA 1");
    let opencapf_tftp::Packet::Data { block: 1, data } = packet else { panic!("{packet:?}") };
    assert_eq!(data, b"<device>\r\n<a>1</a>\r\0\r\n\r\0</device>\r\n");
}

#[test]
fn tshark_decodes_a_curl_transfer() {
    let lab = Lab::start();
    let file = lab.dir.path().join("tftp.pcap");
    let mut cmd = Command::new("tshark");
    cmd.args(["-i", "lo", "-f", "udp and host 127.0.0.1", "-w"]).arg(&file);
    let mut tshark = Peer::spawn(&mut cmd, "tshark");
    let live = |o: &str| o.contains("Capture started") || std::fs::metadata(&file).is_ok_and(|m| m.len() > 0);
    assert!(tshark.wait_for(Duration::from_secs(20), live), "{}", tshark.output());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(curl_tftp(&lab, "ITLFile.tlv", &["--tftp-blksize", "1024"]), lab.file("ITLFile.tlv"));
    std::thread::sleep(Duration::from_millis(500));
    let said = tshark.stop();

    let rule = format!("udp.port=={},tftp", lab.tftp_addr.port());
    let o = run(Command::new("tshark").arg("-r").arg(&file).args(["-d", &rule, "-Y", "tftp"]), "tshark");
    let text = String::from_utf8_lossy(&o.stdout);
    for line in ["Read Request", "Option Acknowledgement", "blksize", "Data Packet"] {
        assert!(text.contains(line), "no {line:?} in:\n{text}\ntshark (capture) said:\n{said}");
    }
}
