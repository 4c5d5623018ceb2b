//! Registering to CallManager, as a phone does it (seed rules 1 and 2).
//!
//! - **Transport from the security profile.** Authenticated or Encrypted: TLS to 5061 (SIP) or
//!   2443 (SCCP). Non Secure: TCP to 5060 or 2000. The ports can be moved for tests.
//! - **The certificate is never chosen by anyone** (rule 1): over TLS the phone presents its LSC
//!   when it has one, otherwise its MIC, logging `SECD: -PXY_NO_LSC: No LSC for [SIP], will try MIC`.
//! - **The server is checked against the trust list**: CallManager's certificate must be one of
//!   `trust-list.pem`, byte for byte (`opencapf_capf::client::tls::TrustListVerifier`), or the
//!   phone ends the handshake with `unknown CA` (logged as `[write]`).
//! - **TLS versions.** Encrypted offers TLS 1.2 and 1.3; Authenticated offers TLS 1.2 only, as
//!   CUCM 15SU2 says of that mode. AES-128 suites come first, like the phones' `AES128-SHA`
//!   preference, so a TLS 1.2 session shows `ECDHE-RSA-AES128-GCM-SHA256`. CUCM's Authenticated
//!   mode is TLS with `NULL-SHA` (no encryption); rustls has no NULL suites and neither has the
//!   CallManager listener, so here both modes encrypt.
//! - **Old RSA keys.** LSCs with 1024-bit RSA keys exist (CUCM offered that size). AWS-LC's
//!   ordinary signing refuses them, so the phone signs its CertificateVerify itself with RSA
//!   PKCS#1 v1.5 (SHA-256 or SHA-512) through [`opencapf_pki::rawkey::rsa_sign_raw_pkcs1`] over
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
//! The phone registers once and closes the connection; it does not keep the registration alive.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::digest;
use opencapf_callmanager::{sccp, sip};
use opencapf_capf::client::tls::{self, TrustListVerifier};
use opencapf_capf::client::TlsVersions;
use opencapf_pki::{CertificateInfo, PrivateKey};
use opencapf_store::{Protocol, SecurityMode};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::{CertifiedKey, SigningKey, SingleCertAndKey};
use rustls::{CipherSuite, SignatureAlgorithm, SignatureScheme};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use crate::console::slash_name;
use crate::{CertKind, DeviceCertificate, Phone, PhoneError, Result};

/// SIP over TLS.
pub const SIP_TLS_PORT: u16 = 5061;
/// SIP over TCP.
pub const SIP_TCP_PORT: u16 = 5060;
/// SCCP over TLS.
pub const SCCP_TLS_PORT: u16 = 2443;
/// SCCP over TCP.
pub const SCCP_TCP_PORT: u16 = 2000;

/// The CallManager port of a protocol and transport.
pub fn standard_port(protocol: Protocol, tls: bool) -> u16 {
    match (protocol, tls) {
        (Protocol::Sip, true) => SIP_TLS_PORT,
        (Protocol::Sip, false) => SIP_TCP_PORT,
        (Protocol::Sccp, true) => SCCP_TLS_PORT,
        (Protocol::Sccp, false) => SCCP_TCP_PORT,
    }
}

/// Options of [`Phone::register`].
#[derive(Debug, Clone)]
pub struct RegisterOptions {
    /// `HOST` or `HOST:PORT` (`[IPv6]:PORT`); default: the host of the CAPF server in
    /// `phone.json` (CAPF and CallManager on the same node, as in a lab).
    pub server: Option<String>,
    /// The port, overriding the standard one and any port in `server`.
    pub port: Option<u16>,
    pub protocol: Protocol,
    /// The Device Security Mode of the phone's security profile (from its configuration file).
    pub security: SecurityMode,
    /// TLS versions to offer; default by security mode (see the module doc).
    pub tls_versions: Option<TlsVersions>,
    /// Connect, handshake, and wait for the answer, each at most this long.
    pub timeout: Duration,
    /// The SIP Expires asked for, in seconds.
    pub expires: u32,
}

impl RegisterOptions {
    pub fn new(protocol: Protocol, security: SecurityMode) -> Self {
        RegisterOptions {
            server: None,
            port: None,
            protocol,
            security,
            tls_versions: None,
            timeout: Duration::from_secs(10),
            expires: 3600,
        }
    }
}

/// What came of the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// `200 OK` or RegisterAck.
    Registered,
    /// CallManager said no: a TLS alert, a SIP error response, or RegisterReject.
    Refused,
    /// No answer from CallManager: no connection, a timeout, an untrusted server, a broken reply.
    Failed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Registered => "registered",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        })
    }
}

/// The certificate the phone presented.
#[derive(Debug, Clone, Serialize)]
pub struct Presented {
    pub kind: CertKind,
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex.
    pub serial: String,
    /// "RSA 2048", "EC P-256".
    pub key: String,
}

/// What happened, for people (`summary`) and scripts.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterReport {
    pub device_name: String,
    /// `HOST:PORT` contacted.
    pub server: String,
    /// "SIP" or "SCCP".
    pub protocol: String,
    /// "TLS" or "TCP".
    pub transport: String,
    /// "Non Secure", "Authenticated", "Encrypted".
    pub security: String,
    /// Over TLS: the LSC, or the MIC when the phone has no LSC.
    pub certificate: Option<Presented>,
    /// "TLSv1.2", "TLSv1.3".
    pub tls_version: Option<String>,
    /// OpenSSL's name, e.g. "ECDHE-RSA-AES128-GCM-SHA256".
    pub cipher: Option<String>,
    pub outcome: Outcome,
    /// The SIP status code of the final answer.
    pub sip_status: Option<u16>,
    /// CallManager's words: the SIP reason phrase or the RegisterReject text.
    pub reason: Option<String>,
    /// The fatal TLS alert, OpenSSL's name ("unknown CA"), and who sent it ("read": CallManager,
    /// "write": the phone).
    pub tls_alert: Option<String>,
    pub tls_alert_direction: Option<String>,
    /// Seconds granted: SIP Expires, or the SCCP keepalive interval.
    pub expires: Option<u32>,
    pub keepalive_interval: Option<u32>,
    /// One line, e.g. "Registered with CallManager 127.0.0.1:5061 (SIP over TLS, LSC): 200 OK, expires 3600".
    pub summary: String,
}

impl RegisterReport {
    pub fn registered(&self) -> bool {
        self.outcome == Outcome::Registered
    }
}

/// Where to connect: host and port.
fn target(phone: &Phone, opts: &RegisterOptions, tls: bool) -> Result<(String, u16)> {
    let server = match &opts.server {
        Some(s) => s.trim().to_string(),
        None => split_host_port(&phone.config().capf_server)
            .map(|(h, _)| h)
            .ok_or_else(|| PhoneError::Invalid("phone.json has no usable server; pass --server HOST".into()))?,
    };
    let (host, port) = split_host_port(&server)
        .ok_or_else(|| PhoneError::Invalid(format!("--server '{server}': use HOST, HOST:PORT or [IPv6]:PORT")))?;
    let port = opts.port.or(port).unwrap_or_else(|| standard_port(opts.protocol, tls));
    if port == 0 {
        return Err(PhoneError::Invalid("port 0 cannot be contacted".into()));
    }
    Ok((host, port))
}

/// `HOST`, `HOST:PORT`, an IP address, `[IPv6]` or `[IPv6]:PORT`.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some((sa.ip().to_string(), Some(sa.port())));
    }
    if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Some((ip.to_string(), None));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
        None => (s, None),
    };
    if host.is_empty() || host.contains([':', '/', ' ', '[', ']', '@', ';']) {
        return None;
    }
    Some((host.to_string(), port))
}

/// A host as it goes into a SIP URI or a `HOST:PORT` text.
fn uri_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        // Never expected; uniqueness of a SIP tag is all that is at stake.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        buf = nanos.as_nanos().to_le_bytes()[..bytes.min(16)].to_vec();
    }
    hex(&buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MAC address in a device name (`SEP` + 12 hex digits).
fn mac_of(device: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    let digits = device.get(3..15).unwrap_or("");
    for (i, m) in mac.iter_mut().enumerate() {
        *m = digits.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    }
    mac
}

/// The REGISTER a phone sends: To and From user the device name, Contact with the device name.
fn register_request(device: &str, host: &str, local: SocketAddr, tls: bool, expires: u32, model: &str) -> sip::Message {
    let transport = if tls { "TLS" } else { "TCP" };
    let domain = uri_host(host);
    let local_host = uri_host(&local.ip().to_string());
    let port = local.port();
    let tag = random_hex(8);
    let mac = hex(&mac_of(device));
    let mut m = sip::Message::request("REGISTER", &format!("sip:{domain}"));
    m.push("Via", format!("SIP/2.0/{transport} {local_host}:{port};branch=z9hG4bK{}", random_hex(8)));
    m.push("From", format!("<sip:{device}@{domain}>;tag={tag}"));
    m.push("To", format!("<sip:{device}@{domain}>"));
    m.push("Call-ID", format!("{}@{local_host}", random_hex(12)));
    m.push("Max-Forwards", "70");
    m.push("CSeq", "101 REGISTER");
    m.push("User-Agent", format!("Cisco-{}/OpenCAPF-{}", model.replace('-', ""), env!("CARGO_PKG_VERSION")));
    m.push(
        "Contact",
        format!(
            "<sip:{device}@{local_host}:{port};transport={}>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{mac}>\";\
             +u.sip!devicename.ccm.cisco.com=\"{device}\"",
            transport.to_ascii_lowercase()
        ),
    );
    m.push("Expires", expires.to_string());
    m
}

/// The RegisterMessage a phone sends.
fn register_message(device: &str, local: SocketAddr) -> sccp::Frame {
    let mut m = sccp::RegisterMessage::new(device);
    if let IpAddr::V4(ip) = local.ip() {
        m.ip = ip;
    } else {
        m.ip = Ipv4Addr::UNSPECIFIED;
    }
    m.mac = mac_of(device);
    m.firmware = format!("OpenCAPF-{}", env!("CARGO_PKG_VERSION"));
    m.frame()
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
            Some(rustls::Error::AlertReceived(a)) => Failure::Alert(tls::alert_name(*a)),
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

async fn sip_exchange<S>(stream: &mut S, request: &sip::Message, wait: Duration) -> Result<Answer, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let written = timeout(wait, async {
        stream.write_all(&request.to_bytes()).await?;
        stream.flush().await
    })
    .await;
    let mut reader = sip::Reader::new(sip::Limits::default());
    match written {
        Err(_) => return Err(Failure::Other("timed out sending the REGISTER".into())),
        // A refused TLS 1.3 phone may learn it only now: CallManager's alert is waiting to be read.
        Ok(Err(e)) => {
            return Err(match reader.next(stream, Duration::from_secs(1), Duration::from_secs(1)).await {
                Err(sip::ReadError::Io(later)) if alert_in(&later) => Failure::from_io(&later, "TLS"),
                _ => Failure::from_io(&e, "sending the REGISTER"),
            })
        }
        Ok(Ok(())) => {}
    }
    loop {
        match reader.next(stream, wait, wait).await {
            Ok(sip::Event::Message(m)) => {
                let Some(code) = m.code() else { continue };
                if code < 200 {
                    continue; // provisional
                }
                let expires = m
                    .header("Expires")
                    .and_then(|v| v.trim().parse().ok())
                    .or_else(|| m.header("Contact").and_then(|c| sip::param(c, "expires").flatten()?.parse().ok()));
                return Ok(Answer::SipFinal { code, reason: m.reason().unwrap_or("").to_string(), expires });
            }
            Ok(sip::Event::Ping) => continue,
            Ok(sip::Event::Closed) => {
                return Err(Failure::Other("CallManager closed the connection without answering".into()))
            }
            Err(sip::ReadError::Io(e)) => return Err(Failure::from_io(&e, "reading the answer")),
            Err(sip::ReadError::Idle) | Err(sip::ReadError::Slow) => {
                return Err(Failure::Other(format!("no answer from CallManager within {} s", wait.as_secs())))
            }
            Err(e) => return Err(Failure::Other(format!("CallManager's answer: {e}"))),
        }
    }
}

async fn sccp_exchange<S>(stream: &mut S, frame: &sccp::Frame, wait: Duration) -> Result<Answer, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let written = timeout(wait, async {
        stream.write_all(&frame.encode()).await?;
        stream.flush().await
    })
    .await;
    match written {
        Err(_) => return Err(Failure::Other("timed out sending the RegisterMessage".into())),
        Ok(Err(e)) => {
            return Err(match timeout(Duration::from_secs(1), sccp::read_frame(stream, 64)).await {
                Ok(Err(sccp::FrameError::Io(later))) if alert_in(&later) => Failure::from_io(&later, "TLS"),
                _ => Failure::from_io(&e, "sending the RegisterMessage"),
            })
        }
        Ok(Ok(())) => {}
    }
    // A few frames at most come before the answer; anything else is skipped.
    for _ in 0..16 {
        let frame = match timeout(wait, sccp::read_frame(stream, sccp::DEFAULT_MAX_LENGTH)).await {
            Err(_) => return Err(Failure::Other(format!("no answer from CallManager within {} s", wait.as_secs()))),
            Ok(Ok(Some(f))) => f,
            Ok(Ok(None)) => return Err(Failure::Other("CallManager closed the connection without answering".into())),
            Ok(Err(sccp::FrameError::Io(e))) => return Err(Failure::from_io(&e, "reading the answer")),
            Ok(Err(e)) => return Err(Failure::Other(format!("CallManager's answer: {e}"))),
        };
        match frame.id {
            sccp::id::REGISTER_ACK => {
                let ack = sccp::RegisterAck::decode(&frame.data)
                    .map_err(|e| Failure::Other(format!("CallManager's RegisterAckMessage: {e}")))?;
                return Ok(Answer::SccpAck { keepalive: ack.keepalive_interval });
            }
            sccp::id::REGISTER_REJECT => {
                let text = sccp::RegisterReject::decode(&frame.data).map(|r| r.text).unwrap_or_default();
                return Ok(Answer::SccpReject { text });
            }
            _ => continue,
        }
    }
    Err(Failure::Other("CallManager sent no RegisterAckMessage or RegisterRejectMessage".into()))
}

/// RSA PKCS#1 v1.5 signing for RSA keys AWS-LC's ordinary API refuses (below 2048 bits): the
/// DigestInfo is built here and padded and signed by [`opencapf_pki::rawkey::rsa_sign_raw_pkcs1`].
#[derive(Debug)]
struct LegacyRsaKey {
    key: PrivateKey,
}

/// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO: &[u8] =
    &[0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
const SHA512_DIGEST_INFO: &[u8] =
    &[0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40];

impl SigningKey for LegacyRsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        [SignatureScheme::RSA_PKCS1_SHA256, SignatureScheme::RSA_PKCS1_SHA512]
            .into_iter()
            .find(|s| offered.contains(s))
            .map(|scheme| Box::new(LegacyRsaSigner { key: self.key.clone(), scheme }) as Box<dyn rustls::sign::Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

#[derive(Debug)]
struct LegacyRsaSigner {
    key: PrivateKey,
    scheme: SignatureScheme,
}

impl rustls::sign::Signer for LegacyRsaSigner {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rustls::Error> {
        legacy_rsa_sign(&self.key, self.scheme, message).map_err(rustls::Error::General)
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256 or SHA-512, for any RSA key size AWS-LC can use.
fn legacy_rsa_sign(key: &PrivateKey, scheme: SignatureScheme, message: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let (prefix, algorithm) = match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => (SHA256_DIGEST_INFO, &digest::SHA256),
        SignatureScheme::RSA_PKCS1_SHA512 => (SHA512_DIGEST_INFO, &digest::SHA512),
        other => return Err(format!("{other:?} is not offered for this key")),
    };
    let mut t = prefix.to_vec();
    t.extend_from_slice(digest::digest(algorithm, message).as_ref());
    opencapf_pki::rawkey::rsa_sign_raw_pkcs1(key.pkcs8_der(), &t).map_err(|e| e.to_string())
}

/// A provider with the AES-128 suites first (phones prefer AES128-SHA to AES256-SHA).
fn phone_provider() -> CryptoProvider {
    let mut p = tls::provider();
    let rank = |s: CipherSuite| {
        let name = format!("{s:?}");
        if name.contains("AES_128") {
            0
        } else if name.contains("AES_256") {
            1
        } else {
            2
        }
    };
    p.cipher_suites.sort_by_key(|s| rank(s.suite()));
    p
}

/// The rustls configuration: trust-list check of CallManager, and the phone's certificate.
fn client_config(
    verifier: Arc<TrustListVerifier>,
    versions: TlsVersions,
    cert: &DeviceCertificate,
) -> std::result::Result<rustls::ClientConfig, String> {
    let key: Arc<dyn SigningKey> = if cert.key.algorithm().is_rsa() && cert.key.algorithm().bits() < 2048 {
        Arc::new(LegacyRsaKey { key: cert.key.clone() })
    } else {
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.pkcs8_der().to_vec()));
        rustls::crypto::aws_lc_rs::sign::any_supported_type(&der)
            .map_err(|e| format!("the {} key cannot sign in TLS: {e}", cert.kind))?
    };
    let certified = CertifiedKey::new(vec![CertificateDer::from(cert.der.clone())], key);
    let versions: &[&'static rustls::SupportedProtocolVersion] = match versions {
        TlsVersions::Tls12And13 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
    };
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(phone_provider()))
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified))))
}

/// The TLS versions the phone offers.
fn versions_for(opts: &RegisterOptions, cert: &DeviceCertificate) -> Result<TlsVersions> {
    let legacy_rsa = cert.key.algorithm().is_rsa() && cert.key.algorithm().bits() < 2048;
    let chosen = opts.tls_versions.unwrap_or(match opts.security {
        SecurityMode::Authenticated => TlsVersions::Tls12Only,
        _ => TlsVersions::Tls12And13,
    });
    if legacy_rsa {
        if chosen == TlsVersions::Tls13Only {
            return Err(PhoneError::Invalid(format!(
                "the {}'s key is {}: TLS 1.3 signs with RSA-PSS, which needs 2048 bits; use TLS 1.2",
                cert.kind,
                cert.key.algorithm()
            )));
        }
        return Ok(TlsVersions::Tls12Only);
    }
    Ok(chosen)
}

impl Phone {
    /// Registers to CallManager once, as the phone's security profile says (see the module
    /// doc), and logs it on the console. Local problems (an unreadable key, a bad server
    /// address) are errors; everything CallManager does, refusing included, is in the report.
    pub async fn register(&self, opts: RegisterOptions) -> Result<RegisterReport> {
        let secure = opts.security != SecurityMode::NonSecure;
        let (host, port) = target(self, &opts, secure)?;
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
        let (cert, versions, trust_list) = if secure {
            let cert = self.select_certificate(purpose, false)?;
            let versions = versions_for(&opts, &cert)?;
            (Some(cert), versions, self.trust_list()?)
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
        };

        let tcp = match timeout(opts.timeout, TcpStream::connect((host.as_str(), port))).await {
            Err(_) => return Ok(self.failed(report, format!("cannot connect to CallManager {server}: timed out"))),
            Ok(Err(e)) => return Ok(self.failed(report, format!("cannot connect to CallManager {server}: {e}"))),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let local = tcp.local_addr().unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)));
        let hello = match opts.protocol {
            Protocol::Sip => {
                Hello::Sip(register_request(&device, &host, local, secure, opts.expires, &self.config().model))
            }
            Protocol::Sccp => Hello::Sccp(register_message(&device, local)),
        };

        let answer = match cert {
            None => {
                let mut tcp = tcp;
                let a = hello.exchange(&mut tcp, opts.timeout).await;
                let _ = timeout(Duration::from_secs(1), tcp.shutdown()).await;
                a
            }
            Some(cert) => {
                let verifier = Arc::new(TrustListVerifier::new(trust_list));
                let config = client_config(verifier.clone(), versions, &cert).map_err(PhoneError::Invalid)?;
                let name = tls::server_name(&host).map_err(PhoneError::Invalid)?;
                log.info(&format!("SECUREAPP-SSL session setup - cert len={}, type={}", cert.der.len(), cert.kind));
                let handshake = timeout(opts.timeout, TlsConnector::from(Arc::new(config)).connect(name, tcp)).await;
                let presented = verifier.presented();
                if let Some(p) = &presented {
                    if let Ok(info) = CertificateInfo::parse(&p.der) {
                        log.info(&format!("SECUREAPP-Certificate subject name = {}", slash_name(&info.subject)));
                        log.info(&format!("SECUREAPP-Certificate issuer name = {}", slash_name(&info.issuer)));
                    }
                }
                match handshake {
                    Err(_) => return Ok(self.failed(report, "the TLS handshake with CallManager timed out".into())),
                    Ok(Err(e)) => {
                        if let Some(p) = presented.filter(|p| !p.trusted) {
                            // The phone refuses CallManager: its certificate is not in the trust list.
                            log.error("SECUREAPP-No match found in trust list against the item");
                            log.ssl3_alert("write", "unknown CA");
                            report.tls_alert = Some("unknown CA".into());
                            report.tls_alert_direction = Some("write".into());
                            let fp = opencapf_pki::fingerprint(&p.der);
                            return Ok(self.failed(
                                report,
                                format!(
                                    "CallManager's certificate (SHA-256 {}…) is not in the phone's trust list: \
                                     give the phone the cluster's trust list (`opencapf trust export-phone`)",
                                    &fp[..16.min(fp.len())]
                                ),
                            ));
                        }
                        Err(Failure::from_io(&e, "TLS handshake"))
                    }
                    Ok(Ok(mut s)) => {
                        let (_, conn) = s.get_ref();
                        let version = conn.protocol_version().map(tls::version_name).unwrap_or_default();
                        let cipher =
                            conn.negotiated_cipher_suite().map(|c| tls::cipher_name(c.suite())).unwrap_or_default();
                        // Rule 1's line: which certificate went to CallManager, and the cipher.
                        log.cert_cipher(purpose, &version, cert.kind, &cipher);
                        report.tls_version = Some(version);
                        report.cipher = Some(cipher);
                        let a = hello.exchange(&mut s, opts.timeout).await;
                        let _ = timeout(Duration::from_secs(1), s.shutdown()).await;
                        a
                    }
                }
            }
        };
        Ok(self.conclude(report, answer))
    }

    fn failed(&self, mut report: RegisterReport, why: String) -> RegisterReport {
        report.outcome = Outcome::Failed;
        report.summary = format!("Registration failed: {why}");
        self.console().error(&format!("{}: -{}", report.protocol, report.summary));
        report
    }

    fn conclude(&self, mut report: RegisterReport, answer: Result<Answer, Failure>) -> RegisterReport {
        let log = self.console();
        let how = {
            let mut h = format!("{} over {}", report.protocol, report.transport);
            if let Some(c) = &report.certificate {
                h.push_str(&format!(", {}", c.kind));
            }
            h
        };
        let server = report.server.clone();
        match answer {
            Err(Failure::Other(why)) => return self.failed(report, why),
            Err(Failure::Alert(alert)) => {
                // Rule 2: CallManager refused the certificate.
                log.ssl3_alert("read", &alert);
                report.outcome = Outcome::Refused;
                report.summary = format!("Refused by CallManager {server} ({how}): fatal TLS alert '{alert}'");
                report.tls_alert = Some(alert);
                report.tls_alert_direction = Some("read".into());
            }
            Ok(Answer::SipFinal { code, reason, expires }) => {
                report.sip_status = Some(code);
                if (200..300).contains(&code) {
                    report.outcome = Outcome::Registered;
                    report.expires = expires;
                    let exp = expires.map(|e| format!(", expires {e}")).unwrap_or_default();
                    report.summary = format!("Registered with CallManager {server} ({how}): {code} {reason}{exp}");
                } else {
                    report.outcome = Outcome::Refused;
                    report.summary = format!("Refused by CallManager {server} ({how}): {code} {reason}");
                }
                report.reason = Some(reason);
            }
            Ok(Answer::SccpAck { keepalive }) => {
                report.outcome = Outcome::Registered;
                report.keepalive_interval = Some(keepalive);
                report.summary =
                    format!("Registered with CallManager {server} ({how}): RegisterAck, keepalive {keepalive} s");
            }
            Ok(Answer::SccpReject { text }) => {
                report.outcome = Outcome::Refused;
                report.summary = format!("Refused by CallManager {server} ({how}): RegisterReject '{text}'");
                report.reason = Some(text);
            }
        }
        let line = format!("{}: -{}", report.protocol, report.summary);
        if report.registered() {
            log.info(&line);
        } else {
            log.error(&line);
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencapf_pki::KeyAlgorithm;

    #[test]
    fn servers_and_ports() {
        assert_eq!(split_host_port("cucm.lab"), Some(("cucm.lab".into(), None)));
        assert_eq!(split_host_port("cucm.lab:15061"), Some(("cucm.lab".into(), Some(15061))));
        assert_eq!(split_host_port("127.0.0.1:3804"), Some(("127.0.0.1".into(), Some(3804))));
        assert_eq!(split_host_port("::1"), Some(("::1".into(), None)));
        assert_eq!(split_host_port("[::1]:5061"), Some(("::1".into(), Some(5061))));
        assert_eq!(split_host_port("a b"), None);
        assert_eq!(split_host_port("host:port"), None);
        assert_eq!(standard_port(Protocol::Sip, true), 5061);
        assert_eq!(standard_port(Protocol::Sccp, false), 2000);
        assert_eq!(uri_host("::1"), "[::1]");
        assert_eq!(mac_of("SEP2C3124C9F8E1"), [0x2c, 0x31, 0x24, 0xc9, 0xf8, 0xe1]);
    }

    #[test]
    fn the_register_names_the_device_everywhere_the_server_looks() {
        let local: SocketAddr = "192.0.2.7:51234".parse().unwrap();
        let m = register_request("SEP2C3124C9F8E1", "cucm.lab", local, true, 600, "CP-8861");
        let text = String::from_utf8(m.to_bytes()).unwrap();
        assert!(text.starts_with("REGISTER sip:cucm.lab SIP/2.0\r\n"), "{text}");
        assert_eq!(sip::user_of(m.header("To").unwrap()).as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(sip::user_of(m.header("From").unwrap()).as_deref(), Some("SEP2C3124C9F8E1"));
        let contact = m.header("Contact").unwrap();
        assert_eq!(sip::param(contact, "+u.sip!devicename.ccm.cisco.com"), Some(Some("SEP2C3124C9F8E1".into())));
        assert!(contact.contains("transport=tls"));
        assert!(m.header("Via").unwrap().starts_with("SIP/2.0/TLS 192.0.2.7:51234;branch=z9hG4bK"));
        assert_eq!(m.header("Expires"), Some("600"));
        let frame = register_message("SEP2C3124C9F8E1", local);
        let back = sccp::RegisterMessage::decode(&frame.data).unwrap();
        assert_eq!(back.device_name, "SEP2C3124C9F8E1");
        assert_eq!(back.ip, Ipv4Addr::new(192, 0, 2, 7));
    }

    #[test]
    fn a_1024_bit_rsa_key_signs_pkcs1_v1_5_with_the_digest_info() {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa1024).unwrap();
        let signing = LegacyRsaKey { key: key.clone() };
        // TLS 1.3 offers only PSS for RSA: nothing to sign with.
        assert!(signing.choose_scheme(&[SignatureScheme::RSA_PSS_SHA256]).is_none());
        for (scheme, prefix, alg) in [
            (SignatureScheme::RSA_PKCS1_SHA256, SHA256_DIGEST_INFO, &digest::SHA256),
            (SignatureScheme::RSA_PKCS1_SHA512, SHA512_DIGEST_INFO, &digest::SHA512),
        ] {
            let signer = signing.choose_scheme(&[SignatureScheme::RSA_PSS_SHA256, scheme]).unwrap();
            assert_eq!(signer.scheme(), scheme);
            let sig = signer.sign(b"handshake transcript").unwrap();
            assert_eq!(sig.len(), 128);
            // The whole block, checked strictly: 00 01 FF.. 00 DigestInfo hash.
            let block = opencapf_pki::rawkey::rsa_public_raw(key.public_key_der(), &sig).unwrap();
            let mut t = prefix.to_vec();
            t.extend_from_slice(digest::digest(alg, b"handshake transcript").as_ref());
            let mut expected = vec![0x00, 0x01];
            expected.resize(128 - t.len() - 1, 0xff);
            expected.push(0x00);
            expected.extend_from_slice(&t);
            assert_eq!(block, expected);
        }
    }
}
