//! The listener's limit and shutdown, seen from a client.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opencapf_net::{serve, CancellationToken, Connection, Gate, Limits, Listener, Service, Shutdown, WhenFull};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

/// Greets, then holds the connection until stopped (`cooperative`) or forever.
struct Hold {
    cooperative: bool,
    stopped: AtomicBool,
}

impl Service for Hold {
    fn name(&self) -> &'static str {
        "hold"
    }

    fn listen(&self) -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    async fn serve(self: Arc<Self>, mut conn: Connection) {
        let _ = conn.stream.write_all(b"hi").await;
        if self.cooperative {
            conn.stop.cancelled().await;
            self.stopped.store(true, Ordering::SeqCst);
        } else {
            std::future::pending::<()>().await;
        }
    }
}

async fn start(
    cooperative: bool,
    limits: Limits,
    shutdown: Shutdown,
) -> (SocketAddr, Arc<Hold>, CancellationToken, tokio::task::JoinHandle<()>) {
    let hold = Arc::new(Hold { cooperative, stopped: AtomicBool::new(false) });
    let listener = Listener::bind(hold.clone(), Gate::new(limits), shutdown).await.unwrap();
    let addr = listener.local_addr();
    let token = CancellationToken::new();
    let task = tokio::spawn(serve(vec![listener], token.clone()));
    (addr, hold, token, task)
}

async fn greeted(addr: SocketAddr) -> Option<TcpStream> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    let mut b = [0u8; 2];
    match timeout(Duration::from_secs(1), s.read_exact(&mut b)).await {
        Ok(Ok(_)) => Some(s),
        _ => None,
    }
}

/// A listener of one slot, `when_full` when it is full: the first connection (served) and a
/// second one, connected beyond the limit.
async fn one_slot_taken(when_full: WhenFull) -> (TcpStream, TcpStream, CancellationToken, tokio::task::JoinHandle<()>) {
    let limits = Limits { max_connections: 1, max_per_source: None, when_full };
    let (addr, _, token, task) = start(true, limits, Shutdown::IMMEDIATE).await;
    let first = greeted(addr).await.expect("the first is served");
    let second = TcpStream::connect(addr).await.unwrap();
    (first, second, token, task)
}

#[tokio::test]
async fn close_mode_closes_the_excess_at_once() {
    let (_first, mut second, token, task) = one_slot_taken(WhenFull::Close).await;
    let mut b = [0u8; 2];
    let n = timeout(Duration::from_secs(1), second.read(&mut b)).await.expect("closed at once").unwrap_or(0);
    assert_eq!(n, 0, "closed with nothing said");
    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn wait_mode_queues_the_excess_until_a_slot_frees() {
    let (first, mut second, token, task) = one_slot_taken(WhenFull::Wait).await;
    let mut b = [0u8; 2];
    assert!(timeout(Duration::from_millis(300), second.read_exact(&mut b)).await.is_err(), "waits");
    drop(first);
    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn shutdown_waits_the_grace_then_stops_connections() {
    let limits = Limits { max_connections: 8, max_per_source: None, when_full: WhenFull::Close };
    let grace = Shutdown { grace: Duration::from_millis(300), abort_after: Duration::from_secs(5) };
    let (addr, hold, token, task) = start(true, limits, grace).await;
    let _conn = greeted(addr).await.unwrap();
    let started = Instant::now();
    token.cancel();
    task.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "the grace was given");
    assert!(hold.stopped.load(Ordering::SeqCst), "the connection saw the stop signal");
    assert!(TcpStream::connect(addr).await.is_err(), "no longer listening");
}

#[tokio::test]
async fn connections_that_ignore_the_stop_are_aborted() {
    let limits = Limits { max_connections: 8, max_per_source: None, when_full: WhenFull::Close };
    let policy = Shutdown { grace: Duration::ZERO, abort_after: Duration::from_millis(200) };
    let (addr, _, token, task) = start(false, limits, policy).await;
    let mut conn = greeted(addr).await.unwrap();
    token.cancel();
    timeout(Duration::from_secs(2), task).await.expect("aborted, not waited for").unwrap();
    let mut b = [0u8; 1];
    assert_eq!(conn.read(&mut b).await.unwrap_or(0), 0, "the connection is closed");
}

#[tokio::test]
async fn per_source_limit_closes_one_more_from_the_same_address() {
    let limits = Limits { max_connections: 8, max_per_source: Some(1), when_full: WhenFull::Wait };
    let (addr, _, token, task) = start(true, limits, Shutdown::IMMEDIATE).await;
    let _first = greeted(addr).await.unwrap();
    assert!(greeted(addr).await.is_none(), "a second from 127.0.0.1 is closed");
    token.cancel();
    task.await.unwrap();
}
