//! ITL/CTL `.tlv` and `.sgn` files: the header layouts of capf-protocol.md §5.4 and §5.5, round
//! trips, tampering, hostile input, and the signature checked by the openssl command line.

use std::process::Command;

use opencapf_model::Role;
use opencapf_pki::{
    build_itl, build_sgn, FileHash, FileSigner, Itl, ItlError, KeyAlgorithm, PrivateKey, SignedFile, SignerVersion,
};
use rcgen::{CertificateParams, DistinguishedName, DnType, Issuer, KeyPair, SerialNumber};
use rustls_pki_types::PrivatePkcs8KeyDer;

const TIME: u32 = 0x66D0_0000;

struct Cert {
    key: PrivateKey,
    der: Vec<u8>,
}

impl Cert {
    fn signer(&self) -> FileSigner<'_> {
        FileSigner { certificate: &self.der, key: &self.key }
    }
}

fn params(o: &str, cn: &str, serial: &[u8]) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, o);
    dn.push(DnType::OrganizationalUnitName, o);
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p
}

fn key_pair(key: &PrivateKey) -> KeyPair {
    let alg = match key.algorithm() {
        KeyAlgorithm::Ec256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ec384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => &rcgen::PKCS_RSA_SHA256,
    };
    KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(key.pkcs8_der()), alg).unwrap()
}

/// A self-signed certificate `CN=cn,O=o,OU=o` (subject and issuer alike) with this serial.
fn self_signed(alg: KeyAlgorithm, o: &str, cn: &str, serial: &[u8]) -> Cert {
    let key = PrivateKey::generate(alg).unwrap();
    let der = params(o, cn, serial).self_signed(&key_pair(&key)).unwrap().der().to_vec();
    Cert { key, der }
}

/// A certificate for a key rcgen cannot sign with (RSA-1024, RSA-3072 work too), issued by `ca`.
fn issued(alg: KeyAlgorithm, cn: &str, serial: &[u8], ca: &Cert) -> Cert {
    let key = PrivateKey::generate(alg).unwrap();
    let public = rcgen::SubjectPublicKeyInfo::from_der(key.public_key_der()).unwrap();
    let ca_kp = key_pair(&ca.key);
    let issuer = Issuer::from_ca_cert_der(&ca.der.as_slice().into(), &ca_kp).unwrap();
    let der = params("Lab", cn, serial).signed_by(&public, &issuer).unwrap().der().to_vec();
    Cert { key, der }
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn sast() -> Cert {
    self_signed(KeyAlgorithm::Rsa2048, "SAST", "SAST", &[0x12, 0x34])
}

#[test]
fn itl_header_is_the_skeleton_of_5_4() {
    let sast = sast();
    let file =
        build_itl(&sast.signer(), &[(Role::Sast, &sast.der)], "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, TIME)
            .unwrap();
    let name = "04 0017 434e3d534153542c4f3d534153542c4f553d5341535400";
    let issuer = "06 0017 434e3d534153542c4f3d534153542c4f553d5341535400";
    let before = format!(
        "01 0002 0102 02 0002 0178 1c 0002 0100 03 0039 {name} {issuer} 05 0002 1234 07 000f 08 0001 01 09 0008 0a 0001 00 0b 0001 02"
    );
    assert_eq!(file[..93], hex(&before)[..]);
    assert_eq!(file[93..96], [0x0c, 0x01, 0x00]);
    assert_eq!(file[352..376], hex("0e 000c 49544c46696c652e746c7600 0f 0004 66d00000 0d 0d")[..]);
    // The record starts at the header length: 01 0002 <length>, then the subject (tag 3).
    assert_eq!(file[376..379], [0x01, 0x00, 0x02]);
    assert_eq!(usize::from(u16::from_be_bytes([file[379], file[380]])), file.len() - 376);
    assert_eq!(file[381], 0x03);
    let itl = Itl::parse(&file).unwrap();
    assert_eq!(itl.header.length, 376);
    assert_eq!(itl.records.len(), 1);
    itl.verify_with(&sast.der).unwrap();
}

#[test]
fn sgn_header_is_the_skeleton_of_5_5() {
    let tftp = self_signed(KeyAlgorithm::Rsa2048, "Asterisk", "Asterisk", &[0x01]);
    let content = b"<device><fullConfig>true</fullConfig></device>\n";
    let file = build_sgn(&tftp.signer(), content, "SEP58971ECC97C1.cnf.xml.sgn", FileHash::Sha1, TIME).unwrap();
    let name = format!("{}00", hex::encode("CN=Asterisk,O=Asterisk,OU=Asterisk"));
    let before = format!(
        "01 0002 0100 02 0002 0198 03 0050 04 0023 {name} 06 0023 {name} 05 0001 01 07 000f 08 0001 01 09 0008 0a 0001 00 0b 0001 02"
    );
    let before = hex(&before);
    assert_eq!(file[..before.len()], before[..]);
    let sig = before.len();
    assert_eq!(file[sig..sig + 3], [0x0c, 0x01, 0x00]);
    let after = format!("0e 001c {}00 0f 0004 66d00000", hex::encode("SEP58971ECC97C1.cnf.xml.sgn"));
    assert_eq!(file[sig + 259..408], hex(&after)[..]);
    assert_eq!(file[408..], content[..]);

    let sgn = SignedFile::parse(&file).unwrap();
    assert_eq!(sgn.header.length, 408);
    assert_eq!(sgn.header.version, (1, 0));
    assert_eq!(sgn.header.signer_version, None);
    assert_eq!(sgn.content, content);
    sgn.verify_with(&tftp.der).unwrap();
}

/// SAST (signer), a second SAST, CCM, TFTP and an EC CAPF, as a cluster would list them.
struct Cluster {
    sast: Cert,
    sast2: Cert,
    ccm: Cert,
    tftp: Cert,
    capf: Cert,
}

fn cluster() -> Cluster {
    Cluster {
        sast: sast(),
        sast2: self_signed(KeyAlgorithm::Rsa2048, "SAST", "SAST-2", &[0x56, 0x78]),
        ccm: self_signed(KeyAlgorithm::Rsa2048, "Lab", "cucm.lab, \"pub\"", &[0x80, 0x01]),
        tftp: self_signed(KeyAlgorithm::Rsa4096, "Lab", "tftp", &[0x02]),
        capf: self_signed(KeyAlgorithm::Ec256, "Lab", "CAPF-0a1b2c3d", &[0x03]),
    }
}

impl Cluster {
    fn records(&self) -> Vec<(Role, &[u8])> {
        vec![
            (Role::Sast, &self.sast.der[..]),
            (Role::Sast, &self.sast2.der[..]),
            (Role::Ccm, &self.ccm.der[..]),
            (Role::Tftp, &self.tftp.der[..]),
            (Role::Capf, &self.capf.der[..]),
            (Role::Tvs, &self.ccm.der[..]),
        ]
    }

    fn itl(&self, hash: FileHash) -> Vec<u8> {
        build_itl(&self.sast.signer(), &self.records(), "ITLFile.tlv", SignerVersion::V1_1, hash, TIME).unwrap()
    }
}

#[test]
fn round_trip_gives_back_every_field_and_verifies() {
    let c = cluster();
    for hash in [FileHash::Sha1, FileHash::Sha512] {
        let file = c.itl(hash);
        assert_eq!(file, c.itl(hash), "deterministic");
        let itl = Itl::parse(&file).unwrap();
        let h = &itl.header;
        assert_eq!(h.version, (1, 2));
        assert_eq!(h.signer_version, Some((1, 1)));
        assert_eq!(h.signer_name, "CN=SAST,O=SAST,OU=SAST");
        assert_eq!(h.issuer_name, "CN=SAST,O=SAST,OU=SAST");
        assert_eq!(h.serial, [0x12, 0x34]);
        assert_eq!(h.hash, hash);
        assert_eq!(h.signature_bits, 2048);
        assert_eq!(h.signature.len(), 256);
        assert_eq!(h.filename, "ITLFile.tlv");
        assert_eq!(h.timestamp, TIME);
        assert_eq!(h.length % 4, 0);

        let roles: Vec<_> = itl.records.iter().map(|r| r.role()).collect();
        let expected: Vec<_> = c.records().iter().map(|(role, _)| Some(*role)).collect();
        assert_eq!(roles, expected);
        for (record, (_, der)) in itl.records.iter().zip(c.records()) {
            let (_, x) = x509_parser::parse_x509_certificate(der).unwrap();
            assert_eq!(record.certificate.as_deref(), Some(der));
            assert_eq!(record.public_key, &x.tbs_certificate.subject_pki.subject_public_key.data[..]);
            assert_eq!(record.signature, &x.signature_value.data[..]);
            assert_eq!(record.dns_name, None);
        }
        let ccm = &itl.records[2];
        assert_eq!(ccm.subject, "CN=cucm.lab\\, \\\"pub\\\",O=Lab,OU=Lab");
        assert_eq!(ccm.serial, [0x80, 0x01], "minimal bytes, no DER sign byte");
        assert_eq!(itl.signer(), Some(&itl.records[0]));
        itl.verify_with(&c.sast.der).unwrap();
        itl.verify().unwrap();
        assert_eq!(itl.bytes_signed().len(), file.len() - 259);
        assert_eq!(itl.certificates_with(Role::Sast).collect::<Vec<_>>(), [&c.sast.der[..], &c.sast2.der[..]]);
        assert_eq!(itl.certificates_with(Role::Tvs).collect::<Vec<_>>(), [&c.ccm.der[..]]);
        assert_eq!(itl.certificates_with(Role::AppServer).count(), 0);
    }
}

#[test]
fn ec_records_carry_the_uncompressed_point() {
    let c = cluster();
    let itl = Itl::parse(&c.itl(FileHash::Sha1)).unwrap();
    let capf = &itl.records[4];
    assert_eq!(capf.public_key.len(), 65);
    assert_eq!(capf.public_key[0], 0x04);
    assert!(c.capf.key.public_key_der().ends_with(&capf.public_key));
}

#[test]
fn changing_any_byte_is_caught() {
    let c = cluster();
    let file = build_itl(
        &c.sast.signer(),
        &[(Role::Sast, &c.sast.der), (Role::Ccm, &c.ccm.der)],
        "ITLFile.tlv",
        SignerVersion::V1_0,
        FileHash::Sha1,
        TIME,
    )
    .unwrap();
    for i in 0..file.len() {
        let mut bad = file.clone();
        bad[i] ^= 0x01;
        let outcome = Itl::parse(&bad).and_then(|itl| itl.verify_with(&c.sast.der));
        assert!(outcome.is_err(), "byte {i} changed and still verified");
    }
}

#[test]
fn changing_any_byte_of_a_signed_file_is_caught() {
    let tftp = self_signed(KeyAlgorithm::Rsa2048, "Lab", "tftp", &[0x42]);
    let file = build_sgn(&tftp.signer(), b"<xml>ringlist</xml>", "RingList.xml.sgn", FileHash::Sha512, TIME).unwrap();
    for i in 0..file.len() {
        let mut bad = file.clone();
        bad[i] ^= 0x80;
        let outcome = SignedFile::parse(&bad).and_then(|f| f.verify_with(&tftp.der));
        assert!(outcome.is_err(), "byte {i} changed and still verified");
    }
}

#[test]
fn another_certificate_does_not_verify() {
    let c = cluster();
    let itl = Itl::parse(&c.itl(FileHash::Sha512)).unwrap();
    assert!(matches!(itl.verify_with(&c.sast2.der), Err(ItlError::SignatureMismatch)));
    assert!(matches!(itl.verify_with(&c.tftp.der), Err(ItlError::SignatureMismatch)), "4096-bit key");
    assert!(matches!(itl.verify_with(&c.capf.der), Err(ItlError::KeyNotRsa)));
    assert!(matches!(itl.verify_with(b"not a certificate"), Err(ItlError::Pki(_))));
}

#[test]
fn no_sast_record_with_the_header_serial_means_no_signer() {
    let c = cluster();
    // The signer's certificate is listed, but as CCM; the SAST record has another serial.
    let records = [(Role::Ccm, &c.sast.der[..]), (Role::Sast, &c.sast2.der[..])];
    let file = build_itl(&c.sast.signer(), &records, "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, TIME).unwrap();
    let itl = Itl::parse(&file).unwrap();
    assert_eq!(itl.signer(), None);
    assert!(matches!(itl.verify(), Err(ItlError::NoSigner)));
    itl.verify_with(&c.sast.der).unwrap();
}

#[test]
fn builder_refuses_what_phones_cannot_use() {
    let c = cluster();
    let build = |signer: &Cert, records: &[(Role, &[u8])]| {
        build_itl(&signer.signer(), records, "ITLFile.tlv", SignerVersion::V1_1, FileHash::Sha1, TIME)
    };
    assert!(matches!(build(&c.capf, &[(Role::Sast, &c.capf.der)]), Err(ItlError::KeyNotRsa)));
    let rsa3072 = issued(KeyAlgorithm::Rsa3072, "SAST-3072", &[0x07], &c.sast);
    assert!(matches!(build(&rsa3072, &[(Role::Sast, &rsa3072.der)]), Err(ItlError::KeySize(3072))));
    let three = [(Role::Sast, &c.sast.der[..]), (Role::Sast, &c.sast2.der[..]), (Role::Sast, &c.ccm.der[..])];
    assert!(matches!(build(&c.sast, &three), Err(ItlError::TooManySast(3))));
    let wrong_key = FileSigner { certificate: &c.sast.der, key: &c.sast2.key };
    let r = build_itl(&wrong_key, &[], "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, TIME);
    assert!(matches!(r, Err(ItlError::KeyMismatch)));
    let many: Vec<(Role, &[u8])> = (0..60).map(|_| (Role::Ccm, &c.tftp.der[..])).collect();
    let err = build(&c.sast, &many).unwrap_err();
    assert!(matches!(err, ItlError::TooLarge { limit: 65536, .. }), "{err}");
    assert!(err.to_string().contains("65536"), "{err}");
    assert!(matches!(build(&c.sast, &[(Role::Ccm, b"junk")]), Err(ItlError::Pki(_))));
    let r = build_itl(&c.sast.signer(), &[], "a\0b", SignerVersion::V1_0, FileHash::Sha1, TIME);
    assert!(matches!(r, Err(ItlError::BadInput(_))));
    let big = vec![0u8; 3 << 20];
    let r = build_sgn(&c.sast.signer(), &big, "big.sgn", FileHash::Sha1, TIME);
    assert!(matches!(r, Err(ItlError::TooLarge { .. })));
}

#[test]
fn a_1024_bit_signer_signs_and_verifies() {
    let c = cluster();
    let old = issued(KeyAlgorithm::Rsa1024, "SAST-old", &[0x09], &c.sast);
    for hash in [FileHash::Sha1, FileHash::Sha512] {
        let file = build_itl(&old.signer(), &[(Role::Sast, &old.der)], "CTLFile.tlv", SignerVersion::V1_0, hash, TIME)
            .unwrap();
        let itl = Itl::parse(&file).unwrap();
        assert_eq!(itl.header.signature_bits, 1024);
        assert_eq!(itl.header.issuer_name, "CN=SAST,O=SAST,OU=SAST");
        itl.verify().unwrap();
        openssl_verifies(&old.key, &itl.bytes_signed(), &itl.header.signature, hash);
    }
}

fn openssl_verifies(key: &PrivateKey, data: &[u8], signature: &[u8], hash: FileHash) {
    let dir = tempfile::tempdir().unwrap();
    let pem = opencapf_pki::pem::encode("PUBLIC KEY", key.public_key_der());
    std::fs::write(dir.path().join("key.pem"), pem).unwrap();
    std::fs::write(dir.path().join("data.bin"), data).unwrap();
    std::fs::write(dir.path().join("sig.bin"), signature).unwrap();
    let digest = match hash {
        FileHash::Sha1 => "-sha1",
        FileHash::Sha512 => "-sha512",
    };
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(["dgst", digest, "-verify", "key.pem", "-signature", "sig.bin", "data.bin"])
        .output()
        .expect("openssl on PATH");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Verified OK"), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn openssl_verifies_the_signatures() {
    let c = cluster();
    for hash in [FileHash::Sha1, FileHash::Sha512] {
        let itl = Itl::parse(&c.itl(hash)).unwrap();
        openssl_verifies(&c.sast.key, &itl.bytes_signed(), &itl.header.signature, hash);

        let file = build_sgn(&c.tftp.signer(), b"<Tones/>", "g3-tones.xml.sgn", hash, TIME).unwrap();
        let sgn = SignedFile::parse(&file).unwrap();
        assert_eq!(sgn.header.signature_bits, 4096);
        openssl_verifies(&c.tftp.key, &sgn.bytes_signed(), &sgn.header.signature, hash);
    }
}

#[test]
fn every_truncation_is_refused_by_parse_or_verify() {
    let c = cluster();
    let file = c.itl(FileHash::Sha1);
    let full = Itl::parse(&file).unwrap();
    for n in 0..file.len() {
        match Itl::parse(&file[..n]) {
            Err(_) => {}
            // Cut at a record boundary: a shorter list whose signature no longer matches.
            Ok(itl) => {
                assert!(n >= usize::from(full.header.length), "{n}");
                assert_eq!(itl.records[..], full.records[..itl.records.len()]);
                assert!(matches!(itl.verify_with(&c.sast.der), Err(ItlError::SignatureMismatch)), "{n}");
            }
        }
        if n < usize::from(full.header.length) {
            assert!(SignedFile::parse(&file[..n]).is_err(), "{n}");
        }
    }
}

#[test]
fn hostile_lengths_are_typed_errors() {
    let sast = sast();
    let file =
        build_itl(&sast.signer(), &[(Role::Sast, &sast.der)], "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, TIME)
            .unwrap();
    let with = |at: usize, bytes: &[u8]| {
        let mut f = file.clone();
        f[at..at + bytes.len()].copy_from_slice(bytes);
        Itl::parse(&f)
    };
    // Header length past the end of the file, and below the two fields already read.
    let past = u16::try_from(file.len() + 1).unwrap().to_be_bytes();
    assert!(matches!(with(8, &past), Err(ItlError::BadHeader(_))));
    assert!(matches!(with(8, &[0, 9]), Err(ItlError::BadHeader(_))));
    // Signer info one byte longer than its children: the next element crosses its end.
    assert!(matches!(with(16, &[0x00, 0x3a]), Err(ItlError::Overrun { parent: "container", .. })));
    // Signer info longer than the header.
    assert!(matches!(with(16, &[0x01, 0x80]), Err(ItlError::Overrun { parent: "header", .. })));
    // Signature info nested in signer info.
    assert!(matches!(with(18, &[0x07]), Err(ItlError::BadHeader(_))));
    // An unknown header tag.
    assert!(matches!(with(18, &[0x63]), Err(ItlError::UnknownTag { tag: 0x63, offset: 18 })));
    // SHA-256 (2) is refused, as phones do.
    assert!(matches!(with(81, &[0x02]), Err(ItlError::UnsupportedHash(2))));
    // Record length past the end of the file, and below its own 5 bytes.
    assert!(matches!(with(379, &[0xff, 0xff]), Err(ItlError::Truncated { offset: 376 })));
    assert!(matches!(with(379, &[0x00, 0x04]), Err(ItlError::BadRecord { offset: 376, .. })));
    // A record element longer than its record.
    assert!(matches!(with(382, &[0xff, 0xff]), Err(ItlError::Overrun { parent: "record", .. })));

    let huge = vec![0u8; 3 << 20];
    assert!(matches!(Itl::parse(&huge), Err(ItlError::TooLarge { size, limit: 2097152 }) if size == 3 << 20));
    assert!(matches!(SignedFile::parse(&huge), Err(ItlError::TooLarge { .. })));
    for n in [0, 1, 2, 3, 100, 4096] {
        let pads = vec![0x0d; n];
        assert!(Itl::parse(&pads).is_err());
        assert!(SignedFile::parse(&pads).is_err());
    }
}

#[test]
fn unknown_record_tags_are_skipped() {
    let sast = sast();
    let file =
        build_itl(&sast.signer(), &[(Role::Sast, &sast.der)], "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, TIME)
            .unwrap();
    // Append a Cisco-style record: DNS name, IP address, certificate hash, role 7 (unknown tags 10, 11, 42).
    let body = hex("02 0009 636d2e6c6162000000 0a 0004 0a000001 0b 0003 abcdef 2a 0001 00 04 0002 0007");
    let mut record = vec![0x01, 0x00, 0x02];
    record.extend_from_slice(&u16::try_from(body.len() + 5).unwrap().to_be_bytes());
    record.extend_from_slice(&body);
    let mut f = file.clone();
    f.extend_from_slice(&record);
    let itl = Itl::parse(&f).unwrap();
    let extra = &itl.records[1];
    assert_eq!(extra.role(), Some(Role::AppServer));
    assert_eq!(extra.dns_name.as_deref(), Some("cm.lab\0\0"));
    assert_eq!(extra.certificate, None);
    assert!(matches!(itl.verify_with(&sast.der), Err(ItlError::SignatureMismatch)), "the record is not signed");
}

#[test]
fn summaries_name_roles_and_escape_names() {
    let c = cluster();
    let itl = Itl::parse(&c.itl(FileHash::Sha1)).unwrap();
    let lines: Vec<String> = itl.records.iter().map(|r| r.summary()).collect();
    assert!(lines[0].starts_with("SAST ") && lines[0].contains("CN=SAST,O=SAST,OU=SAST"), "{}", lines[0]);
    assert!(lines[3].starts_with("TFTP ") && lines[3].contains("serial 02"), "{}", lines[3]);
    let header = itl.header.summary();
    assert!(header.contains("ITLFile.tlv") && header.contains("SHA-1 RSA-2048"), "{header}");
    let mut odd = itl.records[0].clone();
    odd.role = 9;
    odd.subject = "CN=\u{1b}[2J".into();
    let line = odd.summary();
    assert!(line.starts_with("role 9 ") && !line.contains('\u{1b}'), "{line}");
}
