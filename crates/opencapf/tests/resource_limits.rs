//! Issue 9, resources: the attacks of a host on the voice VLAN against `opencapf serve`, through
//! the real listeners on 127.0.0.1, each with a legitimate phone still served afterwards.
//!
//! - A flood of idle SIP/TCP connections kept alive with CRLF pings, with `serve` started under a
//!   soft descriptor limit of 256: it raises the limit, closes connections beyond the per-address
//!   cap at once, closes the others when the unregistered timeout ends (pings do not extend it),
//!   and CAPF and SIP/TLS keep serving.
//! - 1,000 refused REGISTERs: a bounded number of registrations rows, no audit rows.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use rlimit::Resource;
use support::{Lab, Phone, Security};

const PER_SOURCE: usize = 100;
const FLOOD: usize = 300;

fn loopback_listeners(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut flags = support::LOOPBACK_LISTENERS.to_vec();
    flags.extend_from_slice(extra);
    flags
}

/// Held while the test process's own descriptor limit is lowered, and by every test here, so that
/// no other test of this file opens descriptors under the lowered limit.
static DESCRIPTORS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `opencapf serve` started with the soft descriptor limit at 256 (the child inherits it).
fn serve_with_low_descriptor_limit(lab: &mut Lab, extra: &[(&'static str, &'static str)]) {
    let (soft, hard) = Resource::NOFILE.get().unwrap();
    Resource::NOFILE.set(256, hard).unwrap();
    lab.serve_on(&loopback_listeners(extra));
    Resource::NOFILE.set(soft, hard).unwrap();
}

/// What the server did with a connection that sent a ping: answered it, or closed it.
fn answered(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    matches!(stream.read(&mut buf), Ok(n) if n > 0)
}

/// Whether the server has closed the connection, within `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buf = [0u8; 64];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // A ping, as a keepalive would: it must not keep the connection open.
                let _ = stream.write_all(b"\r\n\r\n");
            }
            Err(_) => return true,
        }
    }
    false
}

/// Takes [`DESCRIPTORS`], then makes a lab (not serving) with one SIP phone `name`.
fn alone_with_sip_phone(name: &str, security: Security) -> (MutexGuard<'static, ()>, Lab, Phone) {
    let alone = DESCRIPTORS.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("cucm-pub.lab");
    let phone = lab.sip_phone(name, security);
    (alone, lab, phone)
}

#[test]
fn an_idle_flood_under_a_low_descriptor_limit_leaves_tls_and_capf_serving() {
    let name = "SEP00000000F100";
    let (_alone, mut lab, phone) = alone_with_sip_phone(name, Security::Encrypted);
    lab.ok(&["device", "set", name, "--operation", "install", "--auth", "null"]);
    serve_with_low_descriptor_limit(&mut lab, &[("--max-per-source", "100"), ("--unregistered-timeout", "6")]);
    let log = lab.server_log();
    assert!(log.contains("descriptor limit raised from 256"), "{log}");

    let sip_tcp: SocketAddr = lab.addrs().sip_tcp;
    let started = Instant::now();
    let mut flood: Vec<TcpStream> = (0..FLOOD)
        .map(|_| {
            let mut s = TcpStream::connect(sip_tcp).unwrap();
            s.write_all(b"\r\n\r\n").unwrap();
            s
        })
        .collect();
    let mut held: Vec<TcpStream> = Vec::new();
    for mut s in flood.drain(..) {
        if answered(&mut s) {
            held.push(s);
        }
    }
    assert_eq!(held.len(), PER_SOURCE, "connections beyond the per-address cap are closed at once");

    // With SIP/TCP's places taken, CAPF and SIP over TLS still serve the phone.
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = lab.register(&phone, "sip", Security::Encrypted);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(lab.last_registration(name)["result"], "registered");
    assert!(started.elapsed() < Duration::from_secs(6), "the flood must still be open here: too slow a machine");

    // Pinged or not, a connection with no registration goes when the unregistered timeout ends.
    for s in &mut held {
        let left = Duration::from_secs(12).saturating_sub(started.elapsed());
        assert!(closed_within(s, left), "an unregistered connection outlived the unregistered timeout");
    }
    assert!(started.elapsed() >= Duration::from_secs(5), "closed before the unregistered timeout");
}

fn register(to: &str, call: usize) -> String {
    format!(
        "REGISTER sip:cucm.lab SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:5555;branch=z9hG4bK{call}\r\n\
         From: <sip:{to}@cucm.lab>;tag=f1\r\n\
         To: <sip:{to}@cucm.lab>\r\n\
         Call-ID: {call}@127.0.0.1\r\n\
         CSeq: 101 REGISTER\r\n\
         Contact: <sip:{to}@127.0.0.1:5555;transport=tcp>\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// The status code of the next SIP response on `stream`.
fn status(stream: &mut TcpStream) -> Option<u16> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    String::from_utf8_lossy(&head).split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_thousand_refused_registers_cost_a_few_rows_and_no_audit() {
    let name = "SEP00000000F200";
    let (_alone, mut lab, phone) = alone_with_sip_phone(name, Security::NonSecure);
    lab.serve_on(&loopback_listeners(&[]));
    let audited_before = lab.json(&["audit", "--limit", "100000"]).as_array().unwrap().len();

    let sip_tcp = lab.addrs().sip_tcp;
    let started = Instant::now();
    for c in 0..100 {
        let mut s = TcpStream::connect(sip_tcp).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        for i in 0..10 {
            let n = c * 10 + i;
            s.write_all(register(&format!("SEP{n:012X}"), n).as_bytes()).unwrap();
            assert_eq!(status(&mut s), Some(404));
        }
    }
    assert!(started.elapsed() < Duration::from_secs(60));

    // Every attempt is counted once the last write is in (at most a second later; bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (rows, attempts) = loop {
        let list = lab.json(&["registrations", "--limit", "100000"]);
        let list = list.as_array().unwrap();
        let attempts: u64 = list.iter().map(|r| r["count"].as_u64().unwrap()).sum();
        if attempts >= 1000 || Instant::now() >= deadline {
            break (list.len(), attempts);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(attempts, 1000);
    let seconds = started.elapsed().as_secs() as usize + 2;
    assert!(rows <= 17 * seconds, "{rows} rows for 1000 refusals in {seconds} s");
    let audit = lab.json(&["audit", "--limit", "100000"]);
    assert_eq!(audit.as_array().unwrap().len(), audited_before, "a stranger's refusal is not audited");

    // The service still answers a phone of the cluster.
    let r = lab.register(&phone, "sip", Security::NonSecure);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(lab.last_registration(name)["result"], "registered");
}
