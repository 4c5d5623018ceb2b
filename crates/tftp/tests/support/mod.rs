//! A lab for the configuration service: an in-memory file source, both servers on 127.0.0.1
//! port 0 in a runtime of their own, and raw TFTP helpers for hostile peers.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opencapf_net::{CancellationToken, Gate, Limits, Listener, Shutdown, WhenFull};
use opencapf_tftp::{FileSource, HttpConfig, HttpServer, Lookup, Packet, TftpConfig, TftpServer, Transport};
use tokio::runtime::Runtime;

/// Files by name; a name mapped to `None` is "unavailable" (HTTP 503).
pub struct Files(pub HashMap<String, Option<Bytes>>);

impl FileSource for Files {
    async fn fetch(&self, name: &str, _peer: SocketAddr, _via: Transport) -> Lookup {
        match self.0.get(name) {
            Some(Some(file)) => Lookup::Found(file.clone()),
            Some(None) => Lookup::Unavailable,
            None => Lookup::NotFound,
        }
    }
}

/// Bytes that are not all alike, so a block out of place shows.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// The files every test serves.
pub fn files() -> Files {
    let mut f: HashMap<String, Option<Bytes>> = HashMap::new();
    f.insert("ITLFile.tlv".into(), Some(pattern(7879).into()));
    f.insert("SEP001122334455.cnf.xml".into(), Some(Bytes::from_static(b"<device>\n<a>1</a>\r\n\r</device>\n")));
    f.insert("exact1024.bin".into(), Some(pattern(1024).into()));
    f.insert("wrap.bin".into(), Some(pattern(65_535 * 8 + 1000).into()));
    f.insert("big.bin".into(), Some(pattern(2 * 1024 * 1024 + 1).into()));
    f.insert("CTLSEP001122334455.tlv".into(), None);
    Files(f)
}

pub struct Lab {
    pub rt: Runtime,
    pub tftp: Arc<TftpServer<Files>>,
    pub tftp_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub dir: tempfile::TempDir,
    shutdown: CancellationToken,
}

impl Lab {
    pub fn start() -> Lab {
        Lab::with(
            TftpConfig::default(),
            Limits { max_connections: 64, max_per_source: Some(32), when_full: WhenFull::Close },
        )
    }

    pub fn with(tftp_config: TftpConfig, http_limits: Limits) -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let shutdown = CancellationToken::new();
        let files = Arc::new(files());
        let (tftp, tftp_addr, http_addr) = rt.block_on(async {
            let tftp = TftpServer::new(files.clone(), tftp_config);
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let tftp_addr = socket.local_addr().unwrap();
            tokio::spawn(tftp.clone().run(socket, shutdown.clone()));
            let mut config = HttpConfig::new("127.0.0.1:0".parse().unwrap());
            config.header_timeout = Duration::from_secs(2);
            let http = HttpServer::new(files, config);
            let listener = Listener::bind(http, Gate::new(http_limits), Shutdown::IMMEDIATE).await.unwrap();
            let http_addr = listener.local_addr();
            tokio::spawn(listener.run(shutdown.clone()));
            (tftp, tftp_addr, http_addr)
        });
        Lab { rt, tftp, tftp_addr, http_addr, dir: tempfile::tempdir().unwrap(), shutdown }
    }

    pub fn file(&self, name: &str) -> Vec<u8> {
        match files().0.remove(name) {
            Some(Some(f)) => f.to_vec(),
            _ => panic!("{name} is not a served file"),
        }
    }

    /// Waits (at most `limit`) until no transfer is in progress; true if so.
    pub fn idle_within(&self, limit: Duration) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if self.tftp.active_transfers() == 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.tftp.active_transfers() == 0
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A raw TFTP peer on its own port.
pub struct Raw {
    pub socket: std::net::UdpSocket,
}

impl Raw {
    pub fn new() -> Raw {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Raw { socket }
    }

    pub fn send(&self, datagram: &[u8], to: SocketAddr) {
        self.socket.send_to(datagram, to).unwrap();
    }

    /// The next packet and where it came from; `None` after the read timeout.
    pub fn recv(&self) -> Option<(Packet, SocketAddr)> {
        let mut buf = vec![0u8; 70_000];
        let (len, from) = self.socket.recv_from(&mut buf).ok()?;
        Some((Packet::parse(&buf[..len]).expect("the server sends well-formed packets"), from))
    }
}

/// A read request datagram.
pub fn rrq(name: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut d = vec![0, 1];
    for f in [name, mode].into_iter().chain(options.iter().flat_map(|(n, v)| [*n, *v])) {
        d.extend_from_slice(f.as_bytes());
        d.push(0);
    }
    d
}

/// The error code of `packet`, or a panic naming what came instead.
pub fn error_code(packet: &Packet) -> u16 {
    match packet {
        Packet::Error { code, .. } => *code,
        other => panic!("expected an ERROR, got {other:?}"),
    }
}
