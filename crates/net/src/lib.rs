//! The service runtime of OpenCAPF: what every listener (CAPF, CallManager's four, and later
//! TFTP, TVS, HTTP, EST) shares, so that each protocol crate only says how it serves one
//! connection.
//!
//! | module | what it holds |
//! |---|---|
//! | `service` | the [`Service`] trait and the [`Connection`] it is given |
//! | `limits` | [`Limits`] and [`Gate`]: connections at once, in total and per source address, closed or kept waiting when full |
//! | `tcp` | [`Listener`]: one TCP accept loop, then shutdown: grace, stop signal, abort |
//! | `udp` | [`DatagramService`] and [`serve_datagrams`]: a datagram loop with a per-source [`Budget`] |
//! | `run` | [`serve`] and [`serve_until`]: a list of listeners until a [`CancellationToken`] |
//! | `http` | [`serve_http1`]: one HTTP/1.1 connection with its timeouts and graceful end ([`HttpTimeouts`]); [`read_body_within`]: a request body within its limit, or [`BodyTooLarge`] |
//! | `fds` | [`raise_descriptor_limit`]: the soft descriptor limit up to the hard one, at start |
//!
//! Every TCP listener counts its open and refused connections in `opencapf_telemetry`, under
//! its service's name.
//!
//! Shutdown, for every listener: stop accepting; let connections finish for
//! [`Shutdown::grace`]; then cancel [`Connection::stop`] (a service records "stopped" and
//! returns); then, after [`Shutdown::abort_after`], abort what is left.

mod fds;
mod http;
mod limits;
mod run;
mod service;
mod tcp;
mod udp;

pub use fds::{raise_descriptor_limit, DescriptorLimit};
pub use http::{http1_builder, read_body_within, serve_http1, BodyTooLarge, HttpTimeouts};
pub use limits::{Admission, Gate, Limits, Refused, WhenFull};
pub use run::{serve, serve_until};
pub use service::{Connection, Service};
pub use tcp::{Listener, Shutdown};
pub use tokio_util::sync::CancellationToken;
pub use udp::{serve_datagrams, Budget, DatagramService};

/// Why a listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: std::net::SocketAddr, cause: std::io::Error },
}
