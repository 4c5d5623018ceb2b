//! The phone-side clients against our servers and against misbehaving ones.

use crate::support;

use std::time::Duration;

use opencapf_tftp::{http_get, tftp_get, FetchError, Packet, TftpOptions};
use support::Lab;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn http_get_maps_cucms_answers() {
    let lab = Lab::start();
    let server = lab.http_addr.to_string();
    let t = Duration::from_secs(10);
    lab.rt.block_on(async {
        assert_eq!(http_get(&server, "ITLFile.tlv", t).await.unwrap(), lab.file("ITLFile.tlv"));
        assert!(matches!(http_get(&server, "nothing.xml", t).await, Err(FetchError::NotFound)));
        assert!(matches!(http_get(&server, "CTLSEP001122334455.tlv", t).await, Err(FetchError::Unavailable)));
        let big = http_get(&server, "big.bin", t).await;
        assert!(matches!(&big, Err(FetchError::Refused(s)) if s == "HTTP 500"), "{big:?}");
    });
}

#[test]
fn tftp_get_with_and_without_options() {
    let lab = Lab::start();
    let server = lab.tftp_addr.to_string();
    lab.rt.block_on(async {
        let plain = TftpOptions::default();
        let asking = TftpOptions { blksize: Some(1024), tsize: true, ..TftpOptions::default() };
        for opts in [&plain, &asking] {
            assert_eq!(tftp_get(&server, "ITLFile.tlv", opts).await.unwrap(), lab.file("ITLFile.tlv"));
            assert_eq!(tftp_get(&server, "exact1024.bin", opts).await.unwrap(), lab.file("exact1024.bin"));
            assert!(matches!(tftp_get(&server, "nothing.xml", opts).await, Err(FetchError::NotFound)));
            let ctl = tftp_get(&server, "CTLSEP001122334455.tlv", opts).await;
            assert!(matches!(ctl, Err(FetchError::NotFound)), "TFTP error 1, as CUCM: {ctl:?}");
            let big = tftp_get(&server, "big.bin", opts).await;
            assert!(matches!(&big, Err(FetchError::Refused(s)) if s.starts_with("TFTP error 0")), "{big:?}");
        }
        let small = TftpOptions { blksize: Some(8), ..TftpOptions::default() };
        assert_eq!(tftp_get(&server, "wrap.bin", &small).await.unwrap(), lab.file("wrap.bin"));
    });
    assert!(lab.idle_within(Duration::from_secs(5)));
}

#[tokio::test]
async fn tftp_get_gives_up_on_a_silent_server() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let opts = TftpOptions { timeout: Duration::from_millis(100), retries: 3, ..TftpOptions::default() };
    let got = tftp_get(&silent.local_addr().unwrap().to_string(), "ITLFile.tlv", &opts).await;
    assert!(matches!(got, Err(FetchError::Timeout)), "{got:?}");
    let mut rrqs = 0;
    let mut buf = [0u8; 600];
    while let Ok(Ok((len, _))) = tokio::time::timeout(Duration::from_millis(200), silent.recv_from(&mut buf)).await {
        assert!(matches!(Packet::parse(&buf[..len]), Ok(Packet::Rrq(_))));
        rrqs += 1;
    }
    assert_eq!(rrqs, 4, "the RRQ and its 3 retransmissions");
}

#[tokio::test]
async fn tftp_get_refuses_an_announced_oversize_file() {
    let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let fake = tokio::spawn(async move {
        let mut buf = [0u8; 600];
        let (_, phone) = server.recv_from(&mut buf).await.unwrap();
        let oack = Packet::Oack { options: vec![("tsize".into(), "3000000".into())] };
        server.send_to(&oack.encode(), phone).await.unwrap();
        let (len, _) = server.recv_from(&mut buf).await.unwrap();
        Packet::parse(&buf[..len]).unwrap()
    });
    let opts = TftpOptions { tsize: true, ..TftpOptions::default() };
    assert!(matches!(tftp_get(&addr, "big", &opts).await, Err(FetchError::TooLarge)));
    assert!(matches!(fake.await.unwrap(), Packet::Error { code: 3, .. }), "the server is told why");
}

#[tokio::test]
async fn http_get_refuses_an_announced_oversize_file() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\nabc").await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    assert!(matches!(http_get(&addr, "big", Duration::from_secs(3)).await, Err(FetchError::TooLarge)));
}
