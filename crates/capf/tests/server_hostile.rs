//! Hostile and broken clients: garbage before and after the TLS handshake, malformed frames and
//! elements, a wrong session id, silent clients, phones that vanish mid-operation, and more
//! clients than the server takes. The server must answer what it can (EndSession 7), record
//! what happened to a device, never half-commit an LSC, and keep serving everyone else.

use crate::server_common;

use std::time::Duration;

use opencapf_capf::proto::frame::Command;
use opencapf_capf::proto::message::*;
use opencapf_capf::CapfConfig;
use opencapf_model::{AuthMode, CertificateOperation, KeyOrder};
use opencapf_pki::KeyAlgorithm;
use server_common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PHONE: &str = "SEP2C3124C9F8E1";
const OTHER: &str = "SEP2C3124C9F8E2";

async fn lab_with_install() -> Lab {
    let lab = Lab::start().await;
    for name in [PHONE, OTHER] {
        lab.add_device(name).await;
        lab.schedule_install(name, AuthMode::NullString, KeyOrder::EcOnly).await;
    }
    lab
}

/// A healthy phone still gets its LSC.
async fn still_serving(lab: &Lab) {
    install(lab, OTHER, &Creds::Null).await;
    assert_eq!(lab.device(OTHER).await.capf.status, "Upgrade Success");
}

/// The server closes a raw TCP connection within the wait.
async fn tcp_closed(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a TLS alert
            Err(_) => return false,
        }
    }
}

/// Waits until the device's only issued LSC reaches `state`.
async fn wait_issued_state(lab: &Lab, name: &str, state: &str) -> Vec<opencapf_model::IssuedCertificateRecord> {
    for _ in 0..200 {
        let issued = lab.issued(name).await;
        if issued.len() == 1 && issued[0].state == state {
            return issued;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the issued LSC of {name} never became '{state}': {:?}", lab.issued(name).await);
}

/// A message with a hand-written body, in this phone's session.
fn raw(phone: &Phone, command: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0x55, command];
    m.extend_from_slice(&phone.session_id.to_be_bytes());
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(body);
    m
}

#[tokio::test]
async fn garbage_before_and_after_the_tls_handshake() {
    let lab = lab_with_install().await;

    let mut tcp = TcpStream::connect(lab.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: capf\r\n\r\n").await.unwrap();
    assert!(tcp_closed(&mut tcp).await, "non-TLS bytes end the connection");

    // After the handshake, bytes that are not CAPF: EndSession 7.
    let mut phone = lab.connect().await;
    phone.send_raw(b"\x16\x03\x01 hello, is this HTTP?").await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    // After the handshake, bytes that are not even TLS records, straight on the socket.
    let mut phone = lab.connect().await;
    phone.stream.get_mut().0.write_all(&[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5]).await.unwrap();
    assert!(phone.closed().await);

    still_serving(&lab).await;
    assert_eq!(lab.device(PHONE).await.capf.status, "Operation Pending", "no device was named");
}

#[tokio::test]
async fn malformed_elements_and_frames() {
    let lab = lab_with_install().await;
    let name = b"SEP2C3124C9F8E1\0";
    let mut good = vec![7, 0, 1, 3, 13, 0, name.len() as u8];
    good.extend_from_slice(name);

    // A truncated element: a tag and one length byte.
    let mut phone = lab.connect().await;
    let body = [good.clone(), vec![11, 0]].concat();
    phone.send_raw(&raw(&phone, 2, &body)).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    // An element whose length runs past the end of the body.
    let mut phone = lab.connect().await;
    let body = [good.clone(), vec![11, 0, 200, b'1', b'2']].concat();
    phone.send_raw(&raw(&phone, 2, &body)).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    // A header announcing more body than ever comes: the AuthResponse wait ends it.
    let mut phone = lab.connect().await;
    let mut m = raw(&phone, 2, &good);
    m[6..8].copy_from_slice(&500u16.to_be_bytes());
    phone.send_raw(&m).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    // A repeated element.
    let mut phone = lab.connect().await;
    let body = [good.clone(), vec![7, 0, 1, 3]].concat();
    phone.send_raw(&raw(&phone, 2, &body)).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    // Unknown tags are skipped: tag 99 and tag 15 ride along and the install works.
    let mut phone = lab.connect().await;
    let body = [good.clone(), vec![99, 0, 2, 0xab, 0xcd, 15, 0, 0]].concat();
    phone.send_raw(&raw(&phone, 2, &body)).await;
    phone.answer_keygen(2).await;
    phone.store_lsc(true).await;
    assert_eq!(phone.end_reason().await, Reason::OK);
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");
    assert_eq!(lab.issued(PHONE).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_session_id_ends_the_session() {
    let lab = lab_with_install().await;
    let mut phone = lab.connect().await;
    let real = phone.session_id;
    phone.session_id = real.wrapping_add(1000);
    phone.authenticate(PHONE, &Creds::Null).await;
    let end = phone.recv_raw().await;
    assert_eq!((end.command, end.session_id), (Command::EndSession, real), "EndSession carries the server's id");
    assert_eq!(EndSession::from_raw(&end).unwrap().reason, Reason::InvalidElement);

    // Mid-operation: recorded on the device.
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)));
    let real = phone.session_id;
    phone.session_id = real ^ 0x0100_0000;
    phone.send(RequestInProgress).await;
    phone.session_id = real;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed: Phone Communication Failure");
    assert!(last_history(&lab, PHONE).await.detail.contains("session id"));
}

#[tokio::test]
async fn silent_clients_time_out_without_blocking_others() {
    let config =
        CapfConfig { handshake_timeout: Duration::from_secs(6), auth_timeout: Duration::from_secs(6), ..test_config() };
    let lab = Lab::start_with(KeyAlgorithm::Rsa2048, config).await;
    for name in [PHONE, OTHER] {
        lab.add_device(name).await;
        lab.schedule_install(name, AuthMode::NullString, KeyOrder::EcOnly).await;
    }
    // One never starts TLS, one never answers the AuthRequest, one stops while "generating".
    let mut silent_tcp = TcpStream::connect(lab.addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut silent_phone = lab.connect().await;
    let mut stalled = lab.connect().await;
    stalled.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(stalled.recv().await, Message::KeyGenRequest(_)));
    stalled.send(RequestInProgress).await;

    // Meanwhile a phone is served at once.
    still_serving(&lab).await;
    assert!(started.elapsed() < Duration::from_secs(5), "served while the others hang");

    assert!(tcp_closed(&mut silent_tcp).await, "handshake timeout");
    assert_eq!(silent_phone.end_reason().await, Reason::InvalidElement, "AuthResponse timeout");
    drop(stalled);
    let d = wait_status(&lab, PHONE, "Upgrade Failed: Phone Communication Failure").await;
    assert!(d.lsc.is_none());
}

#[tokio::test]
async fn key_generation_has_its_own_limit() {
    let config = CapfConfig { keygen_timeout: Duration::from_secs(1), ..test_config() };
    let lab = Lab::start_with(KeyAlgorithm::Rsa2048, config).await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)));
    // RequestInProgress keeps coming, but the whole wait is bounded.
    for _ in 0..2 {
        phone.send(RequestInProgress).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Failed: Key Generation Failed/Timeout");
}

#[tokio::test]
async fn disconnect_mid_operation_commits_nothing() {
    let lab = lab_with_install().await;

    // Gone during key generation: nothing issued.
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)));
    drop(phone);
    wait_status(&lab, PHONE, "Upgrade Failed: Phone Communication Failure").await;
    assert!(lab.issued(PHONE).await.is_empty());

    // Gone after receiving the LSC, before confirming it: recorded once, as failed.
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    phone.answer_keygen(0).await;
    assert!(matches!(phone.recv().await, Message::StoreCertificateRequest(_)));
    drop(phone);
    let issued = wait_issued_state(&lab, PHONE, "failed").await;
    assert_eq!(issued.len(), 1, "recorded once");
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed: Phone Communication Failure");
    assert!(d.lsc.is_none(), "no LSC is half-committed");
    // Issue 9: the LSC was sent, so the credential is spent; a retry needs a new schedule.
    assert_eq!(d.capf.operation, CertificateOperation::NoPendingOperation, "the credential is spent");
    assert!(last_history(&lab, PHONE).await.detail.contains("credential spent: schedule the operation again"));
    assert_eq!(refused(&lab, PHONE, &Creds::Null).await, Reason::NoAction);

    // Scheduled again, the retry succeeds and is recorded on its own.
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    install(&lab, PHONE, &Creds::Null).await;
    let issued = lab.issued(PHONE).await;
    assert_eq!(issued.iter().map(|i| i.state.as_str()).filter(|s| *s == "installed").count(), 1);
    assert_eq!(issued.len(), 2);
}

#[tokio::test]
async fn excess_connections_are_closed_at_once() {
    let config = CapfConfig { max_sessions: 1, ..test_config() };
    let lab = Lab::start_with(KeyAlgorithm::Ec256, config).await;
    let mut first = lab.connect().await; // holds the only slot
    let mut second = TcpStream::connect(lab.addr).await.unwrap();
    let started = tokio::time::Instant::now();
    assert!(tcp_closed(&mut second).await);
    assert!(started.elapsed() < Duration::from_millis(1500), "closed at once, not after the 2 s handshake limit");
    first.authenticate("SEP000000000001", &Creds::Null).await;
    assert_eq!(first.end_reason().await, Reason::UnknownDevice);
    // The slot is free again (once the session's task has ended).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = lab.connect().await;
    third.authenticate("SEP000000000001", &Creds::Null).await;
    assert_eq!(third.end_reason().await, Reason::UnknownDevice);
}

#[tokio::test]
async fn shutdown_stops_sessions_and_records_it() {
    let mut lab = lab_with_install().await; // shutdown grace: 1 s
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Null).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)));
    lab.shutdown().await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.status, "Upgrade Failed");
    assert!(last_history(&lab, PHONE).await.detail.contains("stopped"));
    assert!(TcpStream::connect(lab.addr).await.is_err(), "no longer listening");
}
