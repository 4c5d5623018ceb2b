//! The phone side of one CAPF session (`docs/capf-protocol.md` §1.9, §1.10 "Client"), as a real
//! phone does it:
//!
//! ```text
//! connect + TLS (server certificate must be in the trust list) -> AuthRequest (learn the session id)
//!   -> AuthResponse (device name + credentials)
//!   -> KeyGenRequest  -> [RequestInProgress …] -> KeyGenResponse -> StoreCertificateRequest -> StoreCertificateResponse
//!    | DeleteCertificateRequest -> DeleteCertificateResponse
//!    | FetchCertificateRequest  -> FetchCertificateResponse
//!   -> EndSession (always last; the server closes)
//! ```
//!
//! - **TLS** ([`tls`]): TLS 1.2 or 1.3, no client certificate. The server is accepted only if the
//!   DER of its certificate is exactly one of the phone's trust-list certificates (phones match the
//!   certificate, not a host name); the handshake signatures are still verified.
//! - **Session id**: learned from the AuthRequest header, echoed in every message, and checked on
//!   every later server message (a mismatch ends the session with
//!   [`ClientError::SessionIdMismatch`]).
//! - **Credentials** ([`Credentials`]): an authentication string (Password element), the null
//!   string (an empty Password, as capfc sends), or an existing certificate (LSC or MIC): the
//!   Certificate package, SignedData (SHA-1) and Sha2SignedData (SHA-512) over
//!   `device name + NUL || certificate DER` (§1.8.3). RSA keys sign a raw PKCS#1 type-1 block with no
//!   DigestInfo; EC keys sign ordinary ECDSA (DER). Optional SudiData (§1.8.4, RSA only).
//! - **Key generation** runs on a blocking thread; RequestInProgress is sent every
//!   [`ClientConfig::progress_interval`] while it works.
//! - **Each message is one write** (header and body in one buffer, then a flush): phones' peers
//!   expect one TLS record per message (§1.1). Reads are bounded (8-byte header, then at most 65535
//!   body bytes) and each wait has a timeout.
//!
//! What the phone does with certificates (store, delete, upload) is the caller's, through
//! [`SessionHandler`]: the StoreCertificateResponse is sent only after the handler has persisted
//! the LSC.

mod credentials;
mod session;
pub mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use opencapf_pki::{KeyAlgorithm, PrivateKey};

pub use credentials::{auth_response, sign_content};
pub use session::CapfClient;

use crate::proto::frame::{Command, FrameError};
use crate::proto::message::{AuthType, CertType, KeySpec, MessageError, Reason};

/// The CAPF port phones use unless their configuration names another (§1.1).
pub const DEFAULT_PORT: u16 = 3804;
/// The protocol version phones answer with (§1.6.3).
pub const PROTOCOL_VERSION: u8 = 3;

/// Which TLS versions the client offers (the project's TLS policy, re-exported).
pub use opencapf_tls::TlsVersions;

/// How to reach the server and how patient to be.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `HOST:PORT`, `HOST` (port 3804), `IPv4`, `IPv6` or `[IPv6]:PORT`.
    pub server: String,
    /// DER certificates accepted as the server's, matched byte for byte: the phone's trust list.
    pub trust_list: Vec<Vec<u8>>,
    pub tls_versions: TlsVersions,
    pub connect_timeout: Duration,
    pub handshake_timeout: Duration,
    /// How long to wait for each message of the server (AuthRequest, the operation, EndSession),
    /// and for each write to complete.
    pub message_timeout: Duration,
    /// RequestInProgress is sent each time this much time passes while the key is being generated;
    /// `None` never sends it. capfd tolerates at most one (§1.9 (a)), OpenCAPF any number.
    pub progress_interval: Option<Duration>,
    /// Key generation takes at least this long: simulates an old phone (CUCM warns of 30 minutes).
    pub min_keygen_time: Duration,
    /// Version element of the AuthResponse.
    pub version: u8,
}

impl ClientConfig {
    pub fn new(server: impl Into<String>, trust_list: Vec<Vec<u8>>) -> Self {
        Self {
            server: server.into(),
            trust_list,
            tls_versions: TlsVersions::default(),
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            message_timeout: Duration::from_secs(30),
            progress_interval: Some(Duration::from_secs(10)),
            min_keygen_time: Duration::ZERO,
            version: PROTOCOL_VERSION,
        }
    }
}

/// A certificate with its private key.
#[derive(Clone)]
pub struct CertifiedKey {
    pub cert_der: Vec<u8>,
    pub key: PrivateKey,
}

impl fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertifiedKey({} bytes, {:?})", self.cert_der.len(), self.key)
    }
}

/// What the phone proves itself with in the AuthResponse (§1.8).
#[derive(Clone)]
pub enum Credentials {
    /// By Authentication String: the digits typed on the phone, sent as the Password element.
    AuthString(String),
    /// By Null String: an empty Password element (`0b 0001 00`), as capfc sends.
    NullString,
    /// By Existing Certificate: the LSC or the MIC, with its key.
    Certificate { cert: Vec<u8>, key: PrivateKey },
}

impl Credentials {
    /// "authentication string", "null string" or "certificate".
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::AuthString(_) => "authentication string",
            Credentials::NullString => "null string",
            Credentials::Certificate { .. } => "certificate",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::AuthString(_) => f.write_str("AuthString(<redacted>)"),
            Credentials::NullString => f.write_str("NullString"),
            Credentials::Certificate { cert, key } => write!(f, "Certificate({} bytes, {key:?})", cert.len()),
        }
    }
}

/// Who the phone says it is.
#[derive(Debug, Clone)]
pub struct PhoneIdentity {
    /// `SEP` + 12 hex digits (sent as the DeviceName element, NUL-terminated).
    pub device_name: String,
    pub credentials: Credentials,
    /// Optional SudiData (§1.8.4), RSA keys only: capfc sends its `--sudi` certificate here.
    pub sudi: Option<CertifiedKey>,
}

/// What the phone does with certificates during a session. The CAPF client calls these while it
/// holds the session open; each answer becomes the phone's response.
pub trait SessionHandler: Send {
    /// StoreCertificateRequest: persist the new LSC with the key just generated (its public key has
    /// been checked to match). `Ok` gives StoreCertificateResponse reason 1, `Err` reason 7.
    fn store_lsc(&mut self, lsc_der: &[u8], key: &PrivateKey) -> Result<(), String>;

    /// DeleteCertificateRequest: forget the LSC. `Ok(true)` deleted (reason 1), `Ok(false)` there
    /// was none (reason 7, as capfc), `Err` failed (reason 7).
    fn delete_lsc(&mut self) -> Result<bool, String>;

    /// FetchCertificateRequest ("Troubleshoot"): the DER to upload, or `None` (reason 7).
    /// `requested` is the CertificateType element if the server sent one (capfd sends none): the
    /// phone then uploads its LSC if it has one, else its MIC.
    fn certificate_to_upload(&mut self, requested: Option<CertType>) -> Option<Vec<u8>>;

    /// Progress of the session, for logs. Does nothing by default.
    fn event(&mut self, _event: SessionEvent) {}

    /// A key made ahead of time for this request, used instead of generating one now. Phones
    /// generate on request (the default); benchmarks use it to time the server, not the phone.
    fn prepared_key(&mut self, _algorithm: KeyAlgorithm) -> Option<PrivateKey> {
        None
    }
}

/// Things that happen during a session, in order, for the phone's console log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent {
    Connected {
        peer: SocketAddr,
    },
    /// The certificate the server presented in the handshake, and whether it is in the trust list.
    ServerCertificate {
        der: Vec<u8>,
        trusted: bool,
    },
    TlsEstablished {
        version: String,
        cipher: String,
    },
    AuthRequest {
        session_id: u32,
        version: u8,
        auth_type: Option<AuthType>,
    },
    AuthResponseSent {
        credentials: &'static str,
    },
    KeyGenRequest {
        key: KeySpec,
    },
    RequestInProgressSent {
        elapsed: Duration,
    },
    KeyGenerated {
        key: KeySpec,
        elapsed: Duration,
    },
    KeyGenFailed {
        key: Option<KeySpec>,
        error: String,
    },
    StoreCertificateRequest {
        der: Vec<u8>,
    },
    /// The StoreCertificateResponse reason sent, with why when it is not 1.
    StoreCertificateResponse {
        reason: Reason,
        error: Option<String>,
    },
    DeleteCertificateRequest,
    DeleteCertificateResponse {
        reason: Reason,
        error: Option<String>,
    },
    FetchCertificateRequest {
        requested: Option<CertType>,
    },
    FetchCertificateResponse {
        reason: Reason,
    },
    /// Elements of a server message that the client does not read (logged and skipped).
    IgnoredElements {
        command: Command,
        tags: Vec<u8>,
    },
    EndSession {
        reason: Reason,
    },
}

/// What the TLS layer negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// "TLSv1.2", "TLSv1.3".
    pub version: String,
    /// OpenSSL name, e.g. "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384".
    pub cipher: String,
    pub server_certificate: Vec<u8>,
}

/// What the server asked for and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// EndSession straight after the AuthResponse: no pending operation, unknown device, or an
    /// authentication failure (see the end reason).
    None,
    Install(InstallReport),
    Delete {
        /// `Ok(true)` deleted, `Ok(false)` there was no LSC.
        result: Result<bool, String>,
    },
    Fetch {
        requested: Option<CertType>,
        /// The DER uploaded, if any.
        uploaded: Option<Vec<u8>>,
    },
}

/// Install/Upgrade, from the phone's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// What the KeyGenRequest asked for (`None` when it could not be decoded).
    pub key: Option<KeySpec>,
    pub keygen_time: Duration,
    pub requests_in_progress: u32,
    /// Why no key was generated (KeyGenResponse without a public key was sent).
    pub keygen_error: Option<String>,
    /// The LSC the server delivered, if it did.
    pub lsc: Option<Vec<u8>>,
    /// Whether the handler persisted it (StoreCertificateResponse reason 1 was sent).
    pub stored: bool,
    /// Why it was not stored: not matching the generated key, or the handler's error.
    pub store_error: Option<String>,
}

/// The result of a session that ran to its EndSession.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOutcome {
    pub session_id: u32,
    /// `None` when the session ran over a stream given by the caller ([`CapfClient::run_over`]).
    pub tls: Option<TlsInfo>,
    /// Version and AuthType of the AuthRequest.
    pub server_version: u8,
    pub server_auth_type: Option<AuthType>,
    pub operation: Operation,
    /// The EndSession reason: 0 nothing to do / after a fetch, 1 after install and delete,
    /// 7 failure, 9 unknown device.
    pub end_reason: Reason,
}

impl SessionOutcome {
    /// Whether the server ended without an error (reason 0 or 1) and the phone's own part
    /// succeeded (key generated, LSC stored, deletion or upload done).
    pub fn is_success(&self) -> bool {
        let server_ok = matches!(self.end_reason, Reason::NoAction | Reason::UpdateCertificate);
        let phone_ok = match &self.operation {
            Operation::None => true,
            Operation::Install(r) => r.stored,
            Operation::Delete { result } => matches!(result, Ok(true)),
            Operation::Fetch { uploaded, .. } => uploaded.is_some(),
        };
        server_ok && phone_ok
    }
}

/// The step of the session a timeout or a closed connection happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Handshake,
    AuthRequest,
    /// Waiting for the operation request (or EndSession) after the AuthResponse.
    Operation,
    /// Waiting for the StoreCertificateRequest after the KeyGenResponse.
    StoreCertificate,
    EndSession,
    Write,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connecting",
            Stage::Handshake => "the TLS handshake",
            Stage::AuthRequest => "waiting for the AuthRequest",
            Stage::Operation => "waiting for the operation request",
            Stage::StoreCertificate => "waiting for the StoreCertificateRequest",
            Stage::EndSession => "waiting for the EndSession",
            Stage::Write => "sending a message",
        })
    }
}

/// Why a session did not reach its EndSession.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad server address '{0}': use HOST, HOST:PORT or [IPv6]:PORT")]
    Address(String),
    #[error("cannot connect to CAPF at {server}: {cause}")]
    Connect { server: String, cause: std::io::Error },
    #[error("timed out {0}")]
    Timeout(Stage),
    #[error(
        "the server certificate is not in the phone's trust list (subject {subject}, issuer {issuer}, SHA-256 {fingerprint})"
    )]
    ServerNotTrusted { subject: String, issuer: String, fingerprint: String },
    #[error("the server sent a fatal TLS alert: {0}")]
    TlsAlert(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the server closed the connection {0}")]
    Closed(Stage),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("malformed {command:?} from the server: {cause}")]
    Message { command: Command, cause: MessageError },
    #[error("cannot encode a message: {0}")]
    Encode(MessageError),
    #[error("the server used session id {got} in a {command:?}, the session is {expected}")]
    SessionIdMismatch { expected: u32, got: u32, command: Command },
    #[error("unexpected {got:?} from the server while {stage}")]
    UnexpectedCommand { stage: Stage, got: Command },
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("I/O error: {0}")]
    Io(std::io::Error),
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}
