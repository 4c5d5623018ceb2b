//! The phone folder: creation (key modes), refusing to overwrite, the LSC's atomic replacement
//! and deletion, certificate selection (LSC else MIC, precedence to MIC), the console log's exact
//! shape, and `show`. A phone's trust is its ITL: given at init, or none in factory state.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use opencapf_model::Role;
use opencapf_phone::files::*;
use opencapf_phone::{CertKind, ConsoleLine, InitOptions, Level, MicSource, Phone, PhoneError};
use opencapf_pki::profiles::{self, SubjectFields};
use opencapf_pki::{CertificateInfo, DeviceName, KeyAlgorithm, PrivateKey};
use opencapf_testkit::{self as testkit, Ca};
use regex::Regex;
use time::OffsetDateTime;

const NAME: &str = "SEP2C3124C9F8E1";

struct Lab {
    manufacturer: Ca,
    capf: Ca,
    /// The ITLRecovery that signs the lab's ITL.
    sast: Ca,
}

fn lab() -> Lab {
    let now = OffsetDateTime::now_utc();
    let subject = SubjectFields { organization: Some("Phone Tests".into()), ..Default::default() };
    Lab {
        manufacturer: Ca::lab_manufacturer(KeyAlgorithm::Rsa2048, now),
        capf: Ca::capf(KeyAlgorithm::Ec256, &subject, 365, now),
        sast: Ca::itl_recovery(now),
    }
}

impl Lab {
    fn mic_source(&self) -> MicSource {
        let signer = self.manufacturer.signer();
        MicSource::LabManufacturer { signer: Box::new(signer), key: KeyAlgorithm::Rsa2048 }
    }

    fn init(&self, dir: &Path) -> Phone {
        Phone::init(dir, self.options(self.mic_source())).unwrap()
    }

    fn options(&self, mic: MicSource) -> InitOptions {
        InitOptions {
            device_name: NAME.parse().unwrap(),
            model: "CP-8861".into(),
            mic,
            itl: Some(self.itl()),
            factory: false,
            capf_server: None,
        }
    }

    /// The lab's ITL: its SAST and its CAPF.
    fn itl(&self) -> Vec<u8> {
        testkit::itl(&self.sast, &[(Role::Capf, &self.capf.der)])
    }

    /// An LSC for `key` from this lab's CAPF.
    fn lsc(&self, key: &PrivateKey) -> Vec<u8> {
        testkit::lsc(&self.capf.signer(), NAME, key.public_key_der(), 30, OffsetDateTime::now_utc()).der
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A lab and a phone initialised in `<tmp>/phone`; the folder lives as long as `TempDir`.
fn lab_and_phone() -> (Lab, tempfile::TempDir, PathBuf, Phone) {
    let lab = lab();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("phone");
    let phone = lab.init(&dir);
    (lab, tmp, dir, phone)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn init_makes_the_documented_folder_with_private_keys_0600() {
    let lab = lab();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("phone1");
    let phone = lab.init(&dir);
    let mut expected = [CONSOLE_LOG, ITL, MIC_PEM, MIC_KEY, PHONE_JSON].map(String::from).to_vec();
    expected.sort();
    assert_eq!(names(&dir), expected);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(MIC_KEY)), 0o600);
    // Nothing left behind beside it.
    assert_eq!(names(tmp.path()), ["phone1"]);

    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join(PHONE_JSON)).unwrap()).unwrap();
    assert_eq!(json["device_name"], NAME);
    assert_eq!(json["model"], "CP-8861");
    assert_eq!(json["capf_server"], "127.0.0.1:3804");

    let mic = phone.mic().unwrap();
    assert_eq!(mic.kind, CertKind::Mic);
    assert_eq!(mic.info.subject_cn.as_deref(), Some("CP-8861-SEP2C3124C9F8E1"));
    assert_eq!(mic.info.issuer_cn.as_deref(), Some(profiles::LAB_MFG_CA_CN));
    assert_eq!(mic.key.algorithm(), KeyAlgorithm::Rsa2048);
    assert_eq!(fs::read(dir.join(ITL)).unwrap(), lab.itl(), "the ITL as given");
    assert_eq!(phone.server_certificates(&[Role::Capf]).unwrap(), vec![lab.capf.der.clone()]);
    assert_eq!(phone.server_certificates(&[Role::CcmTftp]).unwrap(), Vec::<Vec<u8>>::new(), "trusted by role");
    assert!(phone.lsc().unwrap().is_none());

    // Opening it again reads the same phone.
    let again = Phone::open(&dir).unwrap();
    assert_eq!(again.config(), phone.config());
}

#[test]
fn init_takes_a_given_mic_and_checks_it() {
    let lab = lab();
    let tmp = tempfile::tempdir().unwrap();
    // A MIC from files, as `opencapf mfg issue` writes them.
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let signer = lab.manufacturer.signer();
    let device: DeviceName = NAME.parse().unwrap();
    let mic =
        profiles::lab_mic(&signer, &device, "CP-7841", "LAB00000001", key.public_key_der(), OffsetDateTime::now_utc())
            .unwrap();
    fs::write(tmp.path().join("mic.pem"), mic.pem()).unwrap();
    fs::write(tmp.path().join("mic.key"), key.to_pem().as_bytes()).unwrap();
    let source = MicSource::Files { cert: tmp.path().join("mic.pem"), key: tmp.path().join("mic.key") };
    let phone = Phone::init(&tmp.path().join("p"), lab.options(source)).unwrap();
    assert_eq!(phone.mic().unwrap().der, mic.der);
    assert_eq!(mode(&tmp.path().join("p").join(MIC_KEY)), 0o600);

    // A key that is not the MIC's is refused, and no folder is left.
    let other = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let source = MicSource::Given { cert_der: mic.der.clone(), key: other };
    let err = Phone::init(&tmp.path().join("q"), lab.options(source)).unwrap_err();
    assert!(matches!(err, PhoneError::Invalid(ref m) if m.contains("does not match")), "{err}");
    assert!(!tmp.path().join("q").exists());

    // A phone with no ITL that is not in factory state would trust nothing: refused.
    let mut opts = lab.options(lab.mic_source());
    opts.itl = None;
    let err = Phone::init(&tmp.path().join("r"), opts).unwrap_err();
    assert!(matches!(err, PhoneError::Invalid(ref m) if m.contains("ITL")), "{err}");
    assert!(!tmp.path().join("r").exists());
}

#[test]
fn init_takes_an_itl_that_verifies_or_none_in_factory_state() {
    let lab = lab();
    let tmp = tempfile::tempdir().unwrap();
    // A factory-state phone holds no ITL and trusts no server yet.
    let mut opts = lab.options(lab.mic_source());
    opts.itl = None;
    opts.factory = true;
    let phone = Phone::init(&tmp.path().join("factory"), opts).unwrap();
    assert!(!phone.has_itl());
    assert!(phone.server_certificates(&[Role::Capf, Role::CcmTftp]).unwrap().is_empty());

    // Factory state and an ITL together are refused.
    let mut opts = lab.options(lab.mic_source());
    opts.factory = true;
    assert!(matches!(Phone::init(&tmp.path().join("both"), opts), Err(PhoneError::Invalid(_))));

    // An ITL whose signature does not verify (one byte of a record changed) is refused.
    let mut itl = lab.itl();
    let last = itl.len() - 1;
    itl[last] ^= 1;
    let mut opts = lab.options(lab.mic_source());
    opts.itl = Some(itl);
    let err = Phone::init(&tmp.path().join("tampered"), opts).unwrap_err();
    assert!(matches!(err, PhoneError::Invalid(ref m) if m.contains("signature")), "{err}");
    // And something that is no ITL at all.
    let mut opts = lab.options(lab.mic_source());
    opts.itl = Some(b"-----BEGIN CERTIFICATE-----".to_vec());
    let err = Phone::init(&tmp.path().join("pem"), opts).unwrap_err();
    assert!(matches!(err, PhoneError::Invalid(ref m) if m.contains("cannot be read")), "{err}");
    assert_eq!(names(tmp.path()), ["factory"], "nothing left of the refused ones");
}

#[test]
fn init_refuses_to_overwrite_but_accepts_an_empty_folder() {
    let (lab, tmp, dir, phone) = lab_and_phone();
    let mic_before = phone.mic().unwrap().der;
    let err = Phone::init(&dir, lab.options(lab.mic_source())).unwrap_err();
    assert!(matches!(err, PhoneError::Exists(_)), "{err}");
    assert_eq!(Phone::open(&dir).unwrap().mic().unwrap().der, mic_before, "the MIC is untouched");

    // Any non-empty folder is refused too.
    let other = tmp.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), "mine").unwrap();
    assert!(matches!(Phone::init(&other, lab.options(lab.mic_source())), Err(PhoneError::Exists(_))));
    assert_eq!(names(&other), ["notes.txt"]);

    // An empty folder is fine.
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    lab.init(&empty);
    assert!(empty.join(PHONE_JSON).is_file());

    // And a folder that is not a phone cannot be opened.
    assert!(matches!(Phone::open(&other), Err(PhoneError::NotAPhone(_))));
}

#[test]
fn lsc_install_replace_and_delete() {
    let (lab, _tmp, dir, phone) = lab_and_phone();
    assert_eq!(phone.would_present(), CertKind::Mic);

    let key1 = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
    let lsc1 = lab.lsc(&key1);
    phone.install_lsc(&lsc1, &key1).unwrap();
    assert_eq!(mode(&dir.join(LSC_KEY)), 0o600);
    assert_eq!(phone.lsc().unwrap().unwrap().der, lsc1);
    assert_eq!(phone.would_present(), CertKind::Lsc);

    // A certificate for another key is refused and the installed LSC stays.
    let stranger = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    assert!(phone.install_lsc(&lsc1, &stranger).is_err());
    assert_eq!(phone.lsc().unwrap().unwrap().der, lsc1);

    // Replacing leaves exactly the new pair and no temporary file.
    let key2 = PrivateKey::generate(KeyAlgorithm::Ec384).unwrap();
    let lsc2 = lab.lsc(&key2);
    phone.install_lsc(&lsc2, &key2).unwrap();
    let now = phone.lsc().unwrap().unwrap();
    assert_eq!(now.der, lsc2);
    assert_eq!(now.key.public_key_der(), key2.public_key_der());
    assert!(names(&dir).iter().all(|n| !n.ends_with(".tmp")), "{:?}", names(&dir));
    assert_eq!(mode(&dir.join(LSC_KEY)), 0o600);

    // Delete, as the settings page does.
    assert!(phone.delete_lsc().unwrap());
    assert!(!dir.join(LSC_PEM).exists());
    assert!(!dir.join(LSC_KEY).exists());
    assert!(phone.lsc().unwrap().is_none());
    assert!(!phone.delete_lsc().unwrap(), "nothing more to delete");
    let lines = phone.console().lines().unwrap();
    assert!(lines.iter().any(|l| l.message.starts_with("SECD: -LSC deleted from the phone's settings")));
    assert!(lines.last().unwrap().message.contains("No LSC to delete"));
    // The MIC is untouched by all of it.
    assert!(dir.join(MIC_PEM).is_file());
}

#[test]
fn a_mismatched_lsc_pair_is_reported_and_a_stray_key_ignored() {
    let (lab, _tmp, dir, phone) = lab_and_phone();
    // A key without its certificate (a crash between the two renames) is no LSC.
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    fs::write(dir.join(LSC_KEY), key.to_pem().as_bytes()).unwrap();
    assert!(phone.lsc().unwrap().is_none());
    // A certificate whose key is another is an error, not silently used.
    let other = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    fs::write(dir.join(LSC_PEM), opencapf_pki::pem::encode("CERTIFICATE", &lab.lsc(&other))).unwrap();
    assert!(matches!(phone.lsc(), Err(PhoneError::Inconsistent(_))));
}

#[test]
fn selection_is_lsc_else_mic_and_prefer_mic_takes_the_mic() {
    let (lab, _tmp, _, phone) = lab_and_phone();

    let chosen = phone.select_certificate("CAPF", false).unwrap();
    assert_eq!(chosen.kind, CertKind::Mic);
    let last = phone.console().lines().unwrap().pop().unwrap();
    assert_eq!(last.level, Level::Warn);
    assert_eq!(last.message, "SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC");

    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    phone.install_lsc(&lab.lsc(&key), &key).unwrap();
    let before = phone.console().lines().unwrap().len();
    let chosen = phone.select_certificate("SIP", false).unwrap();
    assert_eq!(chosen.kind, CertKind::Lsc);
    assert_eq!(chosen.key.public_key_der(), key.public_key_der());
    assert_eq!(phone.console().lines().unwrap().len(), before, "no PXY_NO_LSC with an LSC");

    // By Existing Certificate (Precedence to MIC): the MIC although an LSC exists.
    let chosen = phone.select_certificate("CAPF", true).unwrap();
    assert_eq!(chosen.kind, CertKind::Mic);
    assert_eq!(chosen.der, phone.mic().unwrap().der);
}

#[test]
fn console_log_lines_have_the_phone_shape_and_continue_their_numbering() {
    let (_lab, _tmp, dir, phone) = lab_and_phone();
    let log = phone.console();
    log.no_lsc("CAPF");
    log.cert_cipher("SCCP", "TLSv1", CertKind::Lsc, "AES256-SHA:AES128-SHA");
    log.ssl3_alert("read", "unknown CA");
    log.info("multi\nline");

    let shape = Regex::new(r"^(\d+) (INF|WRN|ERR) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6} (\S.*)$").unwrap();
    let text = fs::read_to_string(dir.join(CONSOLE_LOG)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 5, "{text}");
    let mut seqs = Vec::new();
    for line in &lines {
        let caps = shape.captures(line).unwrap_or_else(|| panic!("bad console line: {line:?}"));
        seqs.push(caps[1].parse::<u64>().unwrap());
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let tail: Vec<String> = lines[lines.len() - 4..]
        .iter()
        .map(|l| {
            let parsed = ConsoleLine::parse(l).unwrap();
            format!("{} {}", parsed.level, parsed.message)
        })
        .collect();
    assert_eq!(
        tail,
        [
            "WRN SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC",
            "INF SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]",
            "ERR SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]",
            "INF multi line",
        ]
    );

    // A later run (another process) goes on from the last number.
    let reopened = Phone::open(&dir).unwrap();
    let next = reopened.console().info("again");
    assert_eq!(next.seq, seqs.last().unwrap() + 1);
}

#[test]
fn summary_names_the_certificate_the_phone_presents() {
    let (lab, _tmp, _, phone) = lab_and_phone();
    let s = phone.summary().unwrap();
    assert_eq!(s.device_name, NAME);
    assert_eq!(s.presents, CertKind::Mic);
    assert!(s.lsc.is_none());
    assert!(s.mic.subject.contains("CN=CP-8861-SEP2C3124C9F8E1"), "{}", s.mic.subject);
    let roles: Vec<&str> = s.itl.iter().map(|e| e.role.as_str()).collect();
    assert_eq!(roles, ["SAST", "CAPF"]);
    assert_eq!(s.itl[1].fingerprint.as_deref(), Some(opencapf_pki::fingerprint(&lab.capf.der).as_str()));
    assert!(!s.mic.expired);

    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let lsc = lab.lsc(&key);
    phone.install_lsc(&lsc, &key).unwrap();
    let s = phone.summary().unwrap();
    assert_eq!(s.presents, CertKind::Lsc);
    let info = CertificateInfo::parse(&lsc).unwrap();
    let shown = s.lsc.unwrap();
    assert_eq!(shown.serial, info.serial);
    assert_eq!(shown.issuer, info.issuer);
    assert_eq!(shown.key, "EC P-256");
    let json = serde_json::to_value(phone.summary().unwrap()).unwrap();
    assert_eq!(json["presents"], "LSC");
    assert!(json["lsc"]["not_after"].as_str().unwrap().ends_with('Z'));
}
