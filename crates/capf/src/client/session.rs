//! The client state machine (§1.10 "Client") over TLS or any byte stream.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use opencapf_pki::{CertificateInfo, KeyAlgorithm, PrivateKey};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant, MissedTickBehavior};
use tokio_rustls::TlsConnector;

use super::credentials::auth_response;
use super::tls::{self, PresentedCertificate, TrustListVerifier};
use super::{
    ClientConfig, ClientError, InstallReport, Operation, PhoneIdentity, SessionEvent, SessionHandler, SessionOutcome,
    Stage, TlsInfo, DEFAULT_PORT,
};
use crate::proto::element::Tag;
use crate::proto::frame::{read_message, Command, FrameError, RawMessage};
use crate::proto::message::{
    CapfMessage, CertPackage, CertType, Curve, Decoded, DeleteCertificateResponse, FetchCertificateResponse,
    KeyGenResponse, KeySpec, Message, MessageError, Reason, RequestInProgress, StoreCertificateResponse,
};

/// The phone side of CAPF sessions.
pub struct CapfClient;

impl CapfClient {
    /// The TCP connection to `config.server` (port 3804 unless given), within the connect
    /// timeout, announced to `handler`: the start of a session over either TLS engine.
    pub async fn connect<H: SessionHandler>(config: &ClientConfig, handler: &mut H) -> Result<TcpStream, ClientError> {
        let (host, port) = split_server(&config.server)?;
        let tcp = match timeout(config.connect_timeout, TcpStream::connect((host.as_str(), port))).await {
            Err(_) => return Err(ClientError::Timeout(Stage::Connect)),
            Ok(Err(cause)) => return Err(ClientError::Connect { server: config.server.clone(), cause }),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        if let Ok(peer) = tcp.peer_addr() {
            handler.event(SessionEvent::Connected { peer });
        }
        Ok(tcp)
    }

    /// One CAPF session: TCP connect, TLS with the trust-list check, then the protocol until the
    /// server's EndSession. Returns what happened, or why the session did not reach its end.
    pub async fn run<H: SessionHandler>(
        config: &ClientConfig,
        identity: &PhoneIdentity,
        handler: &mut H,
    ) -> Result<SessionOutcome, ClientError> {
        let (host, _) = split_server(&config.server)?;
        let tcp = Self::connect(config, handler).await?;
        let verifier = Arc::new(TrustListVerifier::new(config.trust_list.clone()));
        let tls_config = tls::client_config(verifier.clone(), config.tls_versions, None)
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let name = tls::server_name(&host).map_err(|_| ClientError::Address(config.server.clone()))?;
        let connector = TlsConnector::from(Arc::new(tls_config));
        let handshake = timeout(config.handshake_timeout, connector.connect(name, tcp)).await;
        let presented = verifier.presented();
        if let Some(p) = &presented {
            handler.event(SessionEvent::ServerCertificate { der: p.der.clone(), trusted: p.trusted });
        }
        let stream = match handshake {
            Err(_) => return Err(ClientError::Timeout(Stage::Handshake)),
            Ok(Err(e)) => return Err(handshake_error(e, presented.as_ref())),
            Ok(Ok(s)) => s,
        };
        let (_, conn) = stream.get_ref();
        let info = TlsInfo {
            version: conn.protocol_version().map(opencapf_tls::version_name).unwrap_or_default(),
            cipher: conn.negotiated_cipher_suite().map(|s| opencapf_tls::cipher_name(s.suite())).unwrap_or_default(),
            server_certificate: presented.map(|p| p.der).unwrap_or_default(),
        };
        handler.event(SessionEvent::TlsEstablished { version: info.version.clone(), cipher: info.cipher.clone() });
        let mut outcome = Self::run_over(stream, config, identity, handler).await?;
        outcome.tls = Some(info);
        Ok(outcome)
    }

    /// The CAPF protocol over an already connected (and, for a real server, TLS-wrapped) stream.
    /// `config.server`, `trust_list` and the connect/handshake timeouts are not used. The stream is
    /// shut down at the end.
    pub async fn run_over<S, H>(
        stream: S,
        config: &ClientConfig,
        identity: &PhoneIdentity,
        handler: &mut H,
    ) -> Result<SessionOutcome, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
        H: SessionHandler,
    {
        let mut session = Session { stream, config, handler, session_id: None };
        let result = session.drive(identity).await;
        let _ = timeout(Duration::from_secs(1), session.stream.shutdown()).await;
        result
    }
}

/// `HOST`, `HOST:PORT`, an IP address, or `[IPv6]:PORT` → host and port (3804 by default).
pub(crate) fn split_server(server: &str) -> Result<(String, u16), ClientError> {
    let s = server.trim();
    let bad = || ClientError::Address(server.to_string());
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok((sa.ip().to_string(), sa.port()));
    }
    if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok((ip.to_string(), DEFAULT_PORT));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
        None => (s, DEFAULT_PORT),
    };
    if host.is_empty() || host.contains([':', '/', ' ', '[', ']']) || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

fn handshake_error(e: std::io::Error, presented: Option<&PresentedCertificate>) -> ClientError {
    if let Some(p) = presented.filter(|p| !p.trusted) {
        let (subject, issuer) = match CertificateInfo::parse(&p.der) {
            Ok(i) => (i.subject, i.issuer),
            Err(_) => ("(unparsable)".into(), "(unparsable)".into()),
        };
        return ClientError::ServerNotTrusted { subject, issuer, fingerprint: opencapf_pki::fingerprint(&p.der) };
    }
    if let Some(rustls::Error::AlertReceived(alert)) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return ClientError::TlsAlert(opencapf_tls::alert_name(*alert));
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
            ClientError::Closed(Stage::Handshake)
        }
        _ => ClientError::Tls(e.to_string()),
    }
}

/// The key a KeyGenRequest asks for, if this phone can make it.
fn key_algorithm(spec: KeySpec) -> Result<KeyAlgorithm, String> {
    match spec {
        KeySpec::Rsa { bits } => {
            KeyAlgorithm::rsa(u32::from(bits)).ok_or_else(|| format!("RSA {bits}-bit keys are not supported"))
        }
        KeySpec::Ec { curve: Curve::P256 } => Ok(KeyAlgorithm::Ec256),
        KeySpec::Ec { curve: Curve::P384 } => Ok(KeyAlgorithm::Ec384),
        KeySpec::Ec { curve: Curve::P521 } => Ok(KeyAlgorithm::Ec521),
    }
}

/// The delivered LSC must be an LSC for the key just generated.
fn check_lsc(cert_type: CertType, der: &[u8], key: &PrivateKey) -> Result<(), String> {
    if cert_type != CertType::Lsc {
        return Err(format!("StoreCertificateRequest for certificate type {}, not an LSC", u8::from(cert_type)));
    }
    let info = CertificateInfo::parse(der).map_err(|e| format!("the delivered certificate: {e}"))?;
    if info.public_key_der != key.public_key_der() {
        return Err("the delivered certificate is not for the key just generated".into());
    }
    Ok(())
}

struct Session<'a, S, H> {
    stream: S,
    config: &'a ClientConfig,
    handler: &'a mut H,
    session_id: Option<u32>,
}

impl<S, H> Session<'_, S, H>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    H: SessionHandler,
{
    async fn drive(&mut self, identity: &PhoneIdentity) -> Result<SessionOutcome, ClientError> {
        // The AuthRequest opens every session and gives the session id (§1.7).
        let raw = self.read(Stage::AuthRequest).await?;
        self.session_id = Some(raw.session_id);
        let mut outcome = SessionOutcome {
            session_id: raw.session_id,
            tls: None,
            server_version: 0,
            server_auth_type: None,
            operation: Operation::None,
            end_reason: Reason::NoAction,
        };
        match self.decode(&raw)?.message {
            Message::AuthRequest(a) => {
                outcome.server_version = a.version;
                outcome.server_auth_type = a.auth_type;
                self.handler.event(SessionEvent::AuthRequest {
                    session_id: raw.session_id,
                    version: a.version,
                    auth_type: a.auth_type,
                });
            }
            // Not in any sample, but an EndSession is a clear answer.
            Message::EndSession(e) => return Ok(self.ended(outcome, e.reason)),
            _ => return Err(ClientError::UnexpectedCommand { stage: Stage::AuthRequest, got: raw.command }),
        }
        let response = auth_response(identity, self.config.version, raw.session_id)?;
        self.send(&response).await?;
        self.handler.event(SessionEvent::AuthResponseSent { credentials: identity.credentials.kind() });

        let raw = self.read(Stage::Operation).await?;
        match raw.command {
            Command::EndSession => {
                let reason = self.end_reason(&raw)?;
                return Ok(self.ended(outcome, reason));
            }
            Command::KeyGenRequest => {
                let (report, ended) = self.install(&raw).await?;
                outcome.operation = Operation::Install(report);
                if let Some(reason) = ended {
                    return Ok(self.ended(outcome, reason));
                }
            }
            Command::DeleteCertificateRequest => outcome.operation = self.delete(&raw).await?,
            Command::FetchCertificateRequest => outcome.operation = self.fetch(&raw).await?,
            got => return Err(ClientError::UnexpectedCommand { stage: Stage::Operation, got }),
        }

        let raw = self.read(Stage::EndSession).await?;
        if raw.command != Command::EndSession {
            return Err(ClientError::UnexpectedCommand { stage: Stage::EndSession, got: raw.command });
        }
        let reason = self.end_reason(&raw)?;
        Ok(self.ended(outcome, reason))
    }

    fn ended(&mut self, mut outcome: SessionOutcome, reason: Reason) -> SessionOutcome {
        self.handler.event(SessionEvent::EndSession { reason });
        outcome.end_reason = reason;
        outcome
    }

    fn end_reason(&mut self, raw: &RawMessage) -> Result<Reason, ClientError> {
        match self.decode(raw)?.message {
            Message::EndSession(e) => Ok(e.reason),
            _ => Err(ClientError::UnexpectedCommand { stage: Stage::EndSession, got: raw.command }),
        }
    }

    /// Install/Upgrade: KeyGenRequest → [RequestInProgress…] → KeyGenResponse →
    /// StoreCertificateRequest → StoreCertificateResponse. Returns the EndSession reason too when
    /// the server ended the session instead of delivering a certificate.
    async fn install(&mut self, raw: &RawMessage) -> Result<(InstallReport, Option<Reason>), ClientError> {
        let mut report = InstallReport {
            key: None,
            keygen_time: Duration::ZERO,
            requests_in_progress: 0,
            keygen_error: None,
            lsc: None,
            stored: false,
            store_error: None,
        };
        // A KeyGenRequest that frames well but asks for something unknown (a curve code 3, no key
        // size) is answered with a failed KeyGenResponse; broken framing ends the session.
        let spec = match Message::decode(raw) {
            Ok(d) => {
                self.report_ignored(&d);
                match d.message {
                    Message::KeyGenRequest(k) => Ok(k.key),
                    _ => unreachable!("decoded by command"),
                }
            }
            Err(cause @ MessageError::Element(_)) => {
                return Err(ClientError::Message { command: raw.command, cause });
            }
            Err(e) => Err(format!("cannot read the KeyGenRequest: {e}")),
        };
        let generated = match spec {
            Ok(key) => {
                report.key = Some(key);
                self.handler.event(SessionEvent::KeyGenRequest { key });
                match key_algorithm(key) {
                    Ok(alg) => match self.handler.prepared_key(alg).filter(|k| k.algorithm() == alg) {
                        Some(key) => Ok(key),
                        None => self.generate(alg, &mut report).await?,
                    },
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        let key = match generated {
            Ok(k) => {
                if let Some(spec) = report.key {
                    self.handler.event(SessionEvent::KeyGenerated { key: spec, elapsed: report.keygen_time });
                }
                self.send(&KeyGenResponse { reason: None, public_key: Some(k.public_key_der().to_vec()) }).await?;
                k
            }
            Err(error) => {
                self.handler.event(SessionEvent::KeyGenFailed { key: report.key, error: error.clone() });
                report.keygen_error = Some(error);
                self.send(&KeyGenResponse { reason: Some(Reason::InvalidElement), public_key: None }).await?;
                return Ok((report, None));
            }
        };

        let raw = self.read(Stage::StoreCertificate).await?;
        let request = match self.decode(&raw)?.message {
            Message::StoreCertificateRequest(r) => r,
            Message::EndSession(e) => return Ok((report, Some(e.reason))),
            _ => return Err(ClientError::UnexpectedCommand { stage: Stage::StoreCertificate, got: raw.command }),
        };
        let der = request.certificate.der;
        self.handler.event(SessionEvent::StoreCertificateRequest { der: der.clone() });
        let stored = check_lsc(request.cert_type, &der, &key).and_then(|()| self.handler.store_lsc(&der, &key));
        report.lsc = Some(der);
        let reason = match stored {
            Ok(()) => {
                report.stored = true;
                Reason::OK
            }
            Err(e) => {
                report.store_error = Some(e);
                Reason::InvalidElement
            }
        };
        self.send(&StoreCertificateResponse { reason }).await?;
        self.handler.event(SessionEvent::StoreCertificateResponse { reason, error: report.store_error.clone() });
        Ok((report, None))
    }

    /// Generates the key on a blocking thread, sending RequestInProgress every
    /// `progress_interval` until it is done (and at least `min_keygen_time` has passed).
    async fn generate(
        &mut self,
        alg: KeyAlgorithm,
        report: &mut InstallReport,
    ) -> Result<Result<PrivateKey, String>, ClientError> {
        let start = Instant::now();
        let min = self.config.min_keygen_time;
        let work = async move {
            let generated = tokio::task::spawn_blocking(move || PrivateKey::generate(alg)).await;
            tokio::time::sleep_until(start + min).await;
            match generated {
                Ok(Ok(k)) => Ok(k),
                Ok(Err(e)) => Err(format!("key generation failed: {e}")),
                Err(e) => Err(format!("key generation task failed: {e}")),
            }
        };
        tokio::pin!(work);
        let result = match self.config.progress_interval {
            None => work.await,
            Some(every) => {
                let every = every.max(Duration::from_millis(1));
                let mut ticker = tokio::time::interval_at(start + every, every);
                ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        biased;
                        r = &mut work => break r,
                        _ = ticker.tick() => {
                            self.send(&RequestInProgress).await?;
                            report.requests_in_progress += 1;
                            self.handler.event(SessionEvent::RequestInProgressSent { elapsed: start.elapsed() });
                        }
                    }
                }
            }
        };
        report.keygen_time = start.elapsed();
        Ok(result)
    }

    async fn delete(&mut self, raw: &RawMessage) -> Result<Operation, ClientError> {
        self.decode(raw)?;
        self.handler.event(SessionEvent::DeleteCertificateRequest);
        let result = self.handler.delete_lsc();
        let (reason, error) = match &result {
            Ok(true) => (Reason::OK, None),
            Ok(false) => (Reason::InvalidElement, Some("no LSC to delete".to_string())),
            Err(e) => (Reason::InvalidElement, Some(e.clone())),
        };
        self.send(&DeleteCertificateResponse { reason }).await?;
        self.handler.event(SessionEvent::DeleteCertificateResponse { reason, error });
        Ok(Operation::Delete { result })
    }

    async fn fetch(&mut self, raw: &RawMessage) -> Result<Operation, ClientError> {
        // capfd names no certificate type; a CertificateType element, if a server sends one, says
        // which certificate it wants (§1.9 (c) leaves this open).
        let elements = raw.elements().map_err(|e| ClientError::Message { command: raw.command, cause: e.into() })?;
        let requested = match elements.get(Tag::CertificateType) {
            Some([b]) => Some(CertType::from(*b)),
            _ => None,
        };
        let decoded = self.decode_quiet(raw)?;
        let ignored: Vec<u8> =
            decoded.ignored_tags.into_iter().filter(|&t| t != u8::from(Tag::CertificateType)).collect();
        if !ignored.is_empty() {
            self.handler.event(SessionEvent::IgnoredElements { command: raw.command, tags: ignored });
        }
        self.handler.event(SessionEvent::FetchCertificateRequest { requested });
        let uploaded = self.handler.certificate_to_upload(requested);
        let reason = if uploaded.is_some() { Reason::OK } else { Reason::InvalidElement };
        let response = FetchCertificateResponse { reason, certificate: uploaded.clone().map(CertPackage::new) };
        self.send(&response).await?;
        self.handler.event(SessionEvent::FetchCertificateResponse { reason });
        Ok(Operation::Fetch { requested, uploaded })
    }

    /// Reads one server message within the message timeout and checks its session id.
    async fn read(&mut self, stage: Stage) -> Result<RawMessage, ClientError> {
        let raw = match timeout(self.config.message_timeout, read_message(&mut self.stream)).await {
            Err(_) => return Err(ClientError::Timeout(stage)),
            Ok(Err(FrameError::Closed)) => return Err(ClientError::Closed(stage)),
            Ok(Err(FrameError::Io(e)))
                if matches!(e.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset) =>
            {
                return Err(ClientError::Closed(stage));
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(raw)) => raw,
        };
        if let Some(expected) = self.session_id {
            if raw.session_id != expected {
                return Err(ClientError::SessionIdMismatch { expected, got: raw.session_id, command: raw.command });
            }
        }
        Ok(raw)
    }

    fn decode_quiet(&mut self, raw: &RawMessage) -> Result<Decoded, ClientError> {
        Message::decode(raw).map_err(|cause| ClientError::Message { command: raw.command, cause })
    }

    fn decode(&mut self, raw: &RawMessage) -> Result<Decoded, ClientError> {
        let d = self.decode_quiet(raw)?;
        self.report_ignored(&d);
        Ok(d)
    }

    fn report_ignored(&mut self, d: &Decoded) {
        if !d.ignored_tags.is_empty() {
            self.handler
                .event(SessionEvent::IgnoredElements { command: d.message.command(), tags: d.ignored_tags.clone() });
        }
    }

    /// Sends one message as one write: header and body in one buffer, then a flush.
    async fn send<M: CapfMessage>(&mut self, message: &M) -> Result<(), ClientError> {
        let session_id = self.session_id.unwrap_or(0);
        let bytes = message.encode(session_id).map_err(ClientError::Encode)?;
        let stream = &mut self.stream;
        let write = async move {
            stream.write_all(&bytes).await?;
            stream.flush().await
        };
        match timeout(self.config.message_timeout, write).await {
            Err(_) => Err(ClientError::Timeout(Stage::Write)),
            Ok(r) => r.map_err(ClientError::Io),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let ok = |s: &str| split_server(s).unwrap();
        assert_eq!(ok("capf.example.com"), ("capf.example.com".into(), 3804));
        assert_eq!(ok("capf:4000"), ("capf".into(), 4000));
        assert_eq!(ok("127.0.0.1"), ("127.0.0.1".into(), 3804));
        assert_eq!(ok("127.0.0.1:3805"), ("127.0.0.1".into(), 3805));
        assert_eq!(ok("::1"), ("::1".into(), 3804));
        assert_eq!(ok("[::1]"), ("::1".into(), 3804));
        assert_eq!(ok("[::1]:4000"), ("::1".into(), 4000));
        for bad in ["", "host:", "host:99999", "host:0", "a b:1", ":3804"] {
            assert!(split_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_sizes_the_phone_makes() {
        assert_eq!(key_algorithm(KeySpec::Rsa { bits: 1024 }), Ok(KeyAlgorithm::Rsa1024));
        assert_eq!(key_algorithm(KeySpec::Rsa { bits: 4096 }), Ok(KeyAlgorithm::Rsa4096));
        assert!(key_algorithm(KeySpec::Rsa { bits: 512 }).is_err());
        assert_eq!(key_algorithm(KeySpec::Ec { curve: Curve::P521 }), Ok(KeyAlgorithm::Ec521));
    }
}
