//! One CAPF session, as the phone runs it: the credentials it picks, what it does with the
//! server's requests, what it logs, and the outcome it reports.

use std::time::Duration;

use opencapf_capf::client::{
    CapfClient, ClientConfig, ClientError, Credentials, InstallReport, Operation, PhoneIdentity, SessionEvent,
    SessionHandler, SessionOutcome, Stage, TlsInfo, TlsVersions,
};
use opencapf_capf::proto::message::{AuthType, CertType, Curve, KeySpec, Reason};
use opencapf_pki::{CertificateInfo, PrivateKey};
use serde::Serialize;

use crate::console::slash_name;
use crate::legacy_tls::{self, LegacyFailure, LegacyProfile};
use crate::{CertKind, CertSummary, Phone, PhoneError, Result, TlsEngine};

/// How the phone authenticates to CAPF (CUCM's "Authentication Mode"; the phone follows its own
/// configuration, §1.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneCredentials {
    /// By Existing Certificate: the LSC if the phone has one, else the MIC (Precedence to LSC);
    /// with `prefer_mic`, the MIC (Precedence to MIC).
    ExistingCertificate { prefer_mic: bool },
    /// By Authentication String: the 4 to 10 digits typed on the phone.
    AuthString(String),
    /// By Null String.
    NullString,
}

/// Options of [`Phone::capf`].
#[derive(Debug, Clone)]
pub struct CapfOptions {
    /// `HOST[:PORT]`; default: the server in `phone.json`.
    pub server: Option<String>,
    pub credentials: PhoneCredentials,
    /// RequestInProgress interval while generating a key (`None`: never).
    pub progress_interval: Option<Duration>,
    /// Key generation takes at least this long (simulates an old phone).
    pub min_keygen_time: Duration,
    /// Wait for each server message at most this long.
    pub message_timeout: Duration,
    /// The rustls versions, when [`CapfOptions::engine`] picks rustls.
    pub tls_versions: TlsVersions,
    /// rustls or OpenSSL (TLS 1.0); by default the phone model's.
    pub engine: TlsEngine,
}

impl CapfOptions {
    pub fn new(credentials: PhoneCredentials) -> Self {
        let defaults = ClientConfig::new(String::new(), Vec::new());
        CapfOptions {
            server: None,
            credentials,
            progress_interval: defaults.progress_interval,
            min_keygen_time: defaults.min_keygen_time,
            message_timeout: defaults.message_timeout,
            tls_versions: defaults.tls_versions,
            engine: TlsEngine::ByModel,
        }
    }
}

/// What happened, for people (`summary`) and scripts (the rest, as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct CapfReport {
    pub device_name: String,
    pub server: String,
    /// "LSC", "MIC", "authentication string" or "null string".
    pub credentials: String,
    pub session_id: Option<u32>,
    pub tls_version: Option<String>,
    pub cipher: Option<String>,
    /// "Install/Upgrade", "Delete", "Troubleshoot", "None", or "?" when the session failed first.
    pub operation: String,
    /// The EndSession reason, when the session got that far.
    pub end_reason: Option<u8>,
    /// "RSA 2048", "EC P-256": the key generated for Install/Upgrade.
    pub key: Option<String>,
    pub requests_in_progress: u32,
    /// The LSC installed by this session.
    pub lsc: Option<CertSummary>,
    /// "LSC" or "MIC", for Troubleshoot.
    pub uploaded: Option<String>,
    /// Whether the server ended without error and the phone's part succeeded.
    pub success: bool,
    /// One line, e.g. "Upgrade: LSC installed, serial …, issuer CN=CAPF-…".
    pub summary: String,
    /// Why the session did not reach its EndSession.
    pub error: Option<String>,
    /// The certificate CAPF presented when the phone did not trust it (DER), so that the phone
    /// can ask TVS about it.
    #[serde(skip)]
    pub untrusted_server: Option<Vec<u8>>,
}

fn key_name(k: KeySpec) -> String {
    match k {
        KeySpec::Rsa { bits } => format!("RSA {bits}"),
        KeySpec::Ec { curve: Curve::P256 } => "EC P-256".into(),
        KeySpec::Ec { curve: Curve::P384 } => "EC P-384".into(),
        KeySpec::Ec { curve: Curve::P521 } => "EC P-521".into(),
    }
}

fn reason_text(r: Reason) -> String {
    match r {
        Reason::NoAction => "0, no action".into(),
        Reason::UpdateCertificate => "1, success".into(),
        Reason::InvalidElement => "7, failure".into(),
        Reason::UnknownDevice => "9, unknown device".into(),
        Reason::Unknown(c) => format!("{c}"),
    }
}

/// The CUCM-style authentication string: 4 to 10 digits.
pub(crate) fn check_auth_string(s: &str) -> Result<()> {
    if (4..=10).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PhoneError::Invalid("the authentication string is 4 to 10 digits, as typed on the phone".into()))
    }
}

/// What the phone does for the CAPF client, and what it logs.
struct Handler<'a> {
    phone: &'a Phone,
    /// The certificate the phone authenticates with, for the `PXY_CERT_CIPHER` line.
    cert: Option<CertKind>,
    installed: Option<CertificateInfo>,
    uploaded: Option<CertKind>,
    untrusted_server: Option<Vec<u8>>,
}

impl SessionHandler for Handler<'_> {
    fn store_lsc(&mut self, lsc_der: &[u8], key: &PrivateKey) -> std::result::Result<(), String> {
        let info = self.phone.install_lsc(lsc_der, key).map_err(|e| e.to_string())?;
        self.installed = Some(info);
        Ok(())
    }

    fn delete_lsc(&mut self) -> std::result::Result<bool, String> {
        crate::folder::remove_lsc(self.phone.dir()).map_err(|e| e.to_string())
    }

    fn certificate_to_upload(&mut self, requested: Option<CertType>) -> Option<Vec<u8>> {
        let lsc = self.phone.lsc().ok().flatten();
        let cert = match requested {
            Some(CertType::Mic) => self.phone.mic().ok(),
            Some(CertType::Lsc) => lsc,
            _ => lsc.or_else(|| self.phone.mic().ok()),
        }?;
        self.uploaded = Some(cert.kind);
        Some(cert.der)
    }

    fn event(&mut self, event: SessionEvent) {
        let log = self.phone.console();
        match event {
            SessionEvent::Connected { peer } => {
                log.info(&format!("CAPF: -Connected to CAPF {peer}"));
            }
            SessionEvent::ServerCertificate { der, trusted } => {
                if !trusted {
                    self.untrusted_server = Some(der.clone());
                }
                if let Ok(info) = CertificateInfo::parse(&der) {
                    log.info(&format!("SECUREAPP-Certificate subject name = {}", slash_name(&info.subject)));
                    log.info(&format!("SECUREAPP-Certificate issuer name = {}", slash_name(&info.issuer)));
                }
                if trusted {
                    log.info("SECUREAPP-Hashes match... authentication successful.");
                } else {
                    log.error("SECUREAPP-No match found in trust list against the item");
                    log.ssl3_alert("write", "unknown CA");
                }
            }
            SessionEvent::TlsEstablished { version, cipher } => {
                log.info(&format!("SECUREAPP-SSL session setup - [CAPF], [{version}], cipher [{cipher}]"));
                if let Some(kind) = self.cert {
                    log.cert_cipher("CAPF", &version, kind, &cipher);
                }
            }
            SessionEvent::AuthRequest { session_id, version, auth_type } => {
                let mode = match auth_type {
                    Some(AuthType::Password) => ", auth type 1 (authentication string)",
                    Some(AuthType::NullString) => ", auth type 2 (null string)",
                    Some(AuthType::Lsc) => ", auth type 3 (existing certificate, LSC)",
                    Some(AuthType::Mic) => ", auth type 4 (existing certificate, MIC)",
                    Some(AuthType::Unspecified) | None => "",
                };
                log.info(&format!("CAPF: -AuthRequest: session {session_id}, version {version}{mode}"));
            }
            SessionEvent::AuthResponseSent { credentials } => {
                log.info(&format!("CAPF: -AuthResponse sent ({credentials})"));
            }
            SessionEvent::KeyGenRequest { key } => {
                log.info(&format!("CAPF: -KeyGenRequest: {}", key_name(key)));
            }
            SessionEvent::RequestInProgressSent { elapsed } => {
                log.info(&format!("CAPF: -RequestInProgress sent, generating for {:.1} s", elapsed.as_secs_f64()));
            }
            SessionEvent::KeyGenerated { key, elapsed } => {
                log.info(&format!("CAPF: -Key generated: {} in {:.3} s", key_name(key), elapsed.as_secs_f64()));
            }
            SessionEvent::KeyGenFailed { error, .. } => {
                log.error(&format!("CAPF: -Key generation failed: {error}"));
            }
            SessionEvent::StoreCertificateRequest { der } => {
                let what = CertificateInfo::parse(&der)
                    .map(|i| format!("serial {}, issuer {}", i.serial, i.issuer))
                    .unwrap_or_else(|e| format!("unreadable: {e}"));
                log.info(&format!("CAPF: -StoreCertificateRequest: LSC {what}"));
            }
            SessionEvent::StoreCertificateResponse { reason, error } => {
                match error {
                    None => log.info("CAPF: -LSC stored"),
                    Some(e) => log.error(&format!("CAPF: -LSC not stored (reason {}): {e}", u8::from(reason))),
                };
            }
            SessionEvent::DeleteCertificateRequest => {
                log.info("CAPF: -DeleteCertificateRequest");
            }
            SessionEvent::DeleteCertificateResponse { error, .. } => {
                match error {
                    None => log.info("CAPF: -LSC deleted"),
                    Some(e) => log.warn(&format!("CAPF: -LSC not deleted: {e}")),
                };
            }
            SessionEvent::FetchCertificateRequest { requested } => {
                let what = match requested {
                    Some(CertType::Lsc) => " for the LSC",
                    Some(CertType::Mic) => " for the MIC",
                    _ => "",
                };
                log.info(&format!("CAPF: -FetchCertificateRequest{what}"));
            }
            SessionEvent::FetchCertificateResponse { .. } => {
                match self.uploaded {
                    Some(kind) => log.info(&format!("CAPF: -Uploaded the {kind}")),
                    None => log.warn("CAPF: -No certificate to upload"),
                };
            }
            SessionEvent::IgnoredElements { command, tags } => {
                log.warn(&format!("CAPF: -Ignored elements {tags:?} in {command:?}"));
            }
            SessionEvent::EndSession { reason } => {
                log.info(&format!("CAPF: -EndSession: reason {}", reason_text(reason)));
            }
            _ => {}
        }
    }
}

impl Phone {
    /// One CAPF session with the server in `phone.json` (or `opts.server`). Local problems (an
    /// unreadable key, a bad authentication string) are errors; everything the session itself
    /// does, including failing, is in the report.
    pub async fn capf(&self, opts: CapfOptions) -> Result<CapfReport> {
        let server = opts.server.clone().unwrap_or_else(|| self.config().capf_server.clone());
        let trust_list = self.server_certificates(&[opencapf_model::Role::Capf])?;
        let log = self.console();
        let mut cert_kind = None;
        let (credentials, with) = match &opts.credentials {
            PhoneCredentials::ExistingCertificate { prefer_mic } => {
                let cert = self.select_certificate("CAPF", *prefer_mic)?;
                let precedence = if *prefer_mic { "MIC" } else { "LSC" };
                log.info(&format!(
                    "CAPF: -Authenticating with cert [{}] (By Existing Certificate, precedence to {precedence}): {}",
                    cert.kind, cert.info.subject
                ));
                cert_kind = Some(cert.kind);
                (Credentials::Certificate { cert: cert.der, key: cert.key }, cert.kind.to_string())
            }
            PhoneCredentials::AuthString(s) => {
                check_auth_string(s)?;
                log.info("CAPF: -Authenticating with the authentication string");
                (Credentials::AuthString(s.clone()), "authentication string".to_string())
            }
            PhoneCredentials::NullString => {
                log.info("CAPF: -Authenticating with the null string");
                (Credentials::NullString, "null string".to_string())
            }
        };
        let mut config = ClientConfig::new(server.clone(), trust_list);
        config.progress_interval = opts.progress_interval;
        config.min_keygen_time = opts.min_keygen_time;
        config.message_timeout = opts.message_timeout;
        config.tls_versions = opts.tls_versions;
        let identity = PhoneIdentity { device_name: self.device_name().to_string(), credentials, sudi: None };
        log.info(&format!("CAPF: -Contacting CAPF {server}"));
        let mut handler =
            Handler { phone: self, cert: cert_kind, installed: None, uploaded: None, untrusted_server: None };
        let result = match opts.engine.legacy_profile(&self.config().model) {
            Some(profile) => run_legacy(&config, &identity, &mut handler, profile).await,
            None => CapfClient::run(&config, &identity, &mut handler).await,
        };
        let report = self.report(server, with, result, &handler);
        if report.success {
            log.info(&format!("CAPF: -{}", report.summary));
        } else {
            log.error(&format!("CAPF: -{}", report.summary));
        }
        Ok(report)
    }

    fn report(
        &self,
        server: String,
        with: String,
        result: std::result::Result<SessionOutcome, ClientError>,
        handler: &Handler<'_>,
    ) -> CapfReport {
        let mut report = CapfReport {
            device_name: self.device_name().to_string(),
            server,
            credentials: with,
            session_id: None,
            tls_version: None,
            cipher: None,
            operation: "?".into(),
            end_reason: None,
            key: None,
            requests_in_progress: 0,
            lsc: handler.installed.as_ref().map(CertSummary::of),
            uploaded: handler.uploaded.map(|k| k.to_string()),
            success: false,
            summary: String::new(),
            error: None,
            untrusted_server: handler.untrusted_server.clone(),
        };
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                if let ClientError::TlsAlert(alert) = &e {
                    self.console().ssl3_alert("read", alert);
                }
                report.error = Some(e.to_string());
                report.summary = match &handler.installed {
                    Some(info) => format!(
                        "Upgrade: LSC installed (serial {}, issuer {}), then the CAPF session failed: {e}",
                        info.serial, info.issuer
                    ),
                    None => format!("CAPF session failed: {e}"),
                };
                return report;
            }
        };
        report.session_id = Some(outcome.session_id);
        if let Some(tls) = &outcome.tls {
            report.tls_version = Some(tls.version.clone());
            report.cipher = Some(tls.cipher.clone());
        }
        report.end_reason = Some(outcome.end_reason.into());
        report.success = outcome.is_success();
        let failure = match outcome.end_reason {
            Reason::NoAction | Reason::UpdateCertificate => None,
            Reason::UnknownDevice => {
                Some(format!("CAPF does not know {} (reason 9, unknown device)", self.device_name()))
            }
            Reason::InvalidElement => Some("CAPF ended the session with reason 7 (failure)".to_string()),
            Reason::Unknown(c) => Some(format!("CAPF ended the session with reason {c}")),
        };
        let (operation, summary) = match &outcome.operation {
            Operation::None => ("None", failure.clone().unwrap_or_else(|| "No pending operation".into())),
            Operation::Install(r) => ("Install/Upgrade", install_summary(r, handler, failure.as_deref())),
            Operation::Delete { result } => (
                "Delete",
                match (result, &failure) {
                    (Ok(true), None) => "Delete: LSC deleted".into(),
                    (Ok(true), Some(f)) => format!("Delete: LSC deleted, but {f}"),
                    (Ok(false), _) => "Delete failed: the phone had no LSC".into(),
                    (Err(e), _) => format!("Delete failed: {e}"),
                },
            ),
            Operation::Fetch { uploaded, .. } => (
                "Troubleshoot",
                match (uploaded, handler.uploaded, &failure) {
                    (Some(der), Some(kind), None) => {
                        let what = CertificateInfo::parse(der)
                            .map(|i| format!(" (serial {}, issuer {})", i.serial, i.issuer))
                            .unwrap_or_default();
                        format!("Troubleshoot: uploaded the {kind}{what}")
                    }
                    (Some(_), _, Some(f)) => format!("Troubleshoot: uploaded, but {f}"),
                    _ => "Troubleshoot failed: no certificate to upload".into(),
                },
            ),
        };
        if let Operation::Install(r) = &outcome.operation {
            report.key = r.key.map(key_name);
            report.requests_in_progress = r.requests_in_progress;
        }
        report.operation = operation.into();
        report.summary = summary;
        report
    }
}

fn install_summary(r: &InstallReport, handler: &Handler<'_>, failure: Option<&str>) -> String {
    if let Some(e) = &r.keygen_error {
        return format!("Upgrade failed: key generation failed: {e}");
    }
    if let Some(e) = &r.store_error {
        return format!("Upgrade failed: the LSC was not stored: {e}");
    }
    match (&handler.installed, failure) {
        (Some(info), None) => {
            format!("Upgrade: LSC installed, serial {}, issuer {}, valid until {}", info.serial, info.issuer, {
                let t = info.not_after;
                format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
            })
        }
        (Some(info), Some(f)) => format!("Upgrade: LSC installed (serial {}), but {f}", info.serial),
        (None, Some(f)) => format!("Upgrade failed: {f}"),
        (None, None) => "Upgrade failed: no certificate was delivered".into(),
    }
}

/// [`CapfClient::run`] over OpenSSL: TCP, the legacy handshake with the same trust-list check and
/// events, then the CAPF protocol ([`CapfClient::run_over`]). CAPF does not ask for a client
/// certificate (phone-boot.md §5), so none is offered.
async fn run_legacy(
    config: &ClientConfig,
    identity: &PhoneIdentity,
    handler: &mut Handler<'_>,
    profile: LegacyProfile,
) -> std::result::Result<SessionOutcome, ClientError> {
    let tcp = CapfClient::connect(config, handler).await?;
    let hs = legacy_tls::connect(tcp, profile, config.trust_list.clone(), None, config.handshake_timeout).await;
    if let Some(p) = &hs.presented {
        handler.event(SessionEvent::ServerCertificate { der: p.der.clone(), trusted: p.trusted });
    }
    let stream = match hs.result {
        Ok(s) => s,
        Err(LegacyFailure::TimedOut) => return Err(ClientError::Timeout(Stage::Handshake)),
        Err(LegacyFailure::Untrusted) => {
            let der = hs.presented.map(|p| p.der).unwrap_or_default();
            let (subject, issuer) = match CertificateInfo::parse(&der) {
                Ok(i) => (i.subject, i.issuer),
                Err(_) => ("(unparsable)".into(), "(unparsable)".into()),
            };
            let fingerprint = opencapf_pki::fingerprint(&der);
            return Err(ClientError::ServerNotTrusted { subject, issuer, fingerprint });
        }
        Err(LegacyFailure::AlertReceived(alert)) => return Err(ClientError::TlsAlert(alert)),
        Err(LegacyFailure::Other(e)) => return Err(ClientError::Tls(e)),
    };
    let (version, cipher) = legacy_tls::negotiated(&stream);
    handler.event(SessionEvent::TlsEstablished { version: version.clone(), cipher: cipher.clone() });
    let server_certificate = hs.presented.map(|p| p.der).unwrap_or_default();
    let mut outcome = CapfClient::run_over(stream, config, identity, handler).await?;
    outcome.tls = Some(TlsInfo { version, cipher, server_certificate });
    Ok(outcome)
}
