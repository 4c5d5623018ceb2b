//! Trust consumers with real peers (issue 16): FreeRADIUS (Debian's `freeradius`, run
//! unprivileged in the foreground on a free loopback port, its configuration a copy of
//! /etc/freeradius/3.0 with the export's files patched in) and `eapol_test` (Debian's
//! `eapoltest`) as the phone doing EAP-TLS with its LSC; the ASA export parsed back and its
//! certificates checked with `openssl verify`.
//!
//! The story: an LSC of the cluster is accepted; another cluster's is refused (unknown CA); a
//! revoked one is refused through the exported CRL; after `capf regenerate` and re-keying, the
//! new LSC is refused until the consumer gets the new bundle, then accepted; `capf rollover
//! status` shows each state, and the old CAPF certificate cannot leave the stores before the
//! consumer is confirmed.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Lab, Phone, Security};

const SECRET: &str = "opencapf-test-secret";
const CONSUMER: &str = "radius-lab";

/// A program the test drives; the test fails (never skips) when it is missing.
fn require(program: &str, package: &str) {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success());
    assert!(found, "{program} is not installed: `apt-get install --no-install-recommends {package}` (as .ci/run does)");
}

/// A device with a secure profile and a phone that got its LSC from CAPF (By Null String).
fn phone_with_lsc(lab: &Lab, name: &str) -> Phone {
    let phone = lab.sip_phone(name, Security::Encrypted);
    lab.schedule(name, "install", "null");
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(phone.has_lsc());
    phone
}

/// A FreeRADIUS configuration folder: Debian's, with a site of our own (EAP only, on `port` of
/// 127.0.0.1), one client (127.0.0.1 with the test secret), no user switch, and the eap
/// module the export wrote. The export's CA file goes to `<dir>/certs/opencapf/`.
struct RadiusConfig {
    dir: PathBuf,
    port: u16,
}

impl RadiusConfig {
    fn new(lab: &Lab) -> RadiusConfig {
        let dir = lab.path("raddb");
        let cp = Command::new("cp").arg("-a").arg("/etc/freeradius/3.0").arg(&dir).status().unwrap();
        assert!(cp.success(), "copying /etc/freeradius/3.0");
        let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        for site in std::fs::read_dir(dir.join("sites-enabled")).unwrap() {
            std::fs::remove_file(site.unwrap().path()).unwrap();
        }
        std::fs::write(
            dir.join("sites-enabled/opencapf-test"),
            format!(
                "server default {{\n\tlisten {{\n\t\ttype = auth\n\t\tipaddr = 127.0.0.1\n\t\tport = {port}\n\t}}\n\
                 \tauthorize {{\n\t\teap {{\n\t\t\tok = return\n\t\t}}\n\t}}\n\
                 \tauthenticate {{\n\t\teap\n\t}}\n\tpost-auth {{\n\t}}\n}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("clients.conf"),
            format!("client lab {{\n\tipaddr = 127.0.0.1\n\tsecret = {SECRET}\n}}\n"),
        )
        .unwrap();
        // Run as whoever runs the test: no switch to the freerad user, who could not read here.
        let conf = std::fs::read_to_string(dir.join("radiusd.conf")).unwrap();
        let conf: String = conf
            .lines()
            .map(|l| {
                let t = l.trim_start();
                if t.starts_with("user =") || t.starts_with("group =") {
                    format!("#{l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(dir.join("radiusd.conf"), conf).unwrap();
        // The RADIUS server's own EAP certificate (its identity, not the phones' CA).
        let ok = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=radius.lab"])
            .arg("-keyout")
            .arg(dir.join("certs/test-server.key"))
            .arg("-out")
            .arg(dir.join("certs/test-server.pem"))
            .output()
            .unwrap();
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        RadiusConfig { dir, port }
    }

    fn export_dir(&self) -> PathBuf {
        self.dir.join("certs/opencapf")
    }

    /// `trust export CAPF-trust --for freeradius --consumer radius-lab` into the folder, and its
    /// eap module as mods-enabled/eap.
    fn export(&self, lab: &Lab) -> Value {
        let out = self.export_dir();
        let cert = self.dir.join("certs/test-server.pem");
        let key = self.dir.join("certs/test-server.key");
        let exported = lab.json(&[
            "trust",
            "export",
            "CAPF-trust",
            "--for",
            "freeradius",
            "--consumer",
            CONSUMER,
            "--out",
            out.to_str().unwrap(),
            "--radius-cert",
            cert.to_str().unwrap(),
            "--radius-key",
            key.to_str().unwrap(),
        ]);
        let eap = self.dir.join("mods-enabled/eap");
        std::fs::remove_file(&eap).unwrap();
        std::fs::copy(out.join("eap"), &eap).unwrap();
        exported
    }

    /// `freeradius -X -d DIR` until it says it is ready (bounded).
    fn start(&self, log: &Path) -> Radius {
        let log_file = std::fs::File::create(log).unwrap();
        let mut child = Command::new("freeradius")
            .arg("-X")
            .arg("-d")
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file.try_clone().unwrap()))
            .spawn()
            .expect("freeradius");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let copy = log.to_path_buf();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(copy).unwrap();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(f, "{line}");
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) if l.contains("Ready to process requests") => break,
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("freeradius did not start:\n{}", std::fs::read_to_string(log).unwrap_or_default());
                }
            }
        }
        Radius { child, port: self.port, log: log.to_path_buf() }
    }
}

/// A running FreeRADIUS, killed when dropped.
struct Radius {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Radius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Radius {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One EAP-TLS attempt by eapol_test with a certificate and key (PEM): whether it ended in
    /// SUCCESS, and what it printed.
    fn eap_tls(&self, lab: &Lab, phone: &Phone) -> (bool, String) {
        let conf = lab.path(&format!("eapol-{}.conf", phone.name));
        std::fs::write(
            &conf,
            format!(
                "network={{\n\tkey_mgmt=IEEE8021X\n\teap=TLS\n\tidentity=\"{}\"\n\tclient_cert=\"{}\"\n\
                 \tprivate_key=\"{}\"\n\teapol_flags=0\n}}\n",
                phone.name,
                phone.file("lsc.pem").display(),
                phone.file("lsc.key").display()
            ),
        )
        .unwrap();
        let out = Command::new("eapol_test")
            .arg("-c")
            .arg(&conf)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-s", SECRET, "-t", "10"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && text.lines().any(|l| l.trim() == "SUCCESS"), text)
    }

    fn accepts(&self, lab: &Lab, phone: &Phone) {
        let (ok, out) = self.eap_tls(lab, phone);
        assert!(
            ok,
            "FreeRADIUS should accept {}'s LSC:\n{}\n--- freeradius:\n{}",
            phone.name,
            tail(&out),
            tail(&self.log())
        );
    }

    /// Refused, with the reason in eapol_test's or FreeRADIUS's words.
    fn refuses(&self, lab: &Lab, phone: &Phone, reason: &str) {
        let before = self.log().len();
        let (ok, out) = self.eap_tls(lab, phone);
        assert!(!ok, "FreeRADIUS should refuse {}'s LSC:\n{}", phone.name, tail(&out));
        // What FreeRADIUS logged of this attempt only.
        let log = self.log()[before..].to_owned();
        assert!(
            out.to_lowercase().contains(reason) || log.to_lowercase().contains(reason),
            "the refusal of {} should say '{reason}':\n{}\n--- freeradius:\n{}",
            phone.name,
            tail(&out),
            tail(&log)
        );
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

fn rollover(lab: &Lab) -> Value {
    lab.json(&["capf", "rollover", "status"])
}

fn consumer_state(status: &Value) -> (bool, bool) {
    let c = status["consumers"].as_array().unwrap().iter().find(|c| c["name"] == CONSUMER).unwrap().clone();
    (c["exported"].as_bool().unwrap(), c["confirmed"].as_bool().unwrap())
}

fn names(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()).collect()
}

#[test]
fn freeradius_judges_lscs_through_the_export_and_the_rollover_waits_for_it() {
    require("freeradius", "freeradius");
    require("eapol_test", "eapoltest");
    let lab = Lab::start("cucm-pub.lab");
    let other = Lab::start("cucm-other.lab");
    let good = phone_with_lsc(&lab, "SEP00000000C101");
    let revoked = phone_with_lsc(&lab, "SEP00000000C102");
    let foreign = phone_with_lsc(&other, "SEP00000000C1F1");
    lab.ok(&["device", "revoke", &revoked.name]);
    let old_capf = lab.capf_cn();

    lab.ok(&["consumer", "add", CONSUMER, "--kind", "freeradius"]);
    let status = rollover(&lab);
    assert_eq!(status["phase"], "none", "{status}");
    assert_eq!(consumer_state(&status), (false, false));

    // The export: the CAPF certificate and its CRL (which lists the revoked LSC), recorded.
    let radius_conf = RadiusConfig::new(&lab);
    let exported = radius_conf.export(&lab);
    assert_eq!(exported["certificates"].as_array().unwrap().len(), 1, "{exported}");
    assert_eq!(exported["crls"][0]["revoked"], 1, "{exported}");
    assert!(exported["recorded"]["id"].is_i64(), "{exported}");
    let ca = std::fs::read_to_string(radius_conf.export_dir().join("capf-ca.pem")).unwrap();
    assert!(ca.contains("BEGIN CERTIFICATE") && ca.contains("BEGIN X509 CRL"), "{ca}");
    assert_eq!(consumer_state(&rollover(&lab)), (true, false));
    lab.ok(&["consumer", "confirm", CONSUMER]);
    assert_eq!(consumer_state(&rollover(&lab)), (true, true));

    let radius = radius_conf.start(&lab.path("freeradius-1.log"));
    radius.accepts(&lab, &good);
    radius.refuses(&lab, &foreign, "unknown ca");
    radius.refuses(&lab, &revoked, "revoked");

    // The rollover: a new CAPF certificate, the phone re-keyed by its old LSC.
    lab.ok(&["capf", "regenerate"]);
    let new_capf = lab.capf_cn();
    let status = rollover(&lab);
    assert_eq!(status["phase"], "in-progress", "{status}");
    assert_eq!(status["active"]["common_name"], new_capf.as_str());
    for key in ["in_callmanager_trust", "in_capf_trust", "in_itl"] {
        assert_eq!(status["active"][key], true, "{key}: {status}");
    }
    assert_eq!(names(&status["still_on_old"]), vec![good.name.clone()]);
    assert_eq!(consumer_state(&status), (false, false), "the consumer lacks the new certificate: {status}");

    lab.give_itl(&good);
    lab.ok(&["capf", "reissue"]);
    let r = lab.capf(&good, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    let (_, issuer) = good.lsc(&lab).unwrap();
    assert!(issuer.contains(&new_capf), "{issuer}");
    let status = rollover(&lab);
    assert_eq!(names(&status["rekeyed"]), vec![good.name.clone()], "{status}");
    assert!(names(&status["still_on_old"]).is_empty(), "{status}");

    // The consumer still runs with the old bundle: the new LSC is an unknown CA there.
    radius.refuses(&lab, &good, "unknown ca");
    let radius_addr = format!("127.0.0.1:{}", radius.port);
    let check = lab.run(&["consumer", "check", CONSUMER, "--radius", &radius_addr, "--secret", SECRET]);
    assert_eq!(check.code, 1, "the live check fails before the new bundle:\n{}", check.all());
    assert!(check.stderr.contains("refused"), "{}", check.all());

    // No phone holds an old LSC any more, but the consumer lacks the new certificate: refused.
    let removal = lab.fail(&["trust", "remove", "CallManager-trust", &old_capf]);
    assert!(removal.stderr.contains(CONSUMER) && removal.stderr.contains("not confirmed"), "{}", removal.stderr);
    let removal_step = |s: &Value| {
        s["retired"][0]["removal"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["store"] == "CallManager-trust")
            .unwrap()
            .clone()
    };
    let blocked = removal_step(&rollover(&lab));
    assert_eq!(blocked["state"], "blocked", "{blocked}");
    assert_eq!(names(&blocked["consumers"]), vec![CONSUMER.to_owned()]);
    assert!(names(&blocked["phones"]).is_empty(), "{blocked}");

    // The new bundle (both CAPF certificates): exported, not yet confirmed, still refused.
    drop(radius);
    let exported = radius_conf.export(&lab);
    assert_eq!(exported["certificates"].as_array().unwrap().len(), 2, "{exported}");
    assert_eq!(consumer_state(&rollover(&lab)), (true, false));
    let removal = lab.fail(&["trust", "remove", "CallManager-trust", &old_capf]);
    assert!(removal.stderr.contains(CONSUMER), "{}", removal.stderr);

    let radius = radius_conf.start(&lab.path("freeradius-2.log"));
    radius.accepts(&lab, &good);
    radius.refuses(&lab, &revoked, "revoked");
    // The live check confirms it.
    let radius_addr = format!("127.0.0.1:{}", radius.port);
    let check = lab.run(&["--json", "consumer", "check", CONSUMER, "--radius", &radius_addr, "--secret", SECRET]);
    assert_eq!(check.code, 0, "{}", check.all());
    let report: Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["accepted"], true, "{report}");
    assert_eq!(report["confirmed"], true, "{report}");
    assert!(report["lsc_issuer"].as_str().unwrap().contains(&new_capf), "{report}");
    let status = rollover(&lab);
    assert_eq!(consumer_state(&status), (true, true), "{status}");
    assert_eq!(removal_step(&status)["state"], "ready", "{status}");

    // Now the old CAPF certificate may leave, without --force.
    lab.ok(&["trust", "remove", "CallManager-trust", &old_capf]);
    lab.ok(&["trust", "remove", "CAPF-trust", &old_capf]);
    assert_eq!(rollover(&lab)["phase"], "none");
    let audit = lab.ok(&["audit", "--limit", "40"]);
    for action in ["consumer.add", "consumer.export", "consumer.confirm", "consumer.check.lsc", "consumer.check.failed"]
    {
        assert!(audit.contains(action), "{action} audited:\n{audit}");
    }
}

/// `--force` overrides the consumer guard, and says so (audited as forced).
#[test]
fn a_forced_removal_before_the_consumer_confirmed_is_audited() {
    let lab = Lab::new("cucm-pub.lab");
    lab.ok(&["consumer", "add", "ise-1", "--kind", "ise"]);
    let old = lab.capf_cn();
    lab.ok(&["capf", "regenerate"]);
    let r = lab.fail(&["trust", "remove", "CAPF-trust", &old]);
    assert!(r.stderr.contains("ise-1"), "{}", r.stderr);
    let r = lab.run(&["trust", "remove", "CAPF-trust", &old, "--force"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("ise-1"), "{}", r.stderr);
    let audit = lab.ok(&["audit", "--limit", "5"]);
    assert!(audit.contains("trust.remove.forced"), "{audit}");
    // Confirming an export that does not exist is refused, and says what to do.
    let r = lab.fail(&["consumer", "confirm", "ise-1"]);
    assert!(r.stderr.contains("trust export"), "{}", r.stderr);
    // Removing the consumer is audited too.
    lab.ok(&["consumer", "remove", "ise-1"]);
    assert!(lab.json(&["consumer", "list"]).as_array().unwrap().is_empty());
    assert!(lab.ok(&["audit", "--limit", "3"]).contains("consumer.remove"));
}

/// The PEM blocks of an export, in order, as DER.
fn pem_blocks(text: &str) -> Vec<Vec<u8>> {
    opencapf_pki::pem::parse_certificates(text.as_bytes()).unwrap()
}

#[test]
fn the_asa_configuration_parses_back_and_its_certificates_verify_an_lsc() {
    let mut lab = Lab::new("cucm-pub.lab");
    lab.serve();
    let phone = phone_with_lsc(&lab, "SEP00000000C201");
    lab.ok(&["capf", "regenerate"]);
    lab.ok(&["consumer", "add", "asa-1", "--kind", "asa"]);
    let file = lab.path("asa.txt");
    lab.ok(&["trust", "export", "CAPF-trust", "--consumer", "asa-1", "--out", file.to_str().unwrap()]);
    let config = std::fs::read_to_string(&file).unwrap();

    // No line an ASA would refuse.
    for line in config.lines() {
        assert!(!line.contains('\t'), "a tab: {line:?}");
        assert!(line.len() <= 512, "{} characters: {line}", line.len());
        assert!(line.is_ascii(), "{line}");
    }
    // Parsed back: every trustpoint is enrolled by terminal, then authenticated with one PEM
    // block ending in quit.
    let capfs = lab.json(&["capf", "show"]);
    let capfs = capfs.as_array().unwrap();
    assert_eq!(capfs.len(), 2);
    let lines: Vec<&str> = config.lines().collect();
    let mut authenticated = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(name) = lines[i].strip_prefix("crypto ca trustpoint ") {
            assert_eq!(lines[i + 1], " enrollment terminal", "{config}");
            let auth = lines[i..].iter().position(|l| l.starts_with("crypto ca authenticate ")).unwrap() + i;
            assert_eq!(lines[auth], format!("crypto ca authenticate {name}"));
            let end = lines[auth..].iter().position(|l| *l == "quit").unwrap() + auth;
            let block = lines[auth + 1..end].join("\n");
            assert!(block.starts_with("-----BEGIN CERTIFICATE-----") && block.ends_with("-----END CERTIFICATE-----"));
            for l in &lines[auth + 2..end - 1] {
                assert!(l.len() <= 64, "a PEM line of {} characters", l.len());
            }
            let der = pem_blocks(&block);
            assert_eq!(der.len(), 1);
            authenticated.push((name.to_owned(), opencapf_pki::fingerprint(&der[0])));
            i = end;
        }
        i += 1;
    }
    let mut expected: Vec<(String, String)> = capfs
        .iter()
        .map(|c| {
            (format!("OPENCAPF-{}", c["common_name"].as_str().unwrap()), c["fingerprint"].as_str().unwrap().to_owned())
        })
        .collect();
    expected.sort();
    authenticated.sort();
    assert_eq!(authenticated, expected, "one trustpoint per CAPF certificate, its PEM that certificate");
    // The certificate map matches phones by CN under each CAPF certificate.
    for c in capfs {
        let cn = c["common_name"].as_str().unwrap();
        assert!(config.contains(&format!(" issuer-name attr cn eq {cn}\n subject-name attr cn co SEP\n")), "{config}");
    }
    assert!(config.contains("crypto ca certificate map OPENCAPF-PHONES 10\n"), "{config}");
    assert!(config.contains("crypto ca certificate map OPENCAPF-PHONES 20\n"), "{config}");

    // The same certificates verify the phone's LSC (from the now retired CAPF certificate).
    let ca = lab.path("asa-cas.pem");
    let pem: String = pem_blocks(&config).iter().map(|d| opencapf_pki::pem::encode("CERTIFICATE", d)).collect();
    std::fs::write(&ca, pem).unwrap();
    let out = Command::new("openssl").args(["verify", "-CAfile"]).arg(&ca).arg(phone.file("lsc.pem")).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // And a certificate of no CAPF (the phone's MIC) does not.
    let out = Command::new("openssl").args(["verify", "-CAfile"]).arg(&ca).arg(phone.file("mic.pem")).output().unwrap();
    assert!(!out.status.success());

    // The export was recorded for the consumer with both fingerprints.
    let shown = lab.json(&["consumer", "show", "asa-1"]);
    let mut recorded: Vec<String> = shown["last_export"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fingerprint"].as_str().unwrap().to_owned())
        .collect();
    recorded.sort();
    let mut prints: Vec<String> = expected.into_iter().map(|(_, f)| f).collect();
    prints.sort();
    assert_eq!(recorded, prints);
    assert_eq!(shown["last_export"]["format"], "asa");

    // An ASA consumer takes no FreeRADIUS export; the ISE folder holds one PEM per certificate.
    let r = lab.fail(&[
        "trust",
        "export",
        "CAPF-trust",
        "--for",
        "freeradius",
        "--consumer",
        "asa-1",
        "--out",
        lab.path("x").to_str().unwrap(),
    ]);
    assert!(r.stderr.contains("asa"), "{}", r.stderr);
    assert!(!lab.path("x").exists(), "a refused export writes nothing");
    let ise = lab.path("ise");
    lab.ok(&["trust", "export", "CAPF-trust", "--for", "ise", "--out", ise.to_str().unwrap()]);
    let index = std::fs::read_to_string(ise.join("certificates.txt")).unwrap();
    for c in capfs {
        let cn = c["common_name"].as_str().unwrap();
        let pem = std::fs::read_to_string(ise.join(format!("{cn}.pem"))).unwrap();
        assert_eq!(opencapf_pki::fingerprint(&pem_blocks(&pem)[0]), c["fingerprint"].as_str().unwrap());
        assert!(index.contains(&format!("Friendly Name:   {cn}")), "{index}");
        assert!(ise.join(format!("{cn}.crl")).is_file());
    }
}
