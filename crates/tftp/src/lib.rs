//! The configuration service of OpenCAPF: the files a phone downloads at boot, served as CUCM
//! serves them (HTTP on TCP 6970 first, TFTP on UDP 69 as the fallback), and the phone's side of
//! both for the simulator.
//!
//! | module | what it holds |
//! |---|---|
//! | `source` | [`FileSource`] (what is served, asked once per request with a [`checked_name`]), [`Lookup`], [`Transport`] |
//! | `packet` | [`Packet`]: TFTP datagrams parsed (bounded, typed [`PacketError`]) and encoded |
//! | `options` | RFC 2347–2349 negotiation: `blksize`, `tsize`, `timeout` |
//! | `netascii` | [`to_netascii`] / [`from_netascii`] (RFC 1350 line ends) |
//! | `tftp` | [`TftpServer`] and [`TftpConfig`]: read requests, one socket (TID) per transfer, limits, retransmission |
//! | `http` | [`HttpServer`] and [`HttpConfig`]: an `opencapf_net::Service` answering GET/HEAD as CUCM does |
//! | `client` | [`http_get`], [`tftp_get`] and [`FetchError`]: fetching as a phone does (2 MiB bound, 0.5 s retransmission) |
//!
//! Running both (the integrator's `serve`):
//! ```no_run
//! # use std::sync::Arc;
//! # use opencapf_tftp::*;
//! # use opencapf_net::{CancellationToken, Gate, Limits, Listener, Shutdown, WhenFull};
//! # async fn run<S: FileSource>(files: Arc<S>) -> Result<(), Box<dyn std::error::Error>> {
//! let shutdown = CancellationToken::new();
//! let tftp = TftpServer::new(files.clone(), TftpConfig::default());
//! let socket = tokio::net::UdpSocket::bind("0.0.0.0:69").await?;
//! tokio::spawn(tftp.run(socket, shutdown.clone()));
//!
//! let http = HttpServer::new(files, HttpConfig::new("0.0.0.0:6970".parse()?));
//! let gate = Gate::new(Limits { max_connections: 1024, max_per_source: Some(64), when_full: WhenFull::Close });
//! let listener = Listener::bind(http, gate, Shutdown::IMMEDIATE).await?;
//! opencapf_net::serve(vec![listener], shutdown).await;
//! # Ok(()) }
//! ```

mod client;
mod http;
mod netascii;
mod options;
mod packet;
mod source;
mod tftp;

pub use client::{http_get, tftp_get, FetchError, TftpOptions};
pub use http::{HttpConfig, HttpServer, MAX_PATH};
pub use netascii::{from_netascii, to_netascii};
pub use packet::{ErrorCode, Mode, Packet, PacketError, Request, MAX_OPTIONS, MAX_REQUEST};
pub use source::{checked_name, FileSource, Lookup, NameError, Transport, MAX_FILE, MAX_NAME};
pub use tftp::{TftpConfig, TftpServer};

/// The servers' reading of a request beyond the packet codec, for the fuzz targets only (`fuzz/`).
#[doc(hidden)]
pub mod fuzzing {
    use std::time::Duration;

    /// The options of a read request as the TFTP server negotiates them for a file of `size`
    /// bytes: (block size, timeout, the OACK's options).
    pub fn negotiate(
        asked: &[(String, String)],
        size: usize,
        max_blksize: usize,
    ) -> (usize, Duration, Vec<(String, String)>) {
        let n = crate::options::negotiate(asked, size, max_blksize, Duration::from_secs(3));
        (n.blksize, n.timeout, n.oack)
    }

    /// An HTTP request path (6970) as the server turns it into a file name, if it can.
    pub fn http_name(path: &str) -> Option<String> {
        let name = crate::http::percent_decoded(path)?;
        crate::source::checked_name(&name).ok().map(str::to_owned)
    }
}
