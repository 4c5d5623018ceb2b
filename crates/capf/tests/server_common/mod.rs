//! Shared by the `server_*` tests: a lab cluster with a running CAPF server on 127.0.0.1, and a
//! small phone written here (tokio-rustls client, hand-built messages), independent of the
//! crate's own client so that each side is checked against the protocol, not against the other.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P521_SHA512_ASN1_SIGNING};
use opencapf_capf::client::tls::TrustListVerifier;
use opencapf_capf::proto::auth::{digest, signed_content, sudi_signed_content};
use opencapf_capf::proto::frame::{read_message, Command, RawMessage};
use opencapf_capf::proto::message::*;
use opencapf_capf::{CapfConfig, CapfServer};
use opencapf_cluster::Cluster;
use opencapf_model::{
    AuditEntry, AuthMode, CapfUpdate, CertificateOperation, Device, HistoryEntry, IssuedCertificateRecord, KeyOrder,
    Service, UploadedCertificate,
};
use opencapf_pki::{rsa_sign_raw_pkcs1, CaSigner, CertificateInfo, DeviceName, KeyAlgorithm, PrivateKey, TrustStore};
use opencapf_testkit as testkit;
use opencapf_tls::TlsVersions;
use rustls::pki_types::ServerName;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Short limits, so that the timeout tests take seconds.
pub(crate) fn test_config() -> CapfConfig {
    CapfConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        handshake_timeout: Duration::from_secs(2),
        auth_timeout: Duration::from_secs(2),
        keygen_timeout: Duration::from_secs(20),
        read_timeout: Duration::from_secs(3),
        max_sessions: 64,
        max_per_source: None,
        max_auth_failures: 3,
        shutdown_grace: Duration::from_secs(1),
        first_session_id: None,
    }
}

/// A cluster in a temporary folder, its lab manufacturer trusted in CAPF-trust, and its CAPF
/// server running.
pub(crate) struct Lab {
    pub dir: TempDir,
    pub store: Cluster,
    pub addr: SocketAddr,
    pub mfg: CaSigner,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// A test cluster in `dir` whose CAPF key is `capf_key`.
pub(crate) async fn new_cluster(dir: &std::path::Path, capf_key: KeyAlgorithm) -> Cluster {
    let mut opts = testkit::init_options();
    opts.capf_key = capf_key;
    opts.subject.country = Some("FR".into());
    testkit::init_cluster(dir, opts).await
}

impl Lab {
    pub(crate) async fn start() -> Lab {
        Self::start_with(KeyAlgorithm::Rsa2048, test_config()).await
    }

    pub(crate) async fn start_with(capf_key: KeyAlgorithm, config: CapfConfig) -> Lab {
        // The server's log lines, shown with a failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let dir = TempDir::new().unwrap();
        let store = new_cluster(&dir.path().join("cluster"), capf_key).await;
        let (root, mfg) = testkit::lab_manufacturer(&store).await;
        store.add_trust(TrustStore::Capf, &[root.der], None, "test").await.unwrap();
        let (addr, server) = CapfServer::bind(store.clone(), config).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            server
                .serve_until(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Lab { dir, store, addr, mfg, stop: Some(stop), server: Some(server) }
    }

    /// Stops the server and waits for it.
    pub(crate) async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }

    pub(crate) async fn capf_der(&self) -> Vec<u8> {
        self.store.require_certificate(Service::Capf).await.unwrap().der
    }

    pub(crate) async fn add_device(&self, name: &str) -> DeviceName {
        testkit::add_device(&self.store, testkit::new_device(name)).await
    }

    /// Schedules an operation, deadline tomorrow, RSA 2048 / EC 256, Key Order `key_order`.
    pub(crate) async fn schedule(
        &self,
        name: &str,
        operation: CertificateOperation,
        auth_mode: AuthMode,
        auth_string: Option<&str>,
        key_order: KeyOrder,
    ) {
        self.schedule_update(name, capf_update(operation, auth_mode, auth_string, key_order)).await
    }

    /// Schedules Install/Upgrade with no authentication string, as most stories do.
    pub(crate) async fn schedule_install(&self, name: &str, auth_mode: AuthMode, key_order: KeyOrder) {
        self.schedule(name, CertificateOperation::InstallUpgrade, auth_mode, None, key_order).await
    }

    /// Saves `update` for `name` as the administrator would.
    pub(crate) async fn schedule_update(&self, name: &str, update: CapfUpdate) {
        let name: DeviceName = name.parse().unwrap();
        self.store.save_capf(&name, &update, "test", "test").await.unwrap();
    }

    /// A lab MIC for `name` with `key`, from the trusted lab manufacturer.
    pub(crate) fn mic(&self, name: &str, key: &PrivateKey) -> Vec<u8> {
        testkit::mic(&self.mfg, name, key.public_key_der(), now()).der
    }

    /// An LSC signed by this cluster's CAPF, as if issued earlier.
    pub(crate) async fn lsc_from_our_capf(&self, name: &str, key: &PrivateKey) -> Vec<u8> {
        let signer = self.store.signer(Service::Capf).await.unwrap();
        lsc_signed_by(&signer, name, key)
    }

    pub(crate) async fn device(&self, name: &str) -> Device {
        self.store.device(&name.parse().unwrap()).await.unwrap()
    }

    pub(crate) async fn issued(&self, name: &str) -> Vec<IssuedCertificateRecord> {
        self.store.issued_for(&name.parse().unwrap()).await.unwrap()
    }

    pub(crate) async fn history(&self, name: &str) -> Vec<HistoryEntry> {
        self.store.history(&name.parse().unwrap(), 100).await.unwrap()
    }

    pub(crate) async fn audit(&self) -> Vec<AuditEntry> {
        self.store.audit(1000).await.unwrap()
    }

    pub(crate) async fn uploaded(&self, name: &str) -> Vec<UploadedCertificate> {
        self.store.uploaded(&name.parse().unwrap()).await.unwrap()
    }

    /// Connects a phone (TLS 1.2 or 1.3) that trusts the current CAPF certificate.
    pub(crate) async fn connect(&self) -> Phone {
        Phone::connect(self.addr, self.capf_der().await, TlsVersions::Tls12And13).await
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) use opencapf_testkit::now;

pub(crate) fn tomorrow() -> OffsetDateTime {
    now() + time::Duration::days(1)
}

pub(crate) fn lsc_signed_by(signer: &CaSigner, name: &str, key: &PrivateKey) -> Vec<u8> {
    testkit::lsc(signer, name, key.public_key_der(), 365, now()).der
}

pub(crate) fn subject_cn(der: &[u8]) -> String {
    CertificateInfo::parse(der).unwrap().subject_cn.unwrap()
}

/// A phone's credentials in its AuthResponse.
#[derive(Clone)]
pub(crate) enum Creds {
    /// capfc's null string: an empty Password element.
    Null,
    /// Jabber's null string: no Password element at all.
    NoPassword,
    Password(String),
    /// An existing certificate and its key; `sha1`: also send element 6; `sudi`: also send
    /// SudiData with the same certificate (RSA only).
    Cert {
        der: Vec<u8>,
        key: PrivateKey,
        sha1: bool,
        sudi: bool,
    },
}

impl Creds {
    pub(crate) fn cert(der: &[u8], key: &PrivateKey) -> Self {
        let rsa = key.algorithm().is_rsa();
        Creds::Cert { der: der.to_vec(), key: key.clone(), sha1: rsa, sudi: false }
    }
}

/// A raw PKCS#1 type-1 signature over the bare digest (no DigestInfo), as phones sign.
pub(crate) fn rsa_raw(key: &PrivateKey, hash: HashId, content: &[u8]) -> Vec<u8> {
    rsa_sign_raw_pkcs1(key.pkcs8_der(), &digest(hash, content).unwrap()).unwrap()
}

/// Signs the signed content with SHA-512 (and SHA-1 when `sha1`). EC test keys are P-521,
/// the curve for which AWS-LC signs SHA-512 natively.
pub(crate) fn sign(key: &PrivateKey, content: &[u8], sha1: bool) -> (Option<Vec<u8>>, Vec<u8>) {
    if key.algorithm().is_rsa() {
        let s1 = sha1.then(|| rsa_raw(key, HashId::Sha1, content));
        (s1, rsa_raw(key, HashId::Sha512, content))
    } else {
        assert_eq!(key.algorithm(), KeyAlgorithm::Ec521, "test EC credentials use P-521");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_ASN1_SIGNING, key.pkcs8_der()).unwrap();
        let sig = pair.sign(&SystemRandom::new(), content).unwrap();
        (None, sig.as_ref().to_vec())
    }
}

pub(crate) fn auth_response(name: &str, version: u8, creds: &Creds, session_id: u32) -> AuthResponse {
    let mut r = AuthResponse {
        reason: Some(Reason::OK),
        version,
        device_name: name.to_owned(),
        password: None,
        certificate: None,
        signed_data_sha1: None,
        sha2_signed_data: None,
        sudi: None,
    };
    match creds {
        Creds::Null => r.password = Some(String::new()),
        Creds::NoPassword => {}
        Creds::Password(p) => r.password = Some(p.clone()),
        Creds::Cert { der, key, sha1, sudi } => {
            let (s1, s512) = sign(key, &signed_content(name, der), *sha1);
            r.certificate = Some(CertPackage::new(der.clone()));
            r.signed_data_sha1 = s1;
            r.sha2_signed_data = Some(SignatureRecord { hash: HashId::Sha512, signature: s512 });
            if *sudi {
                let content = sudi_signed_content(session_id, der);
                r.sudi = Some(SudiData {
                    certificate_tag: 0,
                    certificate: der.clone(),
                    sha1: SignatureRecord { hash: HashId::Sha1, signature: rsa_raw(key, HashId::Sha1, &content) },
                    sha512: SignatureRecord { hash: HashId::Sha512, signature: rsa_raw(key, HashId::Sha512, &content) },
                });
            }
        }
    }
    r
}

/// Waits the tests allow for any one server answer.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// The phone's end of one CAPF session.
pub(crate) struct Phone {
    pub stream: TlsStream<TcpStream>,
    /// Learned from the AuthRequest header.
    pub session_id: u32,
}

impl Phone {
    /// TLS with the given versions, then the AuthRequest (version 3, AuthType 0).
    pub(crate) async fn connect(addr: SocketAddr, capf_der: Vec<u8>, versions: TlsVersions) -> Phone {
        let stream = Self::tls(addr, capf_der, versions).await.expect("TLS handshake");
        let mut phone = Phone { stream, session_id: 0 };
        let raw = tokio::time::timeout(WAIT, read_message(&mut phone.stream)).await.unwrap().unwrap();
        assert_eq!(raw.command, Command::AuthRequest);
        let hello = AuthRequest::from_raw(&raw).unwrap();
        assert_eq!(hello, AuthRequest { version: 3, auth_type: Some(AuthType::Unspecified) });
        phone.session_id = raw.session_id;
        phone
    }

    pub(crate) async fn tls(
        addr: SocketAddr,
        capf_der: Vec<u8>,
        versions: TlsVersions,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        // The phone's own trust-list check: exactly this CAPF certificate, byte for byte.
        let verifier = Arc::new(TrustListVerifier::new(vec![capf_der]));
        let config = opencapf_capf::client::tls::client_config(verifier, versions, None).unwrap();
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("capf.lab").unwrap();
        TlsConnector::from(Arc::new(config)).connect(name, tcp).await
    }

    /// Sends a typed message in one write, with the session id.
    pub(crate) async fn send(&mut self, message: impl Into<Message>) {
        let bytes = message.into().encode(self.session_id).unwrap();
        self.send_raw(&bytes).await;
    }

    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    pub(crate) async fn authenticate(&mut self, name: &str, creds: &Creds) {
        let response = auth_response(name, 3, creds, self.session_id);
        self.send(response).await;
    }

    /// The next message; the server must use our session id.
    pub(crate) async fn recv(&mut self) -> Message {
        let raw = self.recv_raw().await;
        assert_eq!(raw.session_id, self.session_id, "the server must keep the session id");
        Message::decode(&raw).unwrap().message
    }

    pub(crate) async fn recv_raw(&mut self) -> RawMessage {
        tokio::time::timeout(WAIT, read_message(&mut self.stream))
            .await
            .expect("the server answers in time")
            .expect("a whole message")
    }

    /// The EndSession reason, then the server closes the connection.
    pub(crate) async fn end_reason(&mut self) -> Reason {
        let reason = match self.recv().await {
            Message::EndSession(e) => e.reason,
            other => panic!("expected EndSession, got {other:?}"),
        };
        assert!(self.closed().await, "the server closes after EndSession");
        reason
    }

    /// Whether the server closed the connection (EOF or reset) within the wait.
    pub(crate) async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 64];
        match tokio::time::timeout(WAIT, self.stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) => false,
            Err(_) => false,
        }
    }

    /// Answers a KeyGenRequest: the requested key, after `in_progress` RequestInProgress.
    pub(crate) async fn answer_keygen(&mut self, in_progress: usize) -> PrivateKey {
        let spec = match self.recv().await {
            Message::KeyGenRequest(k) => k.key,
            other => panic!("expected KeyGenRequest, got {other:?}"),
        };
        let key = generate(spec);
        for _ in 0..in_progress {
            self.send(RequestInProgress).await;
        }
        self.send(KeyGenResponse { reason: None, public_key: Some(key.public_key_der().to_vec()) }).await;
        key
    }

    /// Receives the LSC and answers StoreCertificateResponse (1 when `ok`, else 7).
    pub(crate) async fn store_lsc(&mut self, ok: bool) -> Vec<u8> {
        let der = match self.recv().await {
            Message::StoreCertificateRequest(s) => {
                assert_eq!(s.cert_type, CertType::Lsc);
                s.certificate.der
            }
            other => panic!("expected StoreCertificateRequest, got {other:?}"),
        };
        let reason = if ok { Reason::OK } else { Reason::InvalidElement };
        self.send(StoreCertificateResponse { reason }).await;
        der
    }
}

/// The key a KeyGenRequest asks for.
pub(crate) fn generate(spec: KeySpec) -> PrivateKey {
    let alg = match spec {
        KeySpec::Rsa { bits } => KeyAlgorithm::rsa(u32::from(bits)).unwrap(),
        KeySpec::Ec { curve: Curve::P256 } => KeyAlgorithm::Ec256,
        KeySpec::Ec { curve: Curve::P384 } => KeyAlgorithm::Ec384,
        KeySpec::Ec { curve: Curve::P521 } => KeyAlgorithm::Ec521,
    };
    PrivateKey::generate(alg).unwrap()
}

/// A whole Install/Upgrade as a well-behaved phone does it; returns the LSC and its key.
pub(crate) async fn install(lab: &Lab, name: &str, creds: &Creds) -> (Vec<u8>, PrivateKey) {
    let mut phone = lab.connect().await;
    phone.authenticate(name, creds).await;
    let key = phone.answer_keygen(1).await;
    let lsc = phone.store_lsc(true).await;
    assert_eq!(phone.end_reason().await, Reason::OK);
    (lsc, key)
}

/// A session that must be refused after the AuthResponse; returns the EndSession reason.
pub(crate) async fn refused(lab: &Lab, name: &str, creds: &Creds) -> Reason {
    let mut phone = lab.connect().await;
    phone.authenticate(name, creds).await;
    phone.end_reason().await
}

/// The latest status-history entry of a device.
pub(crate) async fn last_history(lab: &Lab, name: &str) -> HistoryEntry {
    lab.history(name).await.into_iter().next().expect("a history entry")
}

/// Waits until the device's status is `status` (the server records it as the session ends).
pub(crate) async fn wait_status(lab: &Lab, name: &str, status: &str) -> Device {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = lab.device(name).await;
        if d.capf.status == status {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status of {name} stayed '{}', expected '{status}'",
            d.capf.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A CAPF update with the defaults of `Lab::schedule`: deadline tomorrow, RSA 2048 / EC 256.
pub(crate) fn capf_update(
    operation: CertificateOperation,
    auth_mode: AuthMode,
    auth_string: Option<&str>,
    key_order: KeyOrder,
) -> CapfUpdate {
    CapfUpdate {
        operation,
        auth_mode,
        auth_string: auth_string.map(str::to_owned),
        key_order,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: Some(tomorrow()),
    }
}
