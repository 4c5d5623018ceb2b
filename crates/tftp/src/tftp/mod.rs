//! The TFTP server (UDP 69): read requests only, each transfer on its own socket.

mod transfer;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opencapf_model::printable;
use opencapf_net::{serve_datagrams, Budget, DatagramService, Gate, Limits, WhenFull};
use opencapf_telemetry::{self as telemetry, FileProtocol, FileResult};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::netascii::to_netascii;
use crate::options::negotiate;
use crate::packet::{ErrorCode, Mode, Packet, Request};
use crate::source::{checked_name, FileSource, Lookup, Transport, MAX_FILE};
use transfer::{Ended, Transfer};

/// How the TFTP server bounds its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpConfig {
    /// Transfers at once, in total.
    pub max_transfers: usize,
    /// Transfers at once from one address (a NAT'd building shares one).
    pub max_per_source: usize,
    /// Datagrams to the listening port per source address and window; the rest are dropped.
    pub budget: Budget,
    /// Retransmission timeout when the client sets none (RFC 2349 `timeout`).
    pub timeout: Duration,
    /// Retransmissions of one packet before the transfer is given up.
    pub retries: u32,
    /// The largest `blksize` granted. 16384: a block is one datagram held per transfer, so this
    /// bounds memory (16 KiB × `max_transfers`); above the Ethernet MTU a block is sent as IP
    /// fragments anyway, and phones ask for far less (or nothing: 512).
    pub max_blksize: usize,
}

impl Default for TftpConfig {
    fn default() -> TftpConfig {
        TftpConfig {
            max_transfers: 512,
            max_per_source: 16,
            budget: Budget { per_source: 64, window: Duration::from_secs(1) },
            timeout: Duration::from_secs(1),
            retries: 5,
            max_blksize: 16384,
        }
    }
}

/// The TFTP server of a [`FileSource`].
pub struct TftpServer<S> {
    source: Arc<S>,
    config: TftpConfig,
    gate: Gate,
    active: AtomicUsize,
    stop: CancellationToken,
}

/// Counts a transfer in [`TftpServer::active_transfers`] while it lives.
struct Active<'a>(&'a AtomicUsize);

impl<'a> Active<'a> {
    fn new(count: &'a AtomicUsize) -> Active<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Active(count)
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<S: FileSource> TftpServer<S> {
    pub fn new(source: Arc<S>, config: TftpConfig) -> Arc<TftpServer<S>> {
        let limits = Limits {
            max_connections: config.max_transfers,
            max_per_source: Some(config.max_per_source),
            when_full: WhenFull::Close,
        };
        let gate = Gate::new(limits);
        Arc::new(TftpServer { source, config, gate, active: AtomicUsize::new(0), stop: CancellationToken::new() })
    }

    /// Transfers in progress (a transfer given up or finished is no longer counted).
    pub fn active_transfers(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Serves requests arriving on `socket` until `shutdown` is cancelled; transfers in progress
    /// are then ended (net's [`serve_datagrams`] waits for them).
    pub async fn run(self: Arc<Self>, socket: UdpSocket, shutdown: CancellationToken) {
        let local = socket.local_addr().ok();
        info!(service = "TFTP", local_addr = ?local, "TFTP listening");
        let stop = self.stop.clone();
        let stopper = async {
            shutdown.cancelled().await;
            stop.cancel();
        };
        tokio::join!(serve_datagrams(socket, self.clone(), self.config.budget, shutdown.clone()), stopper);
        info!(service = "TFTP", local_addr = ?local, "TFTP stopped");
    }

    async fn read_request(&self, request: Request, peer: SocketAddr, local: IpAddr, listening: &UdpSocket) {
        let shown = printable(&request.filename).into_owned();
        let Ok(_admission) = self.gate.admit(None, peer.ip()) else {
            debug!(%peer, name = %shown, "TFTP: too many transfers, request refused");
            telemetry::file_request(FileProtocol::Tftp, FileResult::Refused);
            let busy = Packet::error(ErrorCode::NotDefined, "Too many transfers, try later").encode();
            let _ = listening.send_to(&busy, peer).await;
            return;
        };
        let _active = Active::new(&self.active);
        // The new TID: a socket of its own on the listening address (RFC 1350 §4).
        let socket = match UdpSocket::bind((local, 0)).await {
            Ok(s) => s,
            Err(e) => {
                info!(%peer, error = %e, "TFTP: no socket for a transfer");
                return;
            }
        };
        let mut transfer = Transfer::new(socket, peer, self.config.retries, self.stop.clone());
        let Ok(name) = checked_name(&request.filename) else {
            debug!(%peer, name = %shown, "TFTP: name refused");
            telemetry::file_request(FileProtocol::Tftp, FileResult::Refused);
            return transfer.refuse(ErrorCode::AccessViolation, "Access violation").await;
        };
        let file = tokio::select! {
            () = self.stop.cancelled() => return,
            found = self.source.fetch(name, peer, Transport::Tftp) => found,
        };
        let file = match file {
            Lookup::Found(file) if file.len() <= MAX_FILE => {
                telemetry::file_request(FileProtocol::Tftp, FileResult::Found);
                file
            }
            Lookup::Found(file) => {
                telemetry::file_request(FileProtocol::Tftp, FileResult::Error);
                info!(%peer, name = %shown, size = file.len(), "TFTP: file above the 2 MiB limit");
                return transfer.refuse(ErrorCode::NotDefined, "File too large").await;
            }
            // CUCM answered a CTL it does not have with 503 over HTTP, then error 1 over TFTP.
            Lookup::NotFound | Lookup::Unavailable => {
                debug!(%peer, name = %shown, "TFTP: file not found");
                telemetry::file_request(FileProtocol::Tftp, FileResult::NotFound);
                return transfer.refuse(ErrorCode::FileNotFound, "File not found").await;
            }
        };
        let wire = match request.mode {
            Mode::Octet => file,
            Mode::Netascii => Bytes::from(to_netascii(&file)),
        };
        let agreed = negotiate(&request.options, wire.len(), self.config.max_blksize, self.config.timeout);
        transfer.timeout = agreed.timeout;
        match transfer.send(&agreed.oack, &wire, agreed.blksize).await {
            Ok(()) => debug!(%peer, name = %shown, size = wire.len(), blksize = agreed.blksize, "TFTP: sent"),
            Err(Ended::GaveUp(n)) => info!(%peer, name = %shown, retries = n, "TFTP: transfer given up, no ACK"),
            Err(e) => debug!(%peer, name = %shown, "TFTP: transfer ended: {}", printable(&e.to_string())),
        }
    }
}

impl<S: FileSource> DatagramService for TftpServer<S> {
    fn name(&self) -> &'static str {
        "TFTP"
    }

    async fn handle(self: Arc<Self>, datagram: Vec<u8>, from: SocketAddr, socket: Arc<UdpSocket>) {
        let reply = match Packet::parse(&datagram) {
            Ok(Packet::Rrq(request)) => {
                let local = socket.local_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
                return self.read_request(request, from, local, &socket).await;
            }
            Ok(Packet::Wrq(request)) => {
                debug!(%from, name = %printable(&request.filename), "TFTP: write request refused");
                telemetry::file_request(FileProtocol::Tftp, FileResult::Refused);
                Packet::error(ErrorCode::AccessViolation, "Access violation: read-only server")
            }
            // Errors are never answered (RFC 1350 §7): two servers would answer each other forever.
            Ok(Packet::Error { .. }) => return,
            Ok(_) => Packet::error(ErrorCode::IllegalOperation, "Illegal TFTP operation"),
            Err(e) => {
                debug!(%from, "TFTP: datagram refused: {}", printable(&e.to_string()));
                let text = match e.code() {
                    ErrorCode::OptionRefused => format!("Option negotiation refused: {e}"),
                    _ => format!("Illegal TFTP operation: {e}"),
                };
                Packet::error(e.code(), printable(&text))
            }
        };
        let _ = socket.send_to(&reply.encode(), from).await;
    }
}
