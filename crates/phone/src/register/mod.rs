//! Registering to CallManager, as a phone does it (seed rules 1 and 2).
//!
//! - **Transport from the security profile.** Authenticated or Encrypted: TLS to 5061 (SIP) or
//!   2443 (SCCP). Non Secure: TCP to 5060 or 2000. The ports can be moved for tests.
//! - **The certificate is never chosen by anyone** (rule 1): over TLS the phone presents its LSC
//!   when it has one, otherwise its MIC, logging `SECD: -PXY_NO_LSC: No LSC for [SIP], will try MIC`.
//! - **The server is checked against the trust list**: CallManager's certificate must be, byte
//!   for byte, a CCM or CCM+TFTP record of the phone's ITL or a certificate TVS vouched for
//!   ([`Phone::server_certificates`], `opencapf_capf::client::tls::TrustListVerifier`), or the
//!   phone ends the handshake with `unknown CA` (logged as `[write]`). The boot then asks TVS
//!   (the report carries the certificate) and tries once more.
//! - **TLS versions.** Encrypted offers TLS 1.2 and 1.3; Authenticated offers TLS 1.2 only, as
//!   CUCM 15SU2 says of that mode. AES-128 suites come first, like the phones' `AES128-SHA`
//!   preference, so a TLS 1.2 session shows `ECDHE-RSA-AES128-GCM-SHA256`. CUCM's Authenticated
//!   mode is TLS with `NULL-SHA` (no encryption); rustls has no NULL suites and neither has the
//!   CallManager listener, so here both modes encrypt.
//! - **Legacy phones** (79xx, 69xx/89xx/99xx, or `RegisterOptions::engine` = `Legacy`) speak
//!   TLS 1.0 with `AES256-SHA:AES128-SHA` through OpenSSL (`legacy_tls`), adding `NULL-SHA`
//!   for an Authenticated profile; same trust-list check, same console lines (`[TLSv1]`).
//! - **Old RSA keys.** LSCs with 1024-bit RSA keys exist (CUCM offered that size). AWS-LC's
//!   ordinary signing refuses them, so the phone signs its CertificateVerify itself with RSA
//!   PKCS#1 v1.5 (SHA-256 or SHA-512) through [`opencapf_pki::rsa_sign_raw_pkcs1`] over
//!   the DigestInfo. That needs TLS 1.2: TLS 1.3 only allows RSA-PSS there, which CallManager
//!   accepts from 2048 bits only.
//! - **What the phone says.** SIP: a REGISTER whose To and From user is the device name, with
//!   Cisco's `+u.sip!devicename.ccm.cisco.com` Contact parameter; the answer is `200 OK` or a
//!   refusal (`403`, `404` …) whose reason phrase is CallManager's reason. SCCP: a
//!   RegisterMessage with the device name, answered by RegisterAck or RegisterReject.
//! - **Console lines**, in the seed's format: `PXY_NO_LSC`, `PXY_CERT_CIPHER` after the
//!   handshake, `STATE_SSL3_ALERT` when CallManager refuses the certificate (`[read]`), then the
//!   registration result.
//!
//! [`Phone::register`] registers once and closes the connection. [`Phone::register_keeping`]
//! keeps a SIP registration's connection open, and [`Phone::stay`] keeps the registration
//! (`phone register --stay`): refreshes, answers, and CallManager's NOTIFY `service-control`.
//!
//! | module | what it holds |
//! |---|---|
//! | `options` | the standard ports, [`RegisterOptions`], the server address |
//! | `tls_client` | the TLS versions offered, the rustls client configuration, signing with RSA keys under 2048 bits (the OpenSSL client is the crate's `legacy_tls`) |
//! | `sip_exchange` | the REGISTER and its final answer |
//! | `sccp_exchange` | the RegisterMessage and its RegisterAck or RegisterReject |
//! | `report` | [`Outcome`], [`RegisterReport`], and the console line that ends an attempt |
//! | `load` | [`LoadPhone`], [`LoadRegistration`]: registrations without a phone folder, for load tools |
//! | `stay` | [`Kept`], [`Phone::stay`]: a registration kept open, Reset/Restart/Apply Config |
//!
//! Here: [`Phone::register`], which connects, handshakes and logs the TLS session, and what the
//! exchanges share.

mod load;
mod options;
mod report;
mod sccp_exchange;
mod sip_exchange;
mod stay;
mod tls_client;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use opencapf_callmanager::{sccp, sip};
use opencapf_capf::client::tls::{self, TrustListVerifier};
use opencapf_capf::client::TlsVersions;
use opencapf_model::{Protocol, Role, SecurityMode};
use opencapf_pki::CertificateInfo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::console::slash_name;
use crate::legacy_tls::{self, LegacyFailure};
use crate::{CertKind, Phone, PhoneError, Result};

pub use load::{LoadFailure, LoadPhone, LoadRegistration};
pub use options::RegisterOptions;
pub use report::{Outcome, Presented, RegisterReport};
pub(crate) use stay::Interrupt;
pub use stay::Kept;

use options::{target, uri_host};
use sccp_exchange::{register_message, sccp_exchange};
use sip_exchange::{for_line, register_request, sip_exchange};
use tls_client::{client_config, versions_for};

/// The MAC address in a device name (`SEP`, `ATA` or `AN` + 12 hex digits); zeros for a Jabber
/// name, which carries none.
fn mac_of(device: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    let digits = device.get(device.len().saturating_sub(12)..).unwrap_or("");
    for (i, m) in mac.iter_mut().enumerate() {
        *m = digits.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    }
    mac
}

/// The rustls error inside an I/O error, if any.
fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

/// Whether an I/O error is a fatal alert from the peer.
fn alert_in(e: &std::io::Error) -> bool {
    matches!(rustls_error(e), Some(rustls::Error::AlertReceived(_)))
}

/// What went wrong talking to CallManager.
enum Failure {
    /// CallManager sent a fatal alert.
    Alert(String),
    /// Anything else, in words.
    Other(String),
}

impl Failure {
    fn from_io(e: &std::io::Error, what: &str) -> Failure {
        match rustls_error(e) {
            Some(rustls::Error::AlertReceived(a)) => Failure::Alert(opencapf_tls::alert_name(*a)),
            _ => Failure::Other(format!("{what}: {e}")),
        }
    }
}

/// What the phone sends to register.
enum Hello {
    Sip(sip::Message),
    Sccp(sccp::Frame),
}

impl Hello {
    async fn exchange<S>(&self, stream: &mut S, wait: Duration) -> Result<Answer, Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match self {
            Hello::Sip(request) => sip_exchange(stream, request, wait).await,
            Hello::Sccp(frame) => sccp_exchange(stream, frame, wait).await,
        }
    }
}

/// The answer CallManager gave.
enum Answer {
    SipFinal { code: u16, reason: String, expires: Option<u32> },
    SccpAck { keepalive: u32 },
    SccpReject { text: String },
}

impl Phone {
    /// Registers to CallManager once, as the phone's security profile says (see the module
    /// doc), and logs it on the console. Local problems (an unreadable key, a bad server
    /// address) are errors; everything CallManager does, refusing included, is in the report.
    pub async fn register(&self, opts: RegisterOptions) -> Result<RegisterReport> {
        Ok(self.register_keeping(&opts, false).await?.0)
    }

    /// [`Phone::register`]; with `keep`, a SIP registration's connection stays open and is
    /// returned, for [`Phone::stay`].
    pub async fn register_keeping(&self, opts: &RegisterOptions, keep: bool) -> Result<(RegisterReport, Option<Kept>)> {
        let mut kept = None;
        let report = self.attempt(opts, keep.then_some(&mut kept)).await?;
        Ok((report, kept))
    }

    /// [`Phone::register_keeping`] down the CallManager group ([`RegisterOptions::group`]): the
    /// first member that registers the phone wins; a member that cannot be reached or does not
    /// register it is passed over for the next, as a phone fails over (phone-boot.md §3.5).
    /// Every attempt is returned, the last one last.
    pub async fn register_in_group(
        &self,
        opts: &RegisterOptions,
        keep: bool,
    ) -> Result<(Vec<RegisterReport>, Option<Kept>)> {
        let group = opts.group();
        let mut reports = Vec::new();
        for (i, member) in group.iter().enumerate() {
            if i > 0 {
                let to = member.server.as_deref().unwrap_or("");
                let tag = if opts.protocol == Protocol::Sip { "SIP" } else { "SCCP" };
                self.console().warn(&format!(
                    "{tag}: -Failing over to CallManager {} (priority {i})",
                    opencapf_model::printable(to)
                ));
            }
            let (report, kept) = self.register_keeping(member, keep).await?;
            let registered = report.registered();
            reports.push(report);
            if registered {
                return Ok((reports, kept));
            }
        }
        Ok((reports, None))
    }

    /// One registration attempt; a SIP registration's connection goes into `keep` when given.
    async fn attempt(&self, opts: &RegisterOptions, keep: Option<&mut Option<Kept>>) -> Result<RegisterReport> {
        let secure = opts.security != SecurityMode::NonSecure;
        let (host, port) = target(self, opts, secure)?;
        let server = format!("{}:{port}", uri_host(&host));
        let purpose = opts.protocol.as_str();
        let log = self.console();
        let device = self.device_name().to_string();

        log.info(&format!(
            "{purpose}: -Registering {device} with CallManager {server} over {} ({} profile)",
            if secure { "TLS" } else { "TCP" },
            opts.security
        ));
        // Rule 1: the phone's own choice, LSC else MIC; nobody else picks it.
        let legacy = opts.engine.legacy_profile(&self.config().model);
        let (cert, versions, trust_list) = if secure {
            let cert = self.select_certificate(purpose, false)?;
            // The rustls versions; OpenSSL's come from the legacy profile.
            let versions = if legacy.is_some() { TlsVersions::default() } else { versions_for(opts, &cert)? };
            (Some(cert), versions, self.server_certificates(&[Role::Ccm, Role::CcmTftp])?)
        } else {
            (None, TlsVersions::default(), Vec::new())
        };
        let mut report = RegisterReport {
            device_name: device.clone(),
            server: server.clone(),
            protocol: purpose.to_string(),
            transport: if secure { "TLS" } else { "TCP" }.to_string(),
            security: opts.security.to_string(),
            certificate: cert.as_ref().map(|c| Presented {
                kind: c.kind,
                subject: c.info.subject.clone(),
                issuer: c.info.issuer.clone(),
                serial: c.info.serial.clone(),
                key: c.info.key.clone(),
            }),
            tls_version: None,
            cipher: None,
            outcome: Outcome::Failed,
            sip_status: None,
            reason: None,
            tls_alert: None,
            tls_alert_direction: None,
            expires: None,
            keepalive_interval: None,
            summary: String::new(),
            untrusted_server: None,
        };

        let tcp = match timeout(opts.timeout, TcpStream::connect((host.as_str(), port))).await {
            Err(_) => return Ok(self.failed(report, format!("cannot connect to CallManager {server}: timed out"))),
            Ok(Err(e)) => return Ok(self.failed(report, format!("cannot connect to CallManager {server}: {e}"))),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let local = tcp.local_addr().unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        let (hello, more) = match opts.protocol {
            Protocol::Sip => {
                let register = register_request(&device, &host, local, secure, opts.expires, &self.config().model);
                match opts.lines.split_first() {
                    None => (Hello::Sip(register), Vec::new()),
                    Some((first, rest)) => (
                        Hello::Sip(for_line(&register, first)),
                        rest.iter().map(|line| for_line(&register, line)).collect(),
                    ),
                }
            }
            Protocol::Sccp => (Hello::Sccp(register_message(&device, local)), Vec::new()),
        };

        let answer = match cert {
            None => self.converse(tcp, &hello, more, opts, keep).await,
            Some(cert) => {
                log.info(&format!("SECUREAPP-SSL session setup - cert len={}, type={}", cert.der.len(), cert.kind));
                if let Some(profile) = legacy {
                    let profile = profile.with_null_sha(opts.security == SecurityMode::Authenticated);
                    let hs = legacy_tls::connect(tcp, profile, trust_list, Some(&cert), opts.timeout).await;
                    self.log_server(hs.presented.as_ref().map(|p| p.der.as_slice()));
                    match hs.result {
                        Ok(s) => {
                            let (version, cipher) = legacy_tls::negotiated(&s);
                            self.established(&mut report, purpose, cert.kind, version, cipher);
                            self.converse(s, &hello, more, opts, keep).await
                        }
                        Err(LegacyFailure::TimedOut) => {
                            return Ok(self.failed(report, "the TLS handshake with CallManager timed out".into()))
                        }
                        Err(LegacyFailure::Untrusted) => {
                            let der = hs.presented.map(|p| p.der).unwrap_or_default();
                            return Ok(self.untrusted(report, der));
                        }
                        Err(LegacyFailure::AlertReceived(a)) => Err(Failure::Alert(a)),
                        Err(LegacyFailure::Other(e)) => Err(Failure::Other(format!("TLS handshake: {e}"))),
                    }
                } else {
                    let verifier = Arc::new(TrustListVerifier::new(trust_list));
                    let config = client_config(verifier.clone(), versions, &cert).map_err(PhoneError::Invalid)?;
                    let name = tls::server_name(&host).map_err(PhoneError::Invalid)?;
                    let handshake =
                        timeout(opts.timeout, TlsConnector::from(Arc::new(config)).connect(name, tcp)).await;
                    let presented = verifier.presented();
                    self.log_server(presented.as_ref().map(|p| p.der.as_slice()));
                    match handshake {
                        Err(_) => return Ok(self.failed(report, "the TLS handshake with CallManager timed out".into())),
                        Ok(Err(e)) => match presented.filter(|p| !p.trusted) {
                            Some(p) => return Ok(self.untrusted(report, p.der)),
                            None => Err(Failure::from_io(&e, "TLS handshake")),
                        },
                        Ok(Ok(s)) => {
                            let (_, conn) = s.get_ref();
                            let version = conn.protocol_version().map(opencapf_tls::version_name).unwrap_or_default();
                            let cipher = conn
                                .negotiated_cipher_suite()
                                .map(|c| opencapf_tls::cipher_name(c.suite()))
                                .unwrap_or_default();
                            self.established(&mut report, purpose, cert.kind, version, cipher);
                            self.converse(s, &hello, more, opts, keep).await
                        }
                    }
                }
            }
        };
        Ok(self.conclude(report, answer))
    }

    /// The subject and issuer of the certificate CallManager presented, as the phone logs them.
    fn log_server(&self, der: Option<&[u8]>) {
        if let Some(info) = der.and_then(|d| CertificateInfo::parse(d).ok()) {
            self.console().info(&format!("SECUREAPP-Certificate subject name = {}", slash_name(&info.subject)));
            self.console().info(&format!("SECUREAPP-Certificate issuer name = {}", slash_name(&info.issuer)));
        }
    }

    /// Rule 1's line: which certificate went to CallManager, and the cipher; into the report too.
    fn established(&self, report: &mut RegisterReport, purpose: &str, kind: CertKind, version: String, cipher: String) {
        self.console().cert_cipher(purpose, &version, kind, &cipher);
        report.tls_version = Some(version);
        report.cipher = Some(cipher);
    }

    /// The phone refuses CallManager: its certificate (`der`) is not in the trust list.
    fn untrusted(&self, mut report: RegisterReport, der: Vec<u8>) -> RegisterReport {
        let log = self.console();
        log.error("SECUREAPP-No match found in trust list against the item");
        log.ssl3_alert("write", "unknown CA");
        report.tls_alert = Some("unknown CA".into());
        report.tls_alert_direction = Some("write".into());
        let fp = opencapf_pki::fingerprint(&der);
        report.untrusted_server = Some(der);
        self.failed(
            report,
            format!(
                "CallManager's certificate (SHA-256 {}…) is not in the phone's trust list: \
                 boot the phone from the cluster (`opencapf phone boot`) to get its ITL",
                &fp[..16.min(fp.len())]
            ),
        )
    }

    /// The registration over an established connection: the first REGISTER (or RegisterMessage),
    /// the other lines; the connection is kept for `keep` when worth it, else closed.
    async fn converse<S: stay::Stream + 'static>(
        &self,
        mut stream: S,
        hello: &Hello,
        more: Vec<sip::Message>,
        opts: &RegisterOptions,
        keep: Option<&mut Option<Kept>>,
    ) -> Result<Answer, Failure> {
        let a = hello.exchange(&mut stream, opts.timeout).await;
        let (a, extra) = self.more_lines(&mut stream, a, more, opts.timeout).await;
        match keep.filter(|_| stay::worth_keeping(&a)) {
            Some(k) => *k = Kept::new(Box::new(stream), hello, &a, extra),
            None => {
                let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
            }
        }
        a
    }

    /// After the first line is registered, the other lines on the same connection; the first
    /// refusal stands for the whole registration. Returns the REGISTERs granted, to refresh.
    async fn more_lines<S>(
        &self,
        stream: &mut S,
        first: Result<Answer, Failure>,
        more: Vec<sip::Message>,
        wait: Duration,
    ) -> (Result<Answer, Failure>, Vec<sip::Message>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut granted = Vec::new();
        if !matches!(first, Ok(Answer::SipFinal { code: 200..=299, .. })) {
            return (first, granted);
        }
        for register in more {
            let line = register.header("To").and_then(sip::user_of).unwrap_or_default();
            match sip_exchange(stream, &register, wait).await {
                Ok(Answer::SipFinal { code: 200..=299, .. }) => {
                    self.console().info(&format!("SIP: -Line {} registered", opencapf_model::printable(&line)));
                    granted.push(register);
                }
                other => return (other, granted),
            }
        }
        (first, granted)
    }
}
