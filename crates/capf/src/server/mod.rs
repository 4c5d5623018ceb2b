//! The CAPF server: TLS on TCP 3804, one CAPF session per connection (§1.9), every outcome
//! recorded through `opencapf_cluster::session`.
//!
//! - [`config`]: listen address, limits and the timeout of each stage;
//! - `listener`: the CAPF [`opencapf_net::Service`]: session ids; the session limit (closed at
//!   once when full) and graceful shutdown are `opencapf_net`'s;
//! - `tls`: the active CAPF certificate, through `opencapf_tls`, and the LSC signer; the handshake
//!   of each connection, rustls or (for legacy phones the `tls.*` settings allow) OpenSSL;
//! - `conn`: whole messages in and out of one connection, each wait bounded;
//! - `session`: the state machine of one session;
//! - `stop`: how an operation stops short (a refusal, a fault of the phone, an internal error);
//! - `auth`, `keys`: credential checks and the key a phone is asked for.
//!
//! ```no_run
//! # async fn f(store: opencapf_cluster::Cluster) -> Result<(), opencapf_capf::ServerError> {
//! use opencapf_capf::{CapfConfig, CapfServer};
//! let config = CapfConfig { listen: "127.0.0.1:0".parse().unwrap(), ..CapfConfig::default() };
//! let (addr, server) = CapfServer::bind(store, config).await?;
//! println!("CAPF listening on {addr}");
//! server.serve_until(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub(crate) mod auth;
pub(crate) mod config;
mod conn;
mod keys;
mod listener;
mod session;
mod stop;
mod tls;

use opencapf_cluster::Cluster;

pub use config::CapfConfig;
pub use listener::CapfServer;

/// Why the server could not start or serve. Each message is whole (context and cause's text);
/// no variant exposes a `source()`, so the CLI prints each cause once.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{context}: {cause}")]
    Io { context: String, cause: std::io::Error },
    #[error(transparent)]
    Store(#[from] opencapf_cluster::Error),
    #[error(transparent)]
    Pki(#[from] opencapf_pki::PkiError),
    #[error("TLS configuration: {0}")]
    Tls(opencapf_tls::TlsError),
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<opencapf_tls::TlsError> for ServerError {
    fn from(e: opencapf_tls::TlsError) -> Self {
        ServerError::Tls(e)
    }
}

/// What every session of a server shares.
pub(crate) struct Shared {
    pub store: Cluster,
    pub config: CapfConfig,
    pub identity: tls::IdentityCache,
}
