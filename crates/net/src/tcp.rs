//! One TCP listener: the accept loop under a [`Gate`], then shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use opencapf_telemetry::ConnectionRefusal;
use tokio::net::TcpListener;
use tokio::task::{JoinError, JoinSet};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::{Connection, Gate, NetError, Refused, Service};

/// How a listener stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// How long connections may take to finish after accepting stops, before
    /// [`Connection::stop`] is cancelled.
    pub grace: Duration,
    /// How long they may take after that, before they are aborted.
    pub abort_after: Duration,
}

impl Shutdown {
    /// Stop connections at once, abort them 5 s later.
    pub const IMMEDIATE: Shutdown = Shutdown { grace: Duration::ZERO, abort_after: Duration::from_secs(5) };

    pub fn with_grace(grace: Duration) -> Shutdown {
        Shutdown { grace, ..Shutdown::IMMEDIATE }
    }
}

/// The first and longest pause after a failed accept: doubled after each failure in a row.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

type Handler = Arc<dyn Fn(Connection) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A bound TCP listener of one [`Service`], ready to run.
pub struct Listener {
    name: &'static str,
    tcp: TcpListener,
    local_addr: SocketAddr,
    gate: Gate,
    shutdown: Shutdown,
    handler: Handler,
    metrics: opencapf_telemetry::Listener,
}

impl Listener {
    /// Binds `service.listen()`.
    pub async fn bind<S: Service>(service: Arc<S>, gate: Gate, shutdown: Shutdown) -> Result<Listener, NetError> {
        let addr = service.listen();
        let bind_err = |cause| NetError::Bind { addr, cause };
        let tcp = TcpListener::bind(addr).await.map_err(bind_err)?;
        let local_addr = tcp.local_addr().map_err(bind_err)?;
        let name = service.name();
        let handler: Handler = Arc::new(move |conn| Box::pin(service.clone().serve(conn)));
        let metrics = opencapf_telemetry::Listener::new(name);
        Ok(Listener { name, tcp, local_addr, gate, shutdown, handler, metrics })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts until `shutdown` is cancelled, then stops as [`Shutdown`] says.
    pub async fn run(self, shutdown: CancellationToken) {
        let Listener { name, tcp, local_addr, gate, shutdown: policy, handler, metrics } = self;
        let stop = CancellationToken::new();
        let mut connections = JoinSet::new();
        let limits = gate.limits();
        info!(
            service = name,
            %local_addr,
            max_connections = limits.max_connections,
            max_per_source = ?limits.max_per_source,
            "{name} listening"
        );
        let mut backoff = ACCEPT_BACKOFF_MIN;
        loop {
            let reserved = tokio::select! {
                () = shutdown.cancelled() => break,
                reserved = gate.reserve() => reserved,
            };
            let (stream, peer) = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = tcp.accept() => match accepted {
                    Ok(a) => {
                        backoff = ACCEPT_BACKOFF_MIN;
                        a
                    }
                    Err(e) => {
                        // Out of file descriptors (EMFILE) and the like: back off, do not spin.
                        warn!(service = name, error = %e, retry_in = ?backoff, "accepting a connection failed");
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                        continue;
                    }
                },
                Some(joined) = connections.join_next(), if !connections.is_empty() => {
                    log_panic(name, joined);
                    continue;
                }
            };
            let admission = match gate.admit(reserved, peer.ip()) {
                Ok(a) => a,
                Err(why) => {
                    let (max, refusal) = match why {
                        Refused::Full => (limits.max_connections, ConnectionRefusal::Full),
                        Refused::SourceFull => (limits.max_per_source.unwrap_or(0), ConnectionRefusal::SourceFull),
                    };
                    metrics.refused(refusal);
                    warn!(service = name, %peer, max, "{why}: connection closed");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let served = handler(Connection { stream, peer, stop: stop.clone() });
            let open = metrics.opened();
            connections.spawn(async move {
                let _admission = admission;
                let _open = open;
                served.await;
            });
        }
        drop(tcp);
        let running = connections.len();
        if running > 0 {
            info!(service = name, running, grace = ?policy.grace, "{name} stopping: waiting for connections");
        }
        if !drain(name, &mut connections, policy.grace).await {
            stop.cancel();
            if !drain(name, &mut connections, policy.abort_after).await {
                warn!(service = name, running = connections.len(), "{name} stopped with connections still closing");
                connections.abort_all();
                while connections.join_next().await.is_some() {}
            }
        }
        info!(service = name, %local_addr, "{name} stopped");
    }
}

/// Waits for every connection to end, at most `limit`; true when all did.
async fn drain(name: &str, connections: &mut JoinSet<()>, limit: Duration) -> bool {
    timeout(limit, async {
        while let Some(joined) = connections.join_next().await {
            log_panic(name, joined);
        }
    })
    .await
    .is_ok()
}

fn log_panic(name: &str, joined: Result<(), JoinError>) {
    if let Err(e) = joined {
        if e.is_panic() {
            error!(service = name, error = %e, "a connection panicked");
        }
    }
}
