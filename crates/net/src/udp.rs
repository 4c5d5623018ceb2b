//! A datagram loop (TFTP later): each datagram is handled in its own task, within a budget of
//! datagrams per source address and time window; datagrams over budget are dropped unanswered.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant};
use tokio_util::sync::CancellationToken;

/// A UDP service.
pub trait DatagramService: Send + Sync + 'static {
    /// The name in logs: "TFTP".
    fn name(&self) -> &'static str;

    /// Handles one datagram; answers, if at all, through `socket`.
    fn handle(
        self: Arc<Self>,
        datagram: Vec<u8>,
        from: SocketAddr,
        socket: Arc<UdpSocket>,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// Datagrams handled per source address and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_source: u32,
    pub window: Duration,
}

/// The count of each source in its current window.
struct Spent {
    budget: Budget,
    sources: HashMap<IpAddr, (Instant, u32)>,
}

impl Spent {
    /// True when `source` may send one more datagram now.
    fn take(&mut self, source: IpAddr, now: Instant) -> bool {
        if self.sources.len() > 4096 {
            let window = self.budget.window;
            self.sources.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let (start, count) = self.sources.entry(source).or_insert((now, 0));
        if now.duration_since(*start) >= self.budget.window {
            (*start, *count) = (now, 0);
        }
        if *count >= self.budget.per_source {
            return false;
        }
        *count += 1;
        true
    }
}

/// Receives on `socket` until `shutdown` is cancelled, then lets handlers finish (5 s at most).
pub async fn serve_datagrams<S: DatagramService>(
    socket: UdpSocket,
    service: Arc<S>,
    budget: Budget,
    shutdown: CancellationToken,
) {
    let name = service.name();
    let socket = Arc::new(socket);
    let mut spent = Spent { budget, sources: HashMap::new() };
    let mut handlers = JoinSet::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        let (len, from) = tokio::select! {
            () = shutdown.cancelled() => break,
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(service = name, error = %e, "receiving a datagram failed");
                    continue;
                }
            },
            Some(_) = handlers.join_next(), if !handlers.is_empty() => continue,
        };
        if !spent.take(from.ip(), Instant::now()) {
            tracing::debug!(service = name, %from, "over its budget: datagram dropped");
            continue;
        }
        handlers.spawn(service.clone().handle(buf[..len].to_vec(), from, socket.clone()));
    }
    if timeout(Duration::from_secs(5), async { while handlers.join_next().await.is_some() {} }).await.is_err() {
        handlers.abort_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Echo(AtomicU32);

    impl DatagramService for Echo {
        fn name(&self) -> &'static str {
            "echo"
        }

        async fn handle(self: Arc<Self>, datagram: Vec<u8>, from: SocketAddr, socket: Arc<UdpSocket>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            let _ = socket.send_to(&datagram, from).await;
        }
    }

    #[tokio::test]
    async fn each_source_gets_its_budget_and_no_more() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let echo = Arc::new(Echo(AtomicU32::new(0)));
        let shutdown = CancellationToken::new();
        let budget = Budget { per_source: 3, window: Duration::from_secs(60) };
        let task = tokio::spawn(serve_datagrams(server, echo.clone(), budget, shutdown.clone()));

        let greedy = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut answered = 0;
        for i in 0..5u8 {
            greedy.send_to(&[i], addr).await.unwrap();
            let mut b = [0u8; 1];
            if timeout(Duration::from_millis(300), greedy.recv_from(&mut b)).await.is_ok() {
                answered += 1;
            }
        }
        assert_eq!(answered, 3, "the budget of one source");

        let other = UdpSocket::bind("127.0.0.2:0").await.unwrap();
        other.send_to(b"x", addr).await.unwrap();
        let mut b = [0u8; 1];
        assert!(timeout(Duration::from_secs(1), other.recv_from(&mut b)).await.is_ok(), "another source has its own");

        shutdown.cancel();
        task.await.unwrap();
        assert_eq!(echo.0.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn a_new_window_restores_the_budget() {
        let mut spent =
            Spent { budget: Budget { per_source: 1, window: Duration::from_secs(1) }, sources: HashMap::new() };
        let source = IpAddr::from([192, 0, 2, 1]);
        let t0 = Instant::now();
        assert!(spent.take(source, t0));
        assert!(!spent.take(source, t0 + Duration::from_millis(500)));
        assert!(spent.take(source, t0 + Duration::from_secs(1)));
    }
}
