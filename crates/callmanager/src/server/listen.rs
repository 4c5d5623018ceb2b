//! The listeners: binding them ([`CallManagerServer::bind`]), each an [`opencapf_net::Service`]
//! with its own connection limit (when full, new connections wait in the listen queue; one more
//! from an address at its limit is closed), and shutdown (connections are closed at once).
//! SIP over UDP is a datagram loop ([`SipUdpListener`]) with a budget of datagrams per source.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use opencapf_cluster::Cluster;
use opencapf_net::{CancellationToken, Connection, Gate, Limits, Listener, NetError, Shutdown, WhenFull};
use tokio::net::UdpSocket;

use super::connection::connection;
use super::identity::{self, ActiveCallManager, Resolver};
use super::sip_udp::SipUdp;
use super::{Kind, RefusalLog, Registry, Shared};
use crate::{CallManagerConfig, CallManagerError};

/// The addresses the listeners got (`None`: disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundAddrs {
    pub sip_tls: Option<SocketAddr>,
    pub sip_tcp: Option<SocketAddr>,
    pub sip_udp: Option<SocketAddr>,
    pub sccp_tls: Option<SocketAddr>,
    pub sccp_tcp: Option<SocketAddr>,
}

/// CallManager, bound and ready to serve.
pub struct CallManagerServer {
    listeners: Vec<Listener>,
    sip_udp: Option<SipUdpListener>,
    addrs: BoundAddrs,
    refusals: RefusalLog,
    registry: Registry,
}

/// The SIP over UDP listener, bound: run it beside the other listeners.
pub struct SipUdpListener {
    socket: UdpSocket,
    service: Arc<SipUdp>,
}

impl SipUdpListener {
    /// Serves datagrams until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let budget = self.service.shared.config.sip_udp_budget;
        opencapf_net::serve_datagrams(self.socket, self.service, budget, shutdown).await;
    }
}

/// One listener of CallManager.
struct KindListener {
    shared: Arc<Shared>,
    kind: Kind,
    addr: SocketAddr,
}

impl opencapf_net::Service for KindListener {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn listen(&self) -> SocketAddr {
        self.addr
    }

    async fn serve(self: Arc<Self>, conn: Connection) {
        tokio::select! {
            () = conn.stop.cancelled() => {}
            () = connection(&self.shared, self.kind, conn.stream, conn.peer) => {}
        }
    }
}

impl CallManagerServer {
    /// Checks that the CallManager certificate and key can be served and binds every enabled
    /// listener. Port 0 picks a free port: see [`CallManagerServer::addrs`].
    pub async fn bind(store: Cluster, config: CallManagerConfig) -> Result<CallManagerServer, CallManagerError> {
        let identity = Resolver::new(ActiveCallManager { store: store.clone() });
        identity.current().await.map_err(identity::error)?;
        let hostname = store.settings().await?.hostname;

        let limits = Limits {
            max_connections: config.max_connections,
            max_per_source: config.max_per_source,
            when_full: WhenFull::Wait,
        };
        let kinds = [
            (Kind::SipTls, config.sip_tls),
            (Kind::SipTcp, config.sip_tcp),
            (Kind::SccpTls, config.sccp_tls),
            (Kind::SccpTcp, config.sccp_tcp),
        ];
        let refusals = RefusalLog::new(store.clone());
        let udp_addr = config.sip_udp;
        let registry = Registry::default();
        let shared = Arc::new(Shared {
            store,
            config,
            identity,
            hostname,
            refusals: refusals.clone(),
            registry: registry.clone(),
        });
        let mut listeners = Vec::new();
        let mut addrs = BoundAddrs::default();
        for (kind, addr) in kinds {
            let Some(addr) = addr else { continue };
            let service = Arc::new(KindListener { shared: shared.clone(), kind, addr });
            // A gate per listener: idle SIP/TCP connections cannot take SIP/TLS's places.
            let listener =
                Listener::bind(service, Gate::new(limits), Shutdown::IMMEDIATE).await.map_err(|e| match e {
                    NetError::Bind { addr, cause } => CallManagerError::Bind { what: kind.name(), addr, cause },
                })?;
            let local = Some(listener.local_addr());
            match kind {
                Kind::SipTls => addrs.sip_tls = local,
                Kind::SipTcp => addrs.sip_tcp = local,
                Kind::SccpTls => addrs.sccp_tls = local,
                Kind::SccpTcp => addrs.sccp_tcp = local,
            }
            listeners.push(listener);
        }
        let sip_udp = match udp_addr {
            None => None,
            Some(addr) => {
                let bind_error = |cause| CallManagerError::Bind { what: "SIP over UDP", addr, cause };
                let socket = UdpSocket::bind(addr).await.map_err(bind_error)?;
                addrs.sip_udp = Some(socket.local_addr().map_err(bind_error)?);
                Some(SipUdpListener { socket, service: Arc::new(SipUdp::new(shared.clone())) })
            }
        };
        Ok(CallManagerServer { listeners, sip_udp, addrs, refusals, registry })
    }

    pub fn addrs(&self) -> BoundAddrs {
        self.addrs
    }

    /// The refusals waiting to be written: flush them once the listeners have stopped.
    pub fn refusal_log(&self) -> RefusalLog {
        self.refusals.clone()
    }

    /// The SIP registrations open now, to send phones a NOTIFY `service-control`.
    pub fn registry(&self) -> Registry {
        self.registry.clone()
    }

    /// The stream listeners, for a process that runs several services ([`opencapf_net::serve`]),
    /// and the SIP UDP listener to run beside them.
    pub fn into_listeners(self) -> (Vec<Listener>, Option<SipUdpListener>) {
        (self.listeners, self.sip_udp)
    }

    /// Serves until `shutdown` completes, then stops accepting, closes the connections and
    /// returns (waiting at most five seconds for connections to end).
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> Result<(), CallManagerError> {
        let stop = CancellationToken::new();
        let udp = self.sip_udp.map(|u| tokio::spawn(u.run(stop.clone())));
        opencapf_net::serve_until(self.listeners, shutdown).await;
        stop.cancel();
        if let Some(udp) = udp {
            let _ = udp.await;
        }
        self.refusals.flush().await;
        Ok(())
    }
}
