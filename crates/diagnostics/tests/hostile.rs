//! Hostile input: random bytes, impossible lengths, truncation, and mutated captures give a clear
//! error or a partial report, never a panic.

use crate::common;

use std::net::SocketAddr;

use opencapf_diagnostics::pcap::{self, PcapOptions};
use opencapf_diagnostics::synth::{self, Conversation, Link, PcapNgWriter, PcapWriter};
use opencapf_diagnostics::DiagnoseError;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn analyze(bytes: &[u8]) -> Result<pcap::PcapReport, DiagnoseError> {
    pcap::analyze(bytes, &PcapOptions::default())
}

fn valid_capture() -> (Vec<synth::Packet>, Vec<u8>) {
    let capf = common::capf();
    let lsc = common::lsc(&capf, "SEP2C3124C9F8E1");
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[&lsc]), &[], Some(48), 200);
    let client: SocketAddr = "10.0.0.5:40000".parse().unwrap();
    let packets =
        synth::tls12_connection(&mut Conversation::new(client, "10.0.0.1:5061".parse().unwrap()), &hs, 300, true);
    let bytes = synth::pcap_of(&Link::Ethernet(vec![7]), &packets, 1_790_000_000.0);
    (packets, bytes)
}

#[test]
fn not_a_capture_is_a_clear_error() {
    for (bytes, expect) in [
        (&b""[..], "too short"),
        (&b"\xd4\xc3"[..], "too short"),
        (&b"\x1f\x8b\x08\x00\x00\x00"[..], "gzip"),
        (&b"GET / HTTP/1.1\r\n"[..], "not a pcap or pcapng file"),
        (&b"\xd4\xc3\xb2\xa1\x02\x00"[..], "file header"),
        (&b"\x0a\x0d\x0d\x0a\xff\xff"[..], "file header"),
    ] {
        match analyze(bytes) {
            Err(DiagnoseError::NotACapture(m)) => assert!(m.contains(expect), "{m}"),
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
}

#[test]
fn huge_snaplen_and_huge_record_lengths_stop_with_a_partial_report() {
    // A header with snaplen 0xffffffff is fine; a record claiming 4 GiB is damage.
    let (_, valid) = valid_capture();
    let mut bytes = valid.clone();
    bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let report = analyze(&bytes).unwrap();
    assert_eq!(report.connections.len(), 1);
    let mut w = PcapWriter::new(1, u32::MAX);
    w.bytes.extend_from_slice(&[0; 8]);
    w.bytes.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    w.bytes.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    w.bytes.extend_from_slice(&[0xaa; 1000]);
    let report = analyze(&w.bytes).unwrap();
    let stopped = report.capture.unwrap().stopped.unwrap();
    assert!(stopped.contains("MiB") && stopped.contains("damaged"), "{stopped}");

    // A record whose length runs past the end of the file.
    let mut bytes = valid.clone();
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&5000u32.to_le_bytes());
    bytes.extend_from_slice(&5000u32.to_le_bytes());
    bytes.extend_from_slice(&[0x55; 100]);
    let report = analyze(&bytes).unwrap();
    assert_eq!(report.connections.len(), 1);
    assert!(report.capture.unwrap().stopped.unwrap().contains("truncated"));

    // pcapng blocks with impossible lengths.
    for len in [0u32, 4, 13, 0x7fff_fff0] {
        let mut w = PcapNgWriter::new();
        w.interface(1, "eth0");
        w.bytes.extend_from_slice(&6u32.to_le_bytes());
        w.bytes.extend_from_slice(&len.to_le_bytes());
        w.bytes.extend_from_slice(&[0x11; 64]);
        let report = analyze(&w.bytes).unwrap();
        assert!(report.capture.unwrap().stopped.is_some(), "block length {len}");
    }
}

#[test]
fn tls_records_and_handshake_messages_with_lengths_past_the_end() {
    let client: SocketAddr = "10.0.0.5:40000".parse().unwrap();
    let server: SocketAddr = "10.0.0.1:5061".parse().unwrap();
    let cases: Vec<Vec<u8>> = vec![
        // A record header claiming 65535 bytes.
        vec![22, 3, 3, 0xff, 0xff, 1, 0, 0, 4],
        // A handshake message claiming 16 MiB inside a small record.
        synth::record(22, &[11, 0xff, 0xff, 0xff, 0, 0, 1]),
        // A Certificate whose inner lengths lie.
        synth::record(22, &synth::handshake(11, &[0, 0, 9, 0, 0, 200, 0x30, 0x82])),
        // A ClientHello cut short.
        synth::record(22, &synth::handshake(1, &[3, 3, 1, 2])),
        // An alert record of 1 byte.
        [synth::record(22, &synth::client_hello([1; 32], &[0x35], None, false)), synth::record(21, &[2])].concat(),
    ];
    for data in cases {
        let mut conv = Conversation::new(client, server);
        let mut p = conv.open();
        p.extend(conv.send(true, &data, 1460));
        p.extend(conv.send(false, &synth::record(22, &synth::server_hello(0x35, false)), 1460));
        p.push(conv.fin(true));
        let report = analyze(&synth::pcap_of(&Link::Raw, &p, 1.0)).unwrap();
        assert!(report.connections.len() <= 1);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let magics: [&[u8]; 3] = [b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a", b""];
    for i in 0..600 {
        let mut bytes = magics[i % 3].to_vec();
        let n = rng.below(4000);
        bytes.extend(rng.bytes(n));
        let _ = analyze(&bytes);
    }
}

#[test]
fn mutated_captures_never_panic() {
    let (packets, valid) = valid_capture();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // Mutations of the file's bytes.
    for _ in 0..1500 {
        let mut bytes = valid.clone();
        for _ in 0..=rng.below(8) {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        if rng.below(4) == 0 {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        let _ = analyze(&bytes);
    }
    // Mutations of the TCP payloads only (so that TCP and TLS see them), then reordering.
    for _ in 0..1500 {
        let mut pk = packets.clone();
        for _ in 0..=rng.below(6) {
            let i = rng.below(pk.len());
            if !pk[i].payload.is_empty() {
                let at = rng.below(pk[i].payload.len());
                pk[i].payload[at] = rng.next() as u8;
            } else {
                pk[i].seq = pk[i].seq.wrapping_add(rng.next() as u32 % 3000);
            }
        }
        if rng.below(3) == 0 {
            let a = rng.below(pk.len());
            let b = rng.below(pk.len());
            pk.swap(a, b);
        }
        let link = [Link::Ethernet(vec![]), Link::Sll, Link::Sll2, Link::Null, Link::Raw][rng.below(5)].clone();
        let _ = analyze(&synth::pcap_of(&link, &pk, 1.0));
    }
}
