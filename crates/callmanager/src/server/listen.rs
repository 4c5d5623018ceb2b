//! The listeners: binding them ([`CallManagerServer::bind`]), one accept loop each, and shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opencapf_cluster::Cluster;
use opencapf_model::Service;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::{info, warn};

use super::connection::connection;
use super::{Kind, Shared};
use crate::{tls, CallManagerConfig, CallManagerError};

/// The addresses the listeners got (`None`: disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundAddrs {
    pub sip_tls: Option<SocketAddr>,
    pub sip_tcp: Option<SocketAddr>,
    pub sccp_tls: Option<SocketAddr>,
    pub sccp_tcp: Option<SocketAddr>,
}

/// CallManager, bound and ready to serve.
pub struct CallManagerServer {
    shared: Arc<Shared>,
    listeners: Vec<(Kind, TcpListener)>,
    addrs: BoundAddrs,
}

impl CallManagerServer {
    /// Loads the CallManager certificate and key from the store and binds every enabled
    /// listener. Port 0 picks a free port: see [`CallManagerServer::addrs`].
    pub async fn bind(store: Cluster, config: CallManagerConfig) -> Result<CallManagerServer, CallManagerError> {
        let cm = store.require_certificate(Service::CallManager).await?;
        let hostname = store.settings().await?.hostname;
        let key = store.key_of(&cm)?;
        let provider = tls::provider();
        let certified = tls::certified_key(&cm.der, key.pkcs8_der(), &provider)?;

        let mut listeners = Vec::new();
        let mut addrs = BoundAddrs::default();
        for (kind, addr) in [
            (Kind::SipTls, config.sip_tls),
            (Kind::SipTcp, config.sip_tcp),
            (Kind::SccpTls, config.sccp_tls),
            (Kind::SccpTcp, config.sccp_tcp),
        ] {
            let Some(addr) = addr else { continue };
            let bind_err = |cause| CallManagerError::Bind { what: kind.name(), addr, cause };
            let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
            let local = listener.local_addr().map_err(bind_err)?;
            match kind {
                Kind::SipTls => addrs.sip_tls = Some(local),
                Kind::SipTcp => addrs.sip_tcp = Some(local),
                Kind::SccpTls => addrs.sccp_tls = Some(local),
                Kind::SccpTcp => addrs.sccp_tcp = Some(local),
            }
            listeners.push((kind, listener));
        }
        let connections = Arc::new(Semaphore::new(config.max_connections.clamp(1, Semaphore::MAX_PERMITS)));
        let shared = Arc::new(Shared { store, config, provider, key: certified, hostname, connections });
        Ok(CallManagerServer { shared, listeners, addrs })
    }

    pub fn addrs(&self) -> BoundAddrs {
        self.addrs
    }

    /// Serves until `shutdown` completes, then stops accepting, closes the connections and
    /// returns (waiting at most five seconds for connections to end).
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), CallManagerError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut loops = JoinSet::new();
        for (kind, listener) in self.listeners {
            info!(listener = kind.name(), addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                "CallManager listening for {}", kind.name());
            loops.spawn(accept_loop(self.shared.clone(), kind, listener, stop_rx.clone()));
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        while loops.join_next().await.is_some() {}
        let all =
            u32::try_from(self.shared.config.max_connections.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        if timeout(Duration::from_secs(5), self.shared.connections.acquire_many(all)).await.is_err() {
            warn!("CallManager stopped with connections still closing");
        }
        Ok(())
    }
}

/// Resolves once the server is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, kind: Kind, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        let permit = tokio::select! {
            _ = stopped(&mut stop) => return,
            p = shared.connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = stopped(&mut stop) => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    warn!(listener = kind.name(), "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                _ = stopped(&mut stop) => {}
                _ = connection(&shared, kind, tcp, peer) => {}
            }
        });
    }
}
