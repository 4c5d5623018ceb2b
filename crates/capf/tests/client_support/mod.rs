//! A tiny scripted CAPF server for the client tests: a tokio-rustls listener on 127.0.0.1 that
//! plays the server side of one session with the proto types, plus a recording phone handler.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_capf::client::{
    CapfClient, ClientConfig, ClientError, Credentials, PhoneIdentity, SessionEvent, SessionHandler, SessionOutcome,
};
use opencapf_capf::proto::auth::{self, signed_content, sudi_signed_content};
use opencapf_capf::proto::frame::{read_message, RawMessage};
use opencapf_capf::proto::message::{
    AuthRequest, AuthResponse, AuthType, CapfMessage, CertType, Curve, EndSession, HashId, Message, Reason,
};
use opencapf_pki::profiles::{self, CaSigner, SubjectFields};
use opencapf_pki::{rsa_public_bits, rsa_public_raw, CertificateInfo, DeviceName, KeyAlgorithm, PrivateKey};
use opencapf_testkit::{self as testkit, Ca};
use opencapf_tls::TlsVersions;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use x509_parser::prelude::{FromDer, X509Certificate};

pub(crate) const DEVICE: &str = "SEP0123456789AB";

/// A CAPF certificate and its signer.
pub(crate) struct Capf {
    pub der: Vec<u8>,
    pub key: PrivateKey,
    pub signer: CaSigner,
}

pub(crate) fn capf(alg: KeyAlgorithm) -> Capf {
    let subject = SubjectFields { organization: Some("Client Tests".into()), ..Default::default() };
    let ca = Ca::capf(alg, &subject, 365, testkit::now());
    Capf { signer: ca.signer(), der: ca.der, key: ca.key }
}

impl Capf {
    /// An LSC for `public_key_der`, as the server would issue it.
    pub(crate) fn issue_lsc(&self, public_key_der: &[u8]) -> Vec<u8> {
        testkit::lsc(&self.signer, DEVICE, public_key_der, 365, testkit::now()).der
    }
}

/// A phone certificate (a lab MIC) with its key.
pub(crate) fn mic(alg: KeyAlgorithm) -> (Vec<u8>, PrivateKey) {
    let now = testkit::now();
    let signer = Ca::lab_manufacturer(KeyAlgorithm::Rsa2048, now).signer();
    let key = PrivateKey::generate(alg).unwrap();
    let device: DeviceName = DEVICE.parse().unwrap();
    let cert = profiles::lab_mic(&signer, &device, "CP-8861", "LAB12345678", key.public_key_der(), now).unwrap();
    (cert.der, key)
}

pub(crate) fn identity(credentials: Credentials) -> PhoneIdentity {
    PhoneIdentity { device_name: DEVICE.into(), credentials, sudi: None }
}

/// Client settings for tests: short timeouts, the given trust list.
/// A session By Null String with a handler that takes every default.
pub(crate) async fn run_null(config: &ClientConfig) -> Result<SessionOutcome, ClientError> {
    CapfClient::run(config, &identity(Credentials::NullString), &mut TestHandler::default()).await
}

pub(crate) fn client_config(addr: SocketAddr, trust_list: Vec<Vec<u8>>) -> ClientConfig {
    let mut c = ClientConfig::new(addr.to_string(), trust_list);
    c.connect_timeout = Duration::from_secs(5);
    c.handshake_timeout = Duration::from_secs(5);
    c.message_timeout = Duration::from_secs(10);
    c
}

/// The project's server configuration ([`opencapf_tls`]), pinned to `versions`.
/// An RSA 2048 CAPF, a trust list of it alone, and its TLS 1.3 server config: most stories' start.
pub(crate) fn tls13_capf() -> (Capf, Vec<Vec<u8>>, Arc<rustls::ServerConfig>) {
    let capf = capf(KeyAlgorithm::Rsa2048);
    let trust = vec![capf.der.clone()];
    let config = server_config(&capf, TlsVersions::Tls13Only);
    (capf, trust, config)
}

pub(crate) fn server_config(capf: &Capf, versions: TlsVersions) -> Arc<rustls::ServerConfig> {
    let key = opencapf_tls::certified_key(vec![capf.der.clone()], &capf.key).unwrap();
    Arc::new(opencapf_tls::server_config_with_versions(key, None, versions).unwrap())
}

/// The server end of one session.
pub(crate) struct ServerConn {
    pub stream: TlsStream<TcpStream>,
}

impl ServerConn {
    pub(crate) async fn send(&mut self, message: impl Into<Message>, session_id: u32) {
        let bytes = message.into().encode(session_id).unwrap();
        self.stream.write_all(&bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    pub(crate) async fn recv(&mut self) -> RawMessage {
        tokio::time::timeout(Duration::from_secs(20), read_message(&mut self.stream))
            .await
            .expect("client message in time")
            .expect("a client message")
    }

    /// Reads until the client closes; returns whether it sent nothing more.
    pub(crate) async fn expect_closed(&mut self) -> bool {
        matches!(tokio::time::timeout(Duration::from_secs(10), read_message(&mut self.stream)).await, Ok(Err(_)))
    }

    /// AuthRequest as capfd sends it, then the client's AuthResponse (checked to echo the id).
    pub(crate) async fn open(&mut self, session_id: u32) -> (RawMessage, AuthResponse) {
        self.send(AuthRequest { version: 3, auth_type: Some(AuthType::Unspecified) }, session_id).await;
        let raw = self.recv().await;
        assert_eq!(raw.session_id, session_id, "the client echoes the session id");
        let auth = AuthResponse::from_raw(&raw).unwrap();
        (raw, auth)
    }

    pub(crate) async fn end(&mut self, reason: Reason, session_id: u32) {
        self.send(EndSession { reason }, session_id).await;
        let _ = self.stream.shutdown().await;
    }
}

/// Listens on 127.0.0.1 and runs `script` on the first connection once its handshake is done.
/// The handle gives the script's result, or the handshake error.
pub(crate) async fn serve_once<F, Fut, T>(
    config: Arc<rustls::ServerConfig>,
    script: F,
) -> (SocketAddr, JoinHandle<Result<T, std::io::Error>>)
where
    F: FnOnce(ServerConn) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let stream = TlsAcceptor::from(config).accept(tcp).await?;
        Ok(script(ServerConn { stream }).await)
    });
    (addr, handle)
}

/// Checks both certificate-authentication signatures of an AuthResponse (§1.8.3) and returns
/// the certificate it carried.
pub(crate) fn verify_certificate_auth(auth: &AuthResponse) -> Vec<u8> {
    let der = auth.certificate.as_ref().expect("Certificate element").der.clone();
    let content = signed_content(&auth.device_name, &der);
    let sha1 = auth.signed_data_sha1.as_ref().expect("SignedData element");
    let sha2 = auth.sha2_signed_data.as_ref().expect("Sha2SignedData element");
    assert_eq!(sha2.hash, HashId::Sha512, "Sha2SignedData uses SHA-512 (capfd requires hash id 3)");
    verify_signature(&der, HashId::Sha1, &content, sha1);
    verify_signature(&der, HashId::Sha512, &content, &sha2.signature);
    der
}

/// Checks the SudiData signatures (session id little-endian || SUDI DER).
pub(crate) fn verify_sudi(auth: &AuthResponse, session_id: u32) -> Vec<u8> {
    let sudi = auth.sudi.as_ref().expect("SudiData element");
    assert_eq!(sudi.sha1.hash, HashId::Sha1);
    assert_eq!(sudi.sha512.hash, HashId::Sha512);
    let content = sudi_signed_content(session_id, &sudi.certificate);
    verify_signature(&sudi.certificate, HashId::Sha1, &content, &sudi.sha1.signature);
    verify_signature(&sudi.certificate, HashId::Sha512, &content, &sudi.sha512.signature);
    sudi.certificate.clone()
}

/// Strict verification: the whole RSA block rebuilt, or ECDSA.
pub(crate) fn verify_signature(cert_der: &[u8], hash: HashId, content: &[u8], sig: &[u8]) {
    let info = CertificateInfo::parse(cert_der).unwrap();
    if let Ok(bits) = rsa_public_bits(&info.public_key_der) {
        let k = (bits as usize).div_ceil(8);
        let block = rsa_public_raw(&info.public_key_der, sig).unwrap();
        auth::verify_rsa_block(&block, k, hash, content).unwrap();
    } else {
        let (_, cert) = X509Certificate::from_der(cert_der).unwrap();
        let point = cert.public_key().subject_public_key.data.to_vec();
        let curve = match info.key.as_str() {
            "EC P-256" => Curve::P256,
            "EC P-384" => Curve::P384,
            _ => Curve::P521,
        };
        auth::verify_ecdsa(curve, hash, &point, content, sig).unwrap();
    }
}

/// A phone's certificate state, recording what the client asked of it.
#[derive(Default)]
pub(crate) struct TestHandler {
    pub mic: Vec<u8>,
    pub lsc: Option<Vec<u8>>,
    pub stored: Option<(Vec<u8>, PrivateKey)>,
    pub fail_store: bool,
    pub delete_calls: u32,
    pub fetch_requests: Vec<Option<CertType>>,
    pub events: Vec<SessionEvent>,
}

impl SessionHandler for TestHandler {
    fn store_lsc(&mut self, lsc_der: &[u8], key: &PrivateKey) -> Result<(), String> {
        if self.fail_store {
            return Err("disk full".into());
        }
        self.stored = Some((lsc_der.to_vec(), key.clone()));
        self.lsc = Some(lsc_der.to_vec());
        Ok(())
    }

    fn delete_lsc(&mut self) -> Result<bool, String> {
        self.delete_calls += 1;
        Ok(self.lsc.take().is_some())
    }

    fn certificate_to_upload(&mut self, requested: Option<CertType>) -> Option<Vec<u8>> {
        self.fetch_requests.push(requested);
        match requested {
            Some(CertType::Mic) => Some(self.mic.clone()),
            Some(CertType::Lsc) => self.lsc.clone(),
            _ => self.lsc.clone().or_else(|| Some(self.mic.clone())),
        }
    }

    fn event(&mut self, event: SessionEvent) {
        self.events.push(event);
    }
}
