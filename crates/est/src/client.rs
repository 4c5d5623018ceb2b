//! An EST client (for the phone simulator, `opencapf est enroll`): one TLS connection to the
//! server, checked against an explicit trust list (RFC 7030 §4.1.1's explicit TA database: the
//! server's certificate itself, or its CA), with an optional client certificate, and the
//! connection's channel binding for the proof of possession.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use opencapf_cluster::CsrAttributes;
use opencapf_pki::PrivateKey;
use opencapf_tls::{certified_key, client_config, provider, TlsVersions, TrustListVerifier};
use rustls::pki_types::ServerName;

use crate::codec::{decode_base64_body, read_certs_only, read_csr_attrs, CodecError};
use crate::server::{CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LEN};

/// The largest answer read.
const MAX_ANSWER: usize = 256 * 1024;

/// Why an EST exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {server}: {cause}")]
    Connect { server: String, cause: String },
    #[error("TLS with {server}: {cause}")]
    Tls { server: String, cause: String },
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP: {0}")]
    Http(String),
    /// The server refused: its status and what it said.
    #[error("the EST server answered {status}: {message}")]
    Refused { status: u16, message: String },
    /// An administrator must approve; ask again after this many seconds.
    #[error("the EST server says an administrator must approve first (ask again in {retry_after} s): {message}")]
    Waiting { retry_after: u64, message: String },
    #[error("the answer: {0}")]
    Answer(#[from] CodecError),
}

/// Where and how to connect.
pub struct EstClient {
    /// `HOST:PORT`.
    pub server: String,
    /// The certificates the server's must be one of (DER).
    pub trust: Vec<Vec<u8>>,
    /// A client certificate chain and its key.
    pub identity: Option<(Vec<Vec<u8>>, PrivateKey)>,
    pub timeout: Duration,
    /// The CA label (`lsc`), if any.
    pub label: Option<String>,
}

/// One open connection.
pub struct Connected {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    prefix: String,
    timeout: Duration,
    /// The connection's channel binding (base64), for the request's challengePassword.
    pub channel_binding: String,
}

impl EstClient {
    pub async fn connect(&self) -> Result<Connected, ClientError> {
        let server = self.server.clone();
        let connect_error = |cause: String| ClientError::Connect { server: server.clone(), cause };
        let tls_error = |cause: String| ClientError::Tls { server: server.clone(), cause };
        let verifier = std::sync::Arc::new(TrustListVerifier::new(self.trust.clone()));
        let client_cert = match &self.identity {
            Some((chain, key)) => Some(certified_key(chain.clone(), key).map_err(|e| tls_error(e.to_string()))?),
            None => None,
        };
        let config = client_config(provider(), TlsVersions::Tls12And13, verifier, client_cert)
            .map_err(|e| tls_error(e.to_string()))?;
        let host = self.server.rsplit_once(':').map_or(self.server.as_str(), |(h, _)| h).trim_matches(['[', ']']);
        let name = ServerName::try_from(host.to_owned()).map_err(|e| connect_error(e.to_string()))?;
        let connecting = async {
            let tcp = tokio::net::TcpStream::connect(&self.server).await.map_err(|e| connect_error(e.to_string()))?;
            let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
            connector.connect(name, tcp).await.map_err(|e| tls_error(e.to_string()))
        };
        let tls =
            tokio::time::timeout(self.timeout, connecting).await.map_err(|_| ClientError::Timeout(self.timeout))??;
        let binding = tls
            .get_ref()
            .1
            .export_keying_material([0u8; CHANNEL_BINDING_LEN], CHANNEL_BINDING_LABEL, None)
            .map_err(|e| tls_error(e.to_string()))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let prefix = match &self.label {
            Some(l) => format!("/.well-known/est/{l}/"),
            None => "/.well-known/est/".to_owned(),
        };
        Ok(Connected {
            sender,
            host: self.server.clone(),
            prefix,
            timeout: self.timeout,
            channel_binding: STANDARD.encode(binding),
        })
    }
}

/// An answer: status, content type, body.
struct Answer {
    status: StatusCode,
    content_type: String,
    retry_after: Option<u64>,
    body: Bytes,
}

impl Connected {
    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, ClientError> {
        let exchange = async {
            let response = self.sender.send_request(request).await.map_err(|e| ClientError::Http(e.to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?
                .to_bytes();
            let content_type =
                headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let retry_after =
                headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
            Ok::<_, ClientError>(Answer { status, content_type, retry_after, body })
        };
        let answer =
            tokio::time::timeout(self.timeout, exchange).await.map_err(|_| ClientError::Timeout(self.timeout))??;
        let message = || opencapf_model::printable(String::from_utf8_lossy(&answer.body).trim()).into_owned();
        match answer.status {
            StatusCode::OK => Ok(answer),
            StatusCode::ACCEPTED => {
                Err(ClientError::Waiting { retry_after: answer.retry_after.unwrap_or(60), message: message() })
            }
            s => Err(ClientError::Refused { status: s.as_u16(), message: message() }),
        }
    }

    fn request(&self, method: &str, operation: &str) -> hyper::http::request::Builder {
        Request::builder().method(method).uri(format!("{}{operation}", self.prefix)).header(header::HOST, &self.host)
    }

    /// `cacerts`: the CA certificates (DER).
    pub async fn cacerts(&mut self) -> Result<Vec<Vec<u8>>, ClientError> {
        let request =
            self.request("GET", "cacerts").body(Full::default()).map_err(|e| ClientError::Http(e.to_string()))?;
        let answer = self.send(request).await?;
        Ok(read_certs_only(&decode_base64_body(&answer.body)?)?)
    }

    /// `csrattrs`; `basic_user` names the device to the server (no credential is checked).
    pub async fn csrattrs(&mut self, basic_user: Option<&str>) -> Result<CsrAttributes, ClientError> {
        let mut request = self.request("GET", "csrattrs");
        if let Some(user) = basic_user {
            request = request.header(header::AUTHORIZATION, basic(user, ""));
        }
        let answer = self.send(request.body(Full::default()).map_err(|e| ClientError::Http(e.to_string()))?).await?;
        Ok(read_csr_attrs(&decode_base64_body(&answer.body)?)?)
    }

    /// `simpleenroll` (or `simplereenroll`) of a DER request: the issued certificate (DER).
    pub async fn enroll(
        &mut self,
        csr_der: &[u8],
        reenroll: bool,
        credentials: Option<(&str, &str)>,
    ) -> Result<Vec<u8>, ClientError> {
        let operation = if reenroll { "simplereenroll" } else { "simpleenroll" };
        let mut request = self
            .request("POST", operation)
            .header(header::CONTENT_TYPE, "application/pkcs10")
            .header("content-transfer-encoding", "base64");
        if let Some((user, password)) = credentials {
            request = request.header(header::AUTHORIZATION, basic(user, password));
        }
        let body = Full::new(Bytes::from(crate::codec::base64_body(csr_der)));
        let answer = self.send(request.body(body).map_err(|e| ClientError::Http(e.to_string()))?).await?;
        if !answer.content_type.starts_with("application/pkcs7-mime") {
            return Err(ClientError::Http(format!(
                "an answer of type {}, not application/pkcs7-mime",
                answer.content_type
            )));
        }
        let mut certs = read_certs_only(&decode_base64_body(&answer.body)?)?;
        if certs.len() != 1 {
            return Err(ClientError::Http(format!("{} certificates in the answer, not 1", certs.len())));
        }
        Ok(certs.remove(0))
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}
