//! Hostile input against both servers: each is refused clearly, nothing panics, no transfer is
//! left running, and a normal fetch still works afterwards.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use opencapf_tftp::{tftp_get, Packet, TftpOptions};
use support::{error_code, rrq, Lab, Raw};

/// A phone's fetch still works.
fn still_serves(lab: &Lab) {
    let got = lab.rt.block_on(tftp_get(&lab.tftp_addr.to_string(), "ITLFile.tlv", &TftpOptions::default()));
    assert_eq!(got.expect("a normal fetch"), lab.file("ITLFile.tlv"));
}

/// The one answer to `datagram` sent to port 69: its error code.
fn refused_with(lab: &Lab, datagram: &[u8]) -> u16 {
    let raw = Raw::new();
    raw.send(datagram, lab.tftp_addr);
    let (packet, _) = raw.recv().expect("an answer");
    error_code(&packet)
}

#[test]
fn write_requests_and_names_outside_the_served_ones_get_access_violation() {
    let lab = Lab::start();
    let mut wrq = rrq("ITLFile.tlv", "octet", &[]);
    wrq[1] = 2;
    assert_eq!(refused_with(&lab, &wrq), 2);
    for name in ["../etc/passwd", "a/b", "/../x", "a\\b", "a\x01b"] {
        assert_eq!(refused_with(&lab, &rrq(name, "octet", &[])), 2, "{name:?}");
    }
    assert_eq!(refused_with(&lab, &rrq("nothing.xml", "octet", &[])), 1);
    assert_eq!(refused_with(&lab, &rrq("CTLSEP001122334455.tlv", "octet", &[])), 1, "unavailable: as CUCM, not found");
    assert!(lab.idle_within(Duration::from_secs(5)));
    still_serves(&lab);
}

#[test]
fn unknown_opcodes_bad_modes_and_stray_packets_to_69_are_illegal_operations() {
    let lab = Lab::start();
    assert_eq!(refused_with(&lab, &[0, 9, b'x', 0]), 4, "opcode 9");
    assert_eq!(refused_with(&lab, &[0, 3, 0, 1, b'x']), 4, "DATA to port 69");
    assert_eq!(refused_with(&lab, &[0, 4, 0, 1]), 4, "ACK to port 69");
    assert_eq!(refused_with(&lab, &rrq("ITLFile.tlv", "mail", &[])), 4, "mode mail");
    assert_eq!(refused_with(&lab, &[0, 1, b'a', b'b']), 4, "an unterminated request");
    assert_eq!(refused_with(&lab, &[0, 1, b'a', 0]), 4, "a request without a mode");
    still_serves(&lab);
}

#[test]
fn an_option_flood_is_refused_before_any_transfer() {
    let lab = Lab::start();
    let names: Vec<String> = (0..200).map(|i| format!("opt{i}")).collect();
    let options: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "65464")).collect();
    let flood = rrq("ITLFile.tlv", "octet", &options);
    assert!(flood.len() > 2000);
    let raw = Raw::new();
    raw.send(&flood, lab.tftp_addr);
    let (packet, _) = raw.recv().expect("a refusal");
    assert_eq!(error_code(&packet), 8);
    raw.socket.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
    assert!(raw.recv().is_none(), "no DATA follows the refusal");

    let nine: Vec<(&str, &str)> = names[..9].iter().map(|n| (n.as_str(), "1")).collect();
    assert_eq!(refused_with(&lab, &rrq("ITLFile.tlv", "octet", &nine)), 8, "9 options");
    let twice = rrq("ITLFile.tlv", "octet", &[("blksize", "1024"), ("BLKSIZE", "512")]);
    assert_eq!(refused_with(&lab, &twice), 8, "a repeated option");
    assert_eq!(lab.tftp.active_transfers(), 0);
    still_serves(&lab);
}

#[test]
fn a_client_that_stops_acking_gets_retransmissions_then_the_transfer_ends() {
    let lab = Lab::start();
    let raw = Raw::new();
    raw.send(&rrq("ITLFile.tlv", "octet", &[]), lab.tftp_addr);
    let mut copies = 0;
    while let Some((packet, _)) = raw.recv() {
        assert!(matches!(packet, Packet::Data { block: 1, .. }), "{packet:?}");
        copies += 1;
        assert!(copies <= 6, "more retransmissions than the limit");
    }
    assert_eq!(copies, 6, "DATA 1 and its 5 retransmissions");
    assert!(lab.idle_within(Duration::from_secs(5)), "the given-up transfer has ended");
    still_serves(&lab);
}

#[test]
fn duplicate_acks_do_not_make_the_server_resend() {
    let lab = Lab::start();
    let raw = Raw::new();
    raw.send(&rrq("ITLFile.tlv", "octet", &[]), lab.tftp_addr);
    let (_, tid) = raw.recv().unwrap();
    raw.send(&Packet::Ack { block: 1 }.encode(), tid);
    let (second, _) = raw.recv().unwrap();
    assert!(matches!(second, Packet::Data { block: 2, .. }));
    // ACK 1 again (a delayed duplicate): the server must not send block 2 once more for it.
    raw.send(&Packet::Ack { block: 1 }.encode(), tid);
    raw.send(&Packet::Ack { block: 2 }.encode(), tid);
    let (third, _) = raw.recv().unwrap();
    assert!(matches!(third, Packet::Data { block: 3, .. }), "{third:?}");
    raw.send(&Packet::error(opencapf_tftp::ErrorCode::NotDefined, "bye").encode(), tid);
    assert!(lab.idle_within(Duration::from_secs(5)), "an ERROR from the client ends the transfer");
}

#[test]
fn a_stray_packet_gets_unknown_transfer_id_and_the_transfer_completes() {
    let lab = Lab::start();
    let phone = Raw::new();
    let stranger = Raw::new();
    phone.send(&rrq("ITLFile.tlv", "octet", &[]), lab.tftp_addr);
    let mut file = Vec::new();
    let mut block = 1u16;
    loop {
        let (packet, tid) = phone.recv().expect("the next block");
        let Packet::Data { block: b, data } = packet else { panic!("{packet:?}") };
        assert_eq!(b, block);
        file.extend_from_slice(&data);
        if block == 3 {
            stranger.send(&Packet::Ack { block: 3 }.encode(), tid);
            let (answer, from) = stranger.recv().expect("an answer to the stranger");
            assert_eq!((error_code(&answer), from), (5, tid));
        }
        phone.send(&Packet::Ack { block }.encode(), tid);
        if data.len() < 512 {
            break;
        }
        block += 1;
    }
    assert_eq!(file, lab.file("ITLFile.tlv"));
    assert!(lab.idle_within(Duration::from_secs(5)));
}

#[test]
fn transfers_from_one_source_are_limited() {
    let lab = Lab::start();
    let peers: Vec<Raw> = (0..17).map(|_| Raw::new()).collect();
    for p in &peers {
        p.send(&rrq("ITLFile.tlv", "octet", &[]), lab.tftp_addr);
    }
    let (mut started, mut refused) = (Vec::new(), 0);
    for p in &peers {
        match p.recv().expect("an answer") {
            (Packet::Data { block: 1, .. }, tid) => started.push((p, tid)),
            (other, _) => {
                assert_eq!(error_code(&other), 0);
                refused += 1;
            }
        }
    }
    assert_eq!((started.len(), refused), (16, 1), "16 transfers at once from one address");
    for (p, tid) in started {
        p.send(&Packet::error(opencapf_tftp::ErrorCode::NotDefined, "stop").encode(), tid);
    }
    assert!(lab.idle_within(Duration::from_secs(5)));
    still_serves(&lab);
}

fn http(lab: &Lab, request: &[u8]) -> String {
    let mut s = TcpStream::connect(lab.http_addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn http_refuses_long_paths_other_methods_and_bad_names() {
    let lab = Lab::start();
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(10 * 1024));
    assert!(http(&lab, long.as_bytes()).starts_with("HTTP/1.1 414"));
    let post = b"POST /ITLFile.tlv HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let answer = http(&lab, post);
    assert!(answer.starts_with("HTTP/1.1 405") && answer.contains("Allow: GET, HEAD"), "{answer}");
    let traversal = b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert!(http(&lab, traversal).starts_with("HTTP/1.1 404"));
    let head = http(&lab, b"HEAD /ITLFile.tlv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200") && head.contains("Content-Length: 7879"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
    let get = http(&lab, b"GET /ITLFile.tlv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(get.starts_with("HTTP/1.1 200"));
}

#[test]
fn a_stalled_header_and_an_idle_connection_are_closed_by_the_header_timeout() {
    let lab = Lab::start(); // header timeout 2 s
    for sent in [&b"GET /ITLFile.tlv HTTP/1.1\r\nHo"[..], b"GET /ITLFile.tlv HTTP/1.1\r\nHost: x\r\n\r\n"] {
        let mut s = TcpStream::connect(lab.http_addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(sent).unwrap();
        let mut answer = Vec::new();
        let read = s.read_to_end(&mut answer);
        assert!(read.is_ok(), "closed by the server, not by our read timeout: {read:?}");
    }
}

#[test]
fn a_thousand_connections_from_one_address_are_limited() {
    let lab = Lab::start(); // 32 per source
    let mut conns: Vec<TcpStream> = (0..1000).map(|_| TcpStream::connect(lab.http_addr).unwrap()).collect();
    let mut answered = 0;
    for s in &mut conns {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(b"GET /ITLFile.tlv HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut first = [0u8; 12];
        if s.read_exact(&mut first).is_ok() && first.starts_with(b"HTTP/1.1 200") {
            answered += 1;
        }
    }
    assert!((1..=32).contains(&answered), "{answered} answered");
    drop(conns);
    // The server frees the flood's slots as it sees each connection close: a fetch works again
    // once it has (bounded wait; under load that is not at once).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let server = lab.http_addr.to_string();
    let got = loop {
        let fetch = opencapf_tftp::http_get(&server, "ITLFile.tlv", Duration::from_secs(10));
        match lab.rt.block_on(fetch) {
            Err(_) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            other => break other,
        }
    };
    assert_eq!(got.expect("a fetch after the flood"), lab.file("ITLFile.tlv"));
}
