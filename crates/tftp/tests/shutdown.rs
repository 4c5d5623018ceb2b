//! Cancelling the TFTP server's token ends its transfers and its loop.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use opencapf_net::CancellationToken;
use opencapf_tftp::{Packet, TftpConfig, TftpServer};
use support::{files, rrq};

#[tokio::test]
async fn shutdown_ends_transfers_in_progress() {
    let server =
        TftpServer::new(Arc::new(files()), TftpConfig { timeout: Duration::from_secs(30), ..TftpConfig::default() });
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(server.clone().run(socket, shutdown.clone()));

    let phone = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    phone.send_to(&rrq("ITLFile.tlv", "octet", &[]), addr).await.unwrap();
    let mut buf = [0u8; 600];
    let (len, _) = tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buf)).await.unwrap().unwrap();
    assert!(matches!(Packet::parse(&buf[..len]), Ok(Packet::Data { block: 1, .. })));
    assert_eq!(server.active_transfers(), 1, "waiting 30 s for ACK 1");

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("the server stops").unwrap();
    assert_eq!(server.active_transfers(), 0);
}
