//! A read request over TFTP, as a phone makes it after HTTP failed.

use std::net::SocketAddr;
use std::time::Duration;

use opencapf_model::printable;
use tokio::net::{lookup_host, UdpSocket};
use tokio::time::{timeout_at, Instant};

use super::FetchError;
use crate::packet::{ErrorCode, Mode, Packet, Request};
use crate::source::MAX_FILE;

/// What the read request asks for, and how patient the client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpOptions {
    /// `blksize` to ask for (RFC 2348); `None`: no option, 512-byte blocks.
    pub blksize: Option<u16>,
    /// Ask for `tsize` (RFC 2349), to refuse an oversize file before its first block.
    pub tsize: bool,
    /// Time before the last packet (RRQ or ACK) is sent again: a phone waits about 0.5 s.
    pub timeout: Duration,
    /// Retransmissions before giving up.
    pub retries: u32,
}

impl Default for TftpOptions {
    fn default() -> TftpOptions {
        TftpOptions { blksize: None, tsize: false, timeout: Duration::from_millis(500), retries: 5 }
    }
}

/// Fetches `name` from `server` (`HOST:PORT`) in octet mode.
pub async fn tftp_get(server: &str, name: &str, opts: &TftpOptions) -> Result<Vec<u8>, FetchError> {
    let Some(addr) = lookup_host(server).await?.next() else {
        return Err(FetchError::Refused(format!("no address for {}", printable(server))));
    };
    let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = UdpSocket::bind(local).await?;
    let mut options = Vec::new();
    if let Some(b) = opts.blksize {
        options.push(("blksize".to_string(), b.to_string()));
    }
    if opts.tsize {
        options.push(("tsize".to_string(), "0".to_string()));
    }
    let rrq = Packet::Rrq(Request { filename: name.to_string(), mode: Mode::Octet, options }).encode();
    Receiver { socket, server: addr, tid: None, opts, last: rrq, blksize: 512, file: Vec::new() }.run().await
}

struct Receiver<'a> {
    socket: UdpSocket,
    server: SocketAddr,
    /// The server's transfer port, fixed by its first answer.
    tid: Option<SocketAddr>,
    opts: &'a TftpOptions,
    /// What is sent again on timeout.
    last: Vec<u8>,
    blksize: usize,
    file: Vec<u8>,
}

impl Receiver<'_> {
    async fn run(mut self) -> Result<Vec<u8>, FetchError> {
        let mut buf = vec![0u8; 65_536];
        let mut expected: u64 = 1;
        let mut tries = 0;
        self.socket.send_to(&self.last, self.server).await?;
        let mut deadline = Instant::now() + self.opts.timeout;
        loop {
            let Ok(received) = timeout_at(deadline, self.socket.recv_from(&mut buf)).await else {
                tries += 1;
                if tries > self.opts.retries {
                    return Err(FetchError::Timeout);
                }
                self.socket.send_to(&self.last, self.tid.unwrap_or(self.server)).await?;
                deadline = Instant::now() + self.opts.timeout;
                continue;
            };
            let (len, from) = received?;
            if !self.is_server(from).await {
                continue;
            }
            match Packet::parse(&buf[..len]) {
                Ok(Packet::Oack { options }) if expected == 1 && self.file.is_empty() => {
                    self.accept_oack(&options).await?;
                    self.ack(0).await?;
                }
                Ok(Packet::Data { block, data }) if block == expected as u16 => {
                    if self.file.len() + data.len() > MAX_FILE || data.len() > self.blksize {
                        return Err(self.abort(FetchError::TooLarge).await);
                    }
                    self.file.extend_from_slice(&data);
                    self.ack(block).await?;
                    if data.len() < self.blksize {
                        return Ok(self.file);
                    }
                    expected += 1;
                }
                // Our ACK was lost: the server sent the previous block again.
                Ok(Packet::Data { block, .. }) if block == (expected - 1) as u16 => {
                    self.socket.send_to(&self.last, from).await?;
                    continue;
                }
                Ok(Packet::Error { code, message }) => {
                    return Err(match code {
                        1 => FetchError::NotFound,
                        _ => FetchError::Refused(format!("TFTP error {code}: {}", printable(&message))),
                    })
                }
                _ => continue,
            }
            tries = 0;
            deadline = Instant::now() + self.opts.timeout;
        }
    }

    /// True when `from` is the server's transfer ID (fixing it on the first answer); a packet
    /// from any other port gets ERROR 5.
    async fn is_server(&mut self, from: SocketAddr) -> bool {
        match self.tid {
            None if from.ip() == self.server.ip() => {
                self.tid = Some(from);
                true
            }
            Some(tid) if tid == from => true,
            _ => {
                let stray = Packet::error(ErrorCode::UnknownTransferId, "Unknown transfer ID").encode();
                let _ = self.socket.send_to(&stray, from).await;
                false
            }
        }
    }

    async fn accept_oack(&mut self, options: &[(String, String)]) -> Result<(), FetchError> {
        for (name, value) in options {
            match (name.as_str(), value.parse::<usize>()) {
                ("blksize", Ok(b)) if (8..=usize::from(self.opts.blksize.unwrap_or(512))).contains(&b) => {
                    self.blksize = b;
                }
                ("tsize", Ok(size)) if size > MAX_FILE => return Err(self.abort(FetchError::TooLarge).await),
                ("tsize", Ok(_)) => {}
                _ => {
                    let refused =
                        FetchError::Refused(format!("option {} {} in OACK", printable(name), printable(value)));
                    return Err(self.abort(refused).await);
                }
            }
        }
        Ok(())
    }

    async fn ack(&mut self, block: u16) -> std::io::Result<()> {
        self.last = Packet::Ack { block }.encode();
        self.socket.send_to(&self.last, self.tid.unwrap_or(self.server)).await.map(|_| ())
    }

    /// Tells the server the transfer is over (RFC 2347: error 8 for a refused OACK), then `why`.
    async fn abort(&self, why: FetchError) -> FetchError {
        let (code, text) = match why {
            FetchError::TooLarge => (ErrorCode::DiskFull, "File too large"),
            _ => (ErrorCode::OptionRefused, "Option refused"),
        };
        let _ = self.socket.send_to(&Packet::error(code, text).encode(), self.tid.unwrap_or(self.server)).await;
        why
    }
}
