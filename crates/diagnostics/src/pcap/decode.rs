//! From a captured frame to a TCP segment: link layer, 802.1Q tags, IPv4/IPv6, TCP.
//! Checksums are not verified (captures taken on the sending host carry offloaded ones).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// A TCP segment borrowed from a frame.
#[derive(Debug)]
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: u8,
    pub payload: &'a [u8],
    /// Payload bytes the IP header announces but the capture did not keep (snap length).
    pub missing_tail: u32,
}

#[derive(Debug)]
pub enum Decoded<'a> {
    Tcp(Segment<'a>),
    /// IP but not TCP, or not IP at all (ARP, LLDP, …).
    Other,
    /// An IP fragment: TCP inside fragments is not reassembled.
    Fragment,
    UnsupportedLink,
    Malformed(&'static str),
}

fn u16_at(d: &[u8], i: usize) -> Option<u16> {
    d.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], i: usize) -> Option<u32> {
    d.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;

/// Decodes one frame of link type `linktype`.
pub fn decode(linktype: i32, data: &[u8]) -> Decoded<'_> {
    match linktype {
        // Ethernet
        1 => match data.get(14..) {
            Some(rest) => ethertype_payload(u16_at(data, 12).unwrap_or(0), rest),
            None => Decoded::Malformed("Ethernet frame shorter than its header"),
        },
        // Linux cooked capture v1: protocol at bytes 14-15, 16-byte header.
        113 => match data.get(16..) {
            Some(rest) => ethertype_payload(u16_at(data, 14).unwrap_or(0), rest),
            None => Decoded::Malformed("Linux cooked (SLL) frame shorter than its header"),
        },
        // Linux cooked capture v2: protocol at bytes 0-1, 20-byte header.
        276 => match data.get(20..) {
            Some(rest) => ethertype_payload(u16_at(data, 0).unwrap_or(0), rest),
            None => Decoded::Malformed("Linux cooked (SLL2) frame shorter than its header"),
        },
        // Raw IP (the version nibble tells which).
        12 | 14 | 101 => match data.first().map(|b| b >> 4) {
            Some(4) => ipv4(data),
            Some(6) => ipv6(data),
            Some(_) => Decoded::Other,
            None => Decoded::Malformed("empty raw IP frame"),
        },
        228 => ipv4(data),
        229 => ipv6(data),
        // BSD loopback: a 4-byte address family in the capturing host's byte order (NULL), or
        // in network order (LOOP).
        0 | 108 => {
            let Some(fam) = data.get(..4) else {
                return Decoded::Malformed("loopback frame shorter than its header");
            };
            let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let family = if linktype == 108 {
                be
            } else if le < 256 {
                le
            } else {
                be
            };
            match family {
                2 => ipv4(&data[4..]),
                24 | 28 | 30 => ipv6(&data[4..]),
                _ => Decoded::Other,
            }
        }
        _ => Decoded::UnsupportedLink,
    }
}

/// After an EtherType: 802.1Q / 802.1ad tags (any number), then IPv4 or IPv6.
fn ethertype_payload(mut ethertype: u16, mut rest: &[u8]) -> Decoded<'_> {
    let mut tags = 0;
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        tags += 1;
        if tags > 8 {
            return Decoded::Malformed("more than 8 VLAN tags");
        }
        match (u16_at(rest, 2), rest.get(4..)) {
            (Some(t), Some(r)) => {
                ethertype = t;
                rest = r;
            }
            _ => return Decoded::Malformed("truncated VLAN tag"),
        }
    }
    match ethertype {
        ETH_IPV4 => ipv4(rest),
        ETH_IPV6 => ipv6(rest),
        _ => Decoded::Other,
    }
}

fn ipv4(d: &[u8]) -> Decoded<'_> {
    if d.len() < 20 || d[0] >> 4 != 4 {
        return Decoded::Malformed("IPv4 header truncated or wrong version");
    }
    let ihl = usize::from(d[0] & 0x0f) * 4;
    let total = usize::from(u16_at(d, 2).unwrap_or(0));
    if ihl < 20 || total < ihl || d.len() < ihl {
        return Decoded::Malformed("IPv4 header with impossible lengths");
    }
    let frag = u16_at(d, 6).unwrap_or(0);
    if frag & 0x3fff != 0 {
        return Decoded::Fragment;
    }
    if d[9] != 6 {
        return Decoded::Other;
    }
    let src = IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19]));
    // Frames may carry Ethernet padding past the IP length; captures may keep less than it.
    let declared = total - ihl;
    let available = &d[ihl..d.len().min(total)];
    tcp(src, dst, available, declared)
}

fn ipv6(d: &[u8]) -> Decoded<'_> {
    if d.len() < 40 || d[0] >> 4 != 6 {
        return Decoded::Malformed("IPv6 header truncated or wrong version");
    }
    let payload_len = usize::from(u16_at(d, 4).unwrap_or(0));
    let mut next = d[6];
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&d[8..24]);
    dst.copy_from_slice(&d[24..40]);
    let body = &d[40..];
    let mut available = &body[..body.len().min(payload_len)];
    let mut declared = payload_len;
    for _ in 0..8 {
        match next {
            6 => {
                return tcp(IpAddr::V6(Ipv6Addr::from(src)), IpAddr::V6(Ipv6Addr::from(dst)), available, declared);
            }
            // Hop-by-hop, routing, destination options: (next, length in 8-octet units - 1).
            0 | 43 | 60 => {
                let (Some(&n), Some(&l)) = (available.first(), available.get(1)) else {
                    return Decoded::Malformed("truncated IPv6 extension header");
                };
                let len = (usize::from(l) + 1) * 8;
                if available.len() < len || declared < len {
                    return Decoded::Malformed("truncated IPv6 extension header");
                }
                next = n;
                available = &available[len..];
                declared -= len;
            }
            // Fragment header.
            44 => {
                let Some(h) = available.get(..8) else {
                    return Decoded::Malformed("truncated IPv6 fragment header");
                };
                let off_flags = u16::from_be_bytes([h[2], h[3]]);
                if off_flags & 0xfff9 != 0 {
                    return Decoded::Fragment;
                }
                next = h[0];
                available = &available[8..];
                declared = declared.saturating_sub(8);
            }
            // Authentication header: length in 4-octet units - 2.
            51 => {
                let (Some(&n), Some(&l)) = (available.first(), available.get(1)) else {
                    return Decoded::Malformed("truncated IPv6 authentication header");
                };
                let len = (usize::from(l) + 2) * 4;
                if available.len() < len || declared < len {
                    return Decoded::Malformed("truncated IPv6 authentication header");
                }
                next = n;
                available = &available[len..];
                declared -= len;
            }
            _ => return Decoded::Other,
        }
    }
    Decoded::Malformed("too many IPv6 extension headers")
}

fn tcp(src: IpAddr, dst: IpAddr, d: &[u8], declared: usize) -> Decoded<'_> {
    if d.len() < 20 {
        return Decoded::Malformed("TCP header truncated");
    }
    let sport = u16_at(d, 0).unwrap_or(0);
    let dport = u16_at(d, 2).unwrap_or(0);
    let seq = u32_at(d, 4).unwrap_or(0);
    let doff = usize::from(d[12] >> 4) * 4;
    let flags = d[13];
    if doff < 20 || d.len() < doff || declared < doff {
        return Decoded::Malformed("TCP header with an impossible length");
    }
    let payload = &d[doff..];
    let missing_tail = u32::try_from(declared - doff - payload.len().min(declared - doff)).unwrap_or(u32::MAX);
    Decoded::Tcp(Segment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq,
        flags,
        payload: &payload[..payload.len().min(declared - doff)],
        missing_tail,
    })
}
