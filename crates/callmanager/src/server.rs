//! The listeners, the connections, and what is recorded of each registration.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_pki::{classify, CertificateInfo, TrustStore};
use opencapf_store::registrations::{self, NewRegistration, RegistrationResult, Transport};
use opencapf_store::{audit, devices, keyfile, service, settings, trust, Protocol, Service, Store, StoreError};
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, error, info, warn};

use crate::rules::{self, Connection, Presented, Refusal};
use crate::sip::{self, Event, Message, ReadError};
use crate::tls::{self, PhoneVerifier};
use crate::{sccp, CallManagerConfig, CallManagerError};

/// The actor of CallManager's audit records.
pub const ACTOR: &str = "callmanager";
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// A SIP connection is closed after this many refused REGISTERs: each one is recorded, and a
/// phone that keeps being refused has nothing to gain from the same connection.
const MAX_SIP_REFUSALS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SipTls,
    SipTcp,
    SccpTls,
    SccpTcp,
}

impl Kind {
    fn protocol(self) -> Protocol {
        match self {
            Kind::SipTls | Kind::SipTcp => Protocol::Sip,
            Kind::SccpTls | Kind::SccpTcp => Protocol::Sccp,
        }
    }

    fn transport(self) -> Transport {
        match self {
            Kind::SipTls | Kind::SccpTls => Transport::Tls,
            Kind::SipTcp | Kind::SccpTcp => Transport::Tcp,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::SipTls => "SIP over TLS",
            Kind::SipTcp => "SIP over TCP",
            Kind::SccpTls => "SCCP over TLS",
            Kind::SccpTcp => "SCCP over TCP",
        }
    }
}

/// The addresses the listeners got (`None`: disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundAddrs {
    pub sip_tls: Option<SocketAddr>,
    pub sip_tcp: Option<SocketAddr>,
    pub sccp_tls: Option<SocketAddr>,
    pub sccp_tcp: Option<SocketAddr>,
}

struct Shared {
    store: Store,
    config: CallManagerConfig,
    provider: Arc<CryptoProvider>,
    key: Arc<CertifiedKey>,
    hostname: String,
    connections: Arc<Semaphore>,
}

/// CallManager, bound and ready to serve.
pub struct CallManagerServer {
    shared: Arc<Shared>,
    listeners: Vec<(Kind, TcpListener)>,
    addrs: BoundAddrs,
}

impl CallManagerServer {
    /// Loads the CallManager certificate and key from the store and binds every enabled
    /// listener. Port 0 picks a free port: see [`CallManagerServer::addrs`].
    pub async fn bind(store: Store, config: CallManagerConfig) -> Result<CallManagerServer, CallManagerError> {
        let mut db = store.pool().acquire().await.map_err(StoreError::from)?;
        let cm = service::require_active(&mut db, Service::CallManager).await?;
        let hostname = settings::load(&mut db).await?.hostname;
        drop(db);
        let key = keyfile::read(store.data_dir(), &cm.key_file)?;
        let provider = tls::provider();
        let certified = tls::certified_key(&cm.der, key.pkcs8_der(), &provider)?;

        let mut listeners = Vec::new();
        let mut addrs = BoundAddrs::default();
        for (kind, addr) in [
            (Kind::SipTls, config.sip_tls),
            (Kind::SipTcp, config.sip_tcp),
            (Kind::SccpTls, config.sccp_tls),
            (Kind::SccpTcp, config.sccp_tcp),
        ] {
            let Some(addr) = addr else { continue };
            let bind_err = |source| CallManagerError::Bind { what: kind.name(), addr, source };
            let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
            let local = listener.local_addr().map_err(bind_err)?;
            match kind {
                Kind::SipTls => addrs.sip_tls = Some(local),
                Kind::SipTcp => addrs.sip_tcp = Some(local),
                Kind::SccpTls => addrs.sccp_tls = Some(local),
                Kind::SccpTcp => addrs.sccp_tcp = Some(local),
            }
            listeners.push((kind, listener));
        }
        let connections = Arc::new(Semaphore::new(config.max_connections.clamp(1, Semaphore::MAX_PERMITS)));
        let shared = Arc::new(Shared { store, config, provider, key: certified, hostname, connections });
        Ok(CallManagerServer { shared, listeners, addrs })
    }

    pub fn addrs(&self) -> BoundAddrs {
        self.addrs
    }

    /// Serves until `shutdown` completes, then stops accepting, closes the connections and
    /// returns (waiting at most five seconds for connections to end).
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), CallManagerError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut loops = JoinSet::new();
        for (kind, listener) in self.listeners {
            info!(listener = kind.name(), addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                "CallManager listening for {}", kind.name());
            loops.spawn(accept_loop(self.shared.clone(), kind, listener, stop_rx.clone()));
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        while loops.join_next().await.is_some() {}
        let all =
            u32::try_from(self.shared.config.max_connections.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        if timeout(Duration::from_secs(5), self.shared.connections.acquire_many(all)).await.is_err() {
            warn!("CallManager stopped with connections still closing");
        }
        Ok(())
    }
}

/// Resolves once the server is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, kind: Kind, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        let permit = tokio::select! {
            _ = stopped(&mut stop) => return,
            p = shared.connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = stopped(&mut stop) => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    warn!(listener = kind.name(), "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                _ = stopped(&mut stop) => {}
                _ = connection(&shared, kind, tcp, peer) => {}
            }
        });
    }
}

/// CallManager-trust and the cluster's CAPF certificates, as they are now.
async fn load_trust(store: &Store) -> Result<(Vec<opencapf_pki::Anchor>, Vec<CertificateInfo>), StoreError> {
    let mut db = store.pool().acquire().await?;
    let anchors = trust::anchors(&mut db, TrustStore::CallManager).await?;
    let capfs = service::capf_infos(&mut db).await?;
    Ok((anchors, capfs))
}

async fn connection(shared: &Arc<Shared>, kind: Kind, tcp: TcpStream, peer: SocketAddr) {
    let mut conn = Connection {
        peer,
        protocol: kind.protocol(),
        transport: kind.transport(),
        tls_version: None,
        cipher: None,
        certificate: None,
    };
    if kind.transport() == Transport::Tcp {
        return session(shared, conn, tcp).await;
    }

    let (anchors, capfs) = match load_trust(&shared.store).await {
        Ok(t) => t,
        Err(e) => {
            error!(%peer, "cannot read CallManager-trust, closing the connection: {e}");
            return;
        }
    };
    let verifier = Arc::new(PhoneVerifier::new(anchors));
    let config = match tls::server_config(shared.provider.clone(), shared.key.clone(), verifier.clone()) {
        Ok(c) => c,
        Err(e) => {
            error!(%peer, "TLS configuration failed: {e}");
            return;
        }
    };
    let accept = TlsAcceptor::from(Arc::new(config)).accept(tcp).into_fallible();
    let stream = match timeout(shared.config.handshake_timeout, accept).await {
        Err(_) => {
            debug!(%peer, listener = kind.name(), "TLS handshake timed out");
            return;
        }
        Ok(Err((err, io))) => {
            handshake_failed(shared, &conn, &err, &verifier, &capfs).await;
            linger_close(io).await;
            return;
        }
        Ok(Ok(s)) => s,
    };
    let (_, server_conn) = stream.get_ref();
    conn.tls_version = server_conn.protocol_version().map(tls::version_name);
    conn.cipher = server_conn.negotiated_cipher_suite().map(tls::cipher_name);
    conn.certificate = server_conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| CertificateInfo::parse(c).ok())
        .map(|info| Presented { kind: classify(&info, &capfs), info });
    session(shared, conn, stream).await;
}

/// Records a handshake CallManager-trust refused, or a TLS offer with nothing in common.
async fn handshake_failed(
    shared: &Shared,
    conn: &Connection,
    err: &std::io::Error,
    verifier: &PhoneVerifier,
    capfs: &[CertificateInfo],
) {
    let tls_err = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    let mut conn = conn.clone();
    let (device, reason) = match verifier.checked() {
        Some(checked) => {
            conn.certificate = checked.info.clone().map(|info| Presented { kind: classify(&info, capfs), info });
            let device = checked.info.as_ref().and_then(rules::device_named_by);
            let reason = match &checked.verdict {
                Ok(v) if !v.is_trusted() => rules::handshake_refusal(v, conn.certificate.as_ref()),
                Ok(_) => {
                    let small_rsa =
                        checked.info.as_ref().is_some_and(|i| matches!(i.key.as_str(), "RSA 512" | "RSA 1024"));
                    let hint = if small_rsa {
                        " (an RSA key under 2048 bits can sign only TLS 1.2 PKCS#1 signatures here, not RSA-PSS: \
                         give the phone a 2048-bit LSC)"
                    } else {
                        ""
                    };
                    format!(
                        "the certificate is trusted but the TLS handshake failed: {}{hint}",
                        tls_err.map(|e| e.to_string()).unwrap_or_else(|| err.to_string())
                    )
                }
                Err(e) => e.clone(),
            };
            (device, reason)
        }
        None => match tls_err {
            Some(rustls::Error::NoCertificatesPresented) => (
                None,
                "no client certificate: CallManager requires the phone's LSC (or its MIC when it has none)".to_owned(),
            ),
            Some(e @ rustls::Error::PeerIncompatible(_)) => (
                None,
                format!(
                    "the phone's TLS offer has nothing in common with CallManager's ({e}); TLS 1.2 and 1.3 with \
                     AES-GCM or ChaCha20-Poly1305 are available, CBC, NULL and static-RSA suites are not"
                ),
            ),
            _ => {
                debug!(peer = %conn.peer, "TLS handshake failed: {err}");
                return;
            }
        },
    };
    record(shared, &conn, device.as_deref(), RegistrationResult::Refused, &reason).await;
}

/// Closes a connection whose handshake failed so that the alert reaches the phone: no more
/// writes, then what the phone still sends is read and dropped for a moment (closing with
/// unread data would reset the connection and could destroy the alert in flight).
async fn linger_close(mut io: TcpStream) {
    let _ = timeout(Duration::from_secs(1), io.shutdown()).await;
    let _ = timeout(Duration::from_secs(2), async {
        let mut sink = [0u8; 4096];
        let mut total = 0usize;
        while total < 256 * 1024 {
            match io.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

async fn session<S>(shared: &Shared, conn: Connection, mut stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    match conn.protocol {
        Protocol::Sip => sip_session(shared, &conn, &mut stream).await,
        Protocol::Sccp => sccp_session(shared, &conn, &mut stream).await,
    }
    // TLS: close_notify; TCP: FIN.
    let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> bool {
    matches!(
        timeout(WRITE_TIMEOUT, async {
            stream.write_all(bytes).await?;
            stream.flush().await
        })
        .await,
        Ok(Ok(()))
    )
}

/// Applies the rules to a name a phone gave.
async fn decide(store: &Store, conn: &Connection, claimed: &str) -> Result<opencapf_pki::DeviceName, Refusal> {
    let name = rules::parse_claimed(claimed)?;
    let unavailable = |e: StoreError| Refusal::unavailable(format!("CallManager could not read the device: {e}"));
    let mut db = store.pool().acquire().await.map_err(|e| unavailable(e.into()))?;
    let device = match devices::get(&mut db, &name).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) => return Err(rules::unknown_device(&name)),
        Err(e) => return Err(unavailable(e)),
    };
    rules::check(&device, conn)?;
    Ok(name)
}

/// The device name to record for a claim: normalized when it is a device name.
fn recorded_name(claimed: &str) -> Option<String> {
    if claimed.is_empty() {
        return None;
    }
    Some(match claimed.parse::<opencapf_pki::DeviceName>() {
        Ok(d) => d.to_string(),
        Err(_) => claimed.chars().take(64).collect(),
    })
}

/// One log line, one registrations row and one audit record.
async fn record(shared: &Shared, conn: &Connection, device: Option<&str>, result: RegistrationResult, reason: &str) {
    let cert = conn.certificate.as_ref();
    let event = NewRegistration {
        device: device.map(str::to_owned),
        peer: conn.peer.to_string(),
        protocol: conn.protocol,
        transport: conn.transport,
        tls_version: conn.tls_version.clone(),
        cipher: conn.cipher.clone(),
        cert_kind: cert.map(|c| c.kind_label().to_owned()),
        cert_subject: cert.map(|c| c.info.subject.clone()),
        issuer_cn: cert.and_then(|c| c.info.issuer_cn.clone()),
        serial: cert.map(|c| c.info.serial.clone()),
        result,
        reason: reason.to_owned(),
    };
    let mut how = format!("{} over {}", conn.protocol, conn.transport);
    if let (Some(v), Some(c)) = (&conn.tls_version, &conn.cipher) {
        how.push_str(&format!(" ({v}, {c})"));
    }
    if let Some(c) = cert {
        how.push_str(&format!(", {}", c.describe()));
    }
    let who = device.unwrap_or("unknown device");
    let peer = conn.peer;
    match result {
        RegistrationResult::Registered => info!(device = who, %peer, "{who} registered: {how}, from {peer}"),
        RegistrationResult::Unregistered => info!(device = who, %peer, "{who} unregistered: {how}, from {peer}"),
        RegistrationResult::Refused => {
            warn!(device = who, %peer, "registration of {who} refused: {reason} ({how}, from {peer})")
        }
    }
    let outcome = async {
        let mut tx = shared.store.pool().begin().await?;
        registrations::record(&mut tx, &event).await?;
        let detail =
            if reason.is_empty() { format!("{how}, from {peer}") } else { format!("{reason} ({how}, from {peer})") };
        let target = device.map(str::to_owned).unwrap_or_else(|| peer.to_string());
        audit::record(&mut tx, ACTOR, &format!("callmanager.{}", result.as_str()), &target, &detail).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    if let Err(e) = outcome {
        error!(device = who, "could not record the registration: {e}");
    }
}

fn new_tag() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    format!("{:016x}", h.finish())
}

async fn sip_session<S>(shared: &Shared, conn: &Connection, stream: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cfg = &shared.config;
    let mut reader = sip::Reader::new(cfg.sip_limits);
    let tag = new_tag();
    // The device registered on this connection and the Expires granted.
    let mut registered: Option<(opencapf_pki::DeviceName, u32)> = None;
    let mut refusals = 0u32;
    loop {
        let idle = match &registered {
            Some((_, expires)) => Duration::from_secs(u64::from(*expires) + 32),
            None => cfg.sip_idle_timeout,
        };
        let request = match reader.next(stream, idle, cfg.sip_request_timeout).await {
            Ok(Event::Closed) => return,
            Ok(Event::Ping) => {
                if !write(stream, b"\r\n").await {
                    return;
                }
                continue;
            }
            Ok(Event::Message(m)) => m,
            Err(ReadError::BodyTooLarge { head, length }) => {
                if head.method().is_some() {
                    let mut r = sip::response_to(&head, 413, "Request Entity Too Large", &tag);
                    r.push("Warning", warning(&shared.hostname, &format!("body of {length} bytes is over the limit")));
                    write(stream, &r.to_bytes()).await;
                }
                debug!(peer = %conn.peer, "closing SIP connection: body of {length} bytes");
                return;
            }
            Err(e) => {
                debug!(peer = %conn.peer, "closing SIP connection: {e}");
                return;
            }
        };
        let Some(method) = request.method().map(str::to_ascii_uppercase) else {
            continue; // a response: nothing to answer
        };
        if method == "ACK" {
            continue;
        }
        let response = match missing_header(&request) {
            Some(name) => sip::response_to(&request, 400, &format!("Missing {name} header"), &tag),
            None => match method.as_str() {
                "REGISTER" => register(shared, conn, &request, &tag, &mut registered).await,
                "OPTIONS" => {
                    let mut r = sip::response_to(&request, 200, "OK", &tag);
                    r.push("Allow", "REGISTER, OPTIONS");
                    r.push("Accept", "application/sdp");
                    r
                }
                _ => {
                    let mut r = sip::response_to(&request, 501, "Not Implemented", &tag);
                    r.push("Allow", "REGISTER, OPTIONS");
                    r
                }
            },
        };
        let mut response = response;
        response.push("Server", "OpenCAPF CallManager");
        if !write(stream, &response.to_bytes()).await {
            return;
        }
        if method == "REGISTER" && response.code().is_some_and(|c| c >= 400) {
            refusals += 1;
            if refusals >= MAX_SIP_REFUSALS {
                debug!(peer = %conn.peer, "closing SIP connection after {refusals} refused REGISTERs");
                return;
            }
        }
    }
}

fn missing_header(m: &Message) -> Option<&'static str> {
    ["Via", "From", "To", "Call-ID", "CSeq"].into_iter().find(|h| m.header(h).is_none())
}

fn warning(host: &str, text: &str) -> String {
    format!("399 {host} \"{}\"", sip::sanitize_reason(text).replace(['"', '\\'], "'"))
}

/// REGISTER: the rules, then the SIP identity; 200 OK with Contact and Expires, or the refusal.
async fn register(
    shared: &Shared,
    conn: &Connection,
    req: &Message,
    tag: &str,
    registered: &mut Option<(opencapf_pki::DeviceName, u32)>,
) -> Message {
    let to = req.header("To").unwrap_or("");
    let Some(claimed) = sip::user_of(to) else {
        return sip::response_to(req, 400, "The To header has no sip: user (the device name)", tag);
    };
    let contacts: Vec<String> = req.headers_named("Contact").flat_map(sip::split_values).map(str::to_owned).collect();
    let outcome = match decide(&shared.store, conn, &claimed).await {
        Err(r) => Err(r),
        Ok(name) => sip_identity(req, &name, &contacts).map(|()| name),
    };
    let name = match outcome {
        Ok(name) => name,
        Err(refusal) => {
            record(shared, conn, recorded_name(&claimed).as_deref(), RegistrationResult::Refused, &refusal.reason)
                .await;
            let mut r = sip::response_to(req, refusal.sip_code, &refusal.reason, tag);
            r.push("Warning", warning(&shared.hostname, &refusal.reason));
            return r;
        }
    };

    let cfg = &shared.config;
    let requested = contacts
        .first()
        .and_then(|c| sip::param(c, "expires").flatten())
        .or_else(|| req.header("Expires").map(str::to_owned))
        .map(|v| v.trim().parse::<u64>().unwrap_or(u64::from(cfg.sip_default_expires)))
        .unwrap_or(u64::from(cfg.sip_default_expires));
    let granted = u32::try_from(requested.min(u64::from(cfg.sip_max_expires))).unwrap_or(cfg.sip_max_expires);
    let mut r = sip::response_to(req, 200, "OK", tag);
    if granted == 0 {
        if registered.as_ref().is_some_and(|(d, _)| *d == name) {
            *registered = None;
        }
        record(shared, conn, Some(name.as_str()), RegistrationResult::Unregistered, "").await;
    } else {
        let refresh = registered.as_ref().is_some_and(|(d, _)| *d == name);
        *registered = Some((name.clone(), granted));
        if refresh {
            debug!(device = %name, peer = %conn.peer, "registration refreshed, expires {granted}");
        } else {
            record(shared, conn, Some(name.as_str()), RegistrationResult::Registered, "").await;
        }
        for c in contacts.iter().filter(|c| c.as_str() != "*") {
            let base = match c.find('>') {
                Some(end) => c[..=end].to_owned(),
                None => format!("<{}>", sip::uri_of(c)),
            };
            r.push("Contact", format!("{base};expires={granted}"));
        }
    }
    r.push("Expires", granted.to_string());
    r
}

/// The SIP identity must be the device's: From user equals To user, and Cisco's
/// `+u.sip!devicename.ccm.cisco.com` Contact parameter, when present, names the same device.
fn sip_identity(req: &Message, name: &opencapf_pki::DeviceName, contacts: &[String]) -> Result<(), Refusal> {
    if let Some(from_user) = req.header("From").and_then(sip::user_of) {
        if !from_user.eq_ignore_ascii_case(name.as_str()) {
            return Err(Refusal::forbidden(
                "Identity mismatch",
                format!("the From user '{from_user}' is not the To user {name}: a phone registers only itself"),
            ));
        }
    }
    for c in contacts {
        if let Some(Some(dev)) = sip::param(c, "+u.sip!devicename.ccm.cisco.com") {
            if !dev.eq_ignore_ascii_case(name.as_str()) {
                return Err(Refusal::forbidden(
                    "Identity mismatch",
                    format!("the Contact names device '{dev}', not the To user {name}"),
                ));
            }
        }
    }
    Ok(())
}

async fn sccp_session<S>(shared: &Shared, conn: &Connection, stream: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cfg = &shared.config;
    let opened = Instant::now();
    let mut registered: Option<opencapf_pki::DeviceName> = None;
    loop {
        // Before registering, the whole connection gets one idle period; after, each message.
        let wait = match registered {
            Some(_) => cfg.sccp_idle_timeout,
            None => (opened + cfg.sccp_idle_timeout).saturating_duration_since(Instant::now()),
        };
        let frame = match timeout(wait, sccp::read_frame(stream, cfg.sccp_max_length)).await {
            Err(_) => {
                match &registered {
                    Some(d) => info!(device = %d, peer = %conn.peer, "closing SCCP connection of {d}: no keepalive \
                                     within {:?}", cfg.sccp_idle_timeout),
                    None => debug!(peer = %conn.peer, "closing SCCP connection: no RegisterMessage in time"),
                }
                return;
            }
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                debug!(peer = %conn.peer, "closing SCCP connection: {e}");
                return;
            }
            Ok(Ok(Some(f))) => f,
        };
        match frame.id {
            sccp::id::KEEP_ALIVE => {
                if !write(stream, &sccp::keepalive_ack().encode()).await {
                    return;
                }
            }
            sccp::id::REGISTER => {
                let msg = match sccp::RegisterMessage::decode(&frame.data) {
                    Ok(m) => m,
                    Err(e) => {
                        debug!(peer = %conn.peer, "closing SCCP connection: {e}");
                        return;
                    }
                };
                match decide(&shared.store, conn, &msg.device_name).await {
                    Ok(name) => {
                        if registered.as_ref() != Some(&name) {
                            record(shared, conn, Some(name.as_str()), RegistrationResult::Registered, "").await;
                        }
                        registered = Some(name);
                        let ack = sccp::RegisterAck {
                            keepalive_interval: u32::try_from(cfg.sccp_keepalive_interval.as_secs()).unwrap_or(30),
                            date_template: "M/D/YA".into(),
                            secondary_keepalive_interval: u32::try_from(cfg.sccp_keepalive_interval.as_secs())
                                .unwrap_or(30),
                            max_protocol_version: msg.protocol_version.min(22),
                            phone_features: 0,
                        };
                        if !write(stream, &ack.frame().encode()).await {
                            return;
                        }
                    }
                    Err(refusal) => {
                        let device = recorded_name(&msg.device_name);
                        record(shared, conn, device.as_deref(), RegistrationResult::Refused, &refusal.reason).await;
                        let reject = sccp::RegisterReject { text: refusal.short.to_owned() };
                        write(stream, &reject.frame().encode()).await;
                        return;
                    }
                }
            }
            sccp::id::UNREGISTER => {
                if let Some(d) = registered.take() {
                    record(shared, conn, Some(d.as_str()), RegistrationResult::Unregistered, "").await;
                }
                write(stream, &sccp::unregister_ack().encode()).await;
                return;
            }
            other if registered.is_none() => {
                debug!(peer = %conn.peer, "closing SCCP connection: message 0x{other:04x} before RegisterMessage");
                return;
            }
            other => {
                debug!(peer = %conn.peer, "ignoring SCCP {} (0x{other:04x})", sccp::message_name(other));
            }
        }
    }
}
