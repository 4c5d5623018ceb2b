//! Captures built byte by byte: pcap and pcapng writers, link layers (Ethernet with 802.1Q tags,
//! Linux SLL and SLL2, BSD loopback, raw IP), IPv4/IPv6, TCP, and TLS records and handshake
//! messages. Used by the tests, the benchmark and the fuzz target; also handy to reproduce a
//! customer's case without their capture.

use std::net::{IpAddr, SocketAddr};

// ---------------------------------------------------------------------------------------------
// Files

/// A classic pcap file (microsecond timestamps, little-endian).
pub struct PcapWriter {
    pub bytes: Vec<u8>,
}

impl PcapWriter {
    pub fn new(linktype: u32, snaplen: u32) -> PcapWriter {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&0i32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&snaplen.to_le_bytes());
        b.extend_from_slice(&linktype.to_le_bytes());
        PcapWriter { bytes: b }
    }

    /// A frame at `ts` seconds, kept whole.
    pub fn packet(&mut self, ts: f64, frame: &[u8]) {
        self.packet_cut(ts, frame, frame.len());
    }

    /// A frame of which only the first `keep` bytes were captured (snap length).
    pub fn packet_cut(&mut self, ts: f64, frame: &[u8], keep: usize) {
        let keep = keep.min(frame.len());
        let sec = ts.floor();
        self.bytes.extend_from_slice(&(sec as u32).to_le_bytes());
        self.bytes.extend_from_slice(&(((ts - sec) * 1e6).round() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&(keep as u32).to_le_bytes());
        self.bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&frame[..keep]);
    }
}

/// A pcapng file: one section, any number of interfaces.
pub struct PcapNgWriter {
    pub bytes: Vec<u8>,
    interfaces: u32,
}

fn pad4(b: &mut Vec<u8>) {
    while b.len() & 3 != 0 {
        b.push(0);
    }
}

fn block(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
    let mut body = body.to_vec();
    pad4(&mut body);
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&len.to_le_bytes());
}

impl Default for PcapNgWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapNgWriter {
    pub fn new() -> PcapNgWriter {
        let mut bytes = Vec::new();
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1a2b3c4du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        block(&mut bytes, 0x0a0d0d0a, &shb);
        PcapNgWriter { bytes, interfaces: 0 }
    }

    /// Declares an interface; returns its id.
    pub fn interface(&mut self, linktype: u16, name: &str) -> u32 {
        let mut idb = Vec::new();
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        // if_name option (2), then opt_endofopt.
        idb.extend_from_slice(&2u16.to_le_bytes());
        idb.extend_from_slice(&(name.len() as u16).to_le_bytes());
        idb.extend_from_slice(name.as_bytes());
        pad4(&mut idb);
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut self.bytes, 1, &idb);
        self.interfaces += 1;
        self.interfaces - 1
    }

    /// An Enhanced Packet Block on interface `iface` (microsecond timestamps).
    pub fn packet(&mut self, iface: u32, ts: f64, frame: &[u8]) {
        let t = (ts * 1e6).round() as u64;
        let mut epb = Vec::new();
        epb.extend_from_slice(&iface.to_le_bytes());
        epb.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(t as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(frame);
        block(&mut self.bytes, 6, &epb);
    }
}

// ---------------------------------------------------------------------------------------------
// Link layers

/// How IP packets are framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Ethernet, with these 802.1Q VLAN ids (outermost first).
    Ethernet(Vec<u16>),
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// BSD loopback (address family in little-endian, as Linux and macOS write it).
    Null,
    /// Raw IP.
    Raw,
}

impl Link {
    /// The pcap link type number.
    pub fn linktype(&self) -> u16 {
        match self {
            Link::Ethernet(_) => 1,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Null => 0,
            Link::Raw => 101,
        }
    }

    pub fn frame(&self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if v6 { 0x86dd } else { 0x0800 };
        let mut f = Vec::with_capacity(ip.len() + 24);
        match self {
            Link::Ethernet(vlans) => {
                f.extend_from_slice(&[0x00, 0x1b, 0x54, 0xc2, 0x11, 0x01, 0x2c, 0x31, 0x24, 0xc9, 0xf8, 0xe1]);
                for v in vlans {
                    f.extend_from_slice(&0x8100u16.to_be_bytes());
                    f.extend_from_slice(&(v & 0x0fff).to_be_bytes());
                }
                f.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll => {
                f.extend_from_slice(&0u16.to_be_bytes()); // to us
                f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
                f.extend_from_slice(&6u16.to_be_bytes());
                f.extend_from_slice(&[0x2c, 0x31, 0x24, 0xc9, 0xf8, 0xe1, 0, 0]);
                f.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::Sll2 => {
                f.extend_from_slice(&ethertype.to_be_bytes());
                f.extend_from_slice(&0u16.to_be_bytes());
                f.extend_from_slice(&2u32.to_be_bytes()); // interface index
                f.extend_from_slice(&1u16.to_be_bytes());
                f.push(0);
                f.push(6);
                f.extend_from_slice(&[0x2c, 0x31, 0x24, 0xc9, 0xf8, 0xe1, 0, 0]);
            }
            Link::Null => f.extend_from_slice(&(if v6 { 30u32 } else { 2u32 }).to_le_bytes()),
            Link::Raw => {}
        }
        f.extend_from_slice(ip);
        if matches!(self, Link::Ethernet(_)) {
            while f.len() < 60 {
                f.push(0); // Ethernet padding past the IP length
            }
        }
        f
    }
}

// ---------------------------------------------------------------------------------------------
// IP and TCP

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// One TCP segment between two endpoints (the two must be of the same IP version).
#[derive(Debug, Clone)]
pub struct Packet {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

impl Packet {
    /// The IP packet (IPv4 or IPv6 by the addresses), TCP inside.
    pub fn ip(&self) -> Vec<u8> {
        let mut tcp = Vec::with_capacity(20 + self.payload.len());
        tcp.extend_from_slice(&self.src.port().to_be_bytes());
        tcp.extend_from_slice(&self.dst.port().to_be_bytes());
        tcp.extend_from_slice(&self.seq.to_be_bytes());
        tcp.extend_from_slice(&self.ack.to_be_bytes());
        tcp.push(5 << 4);
        tcp.push(self.flags);
        tcp.extend_from_slice(&65535u16.to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum (not checked), urgent pointer
        tcp.extend_from_slice(&self.payload);
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut ip = Vec::with_capacity(20 + tcp.len());
                ip.push(0x45);
                ip.push(0);
                ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
                ip.extend_from_slice(&[0, 0, 0x40, 0]); // id, don't fragment
                ip.push(64);
                ip.push(6);
                ip.extend_from_slice(&[0, 0]);
                ip.extend_from_slice(&s.octets());
                ip.extend_from_slice(&d.octets());
                ip.extend_from_slice(&tcp);
                ip
            }
            (s, d) => {
                let s = match s {
                    IpAddr::V6(a) => a,
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                };
                let d = match d {
                    IpAddr::V6(a) => a,
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                };
                let mut ip = Vec::with_capacity(40 + tcp.len());
                ip.extend_from_slice(&[0x60, 0, 0, 0]);
                ip.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
                ip.push(6);
                ip.push(64);
                ip.extend_from_slice(&s.octets());
                ip.extend_from_slice(&d.octets());
                ip.extend_from_slice(&tcp);
                ip
            }
        }
    }
}

/// A TCP connection that hands out segments with the right sequence numbers.
pub struct Conversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    seq: [u32; 2],
}

impl Conversation {
    pub fn new(client: SocketAddr, server: SocketAddr) -> Conversation {
        Conversation { client, server, seq: [0x1000_0000, 0x8000_0000] }
    }

    /// With chosen initial sequence numbers (client, server).
    pub fn with_isn(client: SocketAddr, server: SocketAddr, isn: (u32, u32)) -> Conversation {
        Conversation { client, server, seq: [isn.0, isn.1] }
    }

    fn pkt(&mut self, from_client: bool, flags: u8, payload: &[u8]) -> Packet {
        let (i, src, dst) = if from_client { (0, self.client, self.server) } else { (1, self.server, self.client) };
        let p = Packet { src, dst, seq: self.seq[i], ack: self.seq[1 - i], flags, payload: payload.to_vec() };
        let mut adv = payload.len() as u32;
        if flags & (SYN | FIN) != 0 {
            adv += 1;
        }
        self.seq[i] = self.seq[i].wrapping_add(adv);
        p
    }

    /// SYN, SYN-ACK, ACK.
    pub fn open(&mut self) -> Vec<Packet> {
        vec![self.pkt(true, SYN, &[]), self.pkt(false, SYN | ACK, &[]), self.pkt(true, ACK, &[])]
    }

    /// `data` from one side, cut into segments of at most `mss` bytes.
    pub fn send(&mut self, from_client: bool, data: &[u8], mss: usize) -> Vec<Packet> {
        data.chunks(mss.max(1)).map(|c| self.pkt(from_client, ACK | PSH, c)).collect()
    }

    pub fn fin(&mut self, from_client: bool) -> Packet {
        self.pkt(from_client, FIN | ACK, &[])
    }

    pub fn rst(&mut self, from_client: bool) -> Packet {
        self.pkt(from_client, RST | ACK, &[])
    }
}

/// Writes `packets` as a pcap file with link `link`, one every millisecond from `t0`.
pub fn pcap_of(link: &Link, packets: &[Packet], t0: f64) -> Vec<u8> {
    let mut w = PcapWriter::new(u32::from(link.linktype()), 262_144);
    for (i, p) in packets.iter().enumerate() {
        w.packet(t0 + i as f64 * 0.001, &link.frame(&p.ip()));
    }
    w.bytes
}

// ---------------------------------------------------------------------------------------------
// TLS

pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;
/// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
pub const ECDHE_RSA_AES256_GCM: u16 = 0xc030;
/// TLS_RSA_WITH_AES_256_CBC_SHA (AES256-SHA, the seed's cipher)
pub const RSA_AES256_SHA: u16 = 0x0035;

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// A TLS record.
pub fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(5 + body.len());
    r.push(content_type);
    r.extend_from_slice(&TLS12.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// Handshake messages cut into records of at most `max` bytes of body each (a message may span
/// records, and a record may hold several messages).
pub fn handshake_records(messages: &[Vec<u8>], max: usize) -> Vec<u8> {
    let all: Vec<u8> = messages.concat();
    all.chunks(max.max(1)).flat_map(|c| record(22, c)).collect()
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty];
    m.extend_from_slice(&u24(body.len()));
    m.extend_from_slice(body);
    m
}

/// ClientHello offering `ciphers`; with `tls13`, supported_versions lists TLS 1.3 and 1.2.
pub fn client_hello(random: [u8; 32], ciphers: &[u16], server_name: Option<&str>, tls13: bool) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&TLS12.to_be_bytes());
    b.extend_from_slice(&random);
    b.push(32);
    b.extend_from_slice(&[0x5a; 32]);
    b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    if let Some(name) = server_name {
        let mut sni = Vec::new();
        sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name.as_bytes());
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sni);
    }
    if tls13 {
        ext.extend_from_slice(&43u16.to_be_bytes());
        ext.extend_from_slice(&5u16.to_be_bytes());
        ext.push(4);
        ext.extend_from_slice(&TLS13.to_be_bytes());
        ext.extend_from_slice(&TLS12.to_be_bytes());
    }
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    handshake(1, &b)
}

/// ServerHello choosing `cipher`; with `tls13`, a supported_versions extension says TLS 1.3.
pub fn server_hello(cipher: u16, tls13: bool) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&TLS12.to_be_bytes());
    b.extend_from_slice(&[0x33; 32]);
    b.push(32);
    b.extend_from_slice(&[0x5a; 32]);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let mut ext = Vec::new();
    if tls13 {
        ext.extend_from_slice(&43u16.to_be_bytes());
        ext.extend_from_slice(&2u16.to_be_bytes());
        ext.extend_from_slice(&TLS13.to_be_bytes());
    }
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    handshake(2, &b)
}

/// Certificate (TLS 1.0-1.2 layout).
pub fn certificate(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        list.extend_from_slice(&u24(c.len()));
        list.extend_from_slice(c);
    }
    let mut b = u24(list.len()).to_vec();
    b.extend_from_slice(&list);
    handshake(11, &b)
}

/// CertificateRequest (TLS 1.2) listing the DER names of the CAs the server accepts.
pub fn certificate_request(ca_names: &[&[u8]]) -> Vec<u8> {
    let mut b = vec![2, 1, 64]; // rsa_sign, ecdsa_sign
    let algs: [u16; 3] = [0x0401, 0x0403, 0x0804];
    b.extend_from_slice(&((algs.len() * 2) as u16).to_be_bytes());
    for a in algs {
        b.extend_from_slice(&a.to_be_bytes());
    }
    let mut names = Vec::new();
    for n in ca_names {
        names.extend_from_slice(&(n.len() as u16).to_be_bytes());
        names.extend_from_slice(n);
    }
    b.extend_from_slice(&(names.len() as u16).to_be_bytes());
    b.extend_from_slice(&names);
    handshake(13, &b)
}

pub fn server_key_exchange() -> Vec<u8> {
    let mut b = vec![3, 0, 23, 65, 4];
    b.extend_from_slice(&[0x11; 64]);
    b.extend_from_slice(&[0x04, 0x01, 0x01, 0x00]);
    b.extend_from_slice(&[0x22; 256]);
    handshake(12, &b)
}

pub fn server_hello_done() -> Vec<u8> {
    handshake(14, &[])
}

pub fn client_key_exchange() -> Vec<u8> {
    let mut b = vec![65, 4];
    b.extend_from_slice(&[0x44; 64]);
    handshake(16, &b)
}

pub fn certificate_verify() -> Vec<u8> {
    let mut b = vec![0x04, 0x01, 0x01, 0x00];
    b.extend_from_slice(&[0x55; 256]);
    handshake(15, &b)
}

pub fn change_cipher_spec() -> Vec<u8> {
    record(20, &[1])
}

/// An encrypted Finished (after ChangeCipherSpec), as it shows on the wire.
pub fn encrypted_finished() -> Vec<u8> {
    record(22, &[0x66; 40])
}

pub fn alert(level: u8, description: u8) -> Vec<u8> {
    record(21, &[level, description])
}

pub fn application_data(len: usize) -> Vec<u8> {
    record(23, &vec![0x77; len])
}

/// The flights of a TLS 1.2 handshake, each the bytes one side sends at once.
pub struct Tls12 {
    pub client_hello: Vec<u8>,
    /// ServerHello … ServerHelloDone.
    pub server_flight: Vec<u8>,
    /// Certificate (if asked) … Finished.
    pub client_flight: Vec<u8>,
    /// ChangeCipherSpec and Finished, or a fatal alert.
    pub server_finish: Vec<u8>,
}

/// A TLS 1.2 mutual handshake. `refuse` makes the server answer the client's flight with a fatal
/// alert of that description instead of finishing; `max_record` cuts handshake messages across
/// records.
pub fn tls12_handshake(
    server_chain: &[&[u8]],
    client_chain: Option<&[&[u8]]>,
    accepted: &[&[u8]],
    refuse: Option<u8>,
    max_record: usize,
) -> Tls12 {
    let mut server_msgs =
        vec![server_hello(ECDHE_RSA_AES256_GCM, false), certificate(server_chain), server_key_exchange()];
    if client_chain.is_some() {
        server_msgs.push(certificate_request(accepted));
    }
    server_msgs.push(server_hello_done());
    let mut client_msgs = Vec::new();
    if let Some(chain) = client_chain {
        client_msgs.push(certificate(chain));
    }
    client_msgs.push(client_key_exchange());
    if client_chain.is_some_and(|c| !c.is_empty()) {
        client_msgs.push(certificate_verify());
    }
    let mut client_flight = handshake_records(&client_msgs, max_record);
    client_flight.extend(change_cipher_spec());
    client_flight.extend(encrypted_finished());
    let server_finish = match refuse {
        Some(desc) => alert(2, desc),
        None => [change_cipher_spec(), encrypted_finished()].concat(),
    };
    Tls12 {
        client_hello: handshake_records(
            &[client_hello([0x42; 32], &[ECDHE_RSA_AES256_GCM, RSA_AES256_SHA], Some("cucm-pub.lab"), false)],
            max_record,
        ),
        server_flight: handshake_records(&server_msgs, max_record),
        client_flight,
        server_finish,
    }
}

/// The packets of a whole TLS 1.2 connection: TCP open, the four flights cut into segments of
/// `mss`, some application data when it completes, and the close.
pub fn tls12_connection(conv: &mut Conversation, hs: &Tls12, mss: usize, refused: bool) -> Vec<Packet> {
    let mut p = conv.open();
    p.extend(conv.send(true, &hs.client_hello, mss));
    p.extend(conv.send(false, &hs.server_flight, mss));
    p.extend(conv.send(true, &hs.client_flight, mss));
    p.extend(conv.send(false, &hs.server_finish, mss));
    if refused {
        p.push(conv.fin(false));
        p.push(conv.fin(true));
    } else {
        p.extend(conv.send(true, &application_data(300), mss));
        p.extend(conv.send(false, &application_data(500), mss));
        p.extend(conv.send(true, &record(21, &[0x99; 26]), mss));
        p.push(conv.fin(true));
        p.push(conv.fin(false));
    }
    p
}

// ---------------------------------------------------------------------------------------------
// A large capture, for the benchmark and the comparison with tshark

/// What [`bench_capture`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct BenchCapture {
    pub bytes: u64,
    pub frames: u64,
    pub connections: u64,
}

/// Writes a pcap of at least `target_bytes`: phones (LSC or MIC, TLS 1.2, some TLS 1.3, some
/// refused with unknown_ca) connecting to SIP 5061 / SCCP 2443 / CAPF 3804, 32 at a time, each
/// with about 60 KB of application data in 1400-byte segments, over Ethernet with a VLAN tag.
pub fn bench_capture(out: impl std::io::Write, target_bytes: u64) -> std::io::Result<BenchCapture> {
    use std::io::Write as _;

    use opencapf_pki::profiles;
    use opencapf_pki::{CaSigner, KeyAlgorithm, PrivateKey};
    let now = time::OffsetDateTime::now_utc();
    let err = |e: opencapf_pki::PkiError| std::io::Error::other(e.to_string());
    let capf_key = PrivateKey::generate(KeyAlgorithm::Ec256).map_err(err)?;
    let capf = profiles::capf_certificate(&capf_key, &Default::default(), 1825, now).map_err(err)?;
    let capf = CaSigner::new(&capf.der, &capf_key).map_err(err)?;
    let mfg_key = PrivateKey::generate(KeyAlgorithm::Ec256).map_err(err)?;
    let mfg = profiles::lab_manufacturer_root(&mfg_key, now).map_err(err)?;
    let mfg = CaSigner::new(&mfg.der, &mfg_key).map_err(err)?;
    let server_key = PrivateKey::generate(KeyAlgorithm::Ec256).map_err(err)?;
    let server =
        profiles::callmanager_certificate(&server_key, "cucm-pub.lab", &Default::default(), 365, now).map_err(err)?;
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256).map_err(err)?;
    // A few distinct phones' certificates, reused.
    let mut handshakes = Vec::new();
    for i in 0..8u32 {
        let device: opencapf_pki::DeviceName =
            format!("SEP00000000{i:04X}").parse().map_err(|e: opencapf_model::ModelError| err(e.into()))?;
        let cert = if i % 4 == 3 {
            profiles::lab_mic(&mfg, &device, "CP-8861", "FCH2133E8B9", phone.public_key_der(), now).map_err(err)?.der
        } else {
            let req = profiles::LscRequest {
                device: &device,
                public_key_der: phone.public_key_der(),
                model: None,
                pid_sn: None,
                validity_days: 365,
                now,
            };
            profiles::lsc(&capf, &req).map_err(err)?.der
        };
        let refuse = if i == 5 { Some(48) } else { None };
        handshakes.push((tls12_handshake(&[&server.der], Some(&[&cert]), &[], refuse, 16384), refuse.is_some()));
    }
    let app = application_data(16000);
    let link = Link::Ethernet(vec![42]);
    let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut header = PcapWriter::new(1, 262_144);
    w.write_all(&header.bytes)?;
    header.bytes.clear();
    let mut stats = BenchCapture { bytes: 24, frames: 0, connections: 0 };
    let mut t = 1_790_000_000.0;
    let ports = [5061u16, 2443, 3804, 5061];
    while stats.bytes < target_bytes {
        // 32 connections at once, their packets interleaved.
        let mut batches: Vec<Vec<Packet>> = Vec::new();
        for _ in 0..32 {
            let n = stats.connections;
            stats.connections += 1;
            let client =
                SocketAddr::from(([10, 20, (n / 250 % 250) as u8, (n % 250) as u8 + 1], 20000 + (n % 40000) as u16));
            let server = SocketAddr::from(([10, 0, 0, 1], ports[(n % 4) as usize]));
            let mut conv = Conversation::new(client, server);
            let mut p = Vec::new();
            if n % 10 == 9 {
                // TLS 1.3: hidden certificates.
                p.extend(conv.open());
                p.extend(conv.send(true, &record(22, &client_hello([n as u8; 32], &[0x1302], None, true)), 1400));
                let mut s = record(22, &server_hello(0x1302, true));
                s.extend(change_cipher_spec());
                s.extend(application_data(1500));
                p.extend(conv.send(false, &s, 1400));
                p.extend(conv.send(true, &application_data(900), 1400));
                for _ in 0..4 {
                    p.extend(conv.send(false, &app, 1400));
                }
                p.push(conv.fin(true));
                p.push(conv.fin(false));
            } else {
                let (hs, refused) = &handshakes[(n % 8) as usize];
                p.extend(conv.open());
                p.extend(conv.send(true, &hs.client_hello, 1400));
                p.extend(conv.send(false, &hs.server_flight, 1400));
                p.extend(conv.send(true, &hs.client_flight, 1400));
                p.extend(conv.send(false, &hs.server_finish, 1400));
                if !refused {
                    for _ in 0..4 {
                        p.extend(conv.send(false, &app, 1400));
                        p.extend(conv.send(true, &application_data(200), 1400));
                    }
                }
                p.push(conv.fin(true));
                p.push(conv.fin(false));
            }
            batches.push(p);
        }
        let longest = batches.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..longest {
            for b in &batches {
                if let Some(p) = b.get(i) {
                    header.packet(t, &link.frame(&p.ip()));
                    t += 0.00001;
                    stats.frames += 1;
                }
            }
            stats.bytes += header.bytes.len() as u64;
            w.write_all(&header.bytes)?;
            header.bytes.clear();
        }
    }
    w.flush()?;
    Ok(stats)
}
