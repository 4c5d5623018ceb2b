//! A cluster in a temporary folder, phones with LSCs and MICs, CallManager on loopback, and a
//! rustls client that behaves like a phone.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opencapf_callmanager::{sccp, sip, BoundAddrs, CallManagerConfig, CallManagerServer};
use opencapf_capf::client::tls::TrustListVerifier;
use opencapf_model::{CertKind, NewDevice, Protocol, Registration, SecurityMode, Service};
use opencapf_pki::{DeviceName, KeyAlgorithm, PrivateKey, TrustStore};
use opencapf_testkit::{self as testkit, TestCluster};
use opencapf_tls::TlsVersions;
use rustls::pki_types::ServerName;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

pub(crate) struct Cluster {
    pub dir: tempfile::TempDir,
    pub store: opencapf_cluster::Cluster,
}

impl Cluster {
    pub(crate) async fn new() -> Cluster {
        let TestCluster { dir, cluster } = TestCluster::new().await;
        Cluster { dir, store: cluster }
    }

    pub(crate) async fn add_device(&self, name: &str, protocol: Protocol, security: SecurityMode) -> DeviceName {
        let device = NewDevice { protocol, security_mode: security, ..testkit::new_device(name) };
        testkit::add_device(&self.store, device).await
    }

    /// An LSC for `name` signed by this cluster's CAPF, recorded on the device when it exists.
    pub(crate) async fn lsc(&self, name: &str) -> Phone {
        self.lsc_at(name, OffsetDateTime::now_utc(), 365, KeyAlgorithm::Ec256).await
    }

    pub(crate) async fn lsc_at(&self, name: &str, now: OffsetDateTime, days: u32, alg: KeyAlgorithm) -> Phone {
        let device: DeviceName = name.parse().unwrap();
        let key = PrivateKey::generate(alg).unwrap();
        let signer = self.store.signer(Service::Capf).await.unwrap();
        let cert = testkit::lsc(&signer, name, key.public_key_der(), days, now);
        if self.store.device(&device).await.is_ok() {
            self.store.record_cert(&device, &cert.der, Some(CertKind::Lsc), "test").await.unwrap();
        }
        Phone { cert: cert.der, key }
    }

    /// A lab MIC for `name` (the lab manufacturer is created on first use; its root enters
    /// CallManager-trust only if `trust_manufacturer`).
    pub(crate) async fn mic(&self, name: &str, trust_manufacturer: bool) -> Phone {
        let (root, signer) = testkit::lab_manufacturer(&self.store).await;
        if trust_manufacturer {
            self.store.add_trust(TrustStore::CallManager, std::slice::from_ref(&root.der), None, "test").await.unwrap();
        }
        let key = testkit::phone_key();
        let cert = testkit::mic(&signer, name, key.public_key_der(), testkit::now());
        Phone { cert: cert.der, key }
    }

    pub(crate) async fn callmanager_cert(&self) -> Vec<u8> {
        self.store.require_certificate(Service::CallManager).await.unwrap().der
    }

    pub(crate) async fn registrations(&self, device: Option<&str>) -> Vec<Registration> {
        let d = device.map(|d| d.parse::<DeviceName>().unwrap());
        self.store.registrations(d.as_ref(), 100).await.unwrap()
    }

    /// Waits (a little) for the registrations of a device to reach `n`.
    pub(crate) async fn wait_registrations(&self, device: Option<&str>, n: usize) -> Vec<Registration> {
        for _ in 0..500 {
            let r = self.registrations(device).await;
            if r.len() >= n {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.registrations(device).await
    }

    pub(crate) async fn start(&self) -> Server {
        self.start_with(CallManagerConfig::loopback()).await
    }

    pub(crate) async fn start_with(&self, config: CallManagerConfig) -> Server {
        let server = CallManagerServer::bind(self.store.clone(), config).await.unwrap();
        let addrs = server.addrs();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve_until(async {
            let _ = rx.await;
        }));
        Server { addrs, stop: Some(tx), task: Some(task), cm_cert: self.callmanager_cert().await }
    }
}

pub(crate) struct Phone {
    pub cert: Vec<u8>,
    pub key: PrivateKey,
}

impl Phone {
    /// Writes `cert.pem` and `key.pem` into `dir`, for openssl.
    pub(crate) fn write_pem(&self, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let cert = dir.join("lsc.pem");
        let key = dir.join("lsc.key");
        std::fs::write(&cert, opencapf_pki::pem::encode("CERTIFICATE", &self.cert)).unwrap();
        std::fs::write(&key, self.key.to_pem().as_bytes()).unwrap();
        (cert, key)
    }
}

pub(crate) struct Server {
    pub addrs: BoundAddrs,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), opencapf_callmanager::CallManagerError>>>,
    pub cm_cert: Vec<u8>,
}

impl Server {
    pub(crate) async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    Tls12,
    Tls13,
}

pub(crate) async fn tls_connect(
    addr: SocketAddr,
    cm_cert: &[u8],
    phone: Option<&Phone>,
    version: Version,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let versions = match version {
        Version::Tls12 => TlsVersions::Tls12Only,
        Version::Tls13 => TlsVersions::Tls13Only,
    };
    // The phone's trust-list check: exactly the CallManager certificate, byte for byte.
    let verifier = Arc::new(TrustListVerifier::new(vec![cm_cert.to_vec()]));
    let client_auth = phone.map(|p| (vec![p.cert.clone()], &p.key));
    let config = opencapf_capf::client::tls::client_config(verifier, versions, client_auth).unwrap();
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config)).connect(ServerName::try_from("cucm.lab").unwrap(), tcp).await
}

/// The rustls error inside an I/O error, if any.
pub(crate) fn rustls_error(e: &std::io::Error) -> Option<rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()).cloned()
}

/// A REGISTER as a Cisco phone sends it.
pub(crate) fn register(to_user: &str, from_user: &str, transport: &str, expires: u32) -> String {
    format!(
        "REGISTER sip:cucm.lab SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5555;branch=z9hG4bK{to_user}\r\n\
         From: <sip:{from_user}@cucm.lab>;tag=f1\r\n\
         To: <sip:{to_user}@cucm.lab>\r\n\
         Call-ID: c1@127.0.0.1\r\n\
         CSeq: 101 REGISTER\r\n\
         Max-Forwards: 70\r\n\
         Contact: <sip:{to_user}@127.0.0.1:5555;transport={}>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"\r\n\
         Expires: {expires}\r\n\
         Content-Length: 0\r\n\r\n",
        transport.to_ascii_lowercase()
    )
}

pub(crate) fn request(method: &str) -> String {
    format!(
        "{method} sip:cucm.lab SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:5555;branch=z9hG4bK{method}\r\n\
         From: <sip:SEP000000000001@cucm.lab>;tag=f1\r\n\
         To: <sip:cucm.lab>\r\n\
         Call-ID: {method}@127.0.0.1\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Sends a SIP request and reads one response.
pub(crate) async fn sip_exchange<S>(stream: &mut S, req: &str) -> Result<sip::Message, std::io::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    stream.write_all(req.as_bytes()).await?;
    stream.flush().await?;
    read_sip(stream).await
}

pub(crate) async fn read_sip<S>(stream: &mut S) -> Result<sip::Message, std::io::Error>
where
    S: tokio::io::AsyncRead + Unpin,
{
    let mut reader = sip::Reader::new(sip::Limits::default());
    loop {
        match reader.next(stream, Duration::from_secs(10), Duration::from_secs(10)).await {
            Ok(sip::Event::Message(m)) => return Ok(m),
            Ok(sip::Event::Ping) => continue,
            Ok(sip::Event::Closed) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Err(sip::ReadError::Io(e)) => return Err(e),
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        }
    }
}

/// Sends an SCCP frame and reads one back, past the CapabilitiesReq CallManager sends after
/// each RegisterAck.
pub(crate) async fn sccp_exchange<S>(stream: &mut S, frame: &sccp::Frame) -> Result<sccp::Frame, std::io::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    stream.write_all(&frame.encode()).await?;
    stream.flush().await?;
    loop {
        let f = read_sccp(stream).await?;
        if f.id != sccp::id::CAPABILITIES_REQ {
            return Ok(f);
        }
    }
}

/// Reads one SCCP frame, within 10 seconds.
pub(crate) async fn read_sccp<S>(stream: &mut S) -> Result<sccp::Frame, std::io::Error>
where
    S: tokio::io::AsyncRead + Unpin,
{
    match tokio::time::timeout(Duration::from_secs(10), sccp::read_frame(stream, 4096)).await {
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        Ok(Ok(Some(f))) => Ok(f),
        Ok(Ok(None)) => Err(std::io::ErrorKind::UnexpectedEof.into()),
        Ok(Err(sccp::FrameError::Io(e))) => Err(e),
        Ok(Err(e)) => Err(std::io::Error::other(e.to_string())),
    }
}

/// Whether the server closed the connection (EOF or reset) within a few seconds.
pub(crate) async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}
