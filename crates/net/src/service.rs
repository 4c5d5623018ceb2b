//! What a protocol crate implements: its name, its address, and one connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// An accepted connection, admitted by the listener's [`crate::Gate`].
pub struct Connection {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Cancelled when the shutdown grace has passed: end the connection (recording why) and
    /// return; what is still running [`crate::Shutdown::abort_after`] later is aborted.
    pub stop: CancellationToken,
}

/// A TCP service.
pub trait Service: Send + Sync + 'static {
    /// The name in logs: "CAPF", "SIP over TLS".
    fn name(&self) -> &'static str;

    /// The address to listen on (port 0: any free port).
    fn listen(&self) -> SocketAddr;

    /// Serves one connection to its end.
    fn serve(self: Arc<Self>, conn: Connection) -> impl Future<Output = ()> + Send + 'static;
}
