//! CallManager over real sockets: TLS verdicts and alerts, the registration rules, SIP and SCCP,
//! hostile input, trust changes without restart, and what is recorded.

use crate::common;

use std::time::Duration;

use common::{
    closed_by_server, register, request, rustls_error, sccp_exchange, sip_exchange, tls_connect, Cluster, Version,
};
use opencapf_callmanager::{sccp, CallManagerConfig};
use opencapf_model::{Protocol, RegistrationResult, SecurityMode, Service, Transport};
use opencapf_pki::{CertificateInfo, KeyAlgorithm, TrustStore};
use rustls::AlertDescription;
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const A: &str = "SEP2C3124C9F8E1";
const B: &str = "SEP001122334455";

/// The alert a TLS client got: from the handshake (TLS 1.2), or from the first read after it
/// (TLS 1.3, where the client finishes before the server has judged its certificate).
async fn alert_seen(addr: std::net::SocketAddr, cm: &[u8], phone: Option<&common::Phone>, v: Version) -> rustls::Error {
    match tls_connect(addr, cm, phone, v).await {
        Err(e) => rustls_error(&e).unwrap_or_else(|| panic!("handshake failed without a TLS error: {e}")),
        Ok(mut s) => {
            let e = sip_exchange(&mut s, &register(A, A, "TLS", 3600)).await.expect_err("server must refuse");
            rustls_error(&e).unwrap_or_else(|| panic!("read failed without a TLS error: {e}"))
        }
    }
}

#[tokio::test]
async fn a_secure_phone_with_its_lsc_registers_over_sip_tls_and_sccp_tls() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    c.add_device(B, Protocol::Sccp, SecurityMode::Authenticated).await;
    let phone_a = c.lsc(A).await;
    let phone_b = c.lsc(B).await;
    let server = c.start().await;
    let addrs = server.addrs;

    // SIP over TLS 1.2: REGISTER, then OPTIONS and INVITE on the same connection.
    let mut s = tls_connect(addrs.sip_tls.unwrap(), &server.cm_cert, Some(&phone_a), Version::Tls12).await.unwrap();
    let ok = sip_exchange(&mut s, &register(A, A, "TLS", 600)).await.unwrap();
    assert_eq!(ok.code(), Some(200), "{ok:?}");
    assert_eq!(ok.header("Expires"), Some("600"));
    let contact = ok.header("Contact").unwrap();
    assert!(
        contact.starts_with(&format!("<sip:{A}@127.0.0.1:5555;transport=tls>")) && contact.ends_with(";expires=600")
    );
    assert!(ok.header("To").unwrap().contains(";tag="));
    assert_eq!(ok.header("CSeq"), Some("101 REGISTER"));
    let options = sip_exchange(&mut s, &request("OPTIONS")).await.unwrap();
    assert_eq!(options.code(), Some(200));
    assert!(options.header("Allow").unwrap().contains("REGISTER"));
    let invite = sip_exchange(&mut s, &request("INVITE")).await.unwrap();
    assert_eq!(invite.code(), Some(501));
    // A refresh on the same connection is answered but not recorded again.
    assert_eq!(sip_exchange(&mut s, &register(A, A, "TLS", 600)).await.unwrap().code(), Some(200));

    // SCCP over TLS 1.3: RegisterAck, then KeepAliveAck.
    let mut t = tls_connect(addrs.sccp_tls.unwrap(), &server.cm_cert, Some(&phone_b), Version::Tls13).await.unwrap();
    let ack = sccp_exchange(&mut t, &sccp::RegisterMessage::new(B).frame()).await.unwrap();
    assert_eq!(ack.id, sccp::id::REGISTER_ACK);
    assert_eq!(sccp::RegisterAck::decode(&ack.data).unwrap().keepalive_interval, 30);
    assert_eq!(sccp_exchange(&mut t, &sccp::keepalive()).await.unwrap().id, sccp::id::KEEP_ALIVE_ACK);

    let a = c.wait_registrations(Some(A), 1).await;
    assert_eq!(a.len(), 1, "the refresh is not a new registration: {a:?}");
    let r = &a[0];
    assert_eq!(r.result, RegistrationResult::Registered);
    assert_eq!((r.protocol, r.transport), (Protocol::Sip, Transport::Tls));
    assert_eq!(r.tls_version.as_deref(), Some("TLSv1.2"));
    assert!(r.cipher.as_deref().unwrap().starts_with("TLS_ECDHE_RSA_WITH_"), "{r:?}");
    assert_eq!(r.cert_kind.as_deref(), Some("LSC"));
    let lsc = CertificateInfo::parse(&phone_a.cert).unwrap();
    assert_eq!(r.serial.as_deref(), Some(lsc.serial.as_str()));
    assert_eq!(r.issuer_cn, lsc.issuer_cn);
    assert!(r.issuer_cn.as_deref().unwrap().starts_with("CAPF-"));
    assert!(r.peer.starts_with("127.0.0.1:"));
    let b = c.wait_registrations(Some(B), 1).await;
    assert_eq!((b[0].protocol, b[0].tls_version.as_deref()), (Protocol::Sccp, Some("TLSv1.3")));
    assert_eq!(b[0].result, RegistrationResult::Registered);

    let audited = c.store.audit(50).await.unwrap();
    assert!(audited.iter().any(|e| e.actor == "callmanager" && e.action == "callmanager.registered" && e.target == A));
    server.stop().await; // with both connections still open
}

#[tokio::test]
async fn an_lsc_from_another_cluster_ends_the_handshake_with_unknown_ca() {
    let c = Cluster::new().await;
    let other = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    let foreign = other.lsc(A).await;
    let server = c.start().await;
    let addr = server.addrs.sip_tls.unwrap();
    for v in [Version::Tls12, Version::Tls13] {
        let e = alert_seen(addr, &server.cm_cert, Some(&foreign), v).await;
        assert_eq!(e, rustls::Error::AlertReceived(AlertDescription::UnknownCA), "{v:?}");
    }
    let recs = c.wait_registrations(Some(A), 2).await;
    assert_eq!(recs.len(), 2);
    let r = &recs[0];
    assert_eq!(r.result, RegistrationResult::Refused);
    assert!(r.reason.starts_with("unknown CA"), "{}", r.reason);
    assert!(r.reason.contains("another cluster"), "{}", r.reason);
    assert_eq!(r.cert_kind.as_deref(), Some("LSC"));
    assert_eq!(r.issuer_cn, CertificateInfo::parse(&foreign.cert).unwrap().issuer_cn);
    server.stop().await;
}

#[tokio::test]
async fn an_expired_lsc_gets_certificate_expired() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    // Issued "two days ago" for one day.
    let expired = c.lsc_at(A, OffsetDateTime::now_utc() - time::Duration::days(2), 1, KeyAlgorithm::Ec256).await;
    let server = c.start().await;
    for v in [Version::Tls12, Version::Tls13] {
        let e = alert_seen(server.addrs.sip_tls.unwrap(), &server.cm_cert, Some(&expired), v).await;
        assert_eq!(e, rustls::Error::AlertReceived(AlertDescription::CertificateExpired), "{v:?}");
    }
    let r = &c.wait_registrations(Some(A), 1).await[0];
    assert!(r.reason.starts_with("certificate expired"), "{}", r.reason);
    server.stop().await;
}

#[tokio::test]
async fn a_phone_without_a_certificate_is_refused() {
    let c = Cluster::new().await;
    let server = c.start().await;
    let e12 = alert_seen(server.addrs.sip_tls.unwrap(), &server.cm_cert, None, Version::Tls12).await;
    assert!(matches!(e12, rustls::Error::AlertReceived(_)), "{e12:?}");
    let e13 = alert_seen(server.addrs.sccp_tls.unwrap(), &server.cm_cert, None, Version::Tls13).await;
    assert_eq!(e13, rustls::Error::AlertReceived(AlertDescription::CertificateRequired));
    let recs = c.wait_registrations(None, 2).await;
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.device.is_none() && r.reason.starts_with("no client certificate")), "{recs:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_mic_registers_once_its_manufacturer_is_in_callmanager_trust() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Authenticated).await;
    let mic = c.mic(A, false).await;
    let server = c.start().await;
    let addr = server.addrs.sip_tls.unwrap();
    let e = alert_seen(addr, &server.cm_cert, Some(&mic), Version::Tls12).await;
    assert_eq!(e, rustls::Error::AlertReceived(AlertDescription::UnknownCA));
    let refused = &c.wait_registrations(Some(A), 1).await[0];
    assert_eq!(refused.cert_kind.as_deref(), Some("MIC"));
    assert!(refused.reason.contains("manufacturing CA"), "{}", refused.reason);

    c.mic(A, true).await; // puts the lab manufacturer into CallManager-trust
    let mut s = tls_connect(addr, &server.cm_cert, Some(&mic), Version::Tls13).await.unwrap();
    let ok = sip_exchange(&mut s, &register(A, A, "TLS", 3600)).await.unwrap();
    assert_eq!(ok.code(), Some(200), "{ok:?}");
    let r = &c.wait_registrations(Some(A), 2).await[0];
    assert_eq!((r.result, r.cert_kind.as_deref()), (RegistrationResult::Registered, Some("MIC")));
    assert_eq!(r.issuer_cn.as_deref(), Some(opencapf_pki::profiles::LAB_MFG_CA_CN));
    server.stop().await;
}

#[tokio::test]
async fn the_certificate_and_the_sip_identity_must_be_the_device() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    c.add_device(B, Protocol::Sip, SecurityMode::Encrypted).await;
    let phone_a = c.lsc(A).await;
    let server = c.start().await;
    let mut s =
        tls_connect(server.addrs.sip_tls.unwrap(), &server.cm_cert, Some(&phone_a), Version::Tls13).await.unwrap();

    // A's LSC registering as B.
    let r = sip_exchange(&mut s, &register(B, B, "TLS", 3600)).await.unwrap();
    assert_eq!(r.code(), Some(403));
    let reason = r.reason().unwrap();
    assert!(reason.contains(&format!("CN={A}")) && reason.contains(&format!("does not belong to {B}")), "{reason}");
    assert!(r.header("Warning").unwrap().starts_with("399 cucm.lab \""));
    // To user that is no device at all, and one the cluster does not have.
    assert_eq!(sip_exchange(&mut s, &register("1001", A, "TLS", 3600)).await.unwrap().code(), Some(404));
    assert_eq!(sip_exchange(&mut s, &register("SEPAAAAAAAAAAAA", A, "TLS", 3600)).await.unwrap().code(), Some(404));
    // From naming another device than To.
    let from = sip_exchange(&mut s, &register(A, B, "TLS", 3600)).await.unwrap();
    assert_eq!(from.code(), Some(403));
    assert!(from.reason().unwrap().contains("registers only itself"));
    // The connection is still usable, and the right identity registers.
    assert_eq!(sip_exchange(&mut s, &register(A, A, "TLS", 3600)).await.unwrap().code(), Some(200));

    let b = c.wait_registrations(Some(B), 1).await;
    assert_eq!(b[0].result, RegistrationResult::Refused);
    assert!(b[0].reason.contains("does not belong"));
    let all = c.wait_registrations(None, 5).await;
    assert!(all.iter().any(|r| r.device.as_deref() == Some("1001") && r.reason.contains("not a device name")));
    server.stop().await;
}

#[tokio::test]
async fn security_profiles_decide_the_transport() {
    let c = Cluster::new().await;
    let non_secure = c.add_device(A, Protocol::Sip, SecurityMode::NonSecure).await;
    c.add_device(B, Protocol::Sip, SecurityMode::Encrypted).await;
    let sccp_secure = c.add_device("SEP00000000000C", Protocol::Sccp, SecurityMode::Encrypted).await;
    let sccp_plain = c.add_device("SEP00000000000D", Protocol::Sccp, SecurityMode::NonSecure).await;
    let phone_a = c.lsc(A).await;
    let server = c.start().await;
    let addrs = server.addrs;

    // Non Secure over TLS: refused, even with a valid LSC.
    let mut s = tls_connect(addrs.sip_tls.unwrap(), &server.cm_cert, Some(&phone_a), Version::Tls12).await.unwrap();
    let r = sip_exchange(&mut s, &register(A, A, "TLS", 3600)).await.unwrap();
    assert_eq!(r.code(), Some(403));
    assert!(r.reason().unwrap().contains("Non Secure"), "{r:?}");
    // Non Secure over TCP: registered. Encrypted over TCP: refused.
    let mut t = TcpStream::connect(addrs.sip_tcp.unwrap()).await.unwrap();
    assert_eq!(sip_exchange(&mut t, &register(A, A, "TCP", 3600)).await.unwrap().code(), Some(200));
    let r = sip_exchange(&mut t, &register(B, B, "TCP", 3600)).await.unwrap();
    assert_eq!(r.code(), Some(403));
    assert!(r.reason().unwrap().contains("must register over TLS"), "{r:?}");
    // SIP device over SCCP: refused.
    let mut u = TcpStream::connect(addrs.sccp_tcp.unwrap()).await.unwrap();
    let rej = sccp_exchange(&mut u, &sccp::RegisterMessage::new(A).frame()).await.unwrap();
    assert_eq!(rej.id, sccp::id::REGISTER_REJECT);
    assert_eq!(sccp::RegisterReject::decode(&rej.data).unwrap().text, "Wrong protocol for device");
    assert!(closed_by_server(&mut u).await);
    // SCCP: secure over TCP refused, Non Secure over TCP registered, unknown device refused.
    let mut u = TcpStream::connect(addrs.sccp_tcp.unwrap()).await.unwrap();
    let rej = sccp_exchange(&mut u, &sccp::RegisterMessage::new(sccp_secure.as_str()).frame()).await.unwrap();
    assert_eq!(rej.id, sccp::id::REGISTER_REJECT);
    assert_eq!(sccp::RegisterReject::decode(&rej.data).unwrap().text, "Security mode requires TLS");
    let mut u = TcpStream::connect(addrs.sccp_tcp.unwrap()).await.unwrap();
    let ack = sccp_exchange(&mut u, &sccp::RegisterMessage::new(sccp_plain.as_str()).frame()).await.unwrap();
    assert_eq!(ack.id, sccp::id::REGISTER_ACK);
    let mut u = TcpStream::connect(addrs.sccp_tcp.unwrap()).await.unwrap();
    let rej = sccp_exchange(&mut u, &sccp::RegisterMessage::new("SEPFFFFFFFFFFFF").frame()).await.unwrap();
    assert_eq!(sccp::RegisterReject::decode(&rej.data).unwrap().text, "Device not configured");

    let a = c.wait_registrations(Some(non_secure.as_str()), 3).await;
    let results: Vec<_> = a.iter().rev().map(|r| (r.result, r.transport, r.protocol)).collect();
    assert_eq!(
        results,
        [
            (RegistrationResult::Refused, Transport::Tls, Protocol::Sip),
            (RegistrationResult::Registered, Transport::Tcp, Protocol::Sip),
            (RegistrationResult::Refused, Transport::Tcp, Protocol::Sccp),
        ]
    );
    assert!(a[2].tls_version.is_some() && a[1].tls_version.is_none() && a[1].cert_kind.is_none());
    server.stop().await;
}

#[tokio::test]
async fn hostile_input_closes_only_its_own_connection() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::NonSecure).await;
    c.add_device(B, Protocol::Sccp, SecurityMode::NonSecure).await;
    let server = c.start().await;
    let sip_addr = server.addrs.sip_tcp.unwrap();
    let sccp_addr = server.addrs.sccp_tcp.unwrap();

    let mut good_sip = TcpStream::connect(sip_addr).await.unwrap();
    assert_eq!(sip_exchange(&mut good_sip, &register(A, A, "TCP", 3600)).await.unwrap().code(), Some(200));
    let mut good_sccp = TcpStream::connect(sccp_addr).await.unwrap();
    let ack = sccp_exchange(&mut good_sccp, &sccp::RegisterMessage::new(B).frame()).await.unwrap();
    assert_eq!(ack.id, sccp::id::REGISTER_ACK);

    let huge_head = format!("OPTIONS sip:a SIP/2.0\r\nX-Pad: {}\r\n\r\n", "a".repeat(40_000));
    let sip_inputs: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(),
        huge_head.into_bytes(),
        vec![b'A'; 20_000],
        b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 99999999\r\n\r\n".to_vec(),
        b"OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n".to_vec(),
    ];
    for input in sip_inputs {
        let mut bad = TcpStream::connect(sip_addr).await.unwrap();
        let _ = bad.write_all(&input).await;
        assert!(closed_by_server(&mut bad).await, "{:?}", String::from_utf8_lossy(&input[..40.min(input.len())]));
    }
    let mut too_long = TcpStream::connect(sip_addr).await.unwrap();
    let r =
        sip_exchange(&mut too_long, "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP x\r\nContent-Length: 9999999\r\n\r\n")
            .await
            .unwrap();
    assert_eq!(r.code(), Some(413));

    let mut short_register = sccp::RegisterMessage::new(B).frame();
    short_register.data.truncate(20);
    let sccp_inputs: Vec<Vec<u8>> = vec![
        vec![0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 0, 0, 0],
        vec![0, 0, 0, 0, 0, 0, 0, 0],
        short_register.encode(),
        sccp::Frame::new(0x0022, vec![0; 24]).encode(), // call control before registering
        b"REGISTER sip:cucm SIP/2.0\r\n\r\n".to_vec(),
    ];
    for input in sccp_inputs {
        let mut bad = TcpStream::connect(sccp_addr).await.unwrap();
        let _ = bad.write_all(&input).await;
        assert!(closed_by_server(&mut bad).await, "{input:?}");
    }
    // TLS listeners: plain text instead of a ClientHello.
    let mut not_tls = TcpStream::connect(server.addrs.sip_tls.unwrap()).await.unwrap();
    let _ = not_tls.write_all(&register(A, A, "TLS", 3600).into_bytes()).await;
    assert!(closed_by_server(&mut not_tls).await);

    assert_eq!(sip_exchange(&mut good_sip, &request("OPTIONS")).await.unwrap().code(), Some(200));
    assert_eq!(sccp_exchange(&mut good_sccp, &sccp::keepalive()).await.unwrap().id, sccp::id::KEEP_ALIVE_ACK);
    // Noise is not a registration: only the two good ones are recorded.
    assert_eq!(c.registrations(None).await.len(), 2);

    // Refusals are recorded, so a connection that keeps being refused is closed after ten.
    let mut stubborn = TcpStream::connect(sip_addr).await.unwrap();
    for _ in 0..10 {
        let r = sip_exchange(&mut stubborn, &register("SEPAAAAAAAAAAAA", "SEPAAAAAAAAAAAA", "TCP", 3600)).await;
        assert_eq!(r.unwrap().code(), Some(404));
    }
    assert!(closed_by_server(&mut stubborn).await);
    // Refusals are aggregated (one row per address and reason, with a count) and written at
    // most once a second: count attempts, not rows, once the last write is in (bounded wait).
    let mut attempts = 0;
    for _ in 0..100 {
        attempts = c.registrations(None).await.iter().map(|r| r.count).sum::<u32>();
        if attempts >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(attempts, 12);
    server.stop().await;
}

#[tokio::test]
async fn removing_the_capf_certificate_from_callmanager_trust_applies_to_the_next_handshake() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    let phone = c.lsc(A).await;
    let server = c.start().await;
    let addr = server.addrs.sip_tls.unwrap();
    let mut first = tls_connect(addr, &server.cm_cert, Some(&phone), Version::Tls13).await.unwrap();
    assert_eq!(sip_exchange(&mut first, &register(A, A, "TLS", 3600)).await.unwrap().code(), Some(200));

    let capf = c.store.require_certificate(Service::Capf).await.unwrap();
    c.store.remove_trust(TrustStore::CallManager, &capf.fingerprint, true, "test").await.unwrap();

    let e = alert_seen(addr, &server.cm_cert, Some(&phone), Version::Tls12).await;
    assert_eq!(e, rustls::Error::AlertReceived(AlertDescription::UnknownCA));
    let r = &c.wait_registrations(Some(A), 2).await[0];
    assert!(r.reason.contains("no longer in CallManager-trust"), "{}", r.reason);
    // Connections already established are not cut (as in CUCM until it restarts).
    assert_eq!(sip_exchange(&mut first, &request("OPTIONS")).await.unwrap().code(), Some(200));

    // And back again, still without a restart.
    cluster_add_back(&c, &capf.der).await;
    let mut again = tls_connect(addr, &server.cm_cert, Some(&phone), Version::Tls12).await.unwrap();
    assert_eq!(sip_exchange(&mut again, &register(A, A, "TLS", 3600)).await.unwrap().code(), Some(200));
    server.stop().await;
}

async fn cluster_add_back(c: &Cluster, der: &[u8]) {
    c.store.add_trust(TrustStore::CallManager, &[der.to_vec()], None, "test").await.unwrap();
}

#[tokio::test]
async fn sccp_connections_idle_past_the_keepalive_interval_are_closed() {
    let c = Cluster::new().await;
    c.add_device(B, Protocol::Sccp, SecurityMode::NonSecure).await;
    let config = CallManagerConfig {
        sccp_keepalive_interval: Duration::from_secs(1),
        sccp_idle_timeout: Duration::from_millis(1500),
        ..CallManagerConfig::loopback()
    };
    let server = c.start_with(config).await;
    let addr = server.addrs.sccp_tcp.unwrap();

    let mut s = TcpStream::connect(addr).await.unwrap();
    let ack = sccp_exchange(&mut s, &sccp::RegisterMessage::new(B).frame()).await.unwrap();
    assert_eq!(sccp::RegisterAck::decode(&ack.data).unwrap().keepalive_interval, 1);
    // Keepalives within the interval keep it open...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sccp_exchange(&mut s, &sccp::keepalive()).await.unwrap().id, sccp::id::KEEP_ALIVE_ACK);
    }
    // ...silence closes it.
    let started = tokio::time::Instant::now();
    assert!(closed_by_server(&mut s).await);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    // A connection that never registers is closed too, keepalives or not.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(&sccp::keepalive().encode()).await.unwrap();
    assert!(closed_by_server(&mut idle).await);

    // UnregisterMessage: acknowledged, recorded, closed.
    let mut u = TcpStream::connect(addr).await.unwrap();
    sccp_exchange(&mut u, &sccp::RegisterMessage::new(B).frame()).await.unwrap();
    let bye = sccp_exchange(&mut u, &sccp::unregister()).await.unwrap();
    assert_eq!(bye.id, sccp::id::UNREGISTER_ACK);
    assert!(closed_by_server(&mut u).await);
    let recs = c.wait_registrations(Some(B), 3).await;
    assert_eq!(recs[0].result, RegistrationResult::Unregistered);
    server.stop().await;
}

#[tokio::test]
async fn sip_unregistration_pings_and_disabled_listeners() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::NonSecure).await;
    let config = CallManagerConfig { sip_tls: None, sccp_tls: None, sccp_tcp: None, ..CallManagerConfig::loopback() };
    let server = c.start_with(config).await;
    assert!(server.addrs.sip_tls.is_none() && server.addrs.sccp_tcp.is_none() && server.addrs.sip_tcp.is_some());
    let mut s = TcpStream::connect(server.addrs.sip_tcp.unwrap()).await.unwrap();
    let ok = sip_exchange(&mut s, &register(A, A, "TCP", 999_999)).await.unwrap();
    assert_eq!(ok.header("Expires"), Some("3600"), "capped at the maximum");
    // RFC 5626 keepalive: CRLF CRLF is answered with CRLF.
    s.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    tokio::io::AsyncReadExt::read_exact(&mut s, &mut pong).await.unwrap();
    assert_eq!(&pong, b"\r\n");
    let bye = sip_exchange(&mut s, &register(A, A, "TCP", 0)).await.unwrap();
    assert_eq!((bye.code(), bye.header("Expires"), bye.header("Contact")), (Some(200), Some("0"), None));
    let recs = c.wait_registrations(Some(A), 2).await;
    assert_eq!(recs[0].result, RegistrationResult::Unregistered);
    assert_eq!(recs[1].result, RegistrationResult::Registered);
    server.stop().await;
}
