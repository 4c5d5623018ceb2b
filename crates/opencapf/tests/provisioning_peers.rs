//! What phones download at boot, fetched and checked by real programs (CI installs them): `curl`
//! over HTTP 6970 and TFTP (with and without `blksize`), tftp-hpa's `tftp`, `xmllint` on every
//! generated XML, and `openssl` verifying the ITL and `.sgn` signatures with the certificates
//! `opencapf cert own --out` exports.

use crate::support;

use std::path::Path;
use std::process::Command;

use opencapf_pki::{Itl, SignedFile};
use support::{Lab, Security};

const DEVICE: &str = "SEP00000000D001";

fn lab() -> Lab {
    let mut lab = Lab::new("cucm.lab");
    lab.add_device(DEVICE, "sip", Security::Encrypted);
    lab.ok(&["device", "line", "add", DEVICE, "2001"]);
    lab.serve();
    lab
}

/// A program that must succeed; its standard output (bytes).
fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn curl_http(lab: &Lab, name: &str) -> Vec<u8> {
    run(Command::new("curl").args(["-sS", "--fail", &format!("http://{}/{name}", lab.addrs().http)]))
}

fn curl_tftp(lab: &Lab, name: &str, extra: &[&str]) -> Vec<u8> {
    run(Command::new("curl").args(["-sS", "--fail"]).args(extra).arg(format!("tftp://{}/{name}", lab.addrs().tftp)))
}

/// tftp-hpa's client, binary mode, into a file.
fn tftp_hpa(lab: &Lab, name: &str, out: &Path) -> std::process::Output {
    let a = lab.addrs().tftp;
    Command::new("tftp")
        .args(["-m", "binary", &a.ip().to_string(), &a.port().to_string(), "-c", "get", name])
        .arg(out)
        .output()
        .expect("tftp (apt install tftp-hpa)")
}

/// `openssl dgst -sha1 -verify` of `signature` over `data` with the public key of `cert_pem`.
fn openssl_verifies(dir: &Path, cert_pem: &Path, data: &[u8], signature: &[u8]) -> String {
    let public = dir.join("public.pem");
    let pem = run(Command::new("openssl").args(["x509", "-pubkey", "-noout", "-in"]).arg(cert_pem));
    std::fs::write(&public, pem).unwrap();
    std::fs::write(dir.join("data.bin"), data).unwrap();
    std::fs::write(dir.join("sig.bin"), signature).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha1", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(dir.join("sig.bin"))
        .arg(dir.join("data.bin"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn xmllint(file: &Path) {
    let out = Command::new("xmllint").arg("--noout").arg(file).output().expect("xmllint (apt install libxml2-utils)");
    assert!(out.status.success(), "xmllint refused {}:\n{}", file.display(), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn curl_and_tftp_hpa_fetch_the_same_files_over_http_and_tftp() {
    let lab = lab();
    for name in ["ITLFile.tlv", &format!("ITL{DEVICE}.tlv"), &format!("{DEVICE}.cnf.xml.sgn")] {
        let http = curl_http(&lab, name);
        assert!(!http.is_empty(), "{name}");
        assert_eq!(curl_tftp(&lab, name, &[]), http, "{name} over TFTP, 512-byte blocks");
        assert_eq!(curl_tftp(&lab, name, &["--tftp-blksize", "1024"]), http, "{name} over TFTP, blksize 1024");
        let out = lab.path("hpa.bin");
        let r = tftp_hpa(&lab, name, &out);
        assert!(r.status.success(), "tftp get {name}: {}", String::from_utf8_lossy(&r.stderr));
        assert_eq!(std::fs::read(&out).unwrap(), http, "{name} with tftp-hpa");
    }
    // CUCM's headers for a found file.
    let head = run(Command::new("curl").args(["-sS", "-i", &format!("http://{}/ITLFile.tlv", lab.addrs().http)]));
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
}

#[test]
fn openssl_verifies_the_itl_with_itlrecovery_and_the_configuration_with_callmanager() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let itl = Itl::parse(&curl_http(&lab, "ITLFile.tlv")).unwrap();
    let recovery = lab.cert_own("itlrecovery");
    let verdict = openssl_verifies(dir.path(), &recovery, &itl.bytes_signed(), &itl.header.signature);
    assert!(verdict.contains("Verified OK"), "{verdict}");

    let sgn = SignedFile::parse(&curl_tftp(&lab, &format!("{DEVICE}.cnf.xml.sgn"), &[])).unwrap();
    let callmanager = lab.cert_own("callmanager");
    let verdict = openssl_verifies(dir.path(), &callmanager, &sgn.bytes_signed(), &sgn.header.signature);
    assert!(verdict.contains("Verified OK"), "{verdict}");
    // Signed by the other one, it would not verify: the check can fail.
    let verdict = openssl_verifies(dir.path(), &recovery, &sgn.bytes_signed(), &sgn.header.signature);
    assert!(verdict.contains("Verification failure"), "{verdict}");

    // Both forms of the configuration are XML libxml2 accepts, and say the same.
    let plain = lab.path("plain.cnf.xml");
    std::fs::write(&plain, curl_http(&lab, &format!("{DEVICE}.cnf.xml"))).unwrap();
    xmllint(&plain);
    let signed = lab.path("signed.cnf.xml");
    std::fs::write(&signed, &sgn.content).unwrap();
    xmllint(&signed);
    assert_eq!(std::fs::read(&plain).unwrap(), sgn.content);
    let xml = String::from_utf8(sgn.content).unwrap();
    assert!(xml.contains("<name>2001</name>"), "{xml}");
    assert!(xml.contains(&format!("<securedSipPort>{}</securedSipPort>", lab.addrs().sip_tls.port())), "{xml}");
    assert!(xml.contains(&format!("<port>{}</port>", lab.addrs().tvs.port())), "{xml}");
}

#[test]
fn an_unknown_device_gets_not_found_and_is_listed_for_the_administrator() {
    let lab = lab();
    let unknown = "SEP0000000D00FF";
    let http = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{}/{unknown}.cnf.xml", lab.addrs().http),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&http.stdout), "404");
    let r = tftp_hpa(&lab, &format!("{unknown}.cnf.xml.sgn"), &lab.path("none.bin"));
    let said = format!("{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    assert!(said.contains("File not found"), "tftp-hpa said: {said}");
    // The CTL of a cluster that is not in mixed mode: 503 over HTTP, as CUCM answers it.
    let ctl = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://{}/CTL{DEVICE}.tlv", lab.addrs().http)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ctl.stdout), "503");

    let asked = lab.json(&["device", "list", "--unknown-requests"]);
    let asked = asked.as_array().unwrap();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["device"], unknown);
    assert_eq!(asked[0]["count"], 2);
    lab.ok(&["device", "add", unknown]);
    assert_eq!(lab.json(&["device", "list", "--unknown-requests"]).as_array().unwrap().len(), 0);
}
