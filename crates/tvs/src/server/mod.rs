//! The TVS server: TLS with the cluster's TVS certificate on TCP 2445 (rustls, or OpenSSL for the
//! legacy phones the cluster's `tls.*` settings let in), one VerifyRequest per connection,
//! answered from the cluster's [`Directory`], then the connection is closed.
//!
//! - this module: [`TvsServer`] (the [`opencapf_net::Service`] "TVS"), [`TvsOptions`],
//!   [`Directory`] and [`ServerError`];
//! - `conn`: one connection, each wait bounded, every refusal logged and closed without a reply.
//!
//! ```no_run
//! # async fn f<D: opencapf_tvs::Directory, I: opencapf_tls::IdentitySource>(directory: D, identity: I)
//! # -> Result<(), opencapf_tvs::ServerError> {
//! use opencapf_tvs::TvsServer;
//! let limits = opencapf_net::Limits {
//!     max_connections: 500,
//!     max_per_source: Some(opencapf_net::Limits::DEFAULT_PER_SOURCE),
//!     when_full: opencapf_net::WhenFull::Close,
//! };
//! let listener = TvsServer::new(directory, identity, "0.0.0.0:2445".parse().unwrap(), limits).bind().await?;
//! opencapf_net::serve_until(vec![listener], async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```

mod conn;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_model::{Role, TlsSettings};
use opencapf_net::{Connection, Gate, Limits, Listener, NetError, Shutdown};
use opencapf_tls::{CertResolver, IdentitySource, TlsError};

/// What the cluster vouches for: implemented by the cluster, asked once per request.
pub trait Directory: Send + Sync + 'static {
    /// The roles the cluster vouches for this certificate (DER), or None if it doesn't know it.
    fn vouch(&self, certificate: &[u8]) -> impl Future<Output = Result<Option<Vec<Role>>, String>> + Send;

    /// The cluster's `tls.*` settings, asked once per connection: which legacy phones (79xx ask
    /// TVS over TLS 1.0) the OpenSSL engine serves. The default serves modern phones only.
    fn tls_settings(&self) -> impl Future<Output = Result<TlsSettings, String>> + Send {
        async { Ok(TlsSettings::default()) }
    }
}

/// What an administrator may tune; [`Default`] is what CUCM does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TvsOptions {
    /// Seconds a phone may cache a valid answer: 86400, as tvsctl's default and Cisco phones' 24 h.
    pub ttl: u32,
    /// From TCP accept to the end of the TLS handshake.
    pub handshake_timeout: Duration,
    /// From the end of the handshake to the whole request read; also bounds the directory's
    /// lookup and writing the answer.
    pub request_timeout: Duration,
    pub shutdown: Shutdown,
}

impl Default for TvsOptions {
    fn default() -> Self {
        TvsOptions {
            ttl: 86_400,
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            shutdown: Shutdown::with_grace(Duration::from_secs(5)),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("listening on {addr}: {cause}")]
    Bind { addr: SocketAddr, cause: std::io::Error },
    #[error("TVS certificate: {0}")]
    Tls(TlsError),
}

/// The TVS service: the cluster's [`Directory`], its TVS certificate (`I`), where it listens.
pub struct TvsServer<D: Directory, I: IdentitySource> {
    directory: D,
    identity: CertResolver<I>,
    listen: SocketAddr,
    limits: Limits,
    options: TvsOptions,
}

impl<D: Directory, I: IdentitySource> TvsServer<D, I> {
    /// A server answering from `directory` with the certificate of `identity` (looked up for
    /// every connection: a regenerated TVS certificate is served without a restart), on `listen`
    /// (port 2445 for phones; port 0 picks a free one), within `limits`.
    pub fn new(directory: D, identity: I, listen: SocketAddr, limits: Limits) -> Self {
        let identity = CertResolver::new(identity);
        TvsServer { directory, identity, listen, limits, options: TvsOptions::default() }
    }

    pub fn with_options(self, options: TvsOptions) -> Self {
        TvsServer { options, ..self }
    }

    pub fn options(&self) -> &TvsOptions {
        &self.options
    }

    /// Loads the TVS certificate (so that a cluster without one fails here rather than on the
    /// first phone) and binds the listen address. Run the listener with
    /// [`opencapf_net::serve_until`] or [`Listener::run`].
    pub async fn bind(self) -> Result<Listener, ServerError> {
        self.identity.current().await.map_err(ServerError::Tls)?;
        let gate = Gate::new(self.limits);
        let shutdown = self.options.shutdown;
        Listener::bind(Arc::new(self), gate, shutdown).await.map_err(|e| match e {
            NetError::Bind { addr, cause } => ServerError::Bind { addr, cause },
        })
    }
}

impl<D: Directory, I: IdentitySource> opencapf_net::Service for TvsServer<D, I> {
    fn name(&self) -> &'static str {
        "TVS"
    }

    fn listen(&self) -> SocketAddr {
        self.listen
    }

    fn serve(self: Arc<Self>, conn: Connection) -> impl Future<Output = ()> + Send + 'static {
        conn::serve(self, conn)
    }
}
