//! One accepted connection: TCP goes straight to the session; TLS first completes a handshake
//! verified against CallManager-trust as it is now, and a refused handshake is recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_model::{Protocol, RegistrationResult, TlsEngine, Transport};
use opencapf_pki::{device_named_by, CertificateInfo, TrustSnapshot, TrustStore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing::{debug, error};

use super::record::record;
use super::sccp_session::sccp_session;
use super::sip_session::sip_session;
use super::{Kind, Shared};
use crate::rules::{self, Connection, Presented};
use crate::tls::PhoneVerifier;

pub(super) async fn connection(shared: &Arc<Shared>, kind: Kind, tcp: TcpStream, peer: SocketAddr) {
    let mut conn = Connection {
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
    conn.engine = Some(TlsEngine::Rustls);

    // CallManager-trust and the cluster's CAPF certificates, as they are now.
    let trust = match shared.store.trust_snapshot().await {
        Ok(t) => t,
        Err(e) => {
            error!(%peer, "cannot read CallManager-trust, closing the connection: {e}");
            return;
        }
    };
    // The cluster's LSCs that are not their device's installed one, as they are now.
    let refusals = match shared.store.lsc_refusals().await {
        Ok(r) => r,
        Err(e) => {
            error!(%peer, "cannot read the issued LSCs, closing the connection: {e}");
            return;
        }
    };
    let verifier = Arc::new(PhoneVerifier::new(trust.anchors(TrustStore::CallManager).to_vec(), refusals));
    let acceptor = match shared.identity.current().await.and_then(|cm| cm.acceptor_verifying(verifier.clone())) {
        Ok(a) => a,
        Err(e) => {
            error!(%peer, "TLS configuration failed: {e}");
            return;
        }
    };
    let accept = acceptor.accept(tcp).into_fallible();
    let stream = match timeout(shared.config.handshake_timeout, accept).await {
        Err(_) => {
            debug!(%peer, listener = kind.name(), "TLS handshake timed out");
            return;
        }
        Ok(Err((err, io))) => {
            handshake_failed(shared, &conn, &err, &verifier, &trust).await;
            linger_close(io).await;
            return;
        }
        Ok(Ok(s)) => s,
    };
    let (_, server_conn) = stream.get_ref();
    conn.tls_version = server_conn.protocol_version().map(opencapf_tls::version_name);
    conn.cipher = server_conn.negotiated_cipher_suite().map(|s| opencapf_tls::iana_name(s.suite()));
    conn.certificate = server_conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| CertificateInfo::parse(c).ok())
        .map(|info| Presented { kind: trust.classify(&info), info });
    session(shared, conn, stream).await;
}

/// Records a handshake CallManager-trust refused, or a TLS offer with nothing in common.
async fn handshake_failed(
    shared: &Shared,
    conn: &Connection,
    err: &std::io::Error,
    verifier: &PhoneVerifier,
    trust: &TrustSnapshot,
) {
    let tls_err = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    let mut conn = conn.clone();
    let (device, reason) = match verifier.checked() {
        Some(checked) => {
            conn.certificate = checked.info.clone().map(|info| Presented { kind: trust.classify(&info), info });
            let device = checked.info.as_ref().and_then(device_named_by).map(|d| d.to_string());
            let reason = match &checked.verdict {
                _ if checked.not_current.is_some() => {
                    let what = conn.certificate.as_ref().map(Presented::describe).unwrap_or_default();
                    let why = checked.not_current.as_ref().map(|n| n.reason.as_str()).unwrap_or_default();
                    format!("certificate revoked: {what}: {why}")
                }
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
