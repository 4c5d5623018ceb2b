//! One read transfer on its own socket (its own TID): OACK, DATA blocks, retransmission.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::time::{timeout_at, Instant};
use tokio_util::sync::CancellationToken;

use crate::packet::{data_packet, ErrorCode, Packet};

/// Stray packets (another TID) answered with ERROR 5 per transfer; more are dropped unanswered,
/// so that a flood of them does not turn the server into an amplifier.
const MAX_STRAY_ANSWERS: u32 = 16;

/// How a transfer ended, other than by its last ACK.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Ended {
    #[error("no ACK after {0} retransmissions")]
    GaveUp(u32),
    #[error("the client sent error {code}: {message}")]
    ClientError { code: u16, message: String },
    #[error("the client sent a packet other than ACK or ERROR")]
    Illegal,
    #[error("the server is stopping")]
    Stopped,
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// A transfer in progress: the socket of its TID and its peer's.
pub(crate) struct Transfer {
    pub(crate) socket: UdpSocket,
    pub(crate) peer: SocketAddr,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) stop: CancellationToken,
    strays: u32,
}

impl Transfer {
    pub(crate) fn new(socket: UdpSocket, peer: SocketAddr, retries: u32, stop: CancellationToken) -> Transfer {
        Transfer { socket, peer, timeout: Duration::from_secs(1), retries, stop, strays: 0 }
    }

    /// Sends an ERROR to the peer (nothing is awaited: errors are not acknowledged).
    pub(crate) async fn refuse(&self, code: ErrorCode, message: &str) {
        let _ = self.socket.send_to(&Packet::error(code, message).encode(), self.peer).await;
    }

    /// Sends `data` in blocks of `blksize`, after an OACK of `oack` if it is not empty.
    pub(crate) async fn send(&mut self, oack: &[(String, String)], data: &Bytes, blksize: usize) -> Result<(), Ended> {
        if !oack.is_empty() {
            self.send_until_acked(&Packet::Oack { options: oack.to_vec() }.encode(), 0).await?;
        }
        // The last block is shorter than blksize, empty when the size is a multiple of it.
        let blocks = data.len() / blksize + 1;
        for n in 1..=blocks {
            let block = (n % 65536) as u16; // wraps to 0 after 65535, as tftp-hpa and curl expect
            let start = (n - 1) * blksize;
            let chunk = &data[start..(start + blksize).min(data.len())];
            self.send_until_acked(&data_packet(block, chunk), block).await?;
        }
        Ok(())
    }

    /// Sends `packet` until the ACK of `block` comes, retransmitting on timeout.
    async fn send_until_acked(&mut self, packet: &[u8], block: u16) -> Result<(), Ended> {
        let mut buf = [0u8; 1024];
        for _ in 0..=self.retries {
            self.socket.send_to(packet, self.peer).await?;
            // Duplicate ACKs do not restart the clock nor cause a resend (Sorcerer's Apprentice).
            let deadline = Instant::now() + self.timeout;
            loop {
                let received = tokio::select! {
                    () = self.stop.cancelled() => return Err(Ended::Stopped),
                    r = timeout_at(deadline, self.socket.recv_from(&mut buf)) => r,
                };
                let Ok(received) = received else { break };
                let (len, from) = received?;
                if from != self.peer {
                    self.answer_stray(from).await;
                    continue;
                }
                match Packet::parse(&buf[..len]) {
                    Ok(Packet::Ack { block: b }) if b == block => return Ok(()),
                    Ok(Packet::Ack { .. }) => continue,
                    Ok(Packet::Error { code, message }) => return Err(Ended::ClientError { code, message }),
                    _ => {
                        self.refuse(ErrorCode::IllegalOperation, "Illegal TFTP operation").await;
                        return Err(Ended::Illegal);
                    }
                }
            }
        }
        Err(Ended::GaveUp(self.retries))
    }

    async fn answer_stray(&mut self, from: SocketAddr) {
        if self.strays < MAX_STRAY_ANSWERS {
            self.strays += 1;
            let error = Packet::error(ErrorCode::UnknownTransferId, "Unknown transfer ID").encode();
            let _ = self.socket.send_to(&error, from).await;
        }
    }
}
