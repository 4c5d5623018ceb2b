//! EST (RFC 7030, issue 17) driven by real `curl` and `openssl` as the EST client, and by the
//! phone simulator as a non-Cisco device: `cacerts` read with `openssl pkcs7 -print_certs`,
//! enrolment with a client certificate (a MIC) and with a one-time code, re-enrolment with the
//! issued certificate, the issued certificate registering over SIP TLS, and every refusal a clear
//! HTTP error that issues nothing and spends nothing; `serverkeygen` answers a key openssl reads
//! and the LSC that certifies it.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Lab, Phone, Security};

/// One curl request to the lab's EST service, verifying it against the cluster's tomcat
/// certificate.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

fn curl(lab: &Lab, operation: &str, args: &[&str]) -> Answer {
    let tomcat = lab.path("tomcat.pem");
    if !tomcat.exists() {
        lab.cert_own("tomcat");
    }
    let url = format!("https://{}/.well-known/est/{operation}", lab.addrs().est);
    let headers = lab.path("curl-headers.txt");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(&tomcat)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .arg(&url)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    let headers = std::fs::read_to_string(&headers).unwrap().to_ascii_lowercase();
    Answer { status: code.parse().unwrap(), headers, body: body.to_owned() }
}

/// A POST of `body_file` as `application/pkcs10` (unless `args` names another type).
fn post(lab: &Lab, operation: &str, body_file: &Path, args: &[&str]) -> Answer {
    let data = format!("@{}", body_file.display());
    let mut all = vec!["--data-binary", &data];
    if !args.iter().any(|a| a.starts_with("Content-Type")) {
        all.extend(["-H", "Content-Type: application/pkcs10"]);
    }
    all.extend_from_slice(args);
    curl(lab, operation, &all)
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl req` makes a key (`newkey`: `rsa:2048`, `ec`...) and a request for `cn`; returns the
/// base64 file of the DER request (EST's body) and the key file.
fn openssl_csr(lab: &Lab, name: &str, cn: &str, newkey: &[&str]) -> (PathBuf, PathBuf) {
    let key = lab.path(&format!("{name}.key"));
    let der = lab.path(&format!("{name}.der"));
    let b64 = lab.path(&format!("{name}.b64"));
    let subject = format!("/CN={cn}");
    let mut args = vec!["req", "-new", "-nodes", "-subj", &subject, "-outform", "DER"];
    args.extend_from_slice(newkey);
    args.extend(["-keyout", key.to_str().unwrap(), "-out", der.to_str().unwrap()]);
    openssl(&args);
    openssl(&["base64", "-in", der.to_str().unwrap(), "-out", b64.to_str().unwrap()]);
    (b64, key)
}

/// A certs-only answer read as an administrator would: `openssl base64 -d`, then
/// `openssl pkcs7 -print_certs`; returns the PEM it printed and the file holding it.
fn print_certs(lab: &Lab, name: &str, body: &str) -> (String, PathBuf) {
    let b64 = lab.path(&format!("{name}.p7.b64"));
    let der = lab.path(&format!("{name}.p7.der"));
    let pem = lab.path(&format!("{name}.pem"));
    std::fs::write(&b64, body).unwrap();
    openssl(&["base64", "-d", "-in", b64.to_str().unwrap(), "-out", der.to_str().unwrap()]);
    let printed = openssl(&["pkcs7", "-inform", "DER", "-in", der.to_str().unwrap(), "-print_certs"]);
    std::fs::write(&pem, &printed).unwrap();
    (printed, pem)
}

fn serial_of(pem: &Path) -> String {
    let out = openssl(&["x509", "-in", pem.to_str().unwrap(), "-noout", "-serial"]);
    out.trim().trim_start_matches("serial=").to_ascii_lowercase()
}

fn certs_only(a: &Answer) {
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.headers.contains("content-type: application/pkcs7-mime; smime-type=certs-only"), "{}", a.headers);
    assert!(a.headers.contains("content-transfer-encoding: base64"), "{}", a.headers);
}

fn issued_count(lab: &Lab, name: &str) -> usize {
    lab.json(&["device", "show", name])["issued_certificates"].as_array().map_or(0, Vec::len)
}

#[test]
fn curl_and_openssl_enrol_reenrol_and_the_lsc_registers() {
    let mut lab = Lab::new("cucm-pub.lab");
    lab.trust_manufacturer("CAPF-trust");
    lab.serve();
    let a = lab.sip_phone("SEP00000000E501", Security::Authenticated);

    // cacerts: the CAPF certificate that signs LSCs, read by openssl.
    let answer = curl(&lab, "cacerts", &[]);
    certs_only(&answer);
    let (printed, _) = print_certs(&lab, "cacerts", &answer.body);
    assert!(
        printed.contains(&format!("CN = {}", lab.capf_cn())) || printed.contains(&format!("CN={}", lab.capf_cn())),
        "{printed}"
    );

    // simpleenroll with the phone's MIC as TLS client certificate and a request from openssl req.
    let (csr, key) = openssl_csr(&lab, "a1", "SEP00000000E501", &["-newkey", "rsa:2048"]);
    let mic = a.file("mic.pem");
    let mic_key = a.file("mic.key");
    let tls_client = ["--cert", mic.to_str().unwrap(), "--key", mic_key.to_str().unwrap()];
    let answer = post(&lab, "simpleenroll", &csr, &tls_client);
    certs_only(&answer);
    let (_, first) = print_certs(&lab, "a1-lsc", &answer.body);
    let first_serial = serial_of(&first);
    let shown = lab.json(&["device", "show", "SEP00000000E501"]);
    assert_eq!(shown["lsc"]["serial"].as_str().unwrap().to_ascii_lowercase(), first_serial, "{shown}");
    assert_eq!(shown["lsc"]["issuer_cn"], lab.capf_cn(), "{shown}");
    let issuer = openssl(&["x509", "-in", first.to_str().unwrap(), "-noout", "-issuer", "-subject"]);
    assert!(issuer.contains(&lab.capf_cn()) && issuer.contains("SEP00000000E501"), "{issuer}");

    // simplereenroll with the issued certificate and its key; the CA label `lsc` names the same CA.
    let (csr2, _) = openssl_csr(&lab, "a2", "SEP00000000E501", &["-newkey", "rsa:2048"]);
    let renew_with = ["--cert", first.to_str().unwrap(), "--key", key.to_str().unwrap()];
    let answer = post(&lab, "lsc/simplereenroll", &csr2, &renew_with);
    certs_only(&answer);
    let (_, second) = print_certs(&lab, "a2-lsc", &answer.body);
    let second_serial = serial_of(&second);
    assert_ne!(second_serial, first_serial);
    assert_eq!(lab.lsc_serial("SEP00000000E501").unwrap().to_ascii_lowercase(), second_serial);
    // The renewed one is superseded: it renews nothing any more.
    let answer = post(&lab, "simplereenroll", &csr2, &renew_with);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("not the device's current one"), "{}", answer.body);

    // A one-time code, and the phone simulator as a non-Cisco device: it enrols, then registers
    // over SIP TLS with the certificate as its LSC.
    let b = lab.sip_phone("SEP00000000E502", Security::Authenticated);
    let code = lab.json(&["est", "code", "SEP00000000E502"])["code"].as_str().unwrap().to_owned();
    let est = lab.addrs().est.to_string();
    let tomcat = lab.path("tomcat.pem");
    let enrolled = lab.json(&[
        "est",
        "enroll",
        b.dir(),
        "--server",
        &est,
        "--server-cert",
        tomcat.to_str().unwrap(),
        "--code",
        &code,
    ]);
    assert_eq!(enrolled["operation"], "simpleenroll", "{enrolled}");
    assert!(b.has_lsc());
    assert_eq!(lab.lsc_serial("SEP00000000E502").unwrap(), enrolled["serial"].as_str().unwrap());
    let before = b.console_len();
    let r = lab.register(&b, "sip", Security::Authenticated);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(b.console_since(before).contains("cert [LSC]"), "{}", b.console_since(before));
    assert_eq!(lab.last_registration("SEP00000000E502")["result"], "registered");

    // The code was spent by that certificate: used again, it is refused.
    let (csr3, _) = openssl_csr(&lab, "b2", "SEP00000000E502", &["-newkey", "rsa:2048"]);
    let user = format!("SEP00000000E502:{code}");
    let answer = post(&lab, "simpleenroll", &csr3, &["-u", &user]);
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(answer.headers.contains("www-authenticate: basic realm=\"opencapf est\""), "{}", answer.headers);

    // The simulator renews with its EST certificate (simplereenroll, proof of possession on).
    lab.ok(&["settings", "set", "est.pop", "on"]);
    let renewed = lab.json(&[
        "est",
        "enroll",
        b.dir(),
        "--server",
        &est,
        "--server-cert",
        tomcat.to_str().unwrap(),
        "--reenroll",
    ]);
    assert_eq!(renewed["operation"], "simplereenroll", "{renewed}");
    assert_ne!(renewed["serial"], enrolled["serial"]);
    // openssl's request carries no channel binding: refused while est.pop is on.
    let (csr4, _) = openssl_csr(&lab, "a3", "SEP00000000E501", &["-newkey", "rsa:2048"]);
    let answer = post(&lab, "simpleenroll", &csr4, &tls_client);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("est.pop is on"), "{}", answer.body);

    let audit = lab.ok(&["audit", "--limit", "50"]);
    assert!(audit.contains("est.enroll") && audit.contains("est.reenroll") && audit.contains("est.code"), "{audit}");
    assert!(!audit.contains(&code), "the code is never recorded");
}

#[test]
fn refusals_are_clear_http_errors_that_issue_and_spend_nothing() {
    let mut lab = Lab::new("cucm-pub.lab");
    lab.serve();
    const NAME: &str = "SEP00000000E503";
    let phone: Phone = lab.sip_phone(NAME, Security::Authenticated);
    let code = lab.json(&["est", "code", NAME])["code"].as_str().unwrap().to_owned();
    let user = format!("{NAME}:{code}");
    let basic = ["-u", user.as_str()];

    // No credentials at all: 401 asking for Basic.
    let (good, _) = openssl_csr(&lab, "good", NAME, &["-newkey", "rsa:2048"]);
    let answer = post(&lab, "simpleenroll", &good, &[]);
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(answer.headers.contains("www-authenticate: basic"), "{}", answer.headers);

    // A request for another device, with this device's code.
    let (other, _) = openssl_csr(&lab, "other", "SEP00000000E504", &["-newkey", "rsa:2048"]);
    let answer = post(&lab, "simpleenroll", &other, &basic);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("does not name SEP00000000E503"), "{}", answer.body);

    // A key the device's Key Order (RSA Only, 2048) does not take.
    let (ec, _) = openssl_csr(&lab, "ec", NAME, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    let answer = post(&lab, "simpleenroll", &ec, &basic);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("EC P-256") && answer.body.contains("RSA 2048"), "{}", answer.body);

    // Malformed base64, and base64 of something that is no DER request.
    let bad = lab.path("bad.b64");
    std::fs::write(&bad, "this is *not* base64!").unwrap();
    let answer = post(&lab, "simpleenroll", &bad, &basic);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("not base64"), "{}", answer.body);
    std::fs::write(&bad, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n").unwrap();
    let answer = post(&lab, "simpleenroll", &bad, &basic);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("certification request"), "{}", answer.body);

    // A body past the size limit, and a body of another type.
    let big = lab.path("big.b64");
    std::fs::write(&big, "A".repeat(40 * 1024)).unwrap();
    let answer = post(&lab, "simpleenroll", &big, &basic);
    assert_eq!(answer.status, 413, "{}", answer.body);
    let answer = post(&lab, "simpleenroll", &good, &["-H", "Content-Type: application/json", "-u", &user]);
    assert_eq!(answer.status, 415, "{}", answer.body);

    // A client certificate no store trusts (the lab manufacturer is in none here).
    let mic = phone.file("mic.pem");
    let mic_key = phone.file("mic.key");
    let tls_client = ["--cert", mic.to_str().unwrap(), "--key", mic_key.to_str().unwrap()];
    let answer = post(&lab, "simpleenroll", &good, &tls_client);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("is not trusted"), "{}", answer.body);

    // Nothing issued, and nothing lost: the code still works once, then never again.
    assert_eq!(lab.lsc_serial(NAME), None);
    assert_eq!(issued_count(&lab, NAME), 0);
    let answer = post(&lab, "simpleenroll", &good, &basic);
    certs_only(&answer);
    assert!(lab.lsc_serial(NAME).is_some());
    let answer = post(&lab, "simpleenroll", &good, &basic);
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(issued_count(&lab, NAME), 1);

    // EST-trust and manual approval: a maker's certificate waits (202) until `est approve`.
    lab.ok(&["trust", "add", "EST-trust", lab.manufacturer_ca().to_str().unwrap()]);
    assert!(lab.ok(&["trust", "list"]).contains("EST-trust"), "trust list shows EST-trust");
    lab.ok(&["settings", "set", "est.approval", "manual"]);
    let waiting = lab.sip_phone("SEP00000000E505", Security::Authenticated);
    let (csr, _) = openssl_csr(&lab, "w", "SEP00000000E505", &["-newkey", "rsa:2048"]);
    let (mic, mic_key) = (waiting.file("mic.pem"), waiting.file("mic.key"));
    let tls_client = ["--cert", mic.to_str().unwrap(), "--key", mic_key.to_str().unwrap()];
    let answer = post(&lab, "simpleenroll", &csr, &tls_client);
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(answer.headers.contains("retry-after: 300"), "{}", answer.headers);
    assert_eq!(lab.json(&["est", "waiting"])[0]["device"], "SEP00000000E505");
    assert_eq!(lab.lsc_serial("SEP00000000E505"), None);
    lab.ok(&["est", "approve", "SEP00000000E505"]);
    certs_only(&post(&lab, "simpleenroll", &csr, &tls_client));
    assert!(lab.lsc_serial("SEP00000000E505").is_some());
}

/// The two base64 parts of a `serverkeygen` answer (`multipart/mixed`), by Content-Type.
fn multipart_parts(a: &Answer) -> Vec<(String, String)> {
    let content_type = a.headers.lines().find(|l| l.starts_with("content-type:")).expect("a Content-Type");
    assert!(content_type.contains("multipart/mixed; boundary="), "{content_type}");
    // The header was lowercased for matching: the boundary itself is read from the body's first line.
    let delimiter = a.body.lines().next().unwrap().trim_end().to_owned();
    let boundary = delimiter.strip_prefix("--").expect("the body starts with a boundary");
    assert!(content_type.contains(&format!("boundary={}", boundary.to_ascii_lowercase())), "{content_type}");
    let parts: Vec<_> = a.body.split(delimiter.as_str()).collect();
    assert_eq!(parts.first().copied(), Some(""), "the body starts with the first boundary");
    assert_eq!(parts.last().map(|p| p.trim()), Some("--"), "the body ends with the closing boundary");
    parts[1..parts.len() - 1]
        .iter()
        .map(|part| {
            let (head, body) = part.split_once("\r\n\r\n").expect("a part's headers end with an empty line");
            let kind = head.lines().find_map(|l| l.strip_prefix("Content-Type: ")).expect("a part's Content-Type");
            assert!(head.contains("Content-Transfer-Encoding: base64"), "{head}");
            (kind.to_owned(), body.to_owned())
        })
        .collect()
}

#[test]
fn serverkeygen_returns_a_pkcs8_key_and_the_lsc_that_carries_its_public_key() {
    let mut lab = Lab::new("cucm-pub.lab");
    lab.serve();
    const NAME: &str = "SEP00000000E506";
    lab.sip_phone(NAME, Security::Authenticated);
    let code = lab.json(&["est", "code", NAME])["code"].as_str().unwrap().to_owned();
    let user = format!("{NAME}:{code}");

    // The request names the device; its own key is not the one the device will use.
    let (csr, request_key) = openssl_csr(&lab, "kg", NAME, &["-newkey", "rsa:2048"]);
    let answer = post(&lab, "serverkeygen", &csr, &["-u", &user]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let parts = multipart_parts(&answer);
    let kinds: Vec<_> = parts.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["application/pkcs8", "application/pkcs7-mime; smime-type=certs-only"]);

    // The key, read by openssl as an unencrypted PKCS#8 key; the certificate, as certs-only.
    let key_b64 = lab.path("kg-key.b64");
    let key_der = lab.path("kg-key.der");
    std::fs::write(&key_b64, &parts[0].1).unwrap();
    openssl(&["base64", "-d", "-in", key_b64.to_str().unwrap(), "-out", key_der.to_str().unwrap()]);
    let key_public = openssl(&["pkey", "-inform", "DER", "-in", key_der.to_str().unwrap(), "-pubout"]);
    let (_, lsc) = print_certs(&lab, "kg-lsc", &parts[1].1);
    let lsc_public = openssl(&["x509", "-in", lsc.to_str().unwrap(), "-noout", "-pubkey"]);
    assert_eq!(key_public, lsc_public, "the LSC carries the returned key's public key");
    let requested = openssl(&["pkey", "-in", request_key.to_str().unwrap(), "-pubout"]);
    assert_ne!(requested, lsc_public, "the server made the key: the request's own key is not certified");
    let fields = openssl(&["x509", "-in", lsc.to_str().unwrap(), "-noout", "-subject", "-issuer"]);
    assert!(fields.contains(NAME) && fields.contains(&lab.capf_cn()), "{fields}");
    assert_eq!(lab.lsc_serial(NAME).unwrap().to_ascii_lowercase(), serial_of(&lsc));

    // The code was spent: a second key is refused, and only one certificate was issued.
    let answer = post(&lab, "serverkeygen", &csr, &["-u", &user]);
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(issued_count(&lab, NAME), 1);
}
