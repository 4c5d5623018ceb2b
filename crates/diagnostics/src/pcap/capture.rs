//! Reading pcap and pcapng files as a stream: one frame at a time through a bounded buffer.

use std::io::{Cursor, Read};

use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{Block, LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};
use serde::Serialize;

use crate::DiagnoseError;

/// The reader's buffer to start with; it grows for larger blocks up to [`MAX_BLOCK`].
pub const INITIAL_BUFFER: usize = 256 * 1024;
/// No real packet or pcapng block is larger: past this the capture is damaged.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pcap,
    Pcapng,
}

/// One captured frame, borrowed from the reader's buffer.
pub struct Frame<'a> {
    pub interface: usize,
    pub linktype: i32,
    /// Seconds since 1970, when the capture says.
    pub ts: Option<f64>,
    pub data: &'a [u8],
    pub orig_len: u32,
}

/// An interface of the capture (pcap has one; pcapng one per Interface Description Block).
#[derive(Debug, Clone, Serialize)]
pub struct Interface {
    pub linktype: i32,
    pub link: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip)]
    resolution: u64,
    #[serde(skip)]
    offset: i64,
}

/// What reading the file found, beside the frames.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    pub format: Format,
    pub interfaces: Vec<Interface>,
    pub frames: u64,
    pub bytes_read: u64,
    /// pcapng packets naming an interface that no Interface Description Block declared.
    #[serde(skip_serializing_if = "is_zero")]
    pub frames_without_interface: u64,
    /// Why reading stopped before the end of the file, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

pub fn link_name(linktype: i32) -> String {
    match linktype {
        0 => "BSD loopback (NULL)".into(),
        1 => "Ethernet".into(),
        12 | 14 | 101 => "raw IP".into(),
        108 => "OpenBSD loopback".into(),
        113 => "Linux cooked (SLL)".into(),
        228 => "raw IPv4".into(),
        229 => "raw IPv6".into(),
        276 => "Linux cooked v2 (SLL2)".into(),
        n => format!("link type {n} (not supported)"),
    }
}

/// Reads every frame of a pcap or pcapng stream, calling `on_frame` for each. Damage and
/// truncation stop the reading with [`CaptureInfo::stopped`] set; only input that is no capture
/// at all is an error.
pub fn read_frames<R: Read>(mut input: R, mut on_frame: impl FnMut(Frame<'_>)) -> Result<CaptureInfo, DiagnoseError> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DiagnoseError::io("reading the capture")(e)),
        }
    }
    if got < 4 {
        return Err(DiagnoseError::NotACapture(format!(
            "the file is {got} bytes long: too short for a pcap or pcapng header"
        )));
    }
    let format = match magic {
        [0x0a, 0x0d, 0x0d, 0x0a] => Format::Pcapng,
        [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] | [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d] => {
            Format::Pcap
        }
        [0x34, 0xcd, 0xb2, 0xa1] => Format::Pcap,
        [0x1f, 0x8b, ..] => {
            return Err(DiagnoseError::NotACapture(
                "this is a gzip file: decompress it first (gunzip), then give the .pcap or .pcapng".into(),
            ))
        }
        _ => {
            return Err(DiagnoseError::NotACapture(format!(
                "not a pcap or pcapng file (it starts with {}); save the capture as pcap or pcapng \
                 (tcpdump -w, Wireshark \"Save As\")",
                hex::encode(magic)
            )))
        }
    };
    let stream = FullRead(Cursor::new(magic).chain(input));
    let mut info = CaptureInfo {
        format,
        interfaces: Vec::new(),
        frames: 0,
        bytes_read: 0,
        frames_without_interface: 0,
        stopped: None,
    };
    match format {
        Format::Pcap => {
            let reader = LegacyPcapReader::new(INITIAL_BUFFER, stream).map_err(|e| header_error(&e))?;
            pump(reader, &mut info, &mut on_frame);
        }
        Format::Pcapng => {
            let reader = PcapNGReader::new(INITIAL_BUFFER, stream).map_err(|e| header_error(&e))?;
            pump(reader, &mut info, &mut on_frame);
        }
    }
    Ok(info)
}

fn header_error(e: &PcapError<&[u8]>) -> DiagnoseError {
    DiagnoseError::NotACapture(match e {
        PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
            "the capture ends inside its file header".into()
        }
        PcapError::ReadError => "the capture could not be read".into(),
        _ => "the capture's file header is damaged".into(),
    })
}

fn pump<R: PcapReaderIterator>(mut reader: R, info: &mut CaptureInfo, on_frame: &mut impl FnMut(Frame<'_>)) {
    let mut capacity = INITIAL_BUFFER;
    let mut big_endian = false;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        big_endian = h.is_bigendian();
                        let resolution = if h.is_nanosecond_precision() { 1_000_000_000 } else { 1_000_000 };
                        info.interfaces.push(Interface {
                            linktype: h.network.0,
                            link: link_name(h.network.0),
                            name: None,
                            resolution,
                            offset: 0,
                        });
                    }
                    PcapBlockOwned::Legacy(b) => {
                        if let Some(iface) = info.interfaces.first() {
                            let ts = f64::from(b.ts_sec) + f64::from(b.ts_usec) / iface.resolution as f64;
                            info.frames += 1;
                            on_frame(Frame {
                                interface: 0,
                                linktype: iface.linktype,
                                ts: Some(ts),
                                data: b.data,
                                orig_len: b.origlen,
                            });
                        }
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                        big_endian = shb.big_endian();
                        info.interfaces.clear();
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        let name = idb.if_name().and_then(|n| n.ok()).map(str::to_owned);
                        info.interfaces.push(Interface {
                            linktype: idb.linktype.0,
                            link: link_name(idb.linktype.0),
                            name,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset: idb.ts_offset(),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => match info.interfaces.get(epb.if_id as usize) {
                        Some(iface) => {
                            let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                            let ts = raw as f64 / iface.resolution as f64 + iface.offset as f64;
                            info.frames += 1;
                            on_frame(Frame {
                                interface: epb.if_id as usize,
                                linktype: iface.linktype,
                                ts: Some(ts),
                                data: epb.packet_data(),
                                orig_len: epb.origlen,
                            });
                        }
                        None => info.frames_without_interface += 1,
                    },
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        if let Some(iface) = info.interfaces.first() {
                            info.frames += 1;
                            on_frame(Frame {
                                interface: 0,
                                linktype: iface.linktype,
                                ts: None,
                                data: spb.packet_data(),
                                orig_len: spb.origlen,
                            });
                        }
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                info.bytes_read += offset as u64;
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    info.stopped = Some(format!("read error after {} bytes", info.bytes_read));
                    break;
                }
            }
            Err(PcapError::UnexpectedEof) => {
                let claimed = claimed_length(info.format, big_endian, reader.data());
                if claimed.is_some_and(|n| n > MAX_BLOCK as u64) {
                    info.stopped = Some(damaged(info.bytes_read));
                    break;
                }
                info.stopped = Some(format!(
                    "the capture is truncated: it ends inside a record after {} bytes (the frames before were read)",
                    info.bytes_read
                ));
                break;
            }
            Err(PcapError::BufferTooSmall) => {
                if capacity >= MAX_BLOCK
                    || claimed_length(info.format, big_endian, reader.data()).is_some_and(|n| n > MAX_BLOCK as u64)
                {
                    info.stopped = Some(damaged(info.bytes_read));
                    break;
                }
                capacity = (capacity * 4).min(MAX_BLOCK);
                if !reader.grow(capacity) || reader.refill().is_err() {
                    info.stopped = Some(format!("could not read a record of more than {capacity} bytes"));
                    break;
                }
            }
            Err(e) => {
                let what = match e {
                    PcapError::ReadError => "read error".to_owned(),
                    PcapError::HeaderNotRecognized => "unrecognised block".to_owned(),
                    _ => "damaged record".to_owned(),
                };
                info.stopped = Some(format!(
                    "{what} at byte {}: the capture is damaged from there (the frames before were read)",
                    info.bytes_read
                ));
                break;
            }
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A reader whose `read` fills the buffer unless the input ends: pcap-parser reads the file header
/// with a single `read` call.
struct FullRead<R>(R);

impl<R: Read> Read for FullRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.0.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if n > 0 => {
                    let _ = e;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

fn damaged(at: u64) -> String {
    format!(
        "a record at byte {at} claims more than {} MiB: the capture is damaged from there (the frames before were read)",
        MAX_BLOCK >> 20
    )
}

/// The length the next record (pcap) or block (pcapng) claims, from its header.
fn claimed_length(format: Format, big_endian: bool, data: &[u8]) -> Option<u64> {
    let at = match format {
        Format::Pcap => 8,
        Format::Pcapng => 4,
    };
    let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(u64::from(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }))
}
