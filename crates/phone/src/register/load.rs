//! SIP-over-TLS registrations without a phone folder, for load tools that hold thousands of
//! phones in one process (`opencapf bench register`): the same REGISTER, TLS client (trust-list
//! check of CallManager, AES-128 first) and answer reading as [`Phone::register`](crate::Phone::register),
//! with no console log, ITL or files. Encrypted profile: TLS 1.2 and 1.3 offered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_callmanager::sip;
use opencapf_capf::client::tls::{self, TrustListVerifier};
use opencapf_capf::client::TlsVersions;
use opencapf_pki::{CertificateInfo, DeviceName, PrivateKey};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::sip_exchange::{final_answer, register_request, sip_exchange};
use super::stay::refreshed;
use super::tls_client::client_config;
use super::{Answer, Failure};
use crate::{CertKind, DeviceCertificate, PhoneError, Result};

/// Why a load registration did not hold. Reason phrases from the wire are escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadFailure {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("TLS handshake: {0}")]
    Handshake(String),
    #[error("CallManager sent the TLS alert {0}")]
    Alert(String),
    #[error("refused: {code} {reason}")]
    Refused { code: u16, reason: String },
    #[error("{0}")]
    Other(String),
}

impl From<Failure> for LoadFailure {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Alert(a) => LoadFailure::Alert(a),
            Failure::Other(o) => LoadFailure::Other(o),
        }
    }
}

/// One phone of a load run: its device name, model and TLS client with its certificate.
pub struct LoadPhone {
    device: String,
    model: String,
    connector: TlsConnector,
}

impl LoadPhone {
    /// A phone presenting `cert_der` (its LSC) with `key`, accepting CallManager only when its
    /// certificate is one of `trust` (DER).
    pub fn new(
        device: &DeviceName,
        model: &str,
        cert_der: Vec<u8>,
        key: PrivateKey,
        trust: Vec<Vec<u8>>,
    ) -> Result<LoadPhone> {
        let info = CertificateInfo::parse(&cert_der)?;
        let cert = DeviceCertificate { kind: CertKind::Lsc, der: cert_der, info, key };
        let verifier = Arc::new(TrustListVerifier::new(trust));
        let config = client_config(verifier, TlsVersions::Tls12And13, &cert).map_err(PhoneError::Invalid)?;
        Ok(LoadPhone {
            device: device.to_string(),
            model: model.to_owned(),
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Connects to `server` and completes the TLS handshake, each step within `wait`: the
    /// connection a registration is made on, for load tools speaking something else over it.
    pub async fn connect(
        &self,
        server: SocketAddr,
        wait: Duration,
    ) -> std::result::Result<TlsStream<TcpStream>, LoadFailure> {
        let tcp = match timeout(wait, TcpStream::connect(server)).await {
            Err(_) => return Err(LoadFailure::Connect("timed out".into())),
            Ok(Err(e)) => return Err(LoadFailure::Connect(e.to_string())),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let name = tls::server_name(&server.ip().to_string()).map_err(LoadFailure::Other)?;
        match timeout(wait, self.connector.connect(name, tcp)).await {
            Err(_) => Err(LoadFailure::Handshake("timed out".into())),
            Ok(Err(e)) => Err(Failure::from_io(&e, "TLS handshake").into()),
            Ok(Ok(s)) => Ok(s),
        }
    }

    /// Connects to `server`, handshakes and REGISTERs asking for `expires` seconds; each step
    /// waits at most `wait`. The connection stays open for [`LoadRegistration::refresh`].
    pub async fn register(
        &self,
        server: SocketAddr,
        expires: u32,
        wait: Duration,
    ) -> std::result::Result<LoadRegistration, LoadFailure> {
        let mut stream = self.connect(server, wait).await?;
        let local = stream.get_ref().0.local_addr().map_err(|e| LoadFailure::Connect(e.to_string()))?;
        let host = server.ip().to_string();
        let register = register_request(&self.device, &host, local, true, expires, &self.model);
        let granted = granted(sip_exchange(&mut stream, &register, wait).await)?;
        Ok(LoadRegistration { stream, reader: sip::Reader::new(sip::Limits::default()), register, cseq: 101, granted })
    }
}

/// A registration held open on its TLS connection.
pub struct LoadRegistration {
    stream: TlsStream<TcpStream>,
    reader: sip::Reader,
    register: sip::Message,
    cseq: u32,
    /// The Expires CallManager granted last, if it said.
    pub granted: Option<u32>,
}

impl LoadRegistration {
    /// Sends the REGISTER again (next CSeq, new branch) on the same connection and waits at most
    /// `wait` for its final answer; CallManager's own requests meanwhile are skipped.
    pub async fn refresh(&mut self, expires: u32, wait: Duration) -> std::result::Result<(), LoadFailure> {
        self.cseq += 1;
        let m = refreshed(self.register.clone(), self.cseq, expires);
        let sent = timeout(wait, async {
            self.stream.write_all(&m.to_bytes()).await?;
            self.stream.flush().await
        })
        .await;
        match sent {
            Err(_) => return Err(LoadFailure::Other("timed out sending the REGISTER".into())),
            Ok(Err(e)) => return Err(Failure::from_io(&e, "sending the REGISTER").into()),
            Ok(Ok(())) => {}
        }
        self.granted = granted(final_answer(&mut self.reader, &mut self.stream, wait).await)?;
        Ok(())
    }

    /// Closes the connection (TLS close_notify), waiting at most a second.
    pub async fn close(mut self) {
        let _ = timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }
}

fn granted(a: std::result::Result<Answer, Failure>) -> std::result::Result<Option<u32>, LoadFailure> {
    match a? {
        Answer::SipFinal { code: 200..=299, expires, .. } => Ok(expires),
        Answer::SipFinal { code, reason, .. } => {
            Err(LoadFailure::Refused { code, reason: opencapf_model::printable(&reason).into_owned() })
        }
        _ => Err(LoadFailure::Other("not a SIP answer".into())),
    }
}
