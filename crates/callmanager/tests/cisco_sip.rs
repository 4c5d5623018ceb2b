//! A real Cisco SIP phone's registration (phone-boot.md §3): a CP-7821's REGISTER, byte for byte
//! as in TAC 214535 (its line in From/To, its device name only in the Contact, the multipart
//! remotecc body, the cisco-alarm Reason), over TCP, UDP and TLS; CUCM's answers; the requests
//! a phone sends in normal operation.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{read_sip, tls_connect, Cluster, Version};
use opencapf_callmanager::sip;
use opencapf_model::{DirectoryNumber, NewDevice, RegistrationResult, SecurityMode, Transport};
use opencapf_testkit as testkit;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

const A: &str = "SEPC80084AA8743";
const B: &str = "SEP001122334455";

fn dn(s: &str) -> DirectoryNumber {
    s.parse().unwrap()
}

async fn add(c: &Cluster, name: &str, security: SecurityMode, lines: &[&str]) {
    let device = NewDevice {
        security_mode: security,
        lines: lines.iter().map(|l| dn(l)).collect(),
        ..testkit::new_device(name)
    };
    testkit::add_device(&c.store, device).await;
}

/// The start of one remotecc part of a multipart body, up to its XML root element.
macro_rules! remotecc_part {
    () => {
        "--uniqueBoundary\r\n\
Content-Type: application/x-cisco-remotecc-request+xml\r\n\
Content-Disposition: session;handling=optional\r\n\
\r\n\
<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<x-cisco-remotecc-request>\n"
    };
}

/// The multipart body of a CP-7821's first REGISTER: bulk registration, then its options.
const BODY: &str = concat!(
    remotecc_part!(),
    "<bulkregisterreq>\n\
<contact all=\"true\">\n\
<register></register>\n\
</contact>\n\
</bulkregisterreq>\n\
</x-cisco-remotecc-request>\n\
\r\n\
",
    remotecc_part!(),
    "<optionsind>\n\
<combine max=\"6\">\n<remotecc>\n<status></status>\n</remotecc>\n<service-control></service-control>\n</combine>\n\
<dialog usage=\"hook status\">\n<unot></unot>\n<sub></sub>\n</dialog>\n\
<dialog usage=\"shared line\">\n<unot></unot>\n<sub></sub>\n</dialog>\n\
<presence usage=\"blf speed dial\">\n<unot></unot>\n<sub></sub>\n</presence>\n\
<joinreq></joinreq>\n<cfwdall-anyline></cfwdall-anyline>\n<coaching></coaching>\n<oosalarm></oosalarm>\n\
<rpid-orig-called></rpid-orig-called>\n<x-cisco-number></x-cisco-number>\n<bfcp></bfcp>\n<ix></ix>\n\
<gatewayrecording></gatewayrecording>\n<conferenceDisplayInstance></conferenceDisplayInstance>\n\
</optionsind>\n\
</x-cisco-remotecc-request>\n\
\r\n\
--uniqueBoundary--\r\n"
);

/// A CP-7821 12.1.1's REGISTER to CUCM (TAC 214535), for line `line` of device `device`.
fn cp7821(line: &str, device: &str, transport: &str, expires: u32, cseq: u32) -> String {
    let mac = device[3..].to_ascii_lowercase();
    let t = transport.to_ascii_lowercase();
    format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:51778;branch=z9hG4bK2ac4b3f6\r\n\
         From: <sip:{line}@127.0.0.1>;tag={mac}00020ec1c0e7-6f1d2c53\r\n\
         To: <sip:{line}@127.0.0.1>\r\n\
         Call-ID: {}-{}0001-3d9b7b77-39e7c5e2@127.0.0.1\r\n\
         Max-Forwards: 70\r\n\
         Session-ID: 2b0d0f6c00105000a000{mac};remote=00000000000000000000000000000000\r\n\
         Date: Sat, 09 Mar 2019 18:32:45 GMT\r\n\
         CSeq: {cseq} REGISTER\r\n\
         User-Agent: Cisco-CP7821/12.1.1\r\n\
         Contact: <sip:7c8e3b0a-9d2f-4e5b-8c1a-2f6d3e4b5a69@127.0.0.1:51778;transport={t}>;\
         +sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{mac}>\";\
         +u.sip!devicename.ccm.cisco.com=\"{device}\";+u.sip!model.ccm.cisco.com=\"621\"\r\n\
         Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,\
         X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,\
         X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1\r\n\
         Reason: SIP;cause=200;text=\"cisco-alarm:23 Name={device} ActiveLoad=sip78xx.12-1-1-12.loads \
         InactiveLoad=sip78xx.12-1-1-12.loads Last=reset-restart\"\r\n\
         Expires: {expires}\r\n\
         Content-Type: multipart/mixed; boundary=uniqueBoundary\r\n\
         Mime-Version: 1.0\r\n\
         Content-Length: {}\r\n\r\n{BODY}",
        &mac[..8],
        &mac[8..],
        BODY.len()
    )
}

/// A request a phone sends in normal operation, with its own extra headers and body.
fn phone_request(method: &str, extra: &str, body: &str) -> String {
    format!(
        "{method} sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:51778;branch=z9hG4bK{method}\r\n\
         From: <sip:2222@127.0.0.1>;tag=f1\r\n\
         To: <sip:127.0.0.1>\r\n\
         Call-ID: {method}-1@127.0.0.1\r\n\
         CSeq: 1000 {method}\r\n\
         {extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// CUCM's two answers to a REGISTER: `100 Trying`, then the final one.
fn check_trying(trying: &sip::Message) {
    assert_eq!(trying.code(), Some(100), "{trying:?}");
    assert!(trying.header("To").unwrap().find(";tag=").is_none(), "100 has no To tag");
    assert!(trying.header("Date").is_some());
}

/// Checks a `200 OK` to a CP-7821's first REGISTER, as CUCM gives it.
fn check_ok(ok: &sip::Message, line: &str, new: bool) {
    assert_eq!(ok.code(), Some(200), "{ok:?}");
    assert!(ok.header("To").unwrap().starts_with(&format!("<sip:{line}@127.0.0.1>;tag=")));
    let date = ok.header("Date").unwrap();
    assert!(date.ends_with(" GMT") && date.len() == 29, "RFC 1123 date: {date}");
    assert_eq!(ok.header("Expires"), Some("120"), "the station keepalive interval");
    let contact = ok.header("Contact").unwrap();
    assert!(contact.contains(&format!("+u.sip!devicename.ccm.cisco.com=\"{A}\"")), "{contact}");
    assert_eq!(contact.ends_with(";x-cisco-newreg"), new, "{contact}");
    assert!(ok.header("Supported").unwrap().contains("X-cisco-sis-"));
    if new {
        assert_eq!(ok.header("Content-Type"), Some("application/x-cisco-remotecc-response+xml"));
        let body = String::from_utf8(ok.body.clone()).unwrap();
        assert!(body.contains("<code>200</code>") && body.contains("<optionsind>"), "{body}");
    }
}

async fn exchange<S>(s: &mut S, req: &str) -> (sip::Message, sip::Message)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    s.write_all(req.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
    // One reader for both: they may arrive in one read.
    let mut reader = sip::Reader::new(sip::Limits::default());
    let first = next(&mut reader, s).await;
    (first, next(&mut reader, s).await)
}

async fn next<S: tokio::io::AsyncRead + Unpin>(reader: &mut sip::Reader, s: &mut S) -> sip::Message {
    let wait = Duration::from_secs(10);
    match reader.next(s, wait, wait).await.unwrap() {
        sip::Event::Message(m) => m,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_cp7821_registers_its_line_over_tcp_as_with_cucm() {
    let c = Cluster::new().await;
    add(&c, A, SecurityMode::NonSecure, &["2222", "2223"]).await;
    let server = c.start().await;
    let mut s = TcpStream::connect(server.addrs.sip_tcp.unwrap()).await.unwrap();

    let (trying, ok) = exchange(&mut s, &cp7821("2222", A, "TCP", 3600, 101)).await;
    check_trying(&trying);
    check_ok(&ok, "2222", true);
    // The refresh 5 s before the 120 expire: no x-cisco-newreg, not recorded again.
    let (_, refresh) = exchange(&mut s, &cp7821("2222", A, "TCP", 3600, 102)).await;
    check_ok(&refresh, "2222", false);

    let recs = c.wait_registrations(Some(A), 1).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!((recs[0].result, recs[0].transport), (RegistrationResult::Registered, Transport::Tcp));
    assert_eq!(recs[0].lines, [dn("2222"), dn("2223")], "a bulk registration registers every line");

    // A line the device does not have: 404, with the way to add it.
    let (_, no) = exchange(&mut s, &cp7821("4444", A, "TCP", 3600, 103)).await;
    assert_eq!(no.code(), Some(404));
    assert!(no.reason().unwrap().contains("not a line of SEPC80084AA8743"), "{no:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_cp7821_registers_over_udp_and_a_standby_keepalive_is_answered() {
    let c = Cluster::new().await;
    add(&c, A, SecurityMode::NonSecure, &["2222"]).await;
    let server = c.start().await;
    let addr: SocketAddr = server.addrs.sip_udp.unwrap();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let recv = || async {
        let mut buf = vec![0u8; 65_536];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buf)).await.unwrap().unwrap();
        sip::parse_datagram(&buf[..n], &sip::Limits::default()).unwrap().unwrap()
    };

    phone.send_to(cp7821("2222", A, "UDP", 3600, 101).as_bytes(), addr).await.unwrap();
    check_trying(&recv().await);
    check_ok(&recv().await, "2222", true);
    phone.send_to(cp7821("2222", A, "UDP", 3600, 102).as_bytes(), addr).await.unwrap();
    recv().await;
    check_ok(&recv().await, "2222", false);
    // A keepalive datagram is ignored; OPTIONS answered.
    phone.send_to(b"\r\n\r\n", addr).await.unwrap();
    phone.send_to(phone_request("OPTIONS", "", "").as_bytes(), addr).await.unwrap();
    assert_eq!(recv().await.code(), Some(200));

    // The same phone's keepalive to a standby CallManager: Expires 0 from another port.
    let standby = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    standby.send_to(cp7821("2222", A, "UDP", 0, 1).as_bytes(), addr).await.unwrap();
    let mut buf = vec![0u8; 65_536];
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), standby.recv_from(&mut buf)).await.unwrap().unwrap();
        answers.push(sip::parse_datagram(&buf[..n], &sip::Limits::default()).unwrap().unwrap());
    }
    assert_eq!((answers[1].code(), answers[1].header("Expires")), (Some(200), Some("0")));

    let recs = c.wait_registrations(Some(A), 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let recs2 = c.registrations(Some(A)).await;
    assert_eq!(recs2.len(), 1, "refresh and standby keepalive are not recorded: {recs2:?}");
    assert_eq!((recs[0].transport, recs[0].lines.clone()), (Transport::Udp, vec![dn("2222")]));
    server.stop().await;
}

#[tokio::test]
async fn over_tls_the_contact_must_name_the_certificate_s_device() {
    let c = Cluster::new().await;
    add(&c, A, SecurityMode::Encrypted, &["2222"]).await;
    add(&c, B, SecurityMode::Encrypted, &["3333"]).await;
    let phone = c.lsc(A).await;
    let server = c.start().await;
    let addr = server.addrs.sip_tls.unwrap();

    let mut s = tls_connect(addr, &server.cm_cert, Some(&phone), Version::Tls12).await.unwrap();
    let (trying, ok) = exchange(&mut s, &cp7821("2222", A, "TLS", 3600, 101)).await;
    check_trying(&trying);
    check_ok(&ok, "2222", true);

    // A's certificate, B's device name (and B's line) in the Contact: 403.
    let mut t = tls_connect(addr, &server.cm_cert, Some(&phone), Version::Tls13).await.unwrap();
    let (_, refused) = exchange(&mut t, &cp7821("3333", B, "TLS", 3600, 101)).await;
    assert_eq!(refused.code(), Some(403), "{refused:?}");
    assert!(refused.reason().unwrap().contains(&format!("does not belong to {B}")), "{refused:?}");
    // A's line in From/To but B in the Contact: 403 too.
    let (_, refused) = exchange(&mut t, &cp7821("2222", B, "TLS", 3600, 102)).await;
    assert_eq!(refused.code(), Some(403), "{refused:?}");

    let a = c.wait_registrations(Some(A), 1).await;
    assert_eq!((a[0].result, a[0].cert_kind.as_deref()), (RegistrationResult::Registered, Some("LSC")));
    let b = c.wait_registrations(Some(B), 1).await;
    assert_eq!(b[0].result, RegistrationResult::Refused);
    server.stop().await;
}

async fn ask(s: &mut TcpStream, req: String) -> sip::Message {
    s.write_all(req.as_bytes()).await.unwrap();
    read_sip(s).await.unwrap()
}

#[tokio::test]
async fn requests_of_normal_operation_get_real_answers() {
    let c = Cluster::new().await;
    add(&c, A, SecurityMode::NonSecure, &["2222"]).await;
    let server = c.start().await;
    let mut s = TcpStream::connect(server.addrs.sip_tcp.unwrap()).await.unwrap();
    exchange(&mut s, &cp7821("2222", A, "TCP", 3600, 101)).await;

    // REFER carrying a DeviceTLInfo alarm: 202 with a Contact, no body.
    let refer = ask(
        &mut s,
        phone_request(
            "REFER",
            "Refer-To: cid:1234@127.0.0.1\r\nContent-Id: <1234@127.0.0.1>\r\nRequire: norefersub\r\n\
         Referred-By: <sip:2222@127.0.0.1>\r\nExpires: 10\r\nContent-Type: application/x-cisco-alarm+xml\r\n\
         Content-Disposition: session;handling=required\r\n",
            "<x-cisco-alarm><Alarm Name=\"DeviceTLInfo\"></Alarm></x-cisco-alarm>",
        ),
    )
    .await;
    assert_eq!(refer.code(), Some(202), "{refer:?}");
    assert!(refer.header("Contact").unwrap().contains(";transport=tcp>"));
    assert!(refer.header("To").unwrap().contains(";tag=") && refer.body.is_empty());
    // The phone's unsolicited NOTIFY: 200; an unknown event: 489.
    let notify = ask(&mut s, phone_request("NOTIFY", "Event: dialog\r\nSubscription-State: active\r\n", "")).await;
    assert_eq!(notify.code(), Some(200));
    let odd = ask(&mut s, phone_request("NOTIFY", "Event: x-unheard-of\r\n", "")).await;
    assert_eq!(odd.code(), Some(489));
    assert!(odd.header("Allow-Events").unwrap().contains("dialog"));
    // OPTIONS: 200 with Allow; an unknown method: 501.
    let options = ask(&mut s, phone_request("OPTIONS", "", "")).await;
    assert_eq!(options.code(), Some(200));
    let allow = options.header("Allow").unwrap();
    assert!(["REGISTER", "REFER", "NOTIFY", "OPTIONS"].iter().all(|m| allow.contains(m)), "{allow}");
    assert_eq!(ask(&mut s, phone_request("PUBLISH", "", "")).await.code(), Some(501));
    server.stop().await;
}
