//! The client side of the OpenSSL engine, for the phone simulator's older models (a CP-7965
//! speaks TLS 1.0 with AES-SHA only).

use std::pin::Pin;
use std::sync::Arc;

use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslContext, SslMethod, SslOptions, SslVerifyMode, SslVersion};
use openssl::x509::{X509VerifyResult, X509};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::MinVersion;

/// Checks the server's chain (DER, the server's certificate first), as a phone checks it
/// against its trust list; `false` fails the handshake with a bad_certificate alert.
pub type ServerCheck = Arc<dyn Fn(&[Vec<u8>]) -> bool + Send + Sync>;

/// What a legacy phone offers.
#[derive(Clone)]
pub struct LegacyClientConfig {
    /// The versions offered, lowest and highest (TLS 1.0 to 1.0 for a 79xx).
    pub versions: (MinVersion, MinVersion),
    /// An OpenSSL cipher list in the phone's order, e.g. "AES256-SHA:AES128-SHA"
    /// (`@SECLEVEL=0` is added).
    pub ciphers: String,
    /// The certificate chain (DER) and PKCS#8 key presented when the server asks.
    pub certificate: Option<(Vec<Vec<u8>>, Vec<u8>)>,
    pub check_server: ServerCheck,
}

/// Why a legacy client handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum LegacyConnectError {
    #[error("OpenSSL: {0}")]
    Setup(#[from] openssl::error::ErrorStack),
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
}

fn ssl_version(v: MinVersion) -> SslVersion {
    match v {
        MinVersion::Tls10 => SslVersion::TLS1,
        MinVersion::Tls11 => SslVersion::TLS1_1,
        MinVersion::Tls12 => SslVersion::TLS1_2,
    }
}

/// A TLS client handshake with OpenSSL, as a legacy phone makes it. The caller bounds it with
/// its own timeout.
pub async fn connect_legacy(
    tcp: TcpStream,
    config: &LegacyClientConfig,
) -> Result<SslStream<TcpStream>, LegacyConnectError> {
    let mut b = SslContext::builder(SslMethod::tls_client())?;
    b.set_min_proto_version(Some(ssl_version(config.versions.0)))?;
    b.set_max_proto_version(Some(ssl_version(config.versions.1)))?;
    b.set_cipher_list(&format!("{}:@SECLEVEL=0", config.ciphers))?;
    b.set_options(SslOptions::NO_RENEGOTIATION | SslOptions::NO_COMPRESSION | SslOptions::NO_TICKET);
    if let Some((chain, key)) = &config.certificate {
        if let Some((leaf, issuers)) = chain.split_first() {
            let leaf = X509::from_der(leaf)?;
            b.set_certificate(&leaf)?;
            for issuer in issuers {
                b.add_extra_chain_cert(X509::from_der(issuer)?)?;
            }
            let key = PKey::private_key_from_pkcs8(key)?;
            b.set_private_key(&key)?;
        }
    }
    let check = config.check_server.clone();
    // OpenSSL may call back at depth 0 twice (an error, then success): ask the check once.
    let verdict = std::sync::Mutex::new(None);
    b.set_verify_callback(SslVerifyMode::PEER, move |_, ctx| {
        if ctx.error_depth() != 0 {
            return true;
        }
        let mut verdict = verdict.lock().unwrap_or_else(|e| e.into_inner());
        let ok = *verdict.get_or_insert_with(|| {
            let chain: Vec<Vec<u8>> = ctx.chain().into_iter().flatten().filter_map(|c| c.to_der().ok()).collect();
            check(&chain)
        });
        ctx.set_error(if ok { X509VerifyResult::OK } else { crate::LegacyAlert::BadCertificate.x509_error() });
        ok
    });
    let ssl = Ssl::new(&b.build())?;
    let mut stream = SslStream::new(ssl, tcp)?;
    Pin::new(&mut stream).connect().await.map_err(|e| {
        LegacyConnectError::Handshake(e.ssl_error().map(|s| s.to_string()).unwrap_or_else(|| e.to_string()))
    })?;
    Ok(stream)
}
