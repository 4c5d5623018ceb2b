//! `diagnose pcap`: every TLS connection of a capture, which certificate each side presented, and
//! who refused whom and why.
//!
//! The capture is read as a stream ([`capture`]): memory stays bounded whatever its size. Frames
//! are decoded to TCP segments ([`decode`]), reassembled per direction with a bounded buffer for
//! out-of-order data ([`tcp`]), and read as TLS records and handshake messages ([`tls`]). A
//! connection is reported and forgotten as soon as it ends; a direction is no longer reassembled
//! once its handshake is over and enough application records have been seen.

pub mod capture;
pub mod decode;
mod hunt;
pub mod keylog;
mod report;
pub mod tcp;
pub mod tls;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use time::OffsetDateTime;

pub use capture::{CaptureInfo, Format, Interface};
pub use keylog::KeyLog;
pub use report::{
    rfc3339 as rfc3339_public, AlertReport, CertSummary, ClientCertificate, Outcome, OutcomeKind, PcapReport,
    PcapStats, Service, Side, TlsConnection,
};

use crate::cluster::{ClusterView, StoreVerdict};
use crate::DiagnoseError;
use decode::{Decoded, Segment, ACK, FIN, RST, SYN};
use tcp::Stream;
use tls::{Event, TlsState};

/// Flows tracked at once; past this the least recently active are reported and forgotten.
pub const MAX_FLOWS: usize = 65_536;
/// A flow silent for this long (capture time) is reported and forgotten.
pub const IDLE_SECONDS: f64 = 600.0;
/// Out-of-order data held over all flows; past this the flow that adds to it declares its holes.
pub const MAX_PENDING_TOTAL: usize = 64 * 1024 * 1024;
/// Connections kept in the report; later ones are counted only.
pub const MAX_REPORTED_CONNECTIONS: usize = 100_000;

/// What `diagnose pcap` knows beside the capture.
#[derive(Clone)]
pub struct PcapOptions {
    /// The cluster, to tell its LSCs from others' and to check certificates against its stores.
    pub cluster: Option<ClusterView>,
    /// A TLS key log, to read TLS 1.3 client certificates.
    pub keylog: Option<Arc<KeyLog>>,
    /// The time certificates are checked at.
    pub at: OffsetDateTime,
}

impl Default for PcapOptions {
    fn default() -> Self {
        PcapOptions { cluster: None, keylog: None, at: OffsetDateTime::now_utc() }
    }
}

struct Flow {
    /// Direction 0 goes from `ends[0]` to `ends[1]`.
    ends: [SocketAddr; 2],
    streams: [Stream; 2],
    tls: TlsState,
    syn_from: Option<usize>,
    syn_seq: [Option<u32>; 2],
    fin: [bool; 2],
    rst: Option<usize>,
    first_ts: Option<f64>,
    last_ts: Option<f64>,
    last_frame: u64,
    data_seen: bool,
    /// Why the flow was reported before it ended, if it was.
    cut_short: Option<&'static str>,
}

/// The streaming analysis; feed it frames, then [`Analyzer::finish`].
pub struct Analyzer {
    opts: PcapOptions,
    flows: HashMap<(SocketAddr, SocketAddr), Flow>,
    recently_closed: HashSet<(SocketAddr, SocketAddr)>,
    closed_order: VecDeque<(SocketAddr, SocketAddr)>,
    verdicts: HashMap<String, Vec<StoreVerdict>>,
    report: PcapReport,
    frame_index: u64,
    now_ts: f64,
    pending_total: usize,
}

/// Analyzes a capture read from `input`.
pub fn analyze<R: Read>(input: R, opts: &PcapOptions) -> Result<PcapReport, DiagnoseError> {
    let mut analyzer = Analyzer::new(opts.clone());
    let info = capture::read_frames(input, |frame| analyzer.frame(&frame))?;
    Ok(analyzer.finish(info))
}

/// Analyzes the capture in the file at `path`.
pub fn analyze_file(path: &Path, opts: &PcapOptions) -> Result<PcapReport, DiagnoseError> {
    let file = std::fs::File::open(path).map_err(DiagnoseError::io(format!("opening {}", path.display())))?;
    let mut report = analyze(std::io::BufReader::with_capacity(1 << 20, file), opts)?;
    report.file = Some(path.display().to_string());
    Ok(report)
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Analyzer {
    pub fn new(opts: PcapOptions) -> Analyzer {
        let report = PcapReport {
            cluster_checked: opts.cluster.is_some(),
            keylog_entries: opts.keylog.as_ref().map(|k| k.len()),
            ..Default::default()
        };
        Analyzer {
            opts,
            flows: HashMap::new(),
            recently_closed: HashSet::new(),
            closed_order: VecDeque::new(),
            verdicts: HashMap::new(),
            report,
            frame_index: 0,
            now_ts: 0.0,
            pending_total: 0,
        }
    }

    /// Flows currently held (for tests of the memory bound).
    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    pub fn frame(&mut self, frame: &capture::Frame<'_>) {
        self.frame_index += 1;
        let stats = &mut self.report.stats;
        stats.frames += 1;
        stats.bytes += frame.data.len() as u64;
        if let Some(ts) = frame.ts {
            if ts.is_finite() && ts > self.now_ts {
                self.now_ts = ts;
            }
        }
        match decode::decode(frame.linktype, frame.data) {
            Decoded::Tcp(seg) => {
                stats.tcp_segments += 1;
                self.segment(seg, frame.ts);
            }
            Decoded::Other => stats.other_frames += 1,
            Decoded::Fragment => stats.ip_fragments += 1,
            Decoded::UnsupportedLink => {
                stats.unsupported_link_frames += 1;
                if !self.report.unsupported_links.contains(&frame.linktype) {
                    self.report.unsupported_links.push(frame.linktype);
                }
            }
            Decoded::Malformed(why) => {
                stats.malformed_frames += 1;
                if self.report.malformed_examples.len() < 5 && !self.report.malformed_examples.iter().any(|m| m == why)
                {
                    self.report.malformed_examples.push(why.to_owned());
                }
            }
        }
        if self.frame_index & 16_383 == 0 {
            self.sweep();
        }
    }

    fn segment(&mut self, seg: Segment<'_>, ts: Option<f64>) {
        let k = key(seg.src, seg.dst);
        let syn_only = seg.flags & SYN != 0 && seg.flags & ACK == 0;
        if let Some(flow) = self.flows.get(&k) {
            let d = usize::from(seg.src != flow.ends[0]);
            let restarted = syn_only
                && flow.syn_seq[d] != Some(seg.seq)
                && (flow.data_seen || flow.fin.iter().any(|f| *f) || flow.rst.is_some());
            if restarted {
                if let Some(old) = self.flows.remove(&k) {
                    self.finalize(k, old);
                }
                self.recently_closed.remove(&k);
            }
        }
        if !self.flows.contains_key(&k) {
            if self.recently_closed.contains(&k) && !syn_only {
                self.report.stats.late_segments += 1;
                return;
            }
            if self.flows.len() >= MAX_FLOWS {
                self.evict_oldest();
            }
            self.report.stats.tcp_flows += 1;
            self.flows.insert(
                k,
                Flow {
                    ends: [seg.src, seg.dst],
                    streams: [Stream::default(), Stream::default()],
                    tls: TlsState::new(self.opts.keylog.clone()),
                    syn_from: None,
                    syn_seq: [None, None],
                    fin: [false, false],
                    rst: None,
                    first_ts: ts,
                    last_ts: ts,
                    last_frame: 0,
                    data_seen: false,
                    cut_short: None,
                },
            );
        }
        let Some(flow) = self.flows.get_mut(&k) else { return };
        let d = usize::from(seg.src != flow.ends[0]);
        flow.last_frame = self.frame_index;
        if ts.is_some() {
            flow.last_ts = ts;
            flow.first_ts = flow.first_ts.or(ts);
        }
        if seg.flags & SYN != 0 {
            flow.streams[d].syn(seg.seq);
            flow.syn_seq[d] = Some(seg.seq);
            if seg.flags & ACK == 0 {
                flow.syn_from = Some(d);
            }
        }
        let fin = seg.flags & FIN != 0;
        let held_before = flow.streams[0].pending_bytes() + flow.streams[1].pending_bytes();
        if !seg.payload.is_empty() || seg.missing_tail > 0 || fin {
            let data_start = if seg.flags & SYN != 0 { seg.seq.wrapping_add(1) } else { seg.seq };
            flow.data_seen |= !seg.payload.is_empty();
            let Flow { streams, tls, .. } = flow;
            streams[d].segment(data_start, seg.payload, seg.missing_tail, fin, &mut |c| tls.chunk(d, c));
            if tls.is_tls == Some(false) {
                streams[0].go_passive();
                streams[1].go_passive();
            } else if tls.dir_done(d) && !streams[d].passive {
                streams[d].go_passive();
            }
            let held = streams[0].pending_bytes() + streams[1].pending_bytes();
            self.pending_total = self.pending_total + held - held_before;
            if self.pending_total > MAX_PENDING_TOTAL {
                let mine = streams[d].pending_bytes();
                streams[d].flush_pending(&mut |c| tls.chunk(d, c));
                self.pending_total -= mine;
            }
        }
        if fin && !flow.fin[d] {
            flow.fin[d] = true;
            flow.tls.event(Event::Fin(d));
        }
        let mut over = false;
        if seg.flags & RST != 0 {
            flow.rst = Some(d);
            flow.tls.event(Event::Rst(d));
            over = true;
        }
        if flow.fin[0] && flow.fin[1] {
            over = flow.streams.iter().all(|s| s.passive || s.complete());
        }
        if over {
            if let Some(flow) = self.flows.remove(&k) {
                self.finalize(k, flow);
            }
        }
    }

    fn sweep(&mut self) {
        let limit = self.now_ts - IDLE_SECONDS;
        let idle: Vec<_> =
            self.flows.iter().filter(|(_, f)| f.last_ts.is_some_and(|t| t < limit)).map(|(k, _)| *k).collect();
        for k in idle {
            if let Some(mut flow) = self.flows.remove(&k) {
                flow.cut_short = Some("idle for more than 10 minutes of capture time");
                self.finalize(k, flow);
            }
        }
    }

    fn evict_oldest(&mut self) {
        let mut ages: Vec<(u64, (SocketAddr, SocketAddr))> =
            self.flows.iter().map(|(k, f)| (f.last_frame, *k)).collect();
        ages.sort_unstable();
        let n = ages.len() / 10 + 1;
        for (_, k) in ages.into_iter().take(n) {
            if let Some(mut flow) = self.flows.remove(&k) {
                flow.cut_short = Some("too many connections open at once: tracking stopped");
                self.report.stats.evicted_flows += 1;
                self.finalize(k, flow);
            }
        }
    }

    fn finalize(&mut self, k: (SocketAddr, SocketAddr), mut flow: Flow) {
        let held = flow.streams[0].pending_bytes() + flow.streams[1].pending_bytes();
        self.pending_total = self.pending_total.saturating_sub(held);
        for d in 0..2 {
            let Flow { streams, tls, .. } = &mut flow;
            streams[d].finish(&mut |c| tls.chunk(d, c));
        }
        if self.recently_closed.insert(k) {
            self.closed_order.push_back(k);
            if self.closed_order.len() > 4096 {
                if let Some(old) = self.closed_order.pop_front() {
                    self.recently_closed.remove(&old);
                }
            }
        }
        let stats = &mut self.report.stats;
        for s in &flow.streams {
            stats.retransmitted_bytes += s.stats.retransmitted_bytes;
            stats.gap_bytes += s.stats.gap_bytes;
            stats.out_of_order_segments += s.stats.out_of_order_segments;
        }
        match flow.tls.is_tls {
            Some(true)
                if flow.tls.client_hello || flow.tls.server_hello || flow.syn_seq.iter().any(Option::is_some) => {}
            Some(true) => {
                stats.tls_flows_without_handshake += 1;
                return;
            }
            _ => {
                stats.other_tcp_flows += 1;
                return;
            }
        }
        if self.report.connections.len() >= MAX_REPORTED_CONNECTIONS {
            self.report.connections_not_listed += 1;
            return;
        }
        let index = self.report.connections.len() + 1;
        let conn = report::connection(index, &flow_view(&flow), &flow.tls, &self.opts, &mut self.verdicts);
        self.report.connections.push(conn);
    }

    /// Reports the flows still open and returns the report.
    pub fn finish(mut self, info: CaptureInfo) -> PcapReport {
        let mut open: Vec<_> = self.flows.drain().collect();
        open.sort_by_key(|(_, f)| f.first_ts.map(|t| (t * 1e6) as i64).unwrap_or(0));
        for (k, flow) in open {
            self.finalize(k, flow);
        }
        self.report
            .connections
            .sort_by(|a, b| a.first_seen_ts.partial_cmp(&b.first_seen_ts).unwrap_or(std::cmp::Ordering::Equal));
        for (i, c) in self.report.connections.iter_mut().enumerate() {
            c.index = i + 1;
        }
        self.report.capture = Some(info);
        report::findings(&mut self.report, &self.opts);
        self.report
    }
}

/// What the report needs from a flow, beside its TLS state.
pub(crate) struct FlowView {
    pub ends: [SocketAddr; 2],
    pub syn_from: Option<usize>,
    pub fin: [bool; 2],
    pub rst: Option<usize>,
    pub first_ts: Option<f64>,
    pub gap_bytes: [u64; 2],
    pub cut_short: Option<&'static str>,
}

fn flow_view(f: &Flow) -> FlowView {
    FlowView {
        ends: f.ends,
        syn_from: f.syn_from,
        fin: f.fin,
        rst: f.rst,
        first_ts: f.first_ts,
        gap_bytes: [f.streams[0].stats.gap_bytes, f.streams[1].stats.gap_bytes],
        cut_short: f.cut_short,
    }
}
