//! Accepting connections: the session limit, session ids, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_cluster::Cluster;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::tls::IdentityCache;
use super::{session, CapfConfig, ServerError, Shared};

/// A bound CAPF server, ready to serve.
pub struct CapfServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    first_session_id: u32,
}

impl CapfServer {
    /// Binds `config.listen` (port 0 picks a free port) and loads the active CAPF certificate,
    /// so that a cluster without a usable one fails here rather than on the first phone.
    pub async fn bind(store: Cluster, config: CapfConfig) -> Result<(SocketAddr, CapfServer), ServerError> {
        let identity = IdentityCache::default();
        identity.current(&store).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|cause| ServerError::Io { context: format!("listening on {}", config.listen), cause })?;
        let local_addr = listener
            .local_addr()
            .map_err(|cause| ServerError::Io { context: "reading the listening address".into(), cause })?;
        let first_session_id = config.first_session_id.filter(|&id| id != 0).unwrap_or_else(random_first_id);
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared { store, config, identity, stop });
        Ok((local_addr, CapfServer { listener, local_addr, shared, first_session_id }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes. Then it stops accepting, lets sessions in progress
    /// finish for `shutdown_grace`, and stops the rest, each recorded as stopped by the server.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let CapfServer { listener, local_addr, shared, first_session_id } = self;
        let limit = shared.config.max_sessions.clamp(1, Semaphore::MAX_PERMITS);
        let slots = Arc::new(Semaphore::new(limit));
        let mut next_id = Some(first_session_id);
        let mut sessions = JoinSet::new();
        tracing::info!(%local_addr, max_sessions = limit, "CAPF server listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: do not spin.
                            tracing::warn!(error = %e, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, max_sessions = limit, "too many sessions: connection closed");
                        drop(tcp);
                        continue;
                    };
                    let Some(id) = next_id else {
                        tracing::error!(%peer, "session ids exhausted: restart the CAPF server");
                        drop(tcp);
                        continue;
                    };
                    next_id = id.checked_add(1);
                    sessions.spawn(session::run(shared.clone(), tcp, peer, id, permit));
                }
                Some(joined) = sessions.join_next(), if !sessions.is_empty() => log_panic(joined),
            }
        }
        drop(listener);
        let running = sessions.len();
        if running > 0 {
            tracing::info!(running, grace = ?shared.config.shutdown_grace, "CAPF server stopping: waiting for sessions");
        }
        if !drain(&mut sessions, shared.config.shutdown_grace).await {
            shared.stop.send_replace(true);
            if !drain(&mut sessions, Duration::from_secs(5)).await {
                sessions.abort_all();
                while sessions.join_next().await.is_some() {}
            }
        }
        tracing::info!(%local_addr, "CAPF server stopped");
        Ok(())
    }
}

/// Waits for every session to end, at most `limit`; true when all did.
async fn drain(sessions: &mut JoinSet<()>, limit: Duration) -> bool {
    timeout(limit, async {
        while let Some(joined) = sessions.join_next().await {
            log_panic(joined);
        }
    })
    .await
    .is_ok()
}

fn log_panic(joined: Result<(), tokio::task::JoinError>) {
    if let Err(e) = joined {
        if e.is_panic() {
            tracing::error!(error = %e, "a CAPF session panicked");
        }
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
