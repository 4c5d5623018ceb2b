//! One accepted connection: TCP goes straight to the session; TLS first completes a handshake
//! verified against CallManager-trust as it is now, by rustls or, for the older phones the
//! `tls.*` settings allow, by OpenSSL (`opencapf_tls::accept` chooses from the ClientHello); a
//! refused handshake or TLS offer is recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_model::{Protocol, TlsEngine, Transport};
use opencapf_pki::{device_named_by, CertificateInfo, TrustSnapshot, TrustStore};
use opencapf_telemetry::RefusalReason;
use opencapf_tls::{AcceptError, Engine, LegacyAcceptor, LegacyClientVerifier, LegacyPolicy, Refusal, ServerTls};
use rustls::ProtocolVersion;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing::{debug, error, info};

use super::record::refuse;
use super::sccp_session::sccp_session;
use super::sip_session::sip_session;
use super::{Kind, Shared};
use crate::rules::{self, Connection, Presented};
use crate::tls::{Checked, PhoneVerifier};

pub(super) async fn connection(shared: &Arc<Shared>, kind: Kind, tcp: TcpStream, peer: SocketAddr) {
    let conn = Connection {
        peer,
        protocol: kind.protocol(),
        transport: kind.transport(),
        tls_version: None,
        cipher: None,
        engine: None,
        certificate: None,
    };
    if kind.transport() == Transport::Tcp {
        return session(shared, conn, tcp).await;
    }
    let Some(tls) = Handshake::prepare(shared, peer).await else { return };
    match tls.accept(shared, tcp).await {
        Ok(stream) => {
            let conn = tls.connection(conn, &stream);
            if confirm_late(shared, &conn, &tls.verifier).await {
                session(shared, conn, stream).await;
            }
        }
        Err(err) => handshake_failed(shared, &conn, &err, &tls.verifier, &tls.trust, kind).await,
    }
}

/// What one TLS handshake is checked against, as the cluster has it for this connection (kept
/// between connections until the change feed reports a change, see `Cluster::follow_changes`):
/// a change of CallManager-trust, of the issued LSCs or of the `tls.*` settings applies to the
/// next connection.
struct Handshake {
    trust: std::sync::Arc<TrustSnapshot>,
    verifier: Arc<PhoneVerifier>,
    policy: LegacyPolicy,
    rustls: tokio_rustls::TlsAcceptor,
    legacy: Option<LegacyAcceptor>,
}

impl Handshake {
    async fn prepare(shared: &Shared, peer: SocketAddr) -> Option<Handshake> {
        // CallManager-trust and the cluster's CAPF certificates, as they are now.
        let trust = match shared.store.trust_snapshot().await {
            Ok(t) => t,
            Err(e) => {
                error!(%peer, "cannot read CallManager-trust, closing the connection: {e}");
                return None;
            }
        };
        // The cluster's LSCs that are not their device's installed one, as they are now.
        let refusals = match shared.store.lsc_refusals().await {
            Ok(r) => r,
            Err(e) => {
                error!(%peer, "cannot read the issued LSCs, closing the connection: {e}");
                return None;
            }
        };
        let settings = match shared.store.tls_settings().await {
            Ok(s) => s,
            Err(e) => {
                error!(%peer, "cannot read the tls.* settings, closing the connection: {e}");
                return None;
            }
        };
        // NULL-SHA is offered on these listeners; who may keep it is decided once the device
        // is known (`rules::check`): Authenticated devices only.
        let policy = LegacyPolicy::from_settings(&settings, true);
        let verifier = Arc::new(PhoneVerifier::new(trust.anchors(TrustStore::CallManager).to_vec(), refusals));
        let served = match shared.identity.current().await {
            Ok(s) => s,
            Err(e) => {
                error!(%peer, "TLS configuration failed: {e}");
                return None;
            }
        };
        let rustls = match served.acceptor_verifying(verifier.clone()) {
            Ok(a) => a,
            Err(e) => {
                error!(%peer, "TLS configuration failed: {e}");
                return None;
            }
        };
        // Without it, a legacy client is refused (and recorded) as having no engine to serve it.
        let legacy = served.legacy_acceptor(&policy, Some(verifier.clone() as Arc<dyn LegacyClientVerifier>));
        let legacy = legacy.unwrap_or_else(|e| {
            error!(%peer, "the legacy TLS engine could not be configured: {e}");
            None
        });
        Some(Handshake { trust, verifier, policy, rustls, legacy })
    }

    async fn accept(&self, shared: &Shared, tcp: TcpStream) -> Result<ServerTls, AcceptError> {
        let timeout = shared.config.handshake_timeout;
        opencapf_tls::accept(tcp, &self.rustls, self.legacy.as_ref(), &self.policy, timeout).await
    }

    /// The connection as the rules and records see it: engine, version, suite, certificate.
    fn connection(&self, mut conn: Connection, stream: &ServerTls) -> Connection {
        let session = stream.session();
        conn.engine = Some(engine(session.engine));
        conn.tls_version = Some(session.version);
        // rustls' suites by their IANA names, as `diagnose pcap` prints them (and as recorded
        // before the legacy engine); OpenSSL's by OpenSSL's, as the phone's console logs them.
        conn.cipher = match stream {
            ServerTls::Rustls(s) => s.get_ref().1.negotiated_cipher_suite().map(|s| opencapf_tls::iana_name(s.suite())),
            ServerTls::OpenSsl(_) => Some(session.suite),
        };
        conn.certificate = session
            .peer_certificates
            .first()
            .and_then(|c| CertificateInfo::parse(c).ok())
            .map(|info| Presented { kind: self.trust.classify(&info), info });
        conn
    }
}

fn engine(e: Engine) -> TlsEngine {
    match e {
        Engine::Rustls => TlsEngine::Rustls,
        Engine::OpenSsl => TlsEngine::Openssl,
    }
}

/// Records a handshake CallManager-trust refused, a TLS offer the cluster does not serve, or
/// one with nothing in common; anything else (not TLS, a timeout, a client that left) is only
/// logged.
async fn handshake_failed(
    shared: &Shared,
    conn: &Connection,
    err: &AcceptError,
    verifier: &PhoneVerifier,
    trust: &TrustSnapshot,
    kind: Kind,
) {
    let mut conn = conn.clone();
    conn.engine = err.engine().map(engine);
    let (device, (reason, kind)) = match (err, verifier.checked()) {
        (AcceptError::Refused(refusal) | AcceptError::NoLegacyEngine(refusal), _) => {
            if let Refusal::BelowMinimum { offered, .. } = refusal {
                conn.tls_version = Some(opencapf_tls::version_name(ProtocolVersion::from(*offered)));
            }
            (None, (route_refusal(err, refusal), RefusalReason::TlsOffer))
        }
        (AcceptError::Rustls(_) | AcceptError::OpenSsl { .. }, Some(checked)) => {
            conn.certificate = checked.info.clone().map(|info| Presented { kind: trust.classify(&info), info });
            let device = checked.info.as_ref().and_then(device_named_by).map(|d| d.to_string());
            (device, certificate_refusal(&conn, &checked, err))
        }
        _ => match uncertified_refusal(err) {
            Some(refused) => (None, refused),
            None => {
                debug!(peer = %conn.peer, listener = kind.name(), "TLS handshake failed: {err}");
                return;
            }
        },
    };
    refuse(shared, &conn, device.as_deref(), &reason, kind).await;
}

/// The phone's LSC was failed by recovery (the CAPF service stopped before the phone confirmed
/// storing it): the handshake proved the phone holds it, so the cluster records it as the
/// device's LSC. When it cannot (the device has a newer LSC), the connection is refused as for
/// any LSC that is not current. `true`: go on with the session.
async fn confirm_late(shared: &Shared, conn: &Connection, verifier: &PhoneVerifier) -> bool {
    let Some(checked) = verifier.checked() else { return true };
    let (Some(n), Some(info)) = (checked.not_current.filter(|n| n.late_confirmable), checked.info) else {
        return true;
    };
    match shared.store.confirm_late(&info).await {
        Ok(Some(c)) => {
            info!(device = %c.device, serial = %c.serial, peer = %conn.peer, "LSC confirmed late: the phone holds it");
            true
        }
        Ok(None) => {
            let what = conn.certificate.as_ref().map(Presented::describe).unwrap_or_default();
            let reason = format!("certificate revoked: {what}: {}", n.reason);
            refuse(shared, conn, Some(&n.device), &reason, RefusalReason::CertificateRefused).await;
            false
        }
        Err(e) => {
            error!(peer = %conn.peer, "cannot record the LSC the phone proved it holds, closing the connection: {e}");
            false
        }
    }
}

/// A ClientHello the cluster does not serve, with what would change that.
fn route_refusal(err: &AcceptError, refusal: &Refusal) -> String {
    let what = match err {
        AcceptError::NoLegacyEngine(_) => err.to_string(),
        _ => refusal.to_string(),
    };
    match refusal {
        Refusal::BelowMinimum { .. } => format!(
            "the phone's TLS offer was refused: {what} (`opencapf settings set tls.min_version 1.0` serves 79xx \
             phones, through the legacy TLS engine)"
        ),
        Refusal::NoSharedSuite { policy, .. } => {
            let hint = if policy.cbc {
                ""
            } else {
                " (`opencapf settings set tls.cbc on` serves phones that offer only AES-SHA suites)"
            };
            format!("the phone's TLS offer has nothing in common with CallManager's: {what}{hint}")
        }
        Refusal::UnknownVersion { .. } => format!("the phone's TLS offer was refused: {what}"),
    }
}

/// The reason for a handshake whose client certificate the verifier judged.
fn certificate_refusal(conn: &Connection, checked: &Checked, err: &AcceptError) -> (String, RefusalReason) {
    if let Some(n) = &checked.not_current {
        let what = conn.certificate.as_ref().map(Presented::describe).unwrap_or_default();
        return (format!("certificate revoked: {what}: {}", n.reason), RefusalReason::CertificateRefused);
    }
    let refused = match &checked.verdict {
        Ok(v) if !v.is_trusted() => rules::handshake_refusal(v, conn.certificate.as_ref()),
        Ok(_) => {
            let small_rsa = checked.info.as_ref().is_some_and(|i| matches!(i.key.as_str(), "RSA 512" | "RSA 1024"));
            let hint = if small_rsa && err.engine() == Some(Engine::Rustls) {
                " (an RSA key under 2048 bits can sign only TLS 1.2 PKCS#1 signatures here, not RSA-PSS: \
                 give the phone a 2048-bit LSC)"
            } else {
                ""
            };
            let reason =
                format!("the certificate is trusted but the TLS handshake failed: {}{hint}", engine_error(err));
            return (reason, RefusalReason::TlsHandshake);
        }
        Err(e) => e.clone(),
    };
    (refused, RefusalReason::CertificateRefused)
}

/// The engine's own words for a failed handshake.
fn engine_error(err: &AcceptError) -> String {
    match err {
        AcceptError::Rustls(e) => match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            Some(tls) => tls.to_string(),
            None => e.to_string(),
        },
        AcceptError::OpenSsl { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// The reason for a handshake that failed before any certificate was judged, when it is one
/// an administrator can act on.
fn uncertified_refusal(err: &AcceptError) -> Option<(String, RefusalReason)> {
    let no_certificate = || {
        let reason = "no client certificate: CallManager requires the phone's LSC (or its MIC when it has none)";
        (reason.to_owned(), RefusalReason::NoCertificate)
    };
    match err {
        AcceptError::Rustls(e) => match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::NoCertificatesPresented) => Some(no_certificate()),
            Some(e @ rustls::Error::PeerIncompatible(_)) => Some((
                format!(
                    "the phone's TLS offer has nothing in common with CallManager's ({e}); TLS 1.2 and 1.3 with \
                     AES-GCM or ChaCha20-Poly1305 are served by rustls, older offers only as the tls.* settings \
                     allow"
                ),
                RefusalReason::TlsOffer,
            )),
            _ => None,
        },
        // OpenSSL's words when FAIL_IF_NO_PEER_CERT ends the handshake.
        AcceptError::OpenSsl { reason, alert: None } if reason.contains("did not return a certificate") => {
            Some(no_certificate())
        }
        _ => None,
    }
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
