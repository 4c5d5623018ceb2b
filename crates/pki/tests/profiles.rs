//! The certificate profiles, read back with x509-parser and with the openssl command line.

use std::process::Command;

use ::time::{Duration, OffsetDateTime};
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{dns_names, verify_server, Anchor, CaSigner, DeviceName, KeyAlgorithm, PrivateKey, SubjectFields};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::*;

fn cluster_subject() -> SubjectFields {
    SubjectFields {
        organization: Some("Stormin".into()),
        organizational_unit: Some("IST".into()),
        locality: Some("Sydney".into()),
        state: Some("NSW".into()),
        country: Some("AU".into()),
    }
}

fn capf(alg: KeyAlgorithm, now: OffsetDateTime) -> (PrivateKey, opencapf_pki::IssuedCertificate) {
    let key = PrivateKey::generate(alg).unwrap();
    let cert = profiles::capf_certificate(&key, &cluster_subject(), 1825, now).unwrap();
    (key, cert)
}

/// An LSC request with no model and no PID/SN from a MIC: the CN is the bare device name.
fn bare_request<'a>(
    device: &'a DeviceName,
    phone: &'a PrivateKey,
    validity_days: u32,
    now: OffsetDateTime,
) -> LscRequest<'a> {
    LscRequest { device, public_key_der: phone.public_key_der(), model: None, pid_sn: None, validity_days, now }
}

fn ext<'a>(cert: &'a X509Certificate<'a>, oid: &x509_parser::der_parser::Oid) -> &'a X509Extension<'a> {
    cert.extensions().iter().find(|e| &e.oid == oid).expect("extension present")
}

#[test]
fn capf_certificate_is_a_self_signed_ca_named_capf_hex() {
    let now = OffsetDateTime::now_utc();
    for alg in KeyAlgorithm::CAPF {
        let (_, cert) = capf(alg, now);
        let (_, x) = parse_x509_certificate(&cert.der).unwrap();
        let cn = cert.info.subject_cn.clone().unwrap();
        assert!(cn.starts_with("CAPF-") && cn.len() == 13, "{cn}");
        assert!(cn[5..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{cn}");
        assert_eq!(x.subject().to_string(), format!("CN={cn}, O=Stormin, OU=IST, L=Sydney, ST=NSW, C=AU"));
        assert_eq!(x.subject().as_raw(), x.issuer().as_raw(), "self-signed");
        let bc = ext(&x, &x509_parser::oid_registry::OID_X509_EXT_BASIC_CONSTRAINTS);
        assert!(bc.critical);
        match bc.parsed_extension() {
            ParsedExtension::BasicConstraints(b) => {
                assert!(b.ca);
                assert_eq!(b.path_len_constraint, Some(0));
            }
            other => panic!("{other:?}"),
        }
        let ku = ext(&x, &x509_parser::oid_registry::OID_X509_EXT_KEY_USAGE);
        assert!(ku.critical);
        match ku.parsed_extension() {
            ParsedExtension::KeyUsage(k) => {
                assert!(k.key_cert_sign() && k.crl_sign() && k.digital_signature());
            }
            other => panic!("{other:?}"),
        }
        assert!(cert.info.subject_key_id.is_some());
        assert_eq!(x.raw_serial().len(), 16, "128-bit serial");
        assert!(cert.info.signature_algorithm.contains("256") || cert.info.signature_algorithm.contains("384"));
        assert_eq!((cert.info.not_after - cert.info.not_before).whole_days(), 1825);
        let expected_key = alg.to_string();
        assert_eq!(cert.info.key, expected_key);
    }
}

#[test]
fn itl_recovery_is_a_twenty_year_self_signed_rsa_sast_that_is_not_a_ca() {
    let now = OffsetDateTime::now_utc();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let cert =
        profiles::itl_recovery_certificate(&key, "cucm-pub", &cluster_subject(), profiles::ITL_RECOVERY_DAYS, now)
            .unwrap();
    let (_, x) = parse_x509_certificate(&cert.der).unwrap();
    assert_eq!(x.subject().to_string(), "CN=ITLRECOVERY_cucm-pub, O=Stormin, OU=IST, L=Sydney, ST=NSW, C=AU");
    assert_eq!(x.subject().as_raw(), x.issuer().as_raw(), "self-signed");
    assert!(!cert.info.is_ca);
    assert_eq!(cert.info.key_usage, ["Digital Signature"]);
    assert!(cert.info.extended_key_usage.is_empty());
    assert_eq!(cert.info.key, KeyAlgorithm::Rsa2048.to_string());
    assert_eq!((cert.info.not_after - cert.info.not_before).whole_days(), 7300);
    assert_eq!(profiles::ITL_RECOVERY_DAYS, 7300);
    let ec = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    assert!(profiles::itl_recovery_certificate(&ec, "cucm-pub", &cluster_subject(), 7300, now).is_err());
}

#[test]
fn tvs_certificate_is_named_after_the_node_for_tls_servers() {
    let now = OffsetDateTime::now_utc();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let cert =
        profiles::tvs_certificate(&key, "cucm-pub.example.com", &cluster_subject(), profiles::TVS_DEFAULT_DAYS, now)
            .unwrap();
    let (_, x) = parse_x509_certificate(&cert.der).unwrap();
    assert_eq!(x.subject().to_string(), "CN=cucm-pub.example.com, O=Stormin, OU=IST, L=Sydney, ST=NSW, C=AU");
    assert_eq!(x.subject().as_raw(), x.issuer().as_raw(), "self-signed");
    assert!(!cert.info.is_ca);
    assert_eq!(cert.info.extended_key_usage, ["serverAuth"]);
    assert!(cert.info.allows_digital_signature());
    assert_eq!(cert.info.key, KeyAlgorithm::Rsa2048.to_string());
    assert_eq!((cert.info.not_after - cert.info.not_before).whole_days(), 1825);
    let rsa4096 = PrivateKey::generate(KeyAlgorithm::Rsa3072).unwrap();
    assert!(profiles::tvs_certificate(&rsa4096, "cucm-pub", &cluster_subject(), 1825, now).is_err());
    assert!(profiles::tvs_certificate(&key, "", &cluster_subject(), 1825, now).is_err());
}

#[test]
fn tomcat_certificate_serves_the_hostname_and_loopback_and_verifies_as_a_tls_server() {
    let now = OffsetDateTime::now_utc();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let days = profiles::TOMCAT_DEFAULT_DAYS;
    let cert = profiles::tomcat_certificate(&key, "cucm-pub.example.com", &cluster_subject(), days, now).unwrap();
    assert_eq!(cert.info.subject, "CN=cucm-pub.example.com, O=Stormin, OU=IST, L=Sydney, ST=NSW, C=AU");
    assert!(cert.info.self_issued && !cert.info.is_ca);
    assert_eq!(cert.info.extended_key_usage, ["serverAuth", "clientAuth"]);
    assert_eq!(cert.info.key, KeyAlgorithm::Rsa2048.to_string());
    assert_eq!((cert.info.not_after - cert.info.not_before).whole_days(), 1825);
    assert_eq!(dns_names(&cert.der).unwrap(), ["cucm-pub.example.com", "localhost"]);
    let anchor = [Anchor { der: cert.der.clone(), legacy_sha1: false }];
    assert!(verify_server(std::slice::from_ref(&cert.der), &anchor, now).unwrap().is_trusted());
    let later = now + Duration::days(1826);
    assert!(!verify_server(std::slice::from_ref(&cert.der), &anchor, later).unwrap().is_trusted(), "expired");
    let other_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let stranger =
        profiles::tomcat_certificate(&other_key, "cucm-pub.example.com", &cluster_subject(), days, now).unwrap();
    let v = verify_server(std::slice::from_ref(&stranger.der), &anchor, now).unwrap();
    assert!(!v.is_trusted(), "the same name with another key: {v}");

    // An address as hostname is an iPAddress SAN, not a dNSName.
    let by_ip = profiles::tomcat_certificate(&key, "192.0.2.10", &cluster_subject(), days, now).unwrap();
    assert_eq!(dns_names(&by_ip.der).unwrap(), ["localhost"]);
    let ec = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    assert!(profiles::tomcat_certificate(&ec, "cucm-pub", &cluster_subject(), days, now).is_err(), "RSA 2048 only");

    // The request names the hostname only and carries the same key.
    let csr = profiles::tomcat_csr(&key, &cert.der, "cucm-pub.example.com").unwrap();
    assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert!(profiles::tomcat_csr(&other_key, &cert.der, "cucm-pub.example.com").is_err());
}

#[test]
fn lsc_follows_the_profile_for_rsa_and_ec_phone_keys() {
    let now = OffsetDateTime::now_utc();
    let (capf_key, capf_cert) = capf(KeyAlgorithm::Rsa2048, now);
    let signer = CaSigner::new(&capf_cert.der, &capf_key).unwrap();
    let device: DeviceName = "SEPB000B4BA0AEE".parse().unwrap();
    for phone_alg in [KeyAlgorithm::Rsa1024, KeyAlgorithm::Rsa2048, KeyAlgorithm::Ec256, KeyAlgorithm::Ec521] {
        let phone = PrivateKey::generate(phone_alg).unwrap();
        let request = LscRequest {
            pid_sn: Some(("CP-8861".into(), "FCH18198CNQ".into())),
            ..bare_request(&device, &phone, 365, now)
        };
        let lsc = profiles::lsc(&signer, &request).unwrap();
        let (_, x) = parse_x509_certificate(&lsc.der).unwrap();
        assert_eq!(
            x.subject().to_string(),
            "serialNumber=PID:CP-8861 SN:FCH18198CNQ, C=AU, O=Stormin, OU=IST, CN=SEPB000B4BA0AEE"
        );
        assert_eq!(x.issuer().as_raw(), capf_cert.info.subject_der.as_slice(), "issuer = CAPF subject");
        assert_eq!(lsc.info.public_key_der, phone.public_key_der());
        assert_eq!(lsc.info.authority_key_id, capf_cert.info.subject_key_id, "AKI = CAPF SKI");
        assert_eq!(x.raw_serial().len(), 16);
        assert!(lsc.info.signature_algorithm.contains("sha256"), "{}", lsc.info.signature_algorithm);
        let bc = ext(&x, &x509_parser::oid_registry::OID_X509_EXT_BASIC_CONSTRAINTS);
        assert!(bc.critical);
        assert!(!x.is_ca());
        let ku = ext(&x, &x509_parser::oid_registry::OID_X509_EXT_KEY_USAGE);
        assert!(ku.critical);
        let expected_ku =
            if phone_alg.is_rsa() { vec!["Digital Signature", "Key Encipherment"] } else { vec!["Digital Signature"] };
        assert_eq!(lsc.info.key_usage, expected_ku, "{phone_alg}");
        assert_eq!(lsc.info.extended_key_usage, vec!["serverAuth", "clientAuth", "ipsecEndSystem"]);
        assert_eq!(lsc.info.pid.as_deref(), Some("CP-8861"));
        assert_eq!(lsc.info.sn.as_deref(), Some("FCH18198CNQ"));
        let days = (lsc.info.not_after - now).whole_days();
        assert!((364..=365).contains(&days), "{days}");
    }
}

#[test]
fn lsc_of_a_known_model_has_the_layout_of_cucms() {
    // cucm-reference §4: `serialNumber=PID:CP-8861 SN:FCH18198CNQ, C=AU, O=stormin, OU=IST,
    // CN=CP-8861-SEPB000B4BA0AEE`, issued by a CAPF whose subject also has L and ST.
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let (capf_key, capf_cert) = capf(KeyAlgorithm::Rsa2048, now);
    let signer = CaSigner::new(&capf_cert.der, &capf_key).unwrap();
    let device: DeviceName = "SEPB000B4BA0AEE".parse().unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let request = LscRequest {
        device: &device,
        model: Some("CP-8861"),
        public_key_der: phone.public_key_der(),
        pid_sn: Some(("CP-8861".into(), "FCH18198CNQ".into())),
        validity_days: 365,
        now,
    };
    let lsc = profiles::lsc(&signer, &request).unwrap();
    let path = dir.path().join("lsc.pem");
    std::fs::write(&path, lsc.pem()).unwrap();
    let (ok, out) = openssl(&["x509", "-noout", "-subject", "-in", path.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert_eq!(
        out.trim(),
        "subject=serialNumber = PID:CP-8861 SN:FCH18198CNQ, C = AU, O = Stormin, OU = IST, CN = CP-8861-SEPB000B4BA0AEE"
    );
    assert!(opencapf_pki::names_device(&lsc.info, opencapf_pki::CertKind::Lsc, &device));

    // Without a model (or with one that is no product id) the CN is the bare device name.
    for model in [None, Some(""), Some("Third-party SIP Device")] {
        let lsc = profiles::lsc(&signer, &LscRequest { model, pid_sn: None, ..request }).unwrap();
        assert_eq!(lsc.info.subject, "C=AU, O=Stormin, OU=IST, CN=SEPB000B4BA0AEE", "{model:?}");
    }
}

#[test]
fn lsc_never_outlives_its_capf_certificate() {
    let now = OffsetDateTime::now_utc();
    let capf_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let capf_cert = profiles::capf_certificate(&capf_key, &SubjectFields::default(), 30, now).unwrap();
    let signer = CaSigner::new(&capf_cert.der, &capf_key).unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let device: DeviceName = "SEP001122334455".parse().unwrap();
    let lsc = profiles::lsc(&signer, &bare_request(&device, &phone, 1825, now)).unwrap();
    assert_eq!(lsc.info.not_after, capf_cert.info.not_after);
    assert_eq!(lsc.info.subject, "CN=SEP001122334455", "no PID/SN when the MIC gave none");

    let later = now + Duration::days(31);
    let err = profiles::lsc(&signer, &bare_request(&device, &phone, 10, later)).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn a_key_that_does_not_match_the_ca_certificate_is_refused() {
    let now = OffsetDateTime::now_utc();
    let (_, capf_cert) = capf(KeyAlgorithm::Ec256, now);
    let other = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    assert!(CaSigner::new(&capf_cert.der, &other).is_err());
}

#[test]
fn lab_mic_is_shaped_like_a_cisco_mic() {
    let now = OffsetDateTime::now_utc();
    let root_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let root = profiles::lab_manufacturer_root(&root_key, now).unwrap();
    let mfg = CaSigner::new(&root.der, &root_key).unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let device: DeviceName = "SEP2C3124C9F8E1".parse().unwrap();
    let serial = profiles::random_mic_serial();
    let mic = profiles::lab_mic(&mfg, &device, "CP-8861", &serial, phone.public_key_der(), now).unwrap();
    assert_eq!(
        mic.info.subject,
        format!("serialNumber=PID:CP-8861 SN:{serial}, O=OpenCAPF Lab Manufacturing, OU=Lab Phones, CN=CP-8861-SEP2C3124C9F8E1")
    );
    assert_eq!(mic.info.issuer_cn.as_deref(), Some("OpenCAPF Lab Manufacturing CA"));
    assert_eq!((mic.info.not_after - mic.info.not_before).whole_days(), 3650);
    assert_eq!(serial.len(), 11);
    assert!(profiles::lab_mic(&mfg, &device, "CP-8861", "SHORT", phone.public_key_der(), now).is_err());
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed (see .ci/run)");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn openssl_accepts_the_chain_and_reads_the_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let (capf_key, capf_cert) = capf(KeyAlgorithm::Rsa2048, now);
    let signer = CaSigner::new(&capf_cert.der, &capf_key).unwrap();
    let phone = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let device: DeviceName = "SEP2C3124C9F8E1".parse().unwrap();
    let lsc = profiles::lsc(&signer, &bare_request(&device, &phone, 1825, now)).unwrap();
    let cm_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let cm = profiles::callmanager_certificate(&cm_key, "cucm-pub.example.com", &cluster_subject(), 1825, now).unwrap();
    let capf_path = dir.path().join("capf.pem");
    let lsc_path = dir.path().join("lsc.pem");
    let cm_path = dir.path().join("cm.pem");
    std::fs::write(&capf_path, capf_cert.pem()).unwrap();
    std::fs::write(&lsc_path, lsc.pem()).unwrap();
    std::fs::write(&cm_path, cm.pem()).unwrap();
    let p = |p: &std::path::Path| p.to_str().unwrap().to_owned();

    let (ok, out) = openssl(&["verify", "-x509_strict", "-CAfile", &p(&capf_path), &p(&lsc_path)]);
    assert!(ok, "{out}");
    assert!(out.contains(": OK"), "{out}");
    let (ok, out) = openssl(&["verify", "-purpose", "sslclient", "-CAfile", &p(&capf_path), &p(&lsc_path)]);
    assert!(ok, "{out}");
    // The LSC does not chain to the CallManager certificate.
    let (ok, _) = openssl(&["verify", "-CAfile", &p(&cm_path), &p(&lsc_path)]);
    assert!(!ok);

    let (ok, text) = openssl(&["x509", "-in", &p(&capf_path), "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(text.contains("X509v3 Basic Constraints: critical"), "{text}");
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
    assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
    assert!(text.contains("Digital Signature, Certificate Sign, CRL Sign"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");

    let (ok, text) = openssl(&["x509", "-in", &p(&lsc_path), "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(text.contains("Digital Signature, Key Encipherment"), "{text}");
    assert!(text.contains("TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System"), "{text}");
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");

    let (ok, text) = openssl(&["x509", "-in", &p(&cm_path), "-noout", "-subject", "-ext", "extendedKeyUsage"]);
    assert!(ok, "{text}");
    assert!(text.contains("CN=cucm-pub.example.com") || text.contains("CN = cucm-pub.example.com"), "{text}");
    assert!(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"), "{text}");
}
