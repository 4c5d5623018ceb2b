//! The certificates the cluster makes: CAPF, CallManager, ITLRecovery, TVS, tomcat (the admin web
//! service), LSC, and the lab manufacturer's root and MICs.
//!
//! Each profile is fixed here, in one place, so that what a phone or an 802.1x server sees is the
//! same whatever part of OpenCAPF issued it.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// The subject fields these profiles copy, from the vocabulary crate.
pub use opencapf_model::SubjectFields;

use crate::{CertificateInfo, DeviceName, KeyAlgorithm, PkiError, PrivateKey};

/// id-kp-ipsecEndSystem: the VPN head-end (ASA) looks for it on phone certificates.
const EKU_IPSEC_END_SYSTEM: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 3, 5];
/// X.520 serialNumber, where Cisco writes `PID:<model> SN:<serial>`.
const DN_SERIAL_NUMBER: [u64; 4] = [2, 5, 4, 5];

pub const CAPF_DEFAULT_DAYS: u32 = 1825;
pub const LSC_DEFAULT_DAYS: u32 = 1825;
/// ITLRecovery lasts 20 years when fresh or regenerated (cucm-reference §2).
pub const ITL_RECOVERY_DAYS: u32 = 7300;
/// TVS lasts five years, like CallManager.
pub const TVS_DEFAULT_DAYS: u32 = 1825;
/// tomcat lasts five years, CUCM's default for its self-signed service certificates.
pub const TOMCAT_DEFAULT_DAYS: u32 = 1825;
pub const LAB_MFG_CA_CN: &str = "OpenCAPF Lab Manufacturing CA";
/// The lab's older manufacturer, SHA-1 like "Cisco Manufacturing CA" beside "… SHA2": it issues
/// the MICs of 79xx-era families.
pub const LAB_MFG_SHA1_CA_CN: &str = "OpenCAPF Lab Manufacturing CA (SHA-1)";
const LAB_MFG_O: &str = "OpenCAPF Lab Manufacturing";
const LAB_VALIDITY_DAYS: i64 = 3650;

/// Copies the cluster's subject fields into a certificate's distinguished name.
fn push_subject(s: &SubjectFields, dn: &mut DistinguishedName) {
    let pairs = [
        (DnType::OrganizationName, &s.organization),
        (DnType::OrganizationalUnitName, &s.organizational_unit),
        (DnType::LocalityName, &s.locality),
        (DnType::StateOrProvinceName, &s.state),
    ];
    for (ty, v) in pairs {
        if let Some(v) = v {
            dn.push(ty, v.as_str());
        }
    }
    if let Some(c) = &s.country {
        let c = c.to_ascii_uppercase();
        dn.push(DnType::CountryName, DnValue::PrintableString(c.as_str().try_into().expect("checked ASCII")));
    }
}

/// A certificate just made, with its parsed fields.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub der: Vec<u8>,
    pub info: CertificateInfo,
}

impl IssuedCertificate {
    fn from_der(der: Vec<u8>) -> Result<Self, PkiError> {
        let info = CertificateInfo::parse(&der)?;
        Ok(Self { der, info })
    }

    pub fn pem(&self) -> String {
        crate::pem::encode("CERTIFICATE", &self.der)
    }
}

/// A CA certificate and its key, able to sign: the CAPF, or the lab manufacturer.
pub struct CaSigner {
    cert_der: Vec<u8>,
    info: CertificateInfo,
    key: rcgen::KeyPair,
    /// Kept for the SHA-1 CAs, whose certificates are signed again outside rcgen.
    private: PrivateKey,
}

impl CaSigner {
    pub fn new(cert_der: &[u8], key: &PrivateKey) -> Result<Self, PkiError> {
        let info = CertificateInfo::parse(cert_der)?;
        if info.public_key_der != key.public_key_der() {
            return Err(PkiError::Key("the private key does not match the certificate".into()));
        }
        Ok(Self { cert_der: cert_der.to_vec(), info, key: key.signer()?, private: key.clone() })
    }

    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    pub(crate) fn issuer(&self) -> Result<Issuer<'static, &rcgen::KeyPair>, PkiError> {
        // Parsing the CA certificate back keeps its subject bytes and SKI exactly, so the issued
        // certificate's issuer and AKI match what verifiers compare.
        Issuer::from_ca_cert_der(&self.cert_der.as_slice().into(), &self.key).map_err(rcgen_err)
    }
}

pub(crate) fn rcgen_err(e: rcgen::Error) -> PkiError {
    PkiError::Profile(e.to_string())
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).expect("system RNG");
    // Positive and exactly 16 bytes in DER: clear the sign bit, keep the first byte non-zero.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 is a valid nanosecond")
}

fn base_params(cn: &str, now: OffsetDateTime, days: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = whole_seconds(now);
    p.not_after = whole_seconds(now + Duration::days(days));
    p.serial_number = Some(random_serial());
    p
}

/// `CAPF-<8 lowercase hex>`: taken from the SHA-256 of the public key, so it changes with every
/// regeneration and two clusters practically never share one.
pub fn capf_common_name(key: &PrivateKey) -> String {
    let fp = crate::cert::fingerprint(key.public_key_der());
    format!("CAPF-{}", &fp[..8])
}

/// The self-signed CAPF certificate: the CA that signs every LSC of the cluster.
pub fn capf_certificate(
    key: &PrivateKey,
    subject: &SubjectFields,
    days: u32,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, PkiError> {
    subject.validate()?;
    let mut p = base_params(&capf_common_name(key), now, i64::from(days));
    push_subject(subject, &mut p.distinguished_name);
    // CUCM 14SU2+ refuses a CAPF certificate without CA:TRUE pathlen 0 and certificate signing.
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    self_sign(&p, key)
}

/// A PKCS#10 request (PEM) for the CAPF key, with the subject, CA constraint and key usages of
/// its current certificate: what an enterprise CA signs so that phones trust the CAPF through it.
pub fn capf_csr(key: &PrivateKey, capf_cert_der: &[u8]) -> Result<String, PkiError> {
    let mut p = request_params(key, capf_cert_der, "CAPF")?;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.serialize_request(&key.signer()?).and_then(|csr| csr.pem()).map_err(rcgen_err)
}

/// A PKCS#10 request (PEM) for the tomcat key: the current certificate's subject, SAN dNSName
/// `<hostname>` and the key usages of a TLS server, as CUCM's tomcat CSR asks. Only the hostname:
/// enterprise CAs refuse `localhost` and loopback addresses.
pub fn tomcat_csr(key: &PrivateKey, tomcat_cert_der: &[u8], hostname: &str) -> Result<String, PkiError> {
    check_hostname(hostname)?;
    let mut p = request_params(key, tomcat_cert_der, "tomcat")?;
    p.subject_alt_names = vec![host_name(hostname)?];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    p.serialize_request(&key.signer()?).and_then(|csr| csr.pem()).map_err(rcgen_err)
}

/// The request parameters every CSR shares: the key must be the certificate's, and the subject is
/// copied attribute by attribute.
fn request_params(key: &PrivateKey, cert_der: &[u8], what: &str) -> Result<CertificateParams, PkiError> {
    if CertificateInfo::parse(cert_der)?.public_key_der != key.public_key_der() {
        return Err(PkiError::Key(format!("the private key does not match the {what} certificate")));
    }
    let mut p = CertificateParams::default();
    p.distinguished_name = subject_of(cert_der)?;
    Ok(p)
}

/// The subject of a certificate, attribute by attribute, as rcgen writes names.
fn subject_of(der: &[u8]) -> Result<DistinguishedName, PkiError> {
    use x509_parser::der_parser::asn1_rs::Tag;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Parse(e.to_string()))?;
    let mut dn = DistinguishedName::new();
    for attr in cert.subject().iter_attributes() {
        let oid: Vec<u64> = attr.attr_type().iter().map(|i| i.collect()).unwrap_or_default();
        let text = attr.as_str().map_err(|e| PkiError::Parse(format!("subject attribute: {e}")))?;
        let value = match attr.attr_value().header.tag() {
            Tag::PrintableString => DnValue::PrintableString(text.try_into().map_err(rcgen_err)?),
            _ => DnValue::Utf8String(text.to_string()),
        };
        dn.push(DnType::from_oid(&oid), value);
    }
    Ok(dn)
}

/// The CallManager certificate the registration listeners present: `CN=<hostname>`.
pub fn callmanager_certificate(
    key: &PrivateKey,
    hostname: &str,
    subject: &SubjectFields,
    days: u32,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, PkiError> {
    subject.validate()?;
    check_hostname(hostname)?;
    let mut p = base_params(hostname, now, i64::from(days));
    push_subject(subject, &mut p.distinguished_name);
    p.subject_alt_names = vec![rcgen::SanType::DnsName(hostname.try_into().map_err(rcgen_err)?)];
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    self_sign(&p, key)
}

/// A hostname that can be a CN and a DNS SAN.
fn check_hostname(hostname: &str) -> Result<(), PkiError> {
    if hostname.is_empty() || hostname.len() > 253 {
        return Err(PkiError::Profile(format!("bad hostname '{hostname}'")));
    }
    Ok(())
}

/// The cluster's identities other than CAPF are RSA 2048, as CUCM makes them: phones of every
/// family verify RSA signatures on the ITL and in TLS, not all of them EC.
/// The start of the cluster's RSA-2048 self-signed identities (ITLRecovery, TVS, tomcat): the
/// subject fields and hostname checked, `CN=cn` then the cluster's subject fields.
fn identity_params(
    key: &PrivateKey,
    what: &str,
    cn: &str,
    hostname: &str,
    subject: &SubjectFields,
    days: u32,
    now: OffsetDateTime,
) -> Result<CertificateParams, PkiError> {
    subject.validate()?;
    check_hostname(hostname)?;
    require_rsa_2048(key, what)?;
    let mut p = base_params(cn, now, i64::from(days));
    push_subject(subject, &mut p.distinguished_name);
    Ok(p)
}

/// `p` signed with its own key.
fn self_sign(p: &CertificateParams, key: &PrivateKey) -> Result<IssuedCertificate, PkiError> {
    IssuedCertificate::from_der(p.self_signed(&key.signer()?).map_err(rcgen_err)?.der().to_vec())
}

fn require_rsa_2048(key: &PrivateKey, what: &str) -> Result<(), PkiError> {
    if key.algorithm() != KeyAlgorithm::Rsa2048 {
        return Err(PkiError::Key(format!("the {what} key must be RSA 2048, not {}", key.algorithm())));
    }
    Ok(())
}

/// The ITLRecovery certificate: the SAST that signs the ITL (`ITLFile.tlv`), self-signed,
/// `CN=ITLRECOVERY_<hostname>` with the cluster's subject fields, RSA 2048, normally
/// [`ITL_RECOVERY_DAYS`].
///
/// Key usage is digitalSignature only: a SAST signs files with a plain RSA signature over their
/// bytes (capf-protocol §4.5), which is a digital signature; it signs no certificate, so neither
/// keyCertSign nor CA:TRUE is needed (the ITL record gives it its SAST role, not X.509). No EKU:
/// none names file signing for phones, and an absent EKU restricts nothing.
/// [U] CUCM's exact extensions are unpublished; phones only use the key and the ITL role.
pub fn itl_recovery_certificate(
    key: &PrivateKey,
    hostname: &str,
    subject: &SubjectFields,
    days: u32,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, PkiError> {
    let mut p = identity_params(key, "ITLRecovery", &format!("ITLRECOVERY_{hostname}"), hostname, subject, days, now)?;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    self_sign(&p, key)
}

/// The TVS certificate its TLS listener (2445) presents: self-signed, `CN=<hostname>` as CUCM
/// names it after the node, RSA 2048, EKU serverAuth (phones are TLS clients of TVS and present
/// no certificate), normally [`TVS_DEFAULT_DAYS`].
pub fn tvs_certificate(
    key: &PrivateKey,
    hostname: &str,
    subject: &SubjectFields,
    days: u32,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, PkiError> {
    let mut p = identity_params(key, "TVS", hostname, hostname, subject, days, now)?;
    p.subject_alt_names = vec![rcgen::SanType::DnsName(hostname.try_into().map_err(rcgen_err)?)];
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    self_sign(&p, key)
}

/// The tomcat certificate the admin web service (HTTPS, 8443) presents: self-signed,
/// `CN=<hostname>` with the cluster's subject fields, RSA 2048 as CUCM's `tomcat` (its EC twin is
/// `tomcat-ECDSA`), normally [`TOMCAT_DEFAULT_DAYS`]. Extensions as CUCM's self-signed tomcat:
/// KU digitalSignature, keyEncipherment and keyCertSign (CUCM sets it on its self-signed service
/// certificates), EKU serverAuth and clientAuth, CA:FALSE.
///
/// SAN: dNSName `<hostname>` (an IP address when the hostname is one), then dNSName `localhost` and
/// IP 127.0.0.1. CUCM names only its host; the loopback names are added because the admin service
/// listens on 127.0.0.1:8443 by default, so an administrator who trusts this certificate (a
/// browser exception, `curl --cacert`) reaches it by name without a mismatch. They give nothing
/// away: no one else can answer for the loopback address. Phones never look (TVS vouches for the
/// certificate by fingerprint).
pub fn tomcat_certificate(
    key: &PrivateKey,
    hostname: &str,
    subject: &SubjectFields,
    days: u32,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, PkiError> {
    let mut p = identity_params(key, "tomcat", hostname, hostname, subject, days, now)?;
    p.subject_alt_names = vec![host_name(hostname)?];
    if hostname != "localhost" {
        p.subject_alt_names.push(rcgen::SanType::DnsName("localhost".try_into().map_err(rcgen_err)?));
    }
    if hostname != "127.0.0.1" {
        p.subject_alt_names.push(rcgen::SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    }
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages =
        vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::KeyCertSign];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    self_sign(&p, key)
}

/// The SAN entry for a host: an iPAddress when it is an address literal, else a dNSName.
fn host_name(hostname: &str) -> Result<rcgen::SanType, PkiError> {
    Ok(match hostname.parse::<std::net::IpAddr>() {
        Ok(ip) => rcgen::SanType::IpAddress(ip),
        Err(_) => rcgen::SanType::DnsName(hostname.try_into().map_err(rcgen_err)?),
    })
}

/// What CAPF knows when it issues an LSC.
pub struct LscRequest<'a> {
    pub device: &'a DeviceName,
    /// The device's model (`CP-8861`), when known: CUCM then names the LSC `CN=CP-8861-SEP…`.
    pub model: Option<&'a str>,
    /// The phone's public key, a DER SubjectPublicKeyInfo as the KeyGenResponse carries it.
    pub public_key_der: &'a [u8],
    /// `PID` and `SN` read from the device's MIC, when CAPF saw it.
    pub pid_sn: Option<(String, String)>,
    pub validity_days: u32,
    pub now: OffsetDateTime,
}

/// `<model>-<device>` as CUCM names LSCs (`CP-8861-SEP2C3124C9F8E1`), or the bare device name
/// when the model is unknown or not a product id (older phones' LSCs read `CN=SEP…`).
fn lsc_common_name(device: &DeviceName, model: Option<&str>) -> String {
    match model.map(str::trim) {
        Some(m) if is_product_id(m) => format!("{m}-{device}"),
        _ => device.to_string(),
    }
}

/// A Cisco product id such as `CP-8861` or `CP-7962G`: letters, digits and dashes.
fn is_product_id(model: &str) -> bool {
    !model.is_empty() && model.len() <= 32 && model.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The LSC subject in CUCM's order (cucm-reference §4, a real CP-8861 LSC):
/// `serialNumber=PID:… SN:…, C, O, OU, CN`. C/O/OU come from the CAPF subject with their string
/// types kept; its L and ST are not copied, as CUCM's LSCs show none although its CAPF has both.
fn lsc_subject(req: &LscRequest<'_>, capf_subject_der: &[u8]) -> Result<DistinguishedName, PkiError> {
    let mut dn = DistinguishedName::new();
    if let Some((pid, sn)) = &req.pid_sn {
        let value = format!("PID:{pid} SN:{sn}");
        let printable =
            value.as_str().try_into().map_err(|_| PkiError::Profile(format!("'{value}' is not a printable string")))?;
        dn.push(DnType::CustomDnType(DN_SERIAL_NUMBER.to_vec()), DnValue::PrintableString(printable));
    }
    let capf = subject_attributes(capf_subject_der)?;
    for wanted in [DnType::CountryName, DnType::OrganizationName, DnType::OrganizationalUnitName] {
        for (_, v) in capf.iter().filter(|(ty, _)| *ty == wanted) {
            dn.push(wanted.clone(), v.clone());
        }
    }
    dn.push(DnType::CommonName, lsc_common_name(req.device, req.model));
    Ok(dn)
}

/// Signs an LSC with the CAPF key, its subject laid out as CUCM lays out its own (cucm-reference §4).
pub fn lsc(capf: &CaSigner, req: &LscRequest<'_>) -> Result<IssuedCertificate, PkiError> {
    let public = rcgen::SubjectPublicKeyInfo::from_der(req.public_key_der)
        .map_err(|e| PkiError::Key(format!("the phone's public key is not usable: {e}")))?;
    let is_rsa = crate::rawkey::rsa_public_bits(req.public_key_der).is_ok();
    let capf_info = capf.info();
    // Five minutes back for phones whose clock lags, never before the CAPF certificate itself.
    let not_before = (req.now - Duration::minutes(5)).max(capf_info.not_before);
    let not_after = (req.now + Duration::days(i64::from(req.validity_days))).min(capf_info.not_after);
    if not_after <= req.now {
        return Err(PkiError::Profile("the CAPF certificate has expired: regenerate it before issuing LSCs".into()));
    }
    let mut p = base_params(req.device.as_str(), req.now, 0);
    p.not_before = whole_seconds(not_before);
    p.not_after = whole_seconds(not_after);
    p.distinguished_name = lsc_subject(req, &capf_info.subject_der)?;
    let issuer = capf.issuer()?;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if is_rsa {
        p.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::Other(EKU_IPSEC_END_SYSTEM.to_vec()),
    ];
    p.use_authority_key_identifier_extension = true;
    IssuedCertificate::from_der(p.signed_by(&public, &issuer).map_err(rcgen_err)?.der().to_vec())
}

/// The common name of the short-lived LSC `consumer check` presents to an 802.1X server: no
/// device's name (no `SEP…`), so that a VPN head-end's certificate map never matches it.
pub const CHECK_LSC_CN: &str = "OpenCAPF consumer check";

/// A short-lived LSC (`minutes` long) for `consumer check`: the LSC profile (same issuer, key
/// usages and extended key usages, C/O/OU from the CAPF subject), for no device.
pub fn check_lsc(
    capf: &CaSigner,
    public_key_der: &[u8],
    now: OffsetDateTime,
    minutes: i64,
) -> Result<IssuedCertificate, PkiError> {
    let public = rcgen::SubjectPublicKeyInfo::from_der(public_key_der)
        .map_err(|e| PkiError::Key(format!("the public key is not usable: {e}")))?;
    let is_rsa = crate::rawkey::rsa_public_bits(public_key_der).is_ok();
    let capf_info = capf.info();
    let not_after = (now + Duration::minutes(minutes)).min(capf_info.not_after);
    if not_after <= now {
        return Err(PkiError::Profile("the CAPF certificate has expired: regenerate it before issuing LSCs".into()));
    }
    let mut p = base_params(CHECK_LSC_CN, now, 0);
    p.not_before = whole_seconds((now - Duration::minutes(5)).max(capf_info.not_before));
    p.not_after = whole_seconds(not_after);
    let mut dn = DistinguishedName::new();
    let capf_subject = subject_attributes(&capf_info.subject_der)?;
    for wanted in [DnType::CountryName, DnType::OrganizationName, DnType::OrganizationalUnitName] {
        for (_, v) in capf_subject.iter().filter(|(ty, _)| *ty == wanted) {
            dn.push(wanted.clone(), v.clone());
        }
    }
    dn.push(DnType::CommonName, CHECK_LSC_CN);
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if is_rsa {
        p.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    let issuer = capf.issuer()?;
    IssuedCertificate::from_der(p.signed_by(&public, &issuer).map_err(rcgen_err)?.der().to_vec())
}

/// The lab manufacturer's root: labs and tests have no Cisco factory.
pub fn lab_manufacturer_root(key: &PrivateKey, now: OffsetDateTime) -> Result<IssuedCertificate, PkiError> {
    let mut p = base_params(LAB_MFG_CA_CN, now, LAB_VALIDITY_DAYS * 2);
    p.distinguished_name.push(DnType::OrganizationName, LAB_MFG_O);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    self_sign(&p, key)
}

/// The lab manufacturer's older, SHA-1 CA, derived from its root: the same RSA key, validity and
/// organisation, a serial taken from the root's fingerprint. Derived rather than stored, so
/// every call gives the same certificate (RSASSA-PKCS1-v1_5 is deterministic) and clusters made
/// before it existed have it too. Self-signed with SHA-1, as Cisco's older CAs are.
pub fn lab_manufacturer_sha1_root(root: &CaSigner) -> Result<IssuedCertificate, PkiError> {
    let info = root.info();
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, LAB_MFG_SHA1_CA_CN);
    p.distinguished_name.push(DnType::OrganizationName, LAB_MFG_O);
    p.not_before = info.not_before;
    p.not_after = info.not_after;
    let mut serial = hex_bytes(&info.fingerprint)?;
    serial.truncate(16);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let der = p.self_signed(&root.key).map_err(rcgen_err)?.der().to_vec();
    IssuedCertificate::from_der(crate::resign_sha1(&der, &root.private)?)
}

fn hex_bytes(hex: &str) -> Result<Vec<u8>, PkiError> {
    let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
    let nibble = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    digits
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect::<Option<Vec<u8>>>()
        .filter(|b| b.len() >= 16)
        .ok_or_else(|| PkiError::Parse(format!("bad fingerprint {hex}")))
}

/// A lab MIC shaped like Cisco's:
/// `serialNumber=PID:CP-8861 SN:<11 chars>, O=…, OU=…, CN=CP-8861-SEP<12 hex>`, ten years.
/// A SHA-1 manufacturer ([`lab_manufacturer_sha1_root`]) signs it with SHA-1, as the older Cisco
/// CAs signed theirs.
pub fn lab_mic(
    manufacturer: &CaSigner,
    device: &DeviceName,
    model: &str,
    serial: &str,
    public_key_der: &[u8],
    now: OffsetDateTime,
) -> Result<IssuedCertificate, PkiError> {
    if serial.len() != 11 || !serial.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(PkiError::Profile(format!("MIC serial '{serial}' must be 11 letters or digits")));
    }
    let public = rcgen::SubjectPublicKeyInfo::from_der(public_key_der).map_err(rcgen_err)?;
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    let value = format!("PID:{model} SN:{serial}");
    let printable = value.as_str().try_into().map_err(|_| PkiError::Profile(format!("bad model '{model}'")))?;
    p.distinguished_name.push(DnType::CustomDnType(DN_SERIAL_NUMBER.to_vec()), DnValue::PrintableString(printable));
    p.distinguished_name.push(DnType::OrganizationName, LAB_MFG_O);
    p.distinguished_name.push(DnType::OrganizationalUnitName, "Lab Phones");
    p.distinguished_name.push(DnType::CommonName, format!("{model}-{device}"));
    p.not_before = whole_seconds(now);
    p.not_after = whole_seconds(now + Duration::days(LAB_VALIDITY_DAYS));
    p.serial_number = Some(random_serial());
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    let der = p.signed_by(&public, &manufacturer.issuer()?).map_err(rcgen_err)?.der().to_vec();
    match manufacturer.info.sha1_signed {
        true => IssuedCertificate::from_der(crate::resign_sha1(&der, &manufacturer.private)?),
        false => IssuedCertificate::from_der(der),
    }
}

/// An 11-character serial in Cisco's style (three letters, eight letters or digits).
pub fn random_mic_serial() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 8];
    SystemRandom::new().fill(&mut bytes).expect("system RNG");
    let tail: String = bytes.iter().map(|b| CHARS[*b as usize % CHARS.len()] as char).collect();
    format!("LAB{tail}")
}

/// The key a new CAPF certificate gets when none is chosen.
pub const CAPF_DEFAULT_KEY: KeyAlgorithm = KeyAlgorithm::Rsa2048;

/// The attributes of a DER Name, with their string types kept, in order.
fn subject_attributes(name_der: &[u8]) -> Result<Vec<(DnType, DnValue)>, PkiError> {
    use x509_parser::der_parser::asn1_rs::Tag;
    use x509_parser::prelude::FromDer;
    let (_, name) = x509_parser::x509::X509Name::from_der(name_der).map_err(|e| PkiError::Parse(e.to_string()))?;
    let mut out = Vec::new();
    for attr in name.iter_attributes() {
        let oid: Vec<u64> =
            attr.attr_type().iter().ok_or_else(|| PkiError::Parse("attribute OID too large".into()))?.collect();
        let value = attr.attr_value();
        let text = || std::str::from_utf8(value.data).map_err(|_| PkiError::Parse("non-UTF-8 name".into()));
        let bad = |_| PkiError::Parse("bad string in name".into());
        let v = match value.tag() {
            Tag::PrintableString => DnValue::PrintableString(text()?.try_into().map_err(bad)?),
            Tag::Ia5String => DnValue::Ia5String(text()?.try_into().map_err(bad)?),
            Tag::Utf8String => DnValue::Utf8String(text()?.to_owned()),
            other => return Err(PkiError::Parse(format!("unsupported string type {other} in name"))),
        };
        out.push((DnType::from_oid(&oid), v));
    }
    Ok(out)
}
