//! What a phone does (`docs/capf-protocol.md` §3.4): connect to a TVS member, TLS with the
//! server's certificate matched byte for byte against the ITL's TVS records (no host-name check),
//! one VerifyRequest with a new random session id, one bounded VerifyResponse whose session id
//! must be the one sent.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opencapf_tls::{TlsVersions, TrustListVerifier};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::proto::{Answer, Header, ProtoError, VerifyRequest, VerifyResponse, HEADER_LEN};

/// The port of TVS, as phones' configurations name it.
pub const DEFAULT_PORT: u16 = 2445;

/// Why a phone got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TvsError {
    #[error("bad TVS address '{0}'")]
    Address(String),
    #[error("connecting to TVS {addr}: {cause}")]
    Connect { addr: String, cause: std::io::Error },
    /// The server presented a certificate that is none of the trusted TVS certificates.
    #[error("the TVS server's certificate (SHA-256 {fingerprint}) is not a TVS certificate of the trust list")]
    UntrustedServer { fingerprint: String },
    #[error("TLS with TVS: {0}")]
    Tls(std::io::Error),
    #[error("TLS configuration: {0}")]
    Config(opencapf_tls::TlsError),
    #[error("TVS exchange: {0}")]
    Io(std::io::Error),
    /// The server closed without answering (tvsd does so for a device name it refuses).
    #[error("the TVS server closed the connection without answering")]
    NoAnswer,
    #[error("TVS answer: {0}")]
    Protocol(#[from] ProtoError),
    #[error("TVS answered session {got}, the request was session {sent}")]
    SessionMismatch { sent: u32, got: u32 },
    #[error("no answer from TVS within {0:?}")]
    Timeout(Duration),
    #[error("no random session id: {0}")]
    Random(String),
}

/// Asks the TVS at `addr` (`HOST:PORT`) about `certificate` (DER) for the phone `device_name`.
/// The server must present one of `tvs_certificates` (DER, from the ITL's TVS records), byte for
/// byte. `timeout` bounds the whole exchange.
pub async fn verify(
    addr: &str,
    tvs_certificates: &[Vec<u8>],
    device_name: &str,
    certificate: &[u8],
    timeout: Duration,
) -> Result<Answer, TvsError> {
    let (session, bytes) = verify_request(device_name, certificate)?;
    let exchange = exchange(addr, tvs_certificates, &bytes, session);
    tokio::time::timeout(timeout, exchange).await.map_err(|_| TvsError::Timeout(timeout))?
}

/// [`verify`] over a TLS session the caller established and checked against the ITL (a legacy
/// phone's OpenSSL client, TLS 1.0): one VerifyRequest, one bounded answer, within `timeout`.
pub async fn verify_over<S: AsyncRead + AsyncWrite + Unpin>(
    tls: &mut S,
    device_name: &str,
    certificate: &[u8],
    timeout: Duration,
) -> Result<Answer, TvsError> {
    let (session, bytes) = verify_request(device_name, certificate)?;
    tokio::time::timeout(timeout, ask(tls, &bytes, session)).await.map_err(|_| TvsError::Timeout(timeout))?
}

/// A VerifyRequest with a new random session id: the id and the encoded bytes.
fn verify_request(device_name: &str, certificate: &[u8]) -> Result<(u32, Vec<u8>), TvsError> {
    let session = random_session()?;
    let request = VerifyRequest { session, device_name: device_name.to_owned(), certificate: certificate.to_vec() };
    Ok((session, request.encode()?))
}

async fn exchange(addr: &str, trusted: &[Vec<u8>], request: &[u8], session: u32) -> Result<Answer, TvsError> {
    let host = host_of(addr).ok_or_else(|| TvsError::Address(addr.to_owned()))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|_| TvsError::Address(addr.into()))?;
    let verifier = Arc::new(TrustListVerifier::new(trusted.to_vec()));
    let config = opencapf_tls::client_config(opencapf_tls::provider(), TlsVersions::Tls12And13, verifier.clone(), None)
        .map_err(TvsError::Config)?;
    let tcp = TcpStream::connect(addr).await.map_err(|cause| TvsError::Connect { addr: addr.to_owned(), cause })?;
    let _ = tcp.set_nodelay(true);
    let mut tls = match TlsConnector::from(Arc::new(config)).connect(name, tcp).await {
        Ok(tls) => tls,
        Err(e) => {
            return Err(match verifier.presented() {
                Some(p) if !p.trusted => TvsError::UntrustedServer { fingerprint: opencapf_pki::fingerprint(&p.der) },
                _ => TvsError::Tls(e),
            })
        }
    };
    ask(&mut tls, request, session).await
}

/// One request written, one answer read (its body at most 65535 bytes) and matched to it.
async fn ask<S: AsyncRead + AsyncWrite + Unpin>(tls: &mut S, request: &[u8], session: u32) -> Result<Answer, TvsError> {
    tls.write_all(request).await.map_err(TvsError::Io)?;
    tls.flush().await.map_err(TvsError::Io)?;

    let mut msg = vec![0u8; HEADER_LEN];
    read_exact_or_no_answer(tls, &mut msg).await?;
    let header = Header::parse(&msg)?;
    // The body length is a u16: at most 65535 bytes.
    msg.resize(HEADER_LEN + usize::from(header.body_len), 0);
    read_exact_or_no_answer(tls, &mut msg[HEADER_LEN..]).await?;
    let response = VerifyResponse::parse(&msg)?;
    if response.session != session {
        return Err(TvsError::SessionMismatch { sent: session, got: response.session });
    }
    Ok(response.answer)
}

async fn read_exact_or_no_answer(r: &mut (impl AsyncReadExt + Unpin), buf: &mut [u8]) -> Result<(), TvsError> {
    match r.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(TvsError::NoAnswer),
        Err(e) => Err(TvsError::Io(e)),
    }
}

/// The host of `HOST:PORT` or `[IPv6]:PORT`, for SNI (the verifier ignores it).
fn host_of(addr: &str) -> Option<&str> {
    let (host, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

fn random_session() -> Result<u32, TvsError> {
    let mut b = [0u8; 4];
    SystemRandom::new().fill(&mut b).map_err(|e| TvsError::Random(e.to_string()))?;
    Ok(u32::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host_of("127.0.0.1:2445"), Some("127.0.0.1"));
        assert_eq!(host_of("[::1]:2445"), Some("::1"));
        assert_eq!(host_of("tvs.example.com:2445"), Some("tvs.example.com"));
        assert_eq!(host_of("tvs.example.com"), None);
        assert_eq!(host_of(":2445"), None);
    }
}
