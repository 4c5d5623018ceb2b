//! `verify()`: every outcome an administrator can meet when a phone's certificate is checked
//! against CallManager-trust or CAPF-trust, with OpenCAPF's own certificates, certificates built
//! with rcgen or openssl for shapes the profiles never make, and Cisco's real CA certificates.

use std::process::Command;

use ::time::macros::datetime;
use ::time::{Duration, OffsetDateTime};
use opencapf_pki::profiles;
use opencapf_pki::{
    classify, verify, Anchor, CaSigner, CertificateInfo, CertificateKind, IssuedCertificate, KeyAlgorithm, PrivateKey,
    SubjectFields, Verification,
};
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose};
// `cisco`: one of Cisco's real CA certificates, read in place from the shared data.
use opencapf_testkit::{self as testkit, cisco_ca as cisco};
use rustls_pki_types::PrivatePkcs8KeyDer;

/// The moment every certificate of these tests is made, unless a test says otherwise.
const NOW: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

// ---- Helpers -------------------------------------------------------------------------------

/// A CA certificate with its key: a CAPF or a lab manufacturer root.
struct Ca {
    key: PrivateKey,
    cert: IssuedCertificate,
}

impl Ca {
    fn signer(&self) -> CaSigner {
        CaSigner::new(&self.cert.der, &self.key).unwrap()
    }
}

fn capf(now: OffsetDateTime) -> Ca {
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let cert = profiles::capf_certificate(&key, &SubjectFields::default(), 1825, now).unwrap();
    Ca { key, cert }
}

fn lab_root(alg: KeyAlgorithm, now: OffsetDateTime) -> Ca {
    let key = PrivateKey::generate(alg).unwrap();
    let cert = profiles::lab_manufacturer_root(&key, now).unwrap();
    Ca { key, cert }
}

fn lsc(capf: &Ca, name: &str, now: OffsetDateTime) -> IssuedCertificate {
    testkit::lsc(&capf.signer(), name, testkit::phone_key().public_key_der(), 365, now)
}

fn mic(root: &Ca, name: &str, now: OffsetDateTime) -> IssuedCertificate {
    testkit::mic(&root.signer(), name, testkit::phone_key().public_key_der(), now)
}

/// A store entry with the legacy-SHA-1 policy off (the default) or on.
fn anchor(der: &[u8]) -> Anchor {
    Anchor { der: der.to_vec(), legacy_sha1: false }
}

fn legacy_anchor(der: &[u8]) -> Anchor {
    Anchor { der: der.to_vec(), legacy_sha1: true }
}

/// Verifies a lone certificate (no intermediates), as phones present them.
fn check(cert: &[u8], store: &[Anchor], at: OffsetDateTime) -> Verification {
    verify(&[cert.to_vec()], store, at).unwrap()
}

/// The outcome naming `ca` as the anchor that vouched for the certificate.
fn trusted_by(ca: &CertificateInfo) -> Verification {
    Verification::Trusted { anchor: ca.subject.clone(), anchor_fingerprint: ca.fingerprint.clone() }
}

fn info(der: &[u8]) -> CertificateInfo {
    CertificateInfo::parse(der).unwrap()
}

/// `key` as an rcgen signer.
fn rcgen_key(key: &PrivateKey) -> rcgen::KeyPair {
    let alg = match key.algorithm() {
        KeyAlgorithm::Ec256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ec521 => &rcgen::PKCS_ECDSA_P521_SHA512,
        k if k.is_rsa() => &rcgen::PKCS_RSA_SHA256,
        other => panic!("no rcgen signer for {other} in these tests"),
    };
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(key.pkcs8_der()), alg).unwrap()
}

/// A sound client certificate, valid a year from NOW: the start of every hand-made certificate.
fn client_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = NOW;
    p.not_after = NOW + Duration::days(365);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    p
}

/// Makes the CA parameters of `p` (CA:TRUE, pathlen 0, certificate signing, no EKU).
fn make_ca(p: &mut CertificateParams) {
    p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.extended_key_usages.clear();
}

/// Signs `p` for `subject`'s public key. The issuer name (and key identifier) are read from
/// `issuer_der`; the signature is `issuer_key`'s, whether or not that is the issuer's real key.
fn sign(p: &CertificateParams, subject: &PrivateKey, issuer_der: &[u8], issuer_key: &PrivateKey) -> Vec<u8> {
    let signer = rcgen_key(issuer_key);
    let issuer = Issuer::from_ca_cert_der(&issuer_der.into(), &signer).unwrap();
    let public = rcgen::SubjectPublicKeyInfo::from_der(subject.public_key_der()).unwrap();
    p.signed_by(&public, &issuer).unwrap().der().to_vec()
}

/// A phone certificate made with rcgen directly, for shapes the profiles never make: the sound
/// client certificate of `client_params`, changed by `edit`, for a fresh phone key.
/// The verdict, a day from NOW, on a leaf of this CAPF edited by `edit`.
fn check_edited_leaf(edit: impl FnOnce(&mut CertificateParams)) -> Verification {
    let this_capf = capf(NOW);
    let leaf = custom_leaf(&this_capf.cert.der, &this_capf.key, edit);
    check(&leaf, &[anchor(&this_capf.cert.der)], NOW + Duration::days(1))
}

fn custom_leaf(issuer_der: &[u8], issuer_key: &PrivateKey, edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut p = client_params("SEP0011223344AA");
    edit(&mut p);
    sign(&p, &PrivateKey::generate(KeyAlgorithm::Ec256).unwrap(), issuer_der, issuer_key)
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed (see .ci/run)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A MIC signed with SHA-1 by `root`, made by the openssl command line as an old factory would.
fn sha1_mic_by_openssl(root: &Ca) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("root.key"), root.key.to_pem().as_bytes()).unwrap();
    std::fs::write(path("root.pem"), root.cert.pem()).unwrap();
    std::fs::write(
        path("mic.cnf"),
        "[mic]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = clientAuth\n",
    )
    .unwrap();
    #[rustfmt::skip]
    openssl(&["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", &path("phone.key"),
        "-subj", "/O=OpenCAPF Lab Manufacturing/CN=CP-7975-SEP0011223344AA", "-out", &path("phone.csr")]);
    #[rustfmt::skip]
    openssl(&["x509", "-req", "-in", &path("phone.csr"), "-CA", &path("root.pem"), "-CAkey", &path("root.key"),
        "-set_serial", "0x5eed5eed01", "-sha1", "-days", "3650", "-extfile", &path("mic.cnf"), "-extensions", "mic",
        "-out", &path("mic.pem")]);
    let mut certs = opencapf_pki::pem::parse_certificates(&std::fs::read(path("mic.pem")).unwrap()).unwrap();
    certs.remove(0)
}

// ---- Trusted, and by which anchor ----------------------------------------------------------

#[test]
fn each_certificate_is_trusted_by_the_anchor_that_issued_it() {
    let (capf_a, capf_b, root) = (capf(NOW), capf(NOW), lab_root(KeyAlgorithm::Ec256, NOW));
    let store = [anchor(&capf_a.cert.der), anchor(&capf_b.cert.der), anchor(&root.cert.der)];
    let at = NOW + Duration::days(1);

    let by_a = lsc(&capf_a, "SEP0011223344AA", NOW);
    let by_b = lsc(&capf_b, "SEP0011223344BB", NOW);
    let by_root = mic(&root, "SEP0011223344CC", NOW);
    assert_eq!(check(&by_a.der, &store, at), trusted_by(&capf_a.cert.info));
    assert_eq!(check(&by_b.der, &store, at), trusted_by(&capf_b.cert.info));
    assert_eq!(check(&by_root.der, &store, at), trusted_by(&root.cert.info));

    // What an administrator reads.
    let shown = check(&by_a.der, &store, at).to_string();
    assert_eq!(shown, format!("trusted, by anchor {}", capf_a.cert.info.subject));
    assert!(shown.contains("CN=CAPF-"), "{shown}");
}

#[test]
fn a_retired_capf_still_in_the_store_still_verifies_its_lscs() {
    // Seed rule 9: the CAPF was regenerated; phones not yet upgraded keep the old CAPF's LSC.
    let old = capf(NOW - Duration::days(400));
    let old_lsc = lsc(&old, "SEP0011223344AA", NOW - Duration::days(300));
    let new = capf(NOW);
    let at = NOW + Duration::days(1);

    let store = [anchor(&new.cert.der), anchor(&old.cert.der)];
    assert_eq!(check(&old_lsc.der, &store, at), trusted_by(&old.cert.info));

    // Removed too early: that phone's LSC is no longer accepted.
    let store = [anchor(&new.cert.der)];
    assert_eq!(check(&old_lsc.der, &store, at), Verification::UnknownCa { issuer: old.cert.info.subject.clone() });
}

#[test]
fn a_certificate_that_is_itself_an_anchor_is_trusted() {
    let this_capf = capf(NOW);
    let cm_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let cm = profiles::callmanager_certificate(&cm_key, "cucm-pub.example.com", &SubjectFields::default(), 1825, NOW)
        .unwrap();
    let sha2 = cisco("Cisco_Manufacturing_CA_SHA2.pem");
    let store = [anchor(&this_capf.cert.der), anchor(&cm.der), anchor(&sha2)];
    let at = NOW + Duration::days(1);

    assert_eq!(check(&this_capf.cert.der, &store, at), trusted_by(&this_capf.cert.info));
    assert_eq!(check(&cm.der, &store, at), trusted_by(&cm.info));
    // A CA certificate in the store is trusted as it stands, without its own root.
    assert_eq!(check(&sha2, &store, at), trusted_by(&info(&sha2)));
}

#[test]
fn a_chain_with_an_intermediate_is_trusted_by_the_root() {
    // Root -> issuing CA -> phone, the phone presenting both (no pathlen on this root).
    let root_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let mut rp = client_params("Lab Root CA");
    rp.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    rp.extended_key_usages.clear();
    let root = rp.self_signed(&rcgen_key(&root_key)).unwrap().der().to_vec();
    let sub_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let mut sp = client_params("Lab Issuing CA");
    make_ca(&mut sp);
    let sub = sign(&sp, &sub_key, &root, &root_key);
    let phone = custom_leaf(&sub, &sub_key, |_| {});
    let at = NOW + Duration::days(1);

    let outcome = verify(&[phone.clone(), sub.clone()], &[anchor(&root)], at).unwrap();
    assert_eq!(outcome, trusted_by(&info(&root)));
    // Without the issuing CA, the phone's issuer is not in the store.
    let issuer = "CN=Lab Issuing CA".to_owned();
    assert_eq!(check(&phone, &[anchor(&root)], at), Verification::UnknownCa { issuer });
    // An end-entity certificate cannot stand in for the issuing CA.
    let fake = sign(&client_params("Lab Issuing CA"), &sub_key, &root, &root_key);
    let outcome = verify(&[phone.clone(), fake], &[anchor(&root)], at).unwrap();
    assert_eq!(outcome, Verification::Invalid { detail: "a device certificate is used as a CA in the chain".into() });
}

// ---- UnknownCa -----------------------------------------------------------------------------

#[test]
fn an_lsc_from_another_clusters_capf_is_unknown_ca() {
    // Seed rule 5: the phone moved with its old cluster's LSC; the new store lacks that CAPF.
    let old_cluster = capf(NOW);
    let moved = lsc(&old_cluster, "SEP0011223344AA", NOW);
    let this_cluster = capf(NOW);
    let root = lab_root(KeyAlgorithm::Ec256, NOW);
    let store = [anchor(&this_cluster.cert.der), anchor(&root.cert.der)];

    let outcome = check(&moved.der, &store, NOW + Duration::days(1));
    assert_eq!(outcome, Verification::UnknownCa { issuer: old_cluster.cert.info.subject.clone() });
    assert_eq!(
        outcome.to_string(),
        format!("unknown CA: issuer {} is not in the store", old_cluster.cert.info.subject)
    );
}

#[test]
fn a_lab_mic_against_only_ciscos_real_cas_is_unknown_ca() {
    let root = lab_root(KeyAlgorithm::Ec256, NOW);
    let phone_mic = mic(&root, "SEP0011223344AA", NOW);
    let store: Vec<Anchor> = [
        "Cisco_Root_CA_M2.pem",
        "Cisco_Manufacturing_CA_SHA2.pem",
        "Cisco_Root_CA_2048.pem",
        "Cisco_Manufacturing_CA.pem",
        "Cisco_Root_CA_2099.pem",
        "High_Assurance_SUDI_CA.pem",
        "ACT2_SUDI_CA.pem",
    ]
    .into_iter()
    .map(|f| legacy_anchor(&cisco(f)))
    .collect();

    let outcome = check(&phone_mic.der, &store, NOW + Duration::days(1));
    assert_eq!(outcome, Verification::UnknownCa { issuer: root.cert.info.subject.clone() });
}

// ---- Expired, NotYetValid ------------------------------------------------------------------

#[test]
fn a_leaf_after_its_not_after_is_expired() {
    let this_capf = capf(NOW);
    let phone = lsc(&this_capf, "SEP0011223344AA", NOW);
    let store = [anchor(&this_capf.cert.der)];
    let end = phone.info.not_after;

    // The last second is still valid; the next one is not.
    assert_eq!(check(&phone.der, &store, end), trusted_by(&this_capf.cert.info));
    let outcome = check(&phone.der, &store, end + Duration::seconds(1));
    let expected_end = "2027-03-01T09:00:00Z"; // NOW + 365 days
    assert_eq!(outcome, Verification::Expired { subject: phone.info.subject.clone(), not_after: expected_end.into() });
    assert_eq!(outcome.to_string(), format!("expired: CN=SEP0011223344AA ended {expected_end}"));
}

#[test]
fn a_leaf_before_its_not_before_is_not_yet_valid() {
    let root = lab_root(KeyAlgorithm::Ec256, NOW);
    let phone_mic = mic(&root, "SEP0011223344AA", NOW);
    let store = [anchor(&root.cert.der)];

    assert_eq!(check(&phone_mic.der, &store, NOW), trusted_by(&root.cert.info));
    let outcome = check(&phone_mic.der, &store, NOW - Duration::seconds(1));
    assert_eq!(
        outcome,
        Verification::NotYetValid {
            subject: phone_mic.info.subject.clone(),
            not_before: "2026-03-01T09:00:00Z".into()
        }
    );
}

#[test]
fn an_expired_anchor_expires_what_it_vouches_for() {
    // A CAPF certificate of 30 days, and a leaf (not an OpenCAPF LSC: those never outlive their
    // CAPF) that runs a year. Past day 30 the leaf is in its dates, the anchor is not.
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let short = profiles::capf_certificate(&key, &SubjectFields::default(), 30, NOW).unwrap();
    let phone = custom_leaf(&short.der, &key, |_| {});
    assert!(info(&phone).not_after > short.info.not_after);
    let store = [anchor(&short.der)];

    assert_eq!(check(&phone, &store, NOW + Duration::days(29)), trusted_by(&short.info));
    let outcome = check(&phone, &store, NOW + Duration::days(31));
    assert_eq!(
        outcome,
        Verification::Expired { subject: short.info.subject.clone(), not_after: "2026-03-31T09:00:00Z".into() }
    );
}

#[test]
fn an_anchor_not_yet_valid_vouches_for_nothing_yet() {
    // A store entry dated tomorrow (a clock set wrong when the CAPF was regenerated).
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let tomorrow = profiles::capf_certificate(&key, &SubjectFields::default(), 1825, NOW + Duration::days(1)).unwrap();
    let phone = custom_leaf(&tomorrow.der, &key, |_| {});
    let outcome = check(&phone, &[anchor(&tomorrow.der)], NOW + Duration::hours(1));
    assert_eq!(
        outcome,
        Verification::NotYetValid { subject: tomorrow.info.subject.clone(), not_before: "2026-03-02T09:00:00Z".into() }
    );
}

// ---- BadSignature --------------------------------------------------------------------------

#[test]
fn a_mic_checked_against_a_same_named_root_with_another_key_is_bad_signature() {
    // Two lab manufacturer roots: same subject name, different keys.
    let root_a = lab_root(KeyAlgorithm::Ec256, NOW);
    let root_b = lab_root(KeyAlgorithm::Ec256, NOW);
    assert_eq!(root_a.cert.info.subject_der, root_b.cert.info.subject_der);
    let from_a = mic(&root_a, "SEP0011223344AA", NOW);
    let at = NOW + Duration::days(1);

    let outcome = check(&from_a.der, &[anchor(&root_b.cert.der)], at);
    assert_eq!(outcome, Verification::BadSignature { issuer: root_a.cert.info.subject.clone() });
    assert!(outcome
        .to_string()
        .starts_with("bad signature: not signed by the key of CN=OpenCAPF Lab Manufacturing CA"));
    // With both roots in the store, the right one is found whatever the order.
    let both = [anchor(&root_b.cert.der), anchor(&root_a.cert.der)];
    assert_eq!(check(&from_a.der, &both, at), trusted_by(&root_a.cert.info));
}

#[test]
fn a_mic_checked_against_a_same_named_root_with_another_key_type_is_bad_signature() {
    // The lab root was regenerated from RSA to EC under the same name: an RSA key cannot have
    // made the ECDSA signature of the new root's MICs, and the other way round.
    let rsa_root = lab_root(KeyAlgorithm::Rsa2048, NOW);
    let ec_root = lab_root(KeyAlgorithm::Ec256, NOW);
    let from_ec = mic(&ec_root, "SEP0011223344AA", NOW);
    let from_rsa = mic(&rsa_root, "SEP0011223344BB", NOW);
    let at = NOW + Duration::days(1);

    let issuer = ec_root.cert.info.subject.clone();
    assert_eq!(check(&from_ec.der, &[anchor(&rsa_root.cert.der)], at), Verification::BadSignature { issuer });
    let issuer = rsa_root.cert.info.subject.clone();
    assert_eq!(check(&from_rsa.der, &[anchor(&ec_root.cert.der)], at), Verification::BadSignature { issuer });
    let both = [anchor(&rsa_root.cert.der), anchor(&ec_root.cert.der)];
    assert_eq!(check(&from_ec.der, &both, at), trusted_by(&ec_root.cert.info));
    assert_eq!(check(&from_rsa.der, &both, at), trusted_by(&rsa_root.cert.info));
}

#[test]
fn a_ca_certificate_is_checked_against_every_same_named_anchor() {
    // A CA certificate (verified one step up, outside webpki) issued by the EC root, with the
    // RSA root of the same name listed first in the store.
    let rsa_root = lab_root(KeyAlgorithm::Rsa2048, NOW);
    let ec_root = lab_root(KeyAlgorithm::Ec256, NOW);
    let mut p = client_params("Lab Issuing CA");
    make_ca(&mut p);
    let sub_ca = sign(&p, &PrivateKey::generate(KeyAlgorithm::Ec256).unwrap(), &ec_root.cert.der, &ec_root.key);
    let at = NOW + Duration::days(1);

    let both = [anchor(&rsa_root.cert.der), anchor(&ec_root.cert.der)];
    assert_eq!(check(&sub_ca, &both, at), trusted_by(&ec_root.cert.info));
    let issuer = ec_root.cert.info.subject.clone();
    assert_eq!(check(&sub_ca, &[anchor(&rsa_root.cert.der)], at), Verification::BadSignature { issuer });
    let other_ec = lab_root(KeyAlgorithm::Ec256, NOW);
    let issuer = ec_root.cert.info.subject.clone();
    assert_eq!(check(&sub_ca, &[anchor(&other_ec.cert.der)], at), Verification::BadSignature { issuer });

    // The first same-named anchor cannot even check the signature (ECDSA with SHA-512 on a P-256
    // key): the next one is still tried.
    let p521_root = lab_root(KeyAlgorithm::Ec521, NOW);
    let sub_ca_521 = sign(&p, &PrivateKey::generate(KeyAlgorithm::Ec256).unwrap(), &p521_root.cert.der, &p521_root.key);
    let store = [anchor(&ec_root.cert.der), anchor(&p521_root.cert.der)];
    assert_eq!(check(&sub_ca_521, &store, at), trusted_by(&p521_root.cert.info));
}

#[test]
fn a_leaf_forged_under_ciscos_real_manufacturing_ca_is_bad_signature_and_still_a_mic() {
    // Issuer name (and key identifier) copied from the real "Cisco Manufacturing CA SHA2", signed
    // by a key of our own: what a capture would show as a MIC, but Cisco never signed it.
    let real = cisco("Cisco_Manufacturing_CA_SHA2.pem");
    let real_info = info(&real);
    let own_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let forged = custom_leaf(&real, &own_key, |p| {
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, "CP-8861-SEP0011223344AA");
    });
    let forged_info = info(&forged);
    assert_eq!(forged_info.issuer_der, real_info.subject_der, "issuer copied byte for byte");
    assert_eq!(forged_info.issuer, "O=Cisco, CN=Cisco Manufacturing CA SHA2");

    let store = [anchor(&real), anchor(&cisco("Cisco_Root_CA_M2.pem"))];
    let outcome = check(&forged, &store, NOW);
    assert_eq!(outcome, Verification::BadSignature { issuer: "O=Cisco, CN=Cisco Manufacturing CA SHA2".into() });
    assert_eq!(classify(&forged_info, Some(&[])), CertificateKind::Mic);

    // Signed by an EC key instead: still not Cisco's signature.
    let ec_key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let forged_ec = custom_leaf(&real, &ec_key, |_| {});
    let issuer = "O=Cisco, CN=Cisco Manufacturing CA SHA2".to_owned();
    assert_eq!(check(&forged_ec, &store, NOW), Verification::BadSignature { issuer });
}

// ---- WrongKeyUsage -------------------------------------------------------------------------

#[test]
fn a_leaf_for_server_authentication_only_is_wrong_key_usage() {
    let outcome = check_edited_leaf(|p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    });
    let Verification::WrongKeyUsage { detail } = &outcome else { panic!("{outcome:?}") };
    assert!(detail.contains("'serverAuth'") && detail.contains("TLS Web Client Authentication"), "{detail}");
}

#[test]
fn a_leaf_whose_key_usage_lacks_digital_signature_is_wrong_key_usage() {
    let outcome = check_edited_leaf(|p| {
        p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    });
    assert_eq!(
        outcome,
        Verification::WrongKeyUsage { detail: "key usage is 'Key Encipherment', without Digital Signature".into() }
    );
}

// ---- SHA-1 and the legacy policy -----------------------------------------------------------

#[test]
fn ciscos_sha1_manufacturing_ca_needs_the_legacy_policy_on_root_ca_2048() {
    let mfg = cisco("Cisco_Manufacturing_CA.pem");
    let root = cisco("Cisco_Root_CA_2048.pem");
    assert!(info(&mfg).sha1_signed);
    let at = NOW;

    let outcome = check(&mfg, &[anchor(&root)], at);
    assert_eq!(outcome, Verification::LegacySha1Refused { issuer: "O=Cisco Systems, CN=Cisco Root CA 2048".into() });
    assert_eq!(check(&mfg, &[legacy_anchor(&root)], at), trusted_by(&info(&root)));
    assert_eq!(info(&root).subject, "O=Cisco Systems, CN=Cisco Root CA 2048");
    // Cisco Root CA 2048 (and the CA under it) end 2029-05-14.
    let outcome = check(&mfg, &[legacy_anchor(&root)], datetime!(2030-01-01 00:00 UTC));
    assert_eq!(
        outcome,
        Verification::Expired {
            subject: "O=Cisco Systems, CN=Cisco Manufacturing CA".into(),
            not_after: "2029-05-14T20:25:42Z".into()
        }
    );
}

#[test]
fn ciscos_sha2_manufacturing_ca_is_trusted_by_root_ca_m2() {
    let sha2 = cisco("Cisco_Manufacturing_CA_SHA2.pem");
    let m2 = cisco("Cisco_Root_CA_M2.pem");
    let store = [anchor(&cisco("Cisco_Root_CA_2048.pem")), anchor(&m2)];
    assert_eq!(check(&sha2, &store, NOW), trusted_by(&info(&m2)));
    assert_eq!(info(&m2).subject, "O=Cisco, CN=Cisco Root CA M2");
    // Under the wrong root (another name) it is an unknown CA.
    let outcome = check(&sha2, &[anchor(&cisco("Cisco_Root_CA_2099.pem"))], NOW);
    assert_eq!(outcome, Verification::UnknownCa { issuer: "O=Cisco, CN=Cisco Root CA M2".into() });
}

#[test]
fn a_sha1_signed_mic_needs_the_legacy_policy_on_its_root() {
    // openssl stamps its own clock, so this root and `at` follow the real time.
    let now = OffsetDateTime::now_utc() - Duration::days(1);
    let root = lab_root(KeyAlgorithm::Rsa2048, now);
    let old_mic = sha1_mic_by_openssl(&root);
    let old_info = info(&old_mic);
    assert!(old_info.sha1_signed, "{}", old_info.signature_algorithm);
    assert!(!old_info.is_ca);
    let at = old_info.not_before + Duration::hours(1);

    let outcome = check(&old_mic, &[anchor(&root.cert.der)], at);
    assert_eq!(outcome, Verification::LegacySha1Refused { issuer: root.cert.info.subject.clone() });
    assert!(outcome.to_string().contains("legacy-SHA-1 policy is off"), "{outcome}");
    assert_eq!(check(&old_mic, &[legacy_anchor(&root.cert.der)], at), trusted_by(&root.cert.info));

    // The policy belongs to each anchor: another anchor's legacy policy lends nothing.
    let store = [anchor(&root.cert.der), legacy_anchor(&cisco("Cisco_Root_CA_2048.pem"))];
    assert_eq!(check(&old_mic, &store, at), Verification::LegacySha1Refused { issuer: root.cert.info.subject.clone() });
    // And SHA-1 under the legacy policy is still a signature check: a same-named root with
    // another key does not vouch for it.
    let other = lab_root(KeyAlgorithm::Rsa2048, now);
    let outcome = check(&old_mic, &[legacy_anchor(&other.cert.der)], at);
    assert_eq!(outcome, Verification::BadSignature { issuer: root.cert.info.subject.clone() });
}

#[test]
fn sha256_certificates_do_not_need_the_legacy_policy() {
    let this_capf = capf(NOW);
    let phone = lsc(&this_capf, "SEP0011223344AA", NOW);
    assert!(!phone.info.sha1_signed);
    let at = NOW + Duration::days(1);
    assert_eq!(check(&phone.der, &[anchor(&this_capf.cert.der)], at), trusted_by(&this_capf.cert.info));
    assert_eq!(check(&phone.der, &[legacy_anchor(&this_capf.cert.der)], at), trusted_by(&this_capf.cert.info));
}

// ---- Inputs that are not a verification at all ---------------------------------------------

#[test]
fn an_empty_chain_is_an_error_not_an_outcome() {
    let err = verify(&[], &[], NOW).unwrap_err();
    assert_eq!(err.to_string(), "no certificate to verify");
}
