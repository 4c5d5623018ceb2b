//! `Phone::boot` against an in-memory TFTP server on 127.0.0.1 (`--no-http`): trust on first
//! use, an ITL from the same SAST, another cluster's ITL refused and its signed configuration
//! rejected with Reason:14, the unsigned configuration of a phone without ITL, and an unknown
//! device; and a move to another cluster whose ITL the old cluster's TVS vouches for. No
//! CallManager answers here, so every boot ends unregistered; the integrator's
//! end-to-end tests against `opencapf serve` boot to a registration.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use opencapf_model::{Role, TlsSettings, TlsVersion};
use opencapf_net::{Limits, WhenFull};
use opencapf_phone::{BootOptions, ConfigOutcome, InitOptions, ItlOutcome, MicSource, Phone};
use opencapf_pki::{
    build_itl, build_sgn, profiles, FileHash, FileSigner, KeyAlgorithm, PrivateKey, SignerVersion, SubjectFields,
};
use opencapf_testkit::Ca;
use opencapf_tftp::{FileSource, Lookup, TftpConfig, TftpServer, Transport};
use opencapf_tls::{Identity, IdentitySource, SourceError};
use opencapf_tvs::{Directory, TvsServer};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

const NAME: &str = "SEP001122334455";

/// Files by name, changed between boots.
#[derive(Default)]
struct Files(Mutex<HashMap<String, Vec<u8>>>);

impl Files {
    fn put(&self, name: &str, bytes: Vec<u8>) {
        self.0.lock().unwrap().insert(name.to_string(), bytes);
    }
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl FileSource for Files {
    async fn fetch(&self, name: &str, _peer: SocketAddr, _via: Transport) -> Lookup {
        match self.0.lock().unwrap().get(name) {
            Some(b) => Lookup::Found(Bytes::from(b.clone())),
            None => Lookup::NotFound,
        }
    }
}

/// A cluster's identities: ITLRecovery (SAST), CallManager (CCM+TFTP), TVS.
struct Cluster {
    recovery: Ca,
    callmanager: Ca,
    tvs: Ca,
}

fn rsa() -> Ca {
    Ca::capf(KeyAlgorithm::Rsa2048, &SubjectFields::default(), 365, OffsetDateTime::now_utc())
}

impl Cluster {
    fn new() -> Cluster {
        Cluster { recovery: rsa(), callmanager: rsa(), tvs: tvs_cert() }
    }

    fn itl(&self, capf: &[u8], at: u32) -> Vec<u8> {
        let records = [
            (Role::Sast, self.recovery.der.as_slice()),
            (Role::CcmTftp, self.callmanager.der.as_slice()),
            (Role::Capf, capf),
            (Role::Tvs, self.tvs.der.as_slice()),
        ];
        let signer = FileSigner { certificate: &self.recovery.der, key: &self.recovery.key };
        build_itl(&signer, &records, "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, at).unwrap()
    }

    fn sgn(&self, xml: &str) -> Vec<u8> {
        let signer = FileSigner { certificate: &self.callmanager.der, key: &self.callmanager.key };
        build_sgn(&signer, xml.as_bytes(), &format!("{NAME}.cnf.xml.sgn"), FileHash::Sha1, 1).unwrap()
    }
}

/// A TLS server certificate, as TVS has.
fn tvs_cert() -> Ca {
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let der =
        profiles::callmanager_certificate(&key, "tvs.lab", &SubjectFields::default(), 365, OffsetDateTime::now_utc())
            .unwrap()
            .der;
    Ca { der, key }
}

/// A Non Secure SIP configuration whose CallManager is a closed port.
fn config_xml(cm_port: u16) -> String {
    config_with_tvs(cm_port, None)
}

/// The same, naming a TVS.
fn config_with_tvs(cm_port: u16, tvs: Option<SocketAddr>) -> String {
    let tvs = tvs.map_or_else(String::new, |a| {
        format!(
            "<TVS><members><member priority=\"0\"><port>{}</port><address>{}</address></member></members></TVS>",
            a.port(),
            a.ip()
        )
    });
    format!(
        "<device><deviceProtocol>SIP</deviceProtocol><devicePool><callManagerGroup><members>\
         <member priority=\"0\"><callManager><name>cm</name><ports><sipPort>{cm_port}</sipPort>\
         <securedSipPort>{cm_port}</securedSipPort></ports><processNodeName>127.0.0.1</processNodeName>\
         </callManager></member></members></callManagerGroup></devicePool>\
         <sipProfile><sipLines><line button=\"1\"><featureID>9</featureID><name>2222</name></line></sipLines>\
         </sipProfile>{tvs}<deviceSecurityMode>1</deviceSecurityMode><transportLayerProtocol>4</transportLayerProtocol>\
         <capfAuthMode>0</capfAuthMode></device>"
    )
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn tftp(files: Arc<Files>) -> (SocketAddr, CancellationToken) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(TftpServer::new(files, TftpConfig::default()).run(socket, stop.clone()));
    (addr, stop)
}

fn factory_phone(dir: &std::path::Path) -> Phone {
    factory_phone_of(dir, "CP-8861")
}

fn factory_phone_of(dir: &std::path::Path, model: &str) -> Phone {
    let mfg = Ca::lab_manufacturer(KeyAlgorithm::Rsa2048, OffsetDateTime::now_utc());
    let opts = InitOptions {
        device_name: NAME.parse().unwrap(),
        model: model.into(),
        mic: MicSource::LabManufacturer { signer: Box::new(mfg.signer()), key: KeyAlgorithm::Ec256 },
        itl: None,
        factory: true,
        capf_server: None,
    };
    Phone::init(dir, opts).unwrap()
}

fn options(addr: SocketAddr) -> BootOptions {
    let mut o = BootOptions::new("127.0.0.1");
    o.http = false;
    o.tftp_port = addr.port();
    o.timeout = Duration::from_secs(5);
    o
}

fn console(phone: &Phone) -> String {
    std::fs::read_to_string(phone.console().path()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_phone_trusts_the_first_itl_then_only_its_sast() {
    let tmp = tempfile::tempdir().unwrap();
    let phone = factory_phone(&tmp.path().join("phone"));
    let files = Arc::new(Files::default());
    let (addr, _stop) = tftp(files.clone()).await;
    let a = Cluster::new();
    let capf = rsa();
    let xml = config_xml(closed_port());
    files.put("ITLFile.tlv", a.itl(&capf.der, 1));
    files.put(&format!("{NAME}.cnf.xml.sgn"), a.sgn(&xml));

    // Factory state: the first ITL is taken, and the configuration is the signed one.
    let r = phone.boot(&options(addr)).await.unwrap();
    assert_eq!(r.itl, ItlOutcome::InstalledFirstUse, "{r:?}");
    assert_eq!(r.config, ConfigOutcome::Signed, "{r:?}");
    assert!(!r.registered && r.failure.as_deref().unwrap_or("").contains("Registration failed"), "{r:?}");
    let names: Vec<(&str, &str)> = r.files.iter().map(|f| (f.name.as_str(), f.result.as_str())).collect();
    assert_eq!(names[0], ("CTLSEP001122334455.tlv", "not found"));
    assert_eq!(names[1], ("ITLSEP001122334455.tlv", "not found"));
    assert!(names[2].0 == "ITLFile.tlv" && names[2].1.starts_with("found"), "{names:?}");
    assert!(names[3].0 == "SEP001122334455.cnf.xml.sgn" && names[3].1.starts_with("found"), "{names:?}");
    let held = phone.itl().unwrap().unwrap();
    assert_eq!(held.as_bytes(), a.itl(&capf.der, 1).as_slice());
    assert_eq!(phone.held_config().unwrap().unwrap().lines[0].name, "2222");
    assert_eq!(phone.server_certificates(&[Role::Capf]).unwrap(), vec![capf.der.clone()]);
    let log = console(&phone);
    assert!(log.contains("dgetfile: src=ITLFile.tlv, via=TFTP"), "{log}");
    assert!(log.contains("SECUREAPP-TL file verified successfully."), "{log}");

    // The same file again: nothing to do. A new CAPF, same SAST: taken.
    assert_eq!(phone.boot(&options(addr)).await.unwrap().itl, ItlOutcome::Unchanged);
    let capf2 = rsa();
    files.put("ITLFile.tlv", a.itl(&capf2.der, 2));
    assert_eq!(phone.boot(&options(addr)).await.unwrap().itl, ItlOutcome::UpdatedBySast);
    assert_eq!(phone.server_certificates(&[Role::Capf]).unwrap(), vec![capf2.der.clone()]);

    // Another cluster: its ITL is refused (no TVS vouches), the old one kept, and its signed
    // configuration fails with Reason:14.
    let b = Cluster::new();
    files.clear();
    files.put(&format!("ITL{NAME}.tlv"), b.itl(&rsa().der, 3));
    files.put(&format!("{NAME}.cnf.xml.sgn"), b.sgn(&xml));
    let r = phone.boot(&options(addr)).await.unwrap();
    assert!(matches!(r.itl, ItlOutcome::Refused(_)), "{r:?}");
    let words = format!("invalid file {NAME}.cnf.xml.sgn, authenticated fail. Reason:14");
    assert_eq!(r.config, ConfigOutcome::Rejected(words.clone()));
    assert_eq!(r.failure.as_deref(), Some(words.as_str()));
    assert_eq!(phone.itl().unwrap().unwrap().as_bytes(), a.itl(&capf2.der, 2).as_slice(), "old ITL kept");
    assert!(console(&phone).contains(&words));

    // A factory reset forgets cluster A: B's ITL is then taken on first use.
    phone.factory_reset().unwrap();
    assert!(phone.itl().unwrap().is_none() && phone.held_config().unwrap().is_none());
    let r = phone.boot(&options(addr)).await.unwrap();
    assert_eq!((r.itl, r.config), (ItlOutcome::InstalledFirstUse, ConfigOutcome::Signed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_itl_the_phone_takes_the_unsigned_file_and_an_unknown_device_is_not_provisioned() {
    let tmp = tempfile::tempdir().unwrap();
    let phone = factory_phone(&tmp.path().join("phone"));
    let files = Arc::new(Files::default());
    let (addr, _stop) = tftp(files.clone()).await;
    let r = phone.boot(&options(addr)).await.unwrap();
    assert_eq!((r.itl.clone(), r.config.clone()), (ItlOutcome::NotOffered, ConfigOutcome::NotProvisioned));
    assert!(r.failure.as_deref().unwrap().contains("not provisioned"), "{r:?}");
    assert!(r.failure.as_deref().unwrap().contains("XMLDefault.cnf.xml"), "{r:?}");

    files.put(&format!("{NAME}.cnf.xml"), config_xml(closed_port()).into_bytes());
    let r = phone.boot(&options(addr)).await.unwrap();
    assert_eq!(r.config, ConfigOutcome::Unsigned, "{r:?}");
    assert!(!phone.has_itl());
    assert_eq!(r.registrations.len(), 1);
    assert_eq!(r.registrations[0].transport, "TCP", "Non Secure registers over TCP");
}

/// What the old cluster's TVS vouches for, and whether it serves legacy TLS (`tls.min_version
/// 1.0`, `tls.cbc on`), changed during the test.
#[derive(Default, Clone)]
struct Vouches(Arc<Mutex<HashMap<String, Vec<Role>>>>, Arc<AtomicBool>);

impl Directory for Vouches {
    async fn vouch(&self, certificate: &[u8]) -> Result<Option<Vec<Role>>, String> {
        Ok(self.0.lock().unwrap().get(&opencapf_pki::fingerprint(certificate)).cloned())
    }

    async fn tls_settings(&self) -> Result<TlsSettings, String> {
        let legacy = TlsSettings { min_version: TlsVersion::Tls10, cbc: true, ..TlsSettings::default() };
        Ok(if self.1.load(Ordering::SeqCst) { legacy } else { TlsSettings::default() })
    }
}

struct TvsIdentity {
    der: Vec<u8>,
    pkcs8: Vec<u8>,
}

impl IdentitySource for TvsIdentity {
    type Extra = ();

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(opencapf_pki::fingerprint(&self.der))
    }

    async fn load(&self) -> Result<Identity<()>, SourceError> {
        let fingerprint = opencapf_pki::fingerprint(&self.der);
        Ok(Identity { fingerprint, chain: vec![self.der.clone()], key: self.pkcs8.clone(), extra: () })
    }
}

/// Cluster A's TVS, on 127.0.0.1.
async fn start_tvs(a: &Cluster, vouches: &Vouches) -> (SocketAddr, opencapf_net::CancellationToken) {
    let identity = TvsIdentity { der: a.tvs.der.clone(), pkcs8: a.tvs.key.pkcs8_der().to_vec() };
    let limits = Limits { max_connections: 16, max_per_source: Some(16), when_full: WhenFull::Close };
    let listener =
        TvsServer::new(vouches.clone(), identity, "127.0.0.1:0".parse().unwrap(), limits).bind().await.unwrap();
    let tvs_addr = listener.local_addr();
    let stop_tvs = opencapf_net::CancellationToken::new();
    tokio::spawn(listener.run(stop_tvs.clone()));
    (tvs_addr, stop_tvs)
}

/// A CP-7965 asks TVS over TLS 1.0 (OpenSSL): refused while the cluster serves modern TLS only,
/// answered once legacy TLS is on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cp_7965_asks_tvs_over_tls_1_0() {
    let tmp = tempfile::tempdir().unwrap();
    let phone = factory_phone_of(&tmp.path().join("phone"), "CP-7965");
    let files = Arc::new(Files::default());
    let (addr, _stop) = tftp(files.clone()).await;
    let a = Cluster::new();
    let vouches = Vouches::default();
    let (tvs_addr, stop_tvs) = start_tvs(&a, &vouches).await;
    let cm = closed_port();
    files.put("ITLFile.tlv", a.itl(&rsa().der, 1));
    files.put(&format!("{NAME}.cnf.xml.sgn"), a.sgn(&config_with_tvs(cm, Some(tvs_addr))));
    assert_eq!(phone.boot(&options(addr)).await.unwrap().itl, ItlOutcome::InstalledFirstUse);

    let b = Cluster::new();
    files.clear();
    files.put("ITLFile.tlv", b.itl(&rsa().der, 2));
    files.put(&format!("{NAME}.cnf.xml.sgn"), b.sgn(&config_xml(cm)));
    vouches.0.lock().unwrap().insert(opencapf_pki::fingerprint(&b.recovery.der), vec![Role::Sast]);
    let r = phone.boot(&options(addr)).await.unwrap();
    assert!(matches!(r.itl, ItlOutcome::Refused(_)), "TLS 1.0 is refused by default: {r:?}");
    assert!(console(&phone).contains("protocol version"), "{}", console(&phone));

    vouches.1.store(true, Ordering::SeqCst);
    let r = phone.boot(&options(addr)).await.unwrap();
    assert_eq!(r.itl, ItlOutcome::UpdatedByTvs, "{r:?}");
    assert!(console(&phone).contains("SECUREAPP-Hashes match... authentication successful."));
    stop_tvs.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_clusters_itl_is_refused_until_the_old_clusters_tvs_vouches_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let phone = factory_phone(&tmp.path().join("phone"));
    let files = Arc::new(Files::default());
    let (addr, _stop) = tftp(files.clone()).await;
    let a = Cluster::new();
    let vouches = Vouches::default();
    let (tvs_addr, stop_tvs) = start_tvs(&a, &vouches).await;

    let cm = closed_port();
    files.put("ITLFile.tlv", a.itl(&rsa().der, 1));
    files.put(&format!("{NAME}.cnf.xml.sgn"), a.sgn(&config_with_tvs(cm, Some(tvs_addr))));
    assert_eq!(phone.boot(&options(addr)).await.unwrap().itl, ItlOutcome::InstalledFirstUse);

    // The phone moves to cluster B: A's TVS does not know B's ITLRecovery yet.
    let b = Cluster::new();
    files.clear();
    let b_itl = b.itl(&rsa().der, 2);
    files.put("ITLFile.tlv", b_itl.clone());
    files.put(&format!("{NAME}.cnf.xml.sgn"), b.sgn(&config_xml(cm)));
    let r = phone.boot(&options(addr)).await.unwrap();
    assert!(matches!(r.itl, ItlOutcome::Refused(_)), "{r:?}");
    assert!(matches!(r.config, ConfigOutcome::Rejected(ref w) if w.ends_with("Reason:14")), "{r:?}");
    assert!(phone.tvs_cache().unwrap().is_empty());

    // A's TVS vouches for B's ITLRecovery as a SAST: the phone takes B's ITL, caches the answer.
    vouches.0.lock().unwrap().insert(opencapf_pki::fingerprint(&b.recovery.der), vec![Role::Sast]);
    let r = phone.boot(&options(addr)).await.unwrap();
    assert_eq!((r.itl.clone(), r.config.clone()), (ItlOutcome::UpdatedByTvs, ConfigOutcome::Signed), "{r:?}");
    assert_eq!(phone.itl().unwrap().unwrap().as_bytes(), b_itl.as_slice());
    let cache = phone.tvs_cache().unwrap();
    assert_eq!(cache.len(), 1);
    assert_eq!(cache[0].fingerprint, opencapf_pki::fingerprint(&b.recovery.der));
    assert_eq!(cache[0].roles, ["SAST"]);
    let log = console(&phone);
    assert!(log.contains("SECUREAPP-TVS added cert to TVS cache - expires in 24 hours"), "{log}");
    assert!(log.contains("SECUREAPP-Hashes match... authentication successful."), "{log}");
    stop_tvs.cancel();
}
