//! A TVS server on 127.0.0.1:0 with an in-memory directory and a self-signed RSA TVS certificate,
//! and a raw TLS client that trusts it.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_model::Role;
use opencapf_net::{CancellationToken, Limits, WhenFull};
use opencapf_pki::{profiles, KeyAlgorithm, PrivateKey, SubjectFields};
use opencapf_tls::{Identity, IdentitySource, SourceError, TlsVersions, TrustListVerifier};
use opencapf_tvs::{Answer, Directory, TvsError, TvsOptions, TvsServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A certificate and its key.
pub struct Cert {
    pub der: Vec<u8>,
    pub key: PrivateKey,
}

/// A self-signed RSA 2048 certificate `CN=<name>`, as a TVS or CallManager certificate is.
pub fn rsa_cert(name: &str) -> Cert {
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let subject = SubjectFields { organization: Some("Lab".into()), ..SubjectFields::default() };
    let der = profiles::callmanager_certificate(&key, name, &subject, 365, opencapf_testkit::now()).unwrap().der;
    Cert { der, key }
}

/// The cluster's answer, by SHA-256 fingerprint of the DER (as tvsd keys its table).
pub struct MemoryDirectory(pub HashMap<String, Vec<Role>>);

impl Directory for MemoryDirectory {
    async fn vouch(&self, certificate: &[u8]) -> Result<Option<Vec<Role>>, String> {
        Ok(self.0.get(&opencapf_pki::fingerprint(certificate)).cloned())
    }
}

/// The TVS certificate, fixed.
pub struct FixedIdentity {
    pub der: Vec<u8>,
    pub pkcs8: Vec<u8>,
}

impl IdentitySource for FixedIdentity {
    type Extra = ();

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(opencapf_pki::fingerprint(&self.der))
    }

    async fn load(&self) -> Result<Identity<()>, SourceError> {
        Ok(Identity {
            fingerprint: opencapf_pki::fingerprint(&self.der),
            chain: vec![self.der.clone()],
            key: self.pkcs8.clone(),
            extra: (),
        })
    }
}

/// A running TVS server; stopped on drop.
pub struct Tvs {
    pub addr: SocketAddr,
    pub certificate: Vec<u8>,
    stop: CancellationToken,
}

impl Tvs {
    /// [`opencapf_tvs::verify`] as a phone whose ITL holds this server's certificate.
    pub async fn verify(&self, device: &str, certificate: &[u8]) -> Result<Answer, TvsError> {
        let trusted = std::slice::from_ref(&self.certificate);
        opencapf_tvs::verify(&self.addr.to_string(), trusted, device, certificate, Duration::from_secs(20)).await
    }
}

impl Drop for Tvs {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub const LIMITS: Limits = Limits { max_connections: 64, max_per_source: Some(32), when_full: WhenFull::Close };

/// Starts TVS with `known` (certificate DER, roles) in its directory; requests must arrive within
/// 1 s of the handshake, so that a stalled client is closed quickly.
pub async fn start(tvs: &Cert, known: &[(&[u8], Vec<Role>)]) -> Tvs {
    start_with(tvs, known, TvsOptions { request_timeout: Duration::from_secs(1), ..TvsOptions::default() }).await
}

pub async fn start_with(tvs: &Cert, known: &[(&[u8], Vec<Role>)], options: TvsOptions) -> Tvs {
    let directory =
        MemoryDirectory(known.iter().map(|(der, roles)| (opencapf_pki::fingerprint(der), roles.clone())).collect());
    start_directory(tvs, directory, options).await
}

pub async fn start_directory(tvs: &Cert, directory: impl Directory, options: TvsOptions) -> Tvs {
    let identity = FixedIdentity { der: tvs.der.clone(), pkcs8: tvs.key.pkcs8_der().to_vec() };
    let server = TvsServer::new(directory, identity, "127.0.0.1:0".parse().unwrap(), LIMITS).with_options(options);
    let listener = server.bind().await.unwrap();
    let addr = listener.local_addr();
    let stop = CancellationToken::new();
    tokio::spawn(listener.run(stop.clone()));
    Tvs { addr, certificate: tvs.der.clone(), stop }
}

/// Connects over TLS trusting `trusted`, writes `bytes` (write errors ignored: the server may
/// close first), and returns what the server sent before closing (at most 10 s).
pub async fn exchange_raw(addr: SocketAddr, trusted: &[u8], bytes: &[u8]) -> Vec<u8> {
    let verifier = Arc::new(TrustListVerifier::new(vec![trusted.to_vec()]));
    let config =
        opencapf_tls::client_config(opencapf_tls::provider(), TlsVersions::Tls12And13, verifier, None).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = connector.connect("127.0.0.1".try_into().unwrap(), tcp).await.unwrap();
    let _ = tls.write_all(bytes).await;
    let _ = tls.flush().await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server closes within its timeouts");
    got
}

/// A plain TCP client: writes `bytes`, returns what came back before the close (at most 10 s).
pub async fn exchange_plain(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let _ = tcp.write_all(bytes).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server closes within its timeouts");
    got
}
