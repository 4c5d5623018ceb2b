//! The pcap/TLS path of `diagnose pcap` on arbitrary input: it may refuse the input or report
//! partially, never panic. The input is used two ways: as a capture file (pcap or pcapng); and
//! as the TCP payloads of a client→server connection in a valid capture (so that the TCP
//! reassembly and the TLS parser see arbitrary records), the first byte choosing the link layer
//! and the segment sizes: from one byte, but at most 128 segments a direction (more tiny segments
//! reach no other code, and would make a large input a capture of tens of thousands of packets,
//! most of the run's time). (The console log, once read here too, has its own target.)

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_diagnostics::pcap::{self, PcapOptions};
use opencapf_diagnostics::synth::{self, Conversation, Link};

fuzz_target!(|data: &[u8]| {
    let opts = PcapOptions::default();
    let _ = pcap::analyze(data, &opts);

    if let Some((&selector, payload)) = data.split_first() {
        let link = match selector % 5 {
            0 => Link::Ethernet(vec![u16::from(selector)]),
            1 => Link::Sll,
            2 => Link::Sll2,
            3 => Link::Null,
            _ => Link::Raw,
        };
        let mut conv = Conversation::new("10.0.0.5:40000".parse().unwrap(), "10.0.0.1:5061".parse().unwrap());
        let mut packets = conv.open();
        let (client, server) = payload.split_at(payload.len() / 2);
        let segment = |len: usize, step: usize| (1 + usize::from(selector) * step).max(len.div_ceil(128));
        packets.extend(conv.send(true, client, segment(client.len(), 5)));
        packets.extend(conv.send(false, server, segment(server.len(), 3)));
        if selector & 0x80 != 0 {
            packets.reverse();
        }
        let _ = pcap::analyze(synth::pcap_of(&link, &packets, 1.0).as_slice(), &opts);
    }
});
