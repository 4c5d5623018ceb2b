//! One TVS connection: handshake, one request, one answer, close. Any refusal (not TLS, not TVS,
//! an unusable device name, a stall) is logged and the connection closed without a reply, as
//! tvsd does; nothing a client sends can make the server panic or wait unbounded.

use std::net::SocketAddr;
use std::sync::Arc;

use opencapf_model::{printable, Role};
use opencapf_net::Connection;
use opencapf_telemetry::{self as telemetry, TvsResult};
use opencapf_tls::{AcceptError, IdentitySource, LegacyError, LegacyPolicy, Served, ServerTls};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing::{debug, error, info, warn};

use super::{Directory, TvsServer};
use crate::proto::{
    Answer, Command, Header, ProtoError, Request, VerifyRequest, VerifyResponse, HEADER_LEN, MAX_REQUEST_BODY,
};

pub(super) async fn serve<D: Directory, I: IdentitySource>(server: Arc<TvsServer<D, I>>, conn: Connection) {
    let Connection { stream, peer, stop } = conn;
    tokio::select! {
        () = stop.cancelled() => debug!(%peer, "TVS stopping: connection closed"),
        () = exchange(&server, stream, peer) => {}
    }
}

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Proto(#[from] ProtoError),
}

async fn exchange<D: Directory, I: IdentitySource>(server: &TvsServer<D, I>, stream: TcpStream, peer: SocketAddr) {
    let opts = server.options;
    let served = match server.identity.current().await {
        Ok(served) => served,
        Err(e) => return error!(%peer, error = %e, "TVS certificate unavailable: connection closed"),
    };
    let mut tls = match handshake(server, &served, stream).await {
        Ok(tls) => tls,
        Err(e) => return e.log(peer),
    };
    let request = match timeout(opts.request_timeout, read_request(&mut tls)).await {
        Ok(Ok(Request::Verify(req))) => req,
        Ok(Ok(Request::Query { session })) => {
            // Its element set is unknown [U]: answering anything could mislead a phone.
            return info!(%peer, session, "TVS query request not supported: connection closed");
        }
        Ok(Err(ReadError::Proto(ProtoError::DeviceName { name, reason }))) => {
            let name = printable(&name);
            return info!(%peer, device = %name, reason, "TVS request with an unusable device name: connection closed");
        }
        Ok(Err(e)) => return info!(%peer, error = %e, "TVS request refused: connection closed"),
        Err(_) => return info!(%peer, timeout = ?opts.request_timeout, "TVS request timed out: connection closed"),
    };
    // No answer rather than a wrong one when the cluster cannot say: the phone tries its next TVS.
    let roles = match timeout(opts.request_timeout, server.directory.vouch(&request.certificate)).await {
        Ok(Ok(roles)) => roles,
        Ok(Err(e)) => {
            telemetry::tvs_query(TvsResult::Error);
            return error!(%peer, error = %printable(&e), "TVS lookup failed: connection closed");
        }
        Err(_) => {
            telemetry::tvs_query(TvsResult::Error);
            return error!(%peer, timeout = ?opts.request_timeout, "TVS lookup timed out: connection closed");
        }
    };
    let answer = match roles {
        Some(roles) => Answer::Valid { roles, ttl: opts.ttl },
        None => Answer::Invalid,
    };
    let vouched = if matches!(answer, Answer::Valid { .. }) { TvsResult::Trusted } else { TvsResult::NotTrusted };
    telemetry::tvs_query(vouched);
    let bytes = VerifyResponse { session: request.session, answer: answer.clone() }.encode();
    // One write (phones expect the answer in one record), then close_notify; a peer that has
    // already gone makes only the close fail, which changes nothing.
    let sent = timeout(opts.request_timeout, async {
        tls.write_all(&bytes).await?;
        let _ = tls.shutdown().await;
        Ok::<_, std::io::Error>(())
    })
    .await;
    log_answer(peer, &request, &answer, sent.map_err(|_| "timed out").and_then(|r| r.map_err(|_| "failed")));
}

/// Why a connection did not become a TLS session.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("the cluster's TLS settings are unavailable: {0}")]
    Settings(String),
    #[error("the legacy TLS engine could not be built: {0}")]
    Legacy(LegacyError),
    #[error("{0}")]
    Accept(AcceptError),
}

impl HandshakeError {
    /// A refused version or suite is the administrator's business; scanners and resets are not.
    fn log(&self, peer: SocketAddr) {
        match self {
            HandshakeError::Accept(AcceptError::Refused(_) | AcceptError::NoLegacyEngine(_)) => {
                warn!(%peer, error = %self, "TVS TLS handshake refused")
            }
            HandshakeError::Accept(AcceptError::Timeout) => info!(%peer, "TVS TLS handshake timed out"),
            HandshakeError::Accept(_) => info!(%peer, error = %self, "TVS TLS handshake failed"),
            _ => error!(%peer, error = %self, "TVS connection closed"),
        }
    }
}

/// The handshake through whichever engine the ClientHello needs, under the cluster's `tls.*`
/// settings of now. Never NULL-SHA: TVS answers carry no secret, but no phone asks TVS for it
/// and CUCM's TVS offers only encrypting suites [U].
async fn handshake<D: Directory, I: IdentitySource>(
    server: &TvsServer<D, I>,
    served: &Served<I::Extra>,
    stream: TcpStream,
) -> Result<ServerTls, HandshakeError> {
    let opts = server.options;
    let settings = match timeout(opts.handshake_timeout, server.directory.tls_settings()).await {
        Ok(Ok(settings)) => settings,
        Ok(Err(e)) => return Err(HandshakeError::Settings(printable(&e).into_owned())),
        Err(_) => return Err(HandshakeError::Settings("timed out".into())),
    };
    let policy = LegacyPolicy::from_settings(&settings, false);
    let legacy = served.legacy_acceptor(&policy, None).map_err(HandshakeError::Legacy)?;
    opencapf_tls::accept(stream, &served.acceptor(), legacy.as_ref(), &policy, opts.handshake_timeout)
        .await
        .map_err(HandshakeError::Accept)
}

/// Reads one request: the header, then (VerifyRequest only) the body it announces, at most
/// [`MAX_REQUEST_BODY`] bytes.
async fn read_request(r: &mut (impl AsyncRead + Unpin)) -> Result<Request, ReadError> {
    let mut head = [0u8; HEADER_LEN];
    r.read_exact(&mut head).await?;
    let header = Header::parse(&head)?;
    match header.command {
        Command::VerifyRequest => {}
        Command::QueryRequest => return Ok(Request::Query { session: header.session }),
        other => return Err(ProtoError::Unexpected(other).into()),
    }
    let len = usize::from(header.body_len);
    if len > MAX_REQUEST_BODY {
        return Err(ProtoError::TooLong { what: "request body", len }.into());
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(Request::Verify(VerifyRequest::from_body(header.session, &body)?))
}

fn log_answer(peer: SocketAddr, req: &VerifyRequest, answer: &Answer, sent: Result<(), &str>) {
    let device = printable(&req.device_name);
    let fingerprint = opencapf_pki::fingerprint(&req.certificate);
    let subject = match opencapf_pki::CertificateInfo::parse(&req.certificate) {
        Ok(info) => printable(&info.subject).into_owned(),
        Err(_) => "(not a certificate)".to_owned(),
    };
    let (verdict, roles) = match answer {
        Answer::Valid { roles, .. } => ("valid", roles.as_slice()),
        Answer::Invalid => ("invalid", &[][..]),
    };
    let roles = Role::ALL.into_iter().filter(|r| roles.contains(r)).map(Role::name).collect::<Vec<_>>().join(",");
    match sent {
        Ok(()) => info!(%peer, %device, %subject, %fingerprint, roles, session = req.session, "TVS answered {verdict}"),
        Err(why) => info!(%peer, %device, %subject, %fingerprint, roles, "TVS answer {verdict} not sent: {why}"),
    }
}
