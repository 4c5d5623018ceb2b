//! Captures built byte by byte for the hard cases of `diagnose pcap`.

use crate::common;

use std::net::SocketAddr;

use opencapf_diagnostics::pcap::capture::Frame;
use opencapf_diagnostics::pcap::Analyzer;
use opencapf_diagnostics::pcap::{self, ClientCertificate, OutcomeKind, PcapOptions, PcapReport, Service, Side};
use opencapf_diagnostics::synth::{self, Conversation, Link, Packet, PcapNgWriter, PcapWriter};
use opencapf_diagnostics::Severity;
use opencapf_pki::CertificateKind as CertKind;

const PHONE: &str = "SEP2C3124C9F8E1";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn run(bytes: &[u8], opts: &PcapOptions) -> PcapReport {
    pcap::analyze(bytes, opts).unwrap()
}

fn sip_conv() -> Conversation {
    Conversation::new(addr("10.106.104.243:51034"), addr("10.106.104.211:5061"))
}

#[test]
fn seed_example_lsc_split_across_segments_and_records() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let server = common::callmanager();
    // Records of at most 300 bytes (the Certificate message spans records) in segments of 100
    // bytes (every record spans segments).
    let hs = synth::tls12_handshake(&[&server], Some(&[&lsc]), &[], None, 300);
    let packets = synth::tls12_connection(&mut sip_conv(), &hs, 100, false);
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0), &PcapOptions::default());

    assert_eq!(report.connections.len(), 1, "{report:#?}");
    let c = &report.connections[0];
    assert_eq!(c.client, "10.106.104.243:51034");
    assert_eq!(c.server, "10.106.104.211:5061");
    assert_eq!(c.service, Service::Sip);
    assert_eq!(c.version.as_deref(), Some("TLS 1.2"));
    assert_eq!(c.cipher.as_deref(), Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
    assert_eq!(c.server_name.as_deref(), Some("cucm-pub.lab"));
    assert_eq!(c.server_certificates.len(), 1);
    assert_eq!(c.server_certificates[0].subject_cn.as_deref(), Some("cucm-pub.lab"));
    assert_eq!(c.client_certificate, ClientCertificate::Presented);
    assert_eq!(c.client_certificate_kind, Some(CertKind::Lsc));
    let cert = &c.client_certificates[0];
    assert_eq!(cert.issuer_cn.as_deref(), Some(common::issuer_cn(&lsc).as_str()));
    assert!(cert.issuer_cn.as_deref().unwrap().starts_with("CAPF-"));
    assert_eq!(cert.subject_cn.as_deref(), Some(PHONE));
    assert!(!cert.serial.is_empty() && !cert.not_after.is_empty());
    assert_eq!(c.device.as_deref(), Some(PHONE));
    assert_eq!(c.outcome.kind, OutcomeKind::Completed, "{:?}", c.outcome);
    assert!(report.findings.iter().any(|f| f.code == "client-certificate" && f.title.contains("LSC")));
    assert_eq!(report.summary.errors, 0);
    let text = report.render(10);
    assert!(text.contains("client certificate: LSC of SEP2C3124C9F8E1"), "{text}");
}

#[test]
fn seed_example_mic_issued_by_cisco_manufacturing_ca_sha2() {
    let mic = common::cisco_mic(PHONE);
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[&mic]), &[], None, 16384);
    let packets = synth::tls12_connection(&mut sip_conv(), &hs, 1460, false);
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0), &PcapOptions::default());
    let c = &report.connections[0];
    assert_eq!(c.client_certificate_kind, Some(CertKind::Mic));
    assert_eq!(c.client_certificates[0].issuer_cn.as_deref(), Some("Cisco Manufacturing CA SHA2"));
    assert_eq!(c.device.as_deref(), Some(PHONE));
    assert!(report.findings.iter().any(|f| f.title.contains("MIC, issued by Cisco Manufacturing CA SHA2")));
}

#[test]
fn server_refusing_with_unknown_ca_is_reported_with_its_direction_and_remedies() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[&lsc]), &[], Some(48), 16384);
    let packets = synth::tls12_connection(&mut sip_conv(), &hs, 1460, true);
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0), &PcapOptions::default());
    let c = &report.connections[0];
    assert_eq!(c.alerts.len(), 1);
    assert_eq!(c.alerts[0].text, "server sent fatal unknown_ca");
    assert_eq!(c.outcome.kind, OutcomeKind::Refused);
    assert_eq!(c.outcome.by, Some(Side::Server));
    let f = report.findings.iter().find(|f| f.code == "tls-refused").unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.devices, vec![PHONE.to_owned()]);
    let remedies = f.remedy.join("\n");
    assert!(remedies.contains("rule 5") && remedies.contains("rule 9") && remedies.contains("rule 6"), "{remedies}");
}

/// Segments out of order, retransmitted, and overlapping: the same report as in order.
#[test]
fn out_of_order_retransmitted_and_overlapping_segments() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[&lsc]), &[], None, 200);
    let mut conv = sip_conv();
    let mut packets = conv.open();
    packets.extend(conv.send(true, &hs.client_hello, 1460));
    let mut server_flight = conv.send(false, &hs.server_flight, 150);
    server_flight.reverse(); // every segment out of order
    packets.extend(server_flight);
    let client_flight = conv.send(true, &hs.client_flight, 120);
    // Overlap: a segment covering the second half of segment 1 and the first half of segment 2.
    let overlap = {
        let a = &client_flight[1];
        let b = &client_flight[2];
        let mut payload = a.payload[60..].to_vec();
        payload.extend_from_slice(&b.payload[..60]);
        Packet { seq: a.seq.wrapping_add(60), payload, ..a.clone() }
    };
    packets.push(client_flight[0].clone());
    packets.push(client_flight[2].clone());
    packets.push(overlap);
    packets.push(client_flight[1].clone());
    packets.push(client_flight[0].clone()); // retransmission
    packets.extend(client_flight[3..].iter().cloned());
    packets.extend(conv.send(false, &hs.server_finish, 1460));
    packets.push(conv.fin(true));
    packets.push(conv.fin(false));
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0), &PcapOptions::default());
    assert_eq!(report.connections.len(), 1);
    let c = &report.connections[0];
    assert_eq!(c.client_certificate_kind, Some(CertKind::Lsc));
    assert_eq!(c.server_certificates.len(), 1);
    assert_eq!(c.outcome.kind, OutcomeKind::Completed, "{:?}", c);
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    assert!(report.stats.retransmitted_bytes >= 120, "{:?}", report.stats);
    assert!(report.stats.out_of_order_segments > 0);
    assert_eq!(report.stats.gap_bytes, 0);
}

fn lsc_connection(conv: &mut Conversation, lsc: &[u8], mss: usize) -> Vec<Packet> {
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[lsc]), &[], None, 16384);
    synth::tls12_connection(conv, &hs, mss, false)
}

fn assert_one_lsc(report: &PcapReport, client: &str, server: &str) {
    assert_eq!(report.connections.len(), 1, "{report:#?}");
    let c = &report.connections[0];
    assert_eq!(c.client, client);
    assert_eq!(c.server, server);
    assert_eq!(c.client_certificate_kind, Some(CertKind::Lsc), "{c:#?}");
    assert_eq!(c.device.as_deref(), Some(PHONE));
    assert_eq!(c.outcome.kind, OutcomeKind::Completed);
}

#[test]
fn link_layers_vlan_ipv6_sll_sll2_loopback_raw() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let v4 = ("10.1.2.3:50000", "10.1.2.4:2443");
    let v6 = ("[2001:db8::10]:50000", "[2001:db8::1]:5061");
    for (link, (c, s)) in [
        (Link::Ethernet(vec![100]), v4),
        (Link::Ethernet(vec![100, 200]), v6),
        (Link::Ethernet(vec![]), v6),
        (Link::Sll, v4),
        (Link::Sll2, v6),
        (Link::Null, v4),
        (Link::Null, v6),
        (Link::Raw, v6),
    ] {
        let mut conv = Conversation::new(addr(c), addr(s));
        let packets = lsc_connection(&mut conv, &lsc, 700);
        let report = run(&synth::pcap_of(&link, &packets, 1_790_000_000.0), &PcapOptions::default());
        assert_one_lsc(&report, c, s);
        let svc = if s.ends_with(":2443") { Service::Sccp } else { Service::Sip };
        assert_eq!(report.connections[0].service, svc, "{link:?}");
    }
}

#[test]
fn pcapng_with_several_interfaces_of_different_link_types() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let mic = common::cisco_mic("SEP00112233AABB");
    let mut w = PcapNgWriter::new();
    let eth = w.interface(1, "eth0");
    let any = w.interface(276, "any");
    let lo = w.interface(0, "lo0");
    let a = lsc_connection(&mut Conversation::new(addr("10.0.0.5:40000"), addr("10.0.0.1:5061")), &lsc, 500);
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[&mic]), &[], None, 16384);
    let b = synth::tls12_connection(
        &mut Conversation::new(addr("[2001:db8::5]:40001"), addr("[2001:db8::1]:3804")),
        &hs,
        500,
        false,
    );
    let c = lsc_connection(&mut Conversation::new(addr("127.0.0.1:40002"), addr("127.0.0.1:2445")), &lsc, 500);
    let mut t = 1_790_000_000.0;
    for i in 0..a.len().max(b.len()).max(c.len()) {
        for (iface, link, pkts) in [(eth, Link::Ethernet(vec![]), &a), (any, Link::Sll2, &b), (lo, Link::Null, &c)] {
            if let Some(p) = pkts.get(i) {
                w.packet(iface, t, &link.frame(&p.ip()));
                t += 0.0001;
            }
        }
    }
    let report = run(&w.bytes, &PcapOptions::default());
    let capture = report.capture.as_ref().unwrap();
    assert_eq!(capture.interfaces.len(), 3);
    assert_eq!(capture.interfaces[1].name.as_deref(), Some("any"));
    assert_eq!(report.connections.len(), 3, "{report:#?}");
    let by_service = |s: Service| report.connections.iter().find(|c| c.service == s).unwrap();
    assert_eq!(by_service(Service::Sip).client_certificate_kind, Some(CertKind::Lsc));
    assert_eq!(by_service(Service::Capf).client_certificate_kind, Some(CertKind::Mic));
    assert_eq!(by_service(Service::Capf).device.as_deref(), Some("SEP00112233AABB"));
    assert_eq!(by_service(Service::Tvs).client_certificate_kind, Some(CertKind::Lsc));
    assert!(report.connections.iter().all(|c| c.outcome.kind == OutcomeKind::Completed));
}

#[test]
fn truncated_capture_gives_a_partial_report() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let mut packets = lsc_connection(&mut sip_conv(), &lsc, 1460);
    let first_len = packets.len();
    packets.extend(lsc_connection(&mut Conversation::new(addr("10.0.0.9:1234"), addr("10.0.0.1:5061")), &lsc, 1460));
    let full = synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0);
    // Cut inside the 6th packet of the second connection (its server flight).
    let mut offset = 24;
    for (i, p) in packets.iter().enumerate() {
        let len = Link::Ethernet(vec![]).frame(&p.ip()).len();
        if i == first_len + 5 {
            offset += 16 + len / 2;
            break;
        }
        offset += 16 + len;
    }
    let report = run(&full[..offset], &PcapOptions::default());
    let stopped = report.capture.as_ref().unwrap().stopped.clone().unwrap();
    assert!(stopped.contains("truncated"), "{stopped}");
    assert!(report.findings.iter().any(|f| f.code == "capture-damaged"));
    assert_eq!(report.connections.len(), 2);
    assert_eq!(report.connections[0].outcome.kind, OutcomeKind::Completed);
    assert_eq!(report.connections[0].client_certificate_kind, Some(CertKind::Lsc));
    assert_eq!(report.connections[1].outcome.kind, OutcomeKind::Incomplete, "{:?}", report.connections[1].outcome);
}

#[test]
fn missing_segments_are_gaps_never_guesses() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    // A gap in the server's flight (inside its Certificate): reported, and the client's
    // certificate, in the other direction, is still read.
    let mut packets = lsc_connection(&mut sip_conv(), &lsc, 200);
    let server_data: Vec<usize> = packets
        .iter()
        .enumerate()
        .filter(|(_, p)| p.src.port() == 5061 && !p.payload.is_empty())
        .map(|(i, _)| i)
        .collect();
    packets.remove(server_data[2]);
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0), &PcapOptions::default());
    let c = &report.connections[0];
    assert!(c.notes.iter().any(|n| n.contains("200 bytes from the server were not captured")), "{:?}", c.notes);
    assert_eq!(c.client_certificate_kind, Some(CertKind::Lsc));
    assert!(report.findings.iter().any(|f| f.code == "handshake-data-missing"));
    assert_eq!(report.stats.gap_bytes, 200);

    // A gap inside application data loses nothing the report needs.
    let mut conv = sip_conv();
    let server = common::callmanager();
    let hs = synth::tls12_handshake(&[&server], Some(&[&lsc]), &[], None, 16384);
    let mut packets = conv.open();
    packets.extend(conv.send(true, &hs.client_hello, 1460));
    packets.extend(conv.send(false, &hs.server_flight, 1460));
    packets.extend(conv.send(true, &hs.client_flight, 1460));
    packets.extend(conv.send(false, &hs.server_finish, 1460));
    let mut app = conv.send(false, &synth::application_data(16000), 1000);
    app.remove(7);
    packets.extend(app);
    packets.extend(conv.send(false, &synth::application_data(100), 1000));
    packets.push(conv.fin(false));
    packets.push(conv.fin(true));
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0), &PcapOptions::default());
    let c = &report.connections[0];
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    assert_eq!(c.outcome.kind, OutcomeKind::Completed);
    assert_eq!(report.stats.gap_bytes, 1000);
}

#[test]
fn snap_length_cut_inside_the_handshake_is_a_gap() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let packets = lsc_connection(&mut sip_conv(), &lsc, 1460);
    let mut w = PcapWriter::new(1, 96);
    for (i, p) in packets.iter().enumerate() {
        let f = Link::Ethernet(vec![]).frame(&p.ip());
        w.packet_cut(1_790_000_000.0 + i as f64 * 0.001, &f, 96);
    }
    let report = run(&w.bytes, &PcapOptions::default());
    assert_eq!(report.connections.len(), 1);
    let c = &report.connections[0];
    assert!(c.client_certificates.is_empty());
    assert!(c.notes.iter().any(|n| n.contains("not captured")), "{c:#?}");
}

#[test]
fn tls13_hides_the_client_certificate_and_a_refusal_is_inferred() {
    let mut conv = sip_conv();
    let mut p = conv.open();
    p.extend(conv.send(
        true,
        &synth::handshake_records(&[synth::client_hello([7; 32], &[0x1301, 0x1302], None, true)], 16384),
        1460,
    ));
    let mut server = synth::handshake_records(&[synth::server_hello(0x1302, true)], 16384);
    server.extend(synth::change_cipher_spec());
    for len in [40, 1200, 280, 70] {
        server.extend(synth::application_data(len));
    }
    p.extend(conv.send(false, &server, 1460));
    let mut client = synth::change_cipher_spec();
    client.extend(synth::application_data(900));
    p.extend(conv.send(true, &client, 1460));
    p.extend(conv.send(false, &synth::application_data(19), 1460));
    p.push(conv.fin(false));
    p.push(conv.fin(true));
    let report = run(&synth::pcap_of(&Link::Ethernet(vec![]), &p, 1_790_000_000.0), &PcapOptions::default());
    let c = &report.connections[0];
    assert_eq!(c.version.as_deref(), Some("TLS 1.3"));
    assert_eq!(c.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    assert_eq!(c.client_certificate, ClientCertificate::HiddenByTls13);
    assert_eq!(c.client_certificate_requested, None);
    assert!(c.notes.iter().any(|n| n.contains("--keylog")));
    assert_eq!(c.outcome.kind, OutcomeKind::Refused);
    assert_eq!(c.outcome.by, Some(Side::Server));
    assert!(c.outcome.inferred);
    assert!(report.findings.iter().any(|f| f.code == "client-certificate-hidden-tls13"));
}

#[test]
fn with_a_cluster_lscs_are_told_apart_and_checked_against_both_stores() {
    let ours = common::capf();
    let retired = common::capf();
    let theirs = common::capf();
    let mfg_sha2 = common::cisco_ca("Cisco_Manufacturing_CA_SHA2.pem");
    // The retired CAPF left CallManager-trust (but not CAPF-trust) too early.
    let view = common::view(&[&ours, &retired], &[&ours.der, &mfg_sha2], &[&ours.der, &retired.der]);
    let opts = PcapOptions { cluster: Some(view), ..Default::default() };
    let cases = [
        (common::lsc(&ours, "SEP000000000001"), CertKind::LscThisCluster, true, true),
        (common::lsc(&retired, "SEP000000000002"), CertKind::LscThisCluster, false, true),
        (common::lsc(&theirs, "SEP000000000003"), CertKind::LscOtherCluster, false, false),
    ];
    for (i, (lsc, kind, cm, capf)) in cases.iter().enumerate() {
        let mut conv = Conversation::new(addr(&format!("10.0.0.{}:40000", i + 10)), addr("10.0.0.1:5061"));
        let report = run(
            &synth::pcap_of(&Link::Ethernet(vec![]), &lsc_connection(&mut conv, lsc, 1460), 1_790_000_000.0),
            &opts,
        );
        assert!(report.cluster_checked);
        let c = &report.connections[0];
        assert_eq!(c.client_certificate_kind, Some(*kind), "case {i}");
        assert_eq!(c.trust.len(), 2);
        assert_eq!(c.trust[0].trusted, *cm, "case {i}: {:?}", c.trust[0]);
        assert_eq!(c.trust[1].trusted, *capf, "case {i}: {:?}", c.trust[1]);
        if !cm {
            let issuer = common::issuer_cn(lsc);
            assert_eq!(c.trust[0].message, format!("issuer {issuer} is not in CallManager-trust"));
            let f = report.findings.iter().find(|f| f.code == "client-certificate-not-in-callmanager-trust").unwrap();
            assert_eq!(f.severity, Severity::Error);
            assert!(f.title.contains(&format!("issuer {issuer} is not in CallManager-trust")), "{}", f.title);
            let remedy = f.remedy.join(" ");
            let rule = if *kind == CertKind::LscOtherCluster { "rule 5" } else { "rule 9" };
            assert!(remedy.contains(rule), "case {i}: {remedy}");
        } else {
            assert!(report.findings.iter().all(|f| f.severity != Severity::Error));
        }
    }
}

#[test]
fn finished_connections_are_forgotten_so_memory_stays_bounded() {
    let capf = common::capf();
    let lsc = common::lsc(&capf, PHONE);
    let mut analyzer = Analyzer::new(PcapOptions::default());
    let link = Link::Ethernet(vec![]);
    for i in 0..300u32 {
        let client = SocketAddr::from(([10, 0, (i / 250) as u8, (i % 250) as u8 + 1], 40000 + i as u16));
        let mut conv = Conversation::new(client, addr("10.0.0.1:5061"));
        for p in lsc_connection(&mut conv, &lsc, 1460) {
            let frame = link.frame(&p.ip());
            analyzer.frame(&Frame {
                interface: 0,
                linktype: 1,
                ts: Some(1_790_000_000.0 + f64::from(i)),
                data: &frame,
                orig_len: frame.len() as u32,
            });
        }
        assert!(analyzer.open_flows() <= 1);
    }
}
