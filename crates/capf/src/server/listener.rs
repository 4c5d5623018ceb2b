//! CAPF as an [`opencapf_net::Service`]: one session per connection, with its session id. The
//! session limit (a connection beyond it is closed at once) and the graceful shutdown are the
//! runtime's.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use opencapf_cluster::Cluster;
use opencapf_net::{Connection, Gate, Limits, Listener, NetError, Shutdown, WhenFull};

use super::tls::IdentityCache;
use super::{session, CapfConfig, ServerError, Shared};

/// A bound CAPF server, ready to serve.
pub struct CapfServer {
    listener: Listener,
}

/// The service: what the sessions share, and the next session id (`None`: ids exhausted).
struct Capf {
    shared: Arc<Shared>,
    next_id: Mutex<Option<u32>>,
}

impl opencapf_net::Service for Capf {
    fn name(&self) -> &'static str {
        "CAPF"
    }

    fn listen(&self) -> SocketAddr {
        self.shared.config.listen
    }

    async fn serve(self: Arc<Self>, conn: Connection) {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            let id = *next;
            *next = id.and_then(|id| id.checked_add(1));
            id
        };
        let Some(id) = id else {
            tracing::error!(peer = %conn.peer, "session ids exhausted: restart the CAPF server");
            return;
        };
        session::run(self.shared.clone(), conn.stream, conn.peer, id, conn.stop).await;
    }
}

impl CapfServer {
    /// Binds `config.listen` (port 0 picks a free port) and loads the active CAPF certificate,
    /// so that a cluster without a usable one fails here rather than on the first phone.
    pub async fn bind(store: Cluster, config: CapfConfig) -> Result<(SocketAddr, CapfServer), ServerError> {
        let identity = IdentityCache::new(store.clone());
        identity.current().await?;
        let first_session_id = config.first_session_id.filter(|&id| id != 0).unwrap_or_else(random_first_id);
        let limits = Limits {
            max_connections: config.max_sessions,
            max_per_source: config.max_per_source,
            when_full: WhenFull::Close,
        };
        let shutdown = Shutdown::with_grace(config.shutdown_grace);
        let shared = Arc::new(Shared { store, config, identity });
        let capf = Arc::new(Capf { shared, next_id: Mutex::new(Some(first_session_id)) });
        let listener = Listener::bind(capf, Gate::new(limits), shutdown).await.map_err(|e| match e {
            NetError::Bind { addr, cause } => ServerError::Io { context: format!("listening on {addr}"), cause },
        })?;
        Ok((listener.local_addr(), CapfServer { listener }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// The listener, for a process that runs several services ([`opencapf_net::serve`]).
    pub fn into_listener(self) -> Listener {
        self.listener
    }

    /// Serves until `shutdown` completes. Then it stops accepting, lets sessions in progress
    /// finish for `shutdown_grace`, and stops the rest, each recorded as stopped by the server.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        opencapf_net::serve_until(vec![self.listener], shutdown).await;
        Ok(())
    }
}

/// A random first session id in 1..=2^31, leaving at least 2^31 ids after it.
fn random_first_id() -> u32 {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut b = [0u8; 4];
    if SystemRandom::new().fill(&mut b).is_err() {
        return 1;
    }
    (u32::from_be_bytes(b) & 0x7fff_ffff) + 1
}
