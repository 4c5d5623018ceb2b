//! One CAPF session, from the TLS handshake to EndSession (§1.9, §1.10):
//!
//! ```text
//! TLS handshake -> AuthRequest -> AuthResponse -> device lookup, operation claimed
//!   unknown device        -> EndSession 9
//!   no pending operation  -> EndSession 0
//!   another session on it -> logged, EndSession 7
//!   deadline passed       -> recorded, EndSession 7
//!   authentication fails  -> recorded, EndSession 7
//!   Install/Upgrade -> KeyGenRequest -> [RequestInProgress…] -> KeyGenResponse -> LSC recorded
//!                   -> StoreCertificateRequest -> StoreCertificateResponse -> committed, EndSession 1
//!   Delete          -> DeleteCertificateRequest -> DeleteCertificateResponse -> EndSession 1
//!   Troubleshoot    -> FetchCertificateRequest -> FetchCertificateResponse -> EndSession 0
//! ```
//!
//! Once a device with a pending operation is known, every way the session can end is recorded
//! with the status that says what happened; before that nothing is recorded (there is no device
//! to record it on), and the outcome is only logged. One log line per session.

use std::net::SocketAddr;
use std::sync::Arc;

use opencapf_cluster::Cluster;
use opencapf_cluster::{Attempt, Begin, CertSummary, Origin, Upload};
use opencapf_model::{failure_status, now, AuthMode, CertKind, CertificateOperation, Device, Failure};
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{names_device, CertificateInfo, DeviceName, IssuedCertificate};
use opencapf_telemetry::{self as telemetry, CapfOperation, CapfResult};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::auth::{self, Presented, TrustContext};
use super::conn::{Conn, Fault, ProtocolError};
use super::keys;
use super::stop::{Internal, Refusal, Stop};
use super::tls::{handshake, tls_session, Identity};
use super::Shared;
use crate::proto::element::{iter_elements, Tag};
use crate::proto::message::{
    AuthRequest, AuthResponse, AuthType, CapfMessage, CertPackage, CertType, DeleteCertificateRequest,
    DeleteCertificateResponse, FetchCertificateRequest, FetchCertificateResponse, KeyGenRequest, KeyGenResponse,
    Message, Reason, StoreCertificateRequest, StoreCertificateResponse,
};

/// Runs one accepted connection to its end and logs its outcome.
pub(crate) async fn run(
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    session_id: u32,
    stop: CancellationToken,
) {
    let _ = tcp.set_nodelay(true);
    let outcome = shared.store.connection(serve(&shared, tcp, peer, session_id, stop)).await;
    outcome.log(session_id, peer);
    outcome.count();
}

/// The connection's TLS handshake and session.
async fn serve(
    shared: &Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    session_id: u32,
    stop: CancellationToken,
) -> Outcome {
    match handshake(shared, tcp).await {
        Ok((stream, identity)) => {
            let session_tls = tls_session(&stream.session());
            let conn = Conn::new(stream, session_id, shared.config.read_timeout, stop);
            let session = Session {
                shared,
                identity,
                outcome: Outcome { tls: Some(session_tls.to_string()), ..Outcome::default() },
                origin: Origin { session_id, peer: peer.to_string(), tls: Some(session_tls) },
            };
            session.run(conn).await
        }
        // A refusal of the client's TLS (a version or suites the cluster does not serve) is the
        // administrator's business, the rest (scanners, resets) is noise.
        Err(e) => Outcome {
            level: e.level(),
            result: e.to_string(),
            kind: Some(CapfResult::TlsHandshake),
            ..Outcome::default()
        },
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Level {
    #[default]
    Info,
    Warn,
    Error,
}

/// What the session's log line says.
#[derive(Debug, Default)]
struct Outcome {
    device: Option<String>,
    operation: Option<CertificateOperation>,
    auth_mode: Option<AuthMode>,
    result: String,
    /// The issued LSC's serial.
    serial: Option<String>,
    /// The certificate the phone authenticated with (or tried to).
    presented: Option<String>,
    tls: Option<String>,
    level: Level,
    /// How it ended, for the metrics; set by every way a session ends.
    kind: Option<CapfResult>,
}

impl Outcome {
    fn count(&self) {
        let operation = self.operation.map_or(CapfOperation::None, CapfOperation::from);
        // Every end sets `kind`; one that did not would be a bug of CAPF's, counted as such.
        telemetry::capf_session(operation, self.kind.unwrap_or(CapfResult::InternalError));
    }

    fn log(&self, session: u32, peer: SocketAddr) {
        let device = self.device.as_deref().unwrap_or("-");
        let operation = self.operation.map(|o| o.as_str()).unwrap_or("-");
        let auth_mode = self.auth_mode.map(|m| m.as_str()).unwrap_or("-");
        let serial = self.serial.as_deref().unwrap_or("-");
        let tls = self.tls.as_deref().unwrap_or("-");
        let presented = self.presented.as_deref().unwrap_or("-");
        macro_rules! line {
            ($macro:ident) => {
                tracing::$macro!(
                    session,
                    %peer,
                    device = %device,
                    operation = %operation,
                    auth_mode = %auth_mode,
                    result = %self.result,
                    serial = %serial,
                    presented = %presented,
                    tls = %tls,
                    "CAPF session ended"
                )
            };
        }
        match self.level {
            Level::Info => line!(info),
            Level::Warn => line!(warn),
            Level::Error => line!(error),
        }
    }
}

/// A finished operation: the status recorded and the EndSession reason.
struct Done {
    status: String,
    end: Reason,
}

struct Session<'a> {
    shared: &'a Shared,
    identity: Arc<Identity>,
    origin: Origin,
    outcome: Outcome,
}

impl Session<'_> {
    fn store(&self) -> &Cluster {
        &self.shared.store
    }

    async fn run(mut self, mut conn: Conn) -> Outcome {
        let end = self.serve(&mut conn).await;
        conn.close(end).await;
        self.outcome
    }

    /// The session; returns the EndSession reason to send, if any.
    async fn serve(&mut self, conn: &mut Conn) -> Option<Reason> {
        let hello = AuthRequest { version: 3, auth_type: Some(AuthType::Unspecified) };
        if let Err(fault) = conn.send(hello).await {
            return self.unrecorded(fault);
        }
        let response = match conn.expect::<AuthResponse>(self.shared.config.auth_timeout).await {
            Ok(r) => r.message,
            Err(fault) => return self.unrecorded(fault),
        };
        // Escaped and cut: until it names a device, it is whatever the peer sent.
        self.outcome.device =
            Some(response.device_name.chars().take(64).collect::<String>().escape_debug().to_string());
        let Ok(name) = response.device_name.parse::<DeviceName>() else {
            self.outcome.result = "unknown device (not a device name)".into();
            self.outcome.kind = Some(CapfResult::UnknownDevice);
            return Some(Reason::UnknownDevice);
        };
        let hold_for = self.shared.config.max_session_duration();
        let (device, claim) = match self.store().begin(&name, &self.origin, now(), hold_for).await {
            Err(e) => return self.internal(format!("looking up the device: {e}")),
            Ok(Begin::UnknownDevice) => {
                self.outcome.result = "unknown device".into();
                self.outcome.kind = Some(CapfResult::UnknownDevice);
                return Some(Reason::UnknownDevice);
            }
            Ok(Begin::NoPendingOperation(_)) => {
                self.outcome.result = "no pending operation".into();
                self.outcome.kind = Some(CapfResult::NoPendingOperation);
                return Some(Reason::NoAction);
            }
            Ok(Begin::Late { device, status }) => {
                self.outcome.operation = Some(device.capf.operation);
                self.outcome.auth_mode = Some(device.capf.auth_mode);
                self.outcome.result = status;
                self.outcome.kind = Some(CapfResult::Late);
                self.outcome.level = Level::Warn;
                return Some(Reason::InvalidElement);
            }
            Ok(Begin::InProgress { device, by }) => {
                // Not recorded: one guess at a time per device, and no history row per refusal.
                self.outcome.operation = Some(device.capf.operation);
                self.outcome.auth_mode = Some(device.capf.auth_mode);
                self.outcome.result = format!("refused: the device's operation is in progress in {by}");
                self.outcome.kind = Some(CapfResult::InProgress);
                self.outcome.level = Level::Warn;
                return Some(Reason::InvalidElement);
            }
            Ok(Begin::Pending { device, claim }) => (device, claim),
        };
        self.outcome.device = Some(device.name.to_string());
        self.outcome.operation = Some(device.capf.operation);
        self.outcome.auth_mode = Some(device.capf.auth_mode);
        let mut attempt = Attempt::new(&device, self.origin.clone(), claim);
        let result = self.operate(conn, &device, &response, &mut attempt).await;
        self.outcome.presented =
            attempt.presented.as_ref().map(|p| format!("{} serial {} issuer {}", p.kind, p.serial, p.issuer));
        match result {
            Ok(done) => {
                self.outcome.result = done.status;
                self.outcome.kind = Some(match device.capf.operation {
                    CertificateOperation::NoPendingOperation => CapfResult::NoPendingOperation,
                    _ => CapfResult::Success,
                });
                Some(done.end)
            }
            Err(stop) => self.record(&attempt, stop).await,
        }
    }

    /// A session that ended before any device with a pending operation was known.
    fn unrecorded(&mut self, fault: Fault) -> Option<Reason> {
        self.outcome.result = fault.to_string();
        self.outcome.kind = Some(match fault {
            Fault::Stopping => CapfResult::Stopped,
            Fault::Encode(_) => CapfResult::InternalError,
            Fault::Disconnected(_) | Fault::Timeout(_) | Fault::Protocol(_) => CapfResult::NoAuthResponse,
        });
        fault.can_end().then_some(Reason::InvalidElement)
    }

    fn internal(&mut self, detail: String) -> Option<Reason> {
        self.outcome.result = format!("internal error: {detail}");
        self.outcome.kind = Some(CapfResult::InternalError);
        self.outcome.level = Level::Error;
        Some(Reason::InvalidElement)
    }

    /// Records how an operation failed; returns the EndSession reason to send, if any.
    async fn record(&mut self, attempt: &Attempt, stop: Stop) -> Option<Reason> {
        let (Refusal { failure, detail }, issued, end) = match stop {
            Stop::Failed { refusal, issued, end } => {
                self.outcome.kind = Some(refusal.failure.into());
                (refusal, issued, end)
            }
            Stop::Recorded { result } => {
                // Only a wrong authentication string is recorded where it is decided.
                self.outcome.kind = Some(CapfResult::InvalidAuthenticationString);
                self.outcome.result = result;
                self.outcome.level = Level::Warn;
                return Some(Reason::InvalidElement);
            }
            Stop::Internal(e) => {
                self.outcome.kind = Some(CapfResult::InternalError);
                self.outcome.level = Level::Error;
                let detail = format!("CAPF could not complete the operation: {e}");
                (Refusal::new(Failure::Unspecified, detail), None, true)
            }
        };
        let store = self.store();
        let recorded = match &issued {
            Some(serial) => store.fail_install(attempt, serial, failure, &detail).await,
            None => store.fail(attempt, failure, &detail).await,
        };
        let status = match recorded {
            Ok(status) => status,
            Err(e) => {
                // A late session (its claim gone) lands here too: nothing it could overwrite.
                let _ = store.release(attempt).await;
                self.outcome.level = Level::Error;
                format!("{} (could not be recorded: {e})", failure_status(attempt.operation, failure))
            }
        };
        if self.outcome.level == Level::Info {
            self.outcome.level = Level::Warn;
        }
        self.outcome.result = format!("{status}: {detail}");
        if issued.is_some() {
            self.outcome.serial = issued;
        }
        end.then_some(Reason::InvalidElement)
    }

    async fn operate(
        &mut self,
        conn: &mut Conn,
        device: &Device,
        response: &AuthResponse,
        attempt: &mut Attempt,
    ) -> Result<Done, Stop> {
        if !(1..=3).contains(&response.version) {
            let detail = format!("unsupported CAPF protocol version {}", response.version);
            return Err(Refusal::new(Failure::PhoneCommunication, detail).into());
        }
        let trust = self.trust_context().await.map_err(Stop::internal)?;
        let require_sudi = self.store().require_sudi().await.map_err(Stop::internal)?;
        let by_certificate =
            matches!(device.capf.auth_mode, AuthMode::ExistingCertificateLsc | AuthMode::ExistingCertificateMic);
        if let Some(package) = response.certificate.as_ref().filter(|_| by_certificate) {
            // Named in the records whether it is accepted or not.
            if let Ok(info) = CertificateInfo::parse(&package.der) {
                attempt.presented = Some(CertSummary::new(trust.kind_of(&info), &info));
            }
        }
        if device.capf.auth_mode == AuthMode::AuthenticationString {
            self.check_string(response, attempt).await?;
        }
        let presented = auth::authenticate(device, response, conn.session_id(), &trust, require_sudi)?;
        if let Some(p) = presented.as_ref().filter(|p| p.kind == CertKind::Lsc) {
            // Only the device's installed LSC authenticates (issue 9 item 3).
            if let Some(refused) = self.store().lsc_standing(&p.info).await.map_err(Stop::internal)? {
                // One the phone stored while the service stopped before recording it: holding
                // it proves it was stored (issue 15), so it becomes the device's LSC now.
                let confirmed = match refused.late_confirmable {
                    true => self.store().confirm_late(&p.info).await.map_err(Stop::internal)?,
                    false => None,
                };
                if confirmed.is_none() {
                    return Err(Refusal::new(Failure::InvalidLsc, refused.reason).into());
                }
            }
        }
        if let (Some(p), Some(package)) = (&presented, &response.certificate) {
            if p.kind == CertKind::Mic {
                // CAPF has seen and verified the phone's MIC: keep it with the device, where
                // `device show` and the doctor (MIC expiry) read it.
                self.record_mic(&device.name, &package.der).await.map_err(Stop::internal)?;
            }
        }
        if let Some(p) = &presented {
            if p.kind == CertKind::Mic && device.lsc.is_some() {
                tracing::info!(
                    session = conn.session_id(),
                    device = %device.name,
                    "the phone authenticated with its MIC although an LSC is recorded for it"
                );
            }
        }
        match device.capf.operation {
            CertificateOperation::InstallUpgrade => {
                self.install(conn, device, response.version, presented.as_ref(), attempt).await
            }
            CertificateOperation::Delete => self.delete(conn, attempt).await,
            CertificateOperation::Troubleshoot => self.troubleshoot(conn, device, &trust, attempt).await,
            CertificateOperation::NoPendingOperation => {
                self.store().release(attempt).await.map_err(Stop::internal)?;
                Ok(Done { status: "no pending operation".into(), end: Reason::NoAction })
            }
        }
    }

    /// By Authentication String: the cluster checks the string and records a wrong one in one
    /// transaction (the lock-out counts every guess, however many sessions try at once).
    async fn check_string(&self, response: &AuthResponse, attempt: &Attempt) -> Result<(), Stop> {
        let max = self.shared.config.max_auth_failures;
        let checked = self.store().check_authentication_string(attempt, response.password.as_deref(), max).await;
        match checked.map_err(Stop::internal)? {
            None => Ok(()),
            Some(f) => {
                let status = if f.locked_out {
                    format!("{} (operation cancelled after {} wrong strings)", f.status, f.failures)
                } else {
                    f.status
                };
                Err(Stop::Recorded { result: format!("{status}: {}", f.detail) })
            }
        }
    }

    async fn record_mic(&self, device: &opencapf_pki::DeviceName, der: &[u8]) -> opencapf_cluster::Result<()> {
        self.store().record_mic(device, der).await
    }

    async fn trust_context(&self) -> opencapf_cluster::Result<TrustContext> {
        Ok(TrustContext { snapshot: self.store().trust_snapshot().await?, now: now() })
    }

    async fn install(
        &mut self,
        conn: &mut Conn,
        device: &Device,
        version: u8,
        presented: Option<&Presented>,
        attempt: &Attempt,
    ) -> Result<Done, Stop> {
        let config = &self.shared.config;
        let spec = keys::key_spec(&device.capf, version)?;
        conn.send(KeyGenRequest::new(spec)).await.map_err(Stop::phone)?;
        // Any number of RequestInProgress while the phone works, within one overall limit.
        let deadline = Instant::now().checked_add(config.keygen_timeout).unwrap_or_else(far_future);
        let generated = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let keygen_fault = |f| Stop::fault(f, Failure::KeyGeneration);
            let r = conn.recv(left, KeyGenResponse::COMMAND).await.map_err(keygen_fault)?;
            if !matches!(r.message, Message::RequestInProgress(_)) {
                break r.into_expected::<KeyGenResponse>().map_err(Stop::phone)?.message;
            }
        };
        let Some(public_key) = generated.public_key else {
            let reason = generated.reason.map(|r| format!(" (reason {})", u8::from(r))).unwrap_or_default();
            let detail = format!("the phone could not generate the {} key{reason}", keys::describe(spec));
            return Err(Refusal::new(Failure::KeyGeneration, detail).into());
        };
        keys::check_public_key(spec, &public_key).map_err(|d| Refusal::new(Failure::KeyGeneration, d))?;

        // Issuance latency: CAPF's own work, from the phone's public key to the LSC signed and
        // recorded (the phone's key generation and the StoreCertificate exchange are not in it).
        let issuing = Instant::now();
        let lsc = self.issue(device, presented, public_key).await?;
        let serial = lsc.info.serial.clone();
        self.store().record_issued(attempt, &lsc, &self.identity.fingerprint).await.map_err(Stop::internal)?;
        telemetry::issuance_latency(issuing.elapsed());
        self.outcome.serial = Some(serial.clone());

        let IssuedCertificate { der, info } = lsc;
        let not_installed = |f: Fault| Stop::phone(f).with_issued(&serial);
        let store = StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(der) };
        conn.send(store).await.map_err(not_installed)?;
        let r = conn.expect::<StoreCertificateResponse>(config.read_timeout).await.map_err(not_installed)?;
        let reason = r.message.reason;
        if !reason.is_ok() {
            let detail = format!("the phone did not store the LSC (reason {})", u8::from(reason));
            return Err(Stop::from(Refusal::new(Failure::Unspecified, detail)).with_issued(&serial));
        }
        let status = self.store().complete_install(attempt, &info).await.map_err(Stop::internal)?;
        Ok(Done { status, end: Reason::OK })
    }

    /// Signs the LSC as CUCM does: CN = `<model>-<device>` (the bare name when the model is unknown),
    /// the MIC's PID and SN when known, the cluster's validity.
    async fn issue(
        &self,
        device: &Device,
        presented: Option<&Presented>,
        public_key: Vec<u8>,
    ) -> Result<IssuedCertificate, Stop> {
        let validity_days = { self.store().settings().await.map_err(Stop::internal)?.lsc_validity_days };
        let mic = match presented {
            Some(p) if p.kind == CertKind::Mic => Some(p.info.clone()),
            _ => device.mic_der.as_deref().and_then(|d| CertificateInfo::parse(d).ok()),
        };
        let pid_sn = mic.and_then(|m| Some((m.pid?, m.sn?)));
        // Signed on the session's own task, as its TLS handshake's signature is: one signature
        // (a fraction of a millisecond) costs less than handing it to another thread and back.
        let model = Some(device.model.as_str());
        let request =
            LscRequest { device: &device.name, model, public_key_der: &public_key, pid_sn, validity_days, now: now() };
        Ok(profiles::lsc(&self.identity.signer, &request).map_err(Internal::Issue)?)
    }

    async fn delete(&mut self, conn: &mut Conn, attempt: &Attempt) -> Result<Done, Stop> {
        let read_timeout = self.shared.config.read_timeout;
        conn.send(DeleteCertificateRequest).await.map_err(Stop::phone)?;
        let r = conn.expect::<DeleteCertificateResponse>(read_timeout).await.map_err(Stop::phone)?;
        let reason = r.message.reason;
        if !reason.is_ok() {
            let detail = format!("the phone did not delete its LSC (reason {})", u8::from(reason));
            return Err(Refusal::new(Failure::Unspecified, detail).into());
        }
        let status = self.store().complete_delete(attempt).await.map_err(Stop::internal)?;
        Ok(Done { status, end: Reason::OK })
    }

    async fn troubleshoot(
        &mut self,
        conn: &mut Conn,
        device: &Device,
        trust: &TrustContext,
        attempt: &Attempt,
    ) -> Result<Done, Stop> {
        let read_timeout = self.shared.config.read_timeout;
        conn.send(FetchCertificateRequest).await.map_err(Stop::phone)?;
        let r = conn.expect::<FetchCertificateResponse>(read_timeout).await.map_err(Stop::phone)?;
        let reason = r.message.reason;
        if !reason.is_ok() {
            let detail = format!("the phone uploaded no certificate (reason {})", u8::from(reason));
            return Err(Refusal::new(Failure::Unspecified, detail).into());
        }
        let ders = fetched_certificates(&r.body)?;
        if ders.is_empty() {
            return Err(Refusal::new(Failure::Unspecified, "the phone said reason 1 but sent no certificate").into());
        }
        let mut uploads: Vec<Upload> = Vec::new();
        let mut seen = Vec::new();
        for der in ders {
            let info = CertificateInfo::parse(&der).map_err(|e| {
                Refusal::new(Failure::Unspecified, format!("the phone uploaded an unreadable certificate: {e}"))
            })?;
            if seen.contains(&info.fingerprint) {
                continue;
            }
            seen.push(info.fingerprint.clone());
            let kind = trust.kind_of(&info);
            let record_as_mic =
                kind == CertKind::Mic && names_device(&info, kind, &device.name) && trust.capf_trusts(&der);
            tracing::info!(
                session = conn.session_id(),
                device = %device.name,
                kind = kind.as_str(),
                subject = %info.subject,
                issuer = %info.issuer,
                serial = %info.serial,
                not_after = %opencapf_model::ts(info.not_after),
                fingerprint = %info.fingerprint,
                "certificate uploaded by the phone"
            );
            uploads.push(Upload { kind, der, record_as_mic });
        }
        let status = self.store().complete_troubleshoot(attempt, &uploads).await.map_err(Stop::internal)?;
        Ok(Done { status, end: Reason::NoAction })
    }
}

/// A deadline no session reaches (about 30 years), for limits too large to add to `now`.
fn far_future() -> Instant {
    Instant::now() + std::time::Duration::from_secs(86_400 * 365 * 30)
}

/// Every certificate of a FetchCertificateResponse body: each Certificate element (a phone may
/// send its LSC and its MIC) and any further certificate sub-record inside a package.
fn fetched_certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
    let mut out = Vec::new();
    for element in iter_elements(body) {
        let (tag, value) = element.map_err(ProtocolError::Element)?;
        if tag != Tag::Certificate {
            continue;
        }
        let package = CertPackage::parse(value).map_err(ProtocolError::CertificatePackage)?;
        out.push(package.der);
        for record in package.extra.iter().filter(|r| r.tag == 1) {
            let len = u16::try_from(record.value.len()).map_err(|_| ProtocolError::OversizedSubRecord)?;
            let mut wrapped = vec![1];
            wrapped.extend_from_slice(&len.to_be_bytes());
            wrapped.extend_from_slice(&record.value);
            out.push(CertPackage::parse(&wrapped).map_err(ProtocolError::CertificatePackage)?.der);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetched_certificates_reads_repeated_elements_and_extra_records() {
        let cert = |n: u8| vec![0x30, 0x03, 0x02, 0x01, n];
        let package = |n: u8| CertPackage::new(cert(n)).encode().unwrap();
        let mut body = Vec::new();
        body.extend_from_slice(&[1, 0, 1, 1]);
        for p in [package(1), package(2)] {
            body.push(4);
            body.extend_from_slice(&(p.len() as u16).to_be_bytes());
            body.extend_from_slice(&p);
        }
        assert_eq!(fetched_certificates(&body).unwrap(), vec![cert(1), cert(2)]);

        let mut two = CertPackage::new(cert(3));
        two.extra.push(crate::proto::message::SubRecord { tag: 1, value: [vec![0, 2], cert(4)].concat() });
        let p = two.encode().unwrap();
        let mut body = vec![4];
        body.extend_from_slice(&(p.len() as u16).to_be_bytes());
        body.extend_from_slice(&p);
        assert_eq!(fetched_certificates(&body).unwrap(), vec![cert(3), cert(4)]);
        assert!(fetched_certificates(&[4, 0, 9, 1]).is_err());
    }
}
