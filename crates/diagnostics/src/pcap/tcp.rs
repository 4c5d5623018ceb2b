//! TCP reassembly, one direction at a time: in order, through retransmissions and overlaps, with
//! out-of-order segments held in a bounded buffer. Missing data is reported as a gap, never
//! guessed.

use std::collections::BTreeMap;

use serde::Serialize;

/// Out-of-order data held per direction before the earliest hole is declared a gap.
pub const MAX_PENDING: usize = 256 * 1024;

/// What the stream hands on, in order.
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// This many bytes of the stream were never captured.
    Gap(u64),
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamStats {
    pub bytes: u64,
    pub retransmitted_bytes: u64,
    pub out_of_order_segments: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
}

/// One direction of a TCP connection.
#[derive(Default)]
pub struct Stream {
    started: bool,
    /// Stream offset of the next byte to hand on, and its sequence number.
    next_abs: u64,
    next_seq: u32,
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// Stream offset just past the last byte, once a FIN says where the stream ends.
    end_abs: Option<u64>,
    /// No more reassembly: the parser above needs nothing more from this direction.
    pub passive: bool,
    pub stats: StreamStats,
}

impl Stream {
    /// The SYN: the stream's first byte is `seq + 1`.
    pub fn syn(&mut self, seq: u32) {
        if !self.started {
            self.started = true;
            self.next_seq = seq.wrapping_add(1);
            self.next_abs = 0;
        }
    }

    pub fn started(&self) -> bool {
        self.started
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Whether everything up to the FIN has been handed on.
    pub fn complete(&self) -> bool {
        self.pending.is_empty() && self.end_abs.is_some_and(|e| e <= self.next_abs)
    }

    fn advance(&mut self, n: u64) {
        self.next_abs += n;
        self.next_seq = self.next_seq.wrapping_add(n as u32);
    }

    fn offset_of(&self, seq: u32) -> i64 {
        self.next_abs as i64 + i64::from(seq.wrapping_sub(self.next_seq) as i32)
    }

    /// One segment: `payload` starting at `seq`, followed by `missing_tail` bytes the capture did
    /// not keep, and a FIN after them if `fin`.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing_tail: u32,
        fin: bool,
        sink: &mut impl FnMut(Chunk<'_>),
    ) {
        if self.passive {
            return;
        }
        if !self.started {
            if payload.is_empty() && missing_tail == 0 {
                return;
            }
            self.started = true;
            self.next_seq = seq;
            self.next_abs = 0;
        }
        let len = payload.len() as u64 + u64::from(missing_tail);
        let mut start = self.offset_of(seq);
        if fin {
            let end = start + len as i64;
            if end >= 0 {
                self.end_abs = Some(end as u64);
            }
        }
        if len == 0 {
            return;
        }
        let end = start + len as i64;
        if end <= self.next_abs as i64 {
            self.stats.retransmitted_bytes += len;
            return;
        }
        let mut data = payload;
        let mut missing = u64::from(missing_tail);
        if start < self.next_abs as i64 {
            // Overlap with what was already handed on: keep the new part only.
            let cut = (self.next_abs as i64 - start) as u64;
            self.stats.retransmitted_bytes += cut;
            let from_data = cut.min(data.len() as u64) as usize;
            data = &data[from_data..];
            missing -= cut - from_data as u64;
            start = self.next_abs as i64;
        }
        let start = start as u64;
        if start == self.next_abs {
            self.hand_on(data, sink);
            if missing > 0 {
                self.gap(missing, sink);
            }
            self.drain(sink);
            return;
        }
        // Ahead of a hole: hold it, within the bound.
        self.stats.out_of_order_segments += 1;
        while self.pending_bytes + data.len() > MAX_PENDING && !self.pending.is_empty() {
            self.skip_to_first_pending(sink);
        }
        if self.pending_bytes + data.len() > MAX_PENDING || start <= self.next_abs {
            // The segment alone exceeds the bound, or skipping made it current: treat again.
            if start > self.next_abs {
                let hole = start - self.next_abs;
                self.gap(hole, sink);
            }
            let cut = (self.next_abs - start).min(data.len() as u64) as usize;
            self.hand_on(&data[cut..], sink);
            self.drain(sink);
            return;
        }
        match self.pending.get(&start) {
            Some(existing) if existing.len() >= data.len() => {}
            Some(existing) => {
                self.pending_bytes -= existing.len();
                self.pending_bytes += data.len();
                self.pending.insert(start, data.to_vec());
            }
            None => {
                self.pending_bytes += data.len();
                self.pending.insert(start, data.to_vec());
            }
        }
    }

    fn hand_on(&mut self, data: &[u8], sink: &mut impl FnMut(Chunk<'_>)) {
        if !data.is_empty() {
            self.stats.bytes += data.len() as u64;
            self.advance(data.len() as u64);
            sink(Chunk::Data(data));
        }
    }

    fn gap(&mut self, n: u64, sink: &mut impl FnMut(Chunk<'_>)) {
        self.stats.gaps += 1;
        self.stats.gap_bytes += n;
        self.advance(n);
        sink(Chunk::Gap(n));
    }

    /// Hands on held segments that have become current.
    fn drain(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        while let Some((&start, _)) = self.pending.first_key_value() {
            if start > self.next_abs {
                break;
            }
            let data = self.pending.remove(&start).unwrap_or_default();
            self.pending_bytes -= data.len();
            let end = start + data.len() as u64;
            if end <= self.next_abs {
                self.stats.retransmitted_bytes += data.len() as u64;
                continue;
            }
            let cut = (self.next_abs - start) as usize;
            self.stats.retransmitted_bytes += cut as u64;
            self.hand_on(&data[cut..], sink);
        }
    }

    fn skip_to_first_pending(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        if let Some((&start, _)) = self.pending.first_key_value() {
            if start > self.next_abs {
                let hole = start - self.next_abs;
                self.gap(hole, sink);
            }
            self.drain(sink);
        }
    }

    /// The connection is over (or the capture is): hand on what is held, declaring the holes.
    pub fn finish(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        if self.passive {
            return;
        }
        while !self.pending.is_empty() {
            self.skip_to_first_pending(sink);
        }
        if let Some(end) = self.end_abs {
            if end > self.next_abs {
                let hole = end - self.next_abs;
                self.gap(hole, sink);
            }
        }
    }

    /// Declares the holes before everything held and hands it on (memory pressure).
    pub fn flush_pending(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        while !self.pending.is_empty() {
            self.skip_to_first_pending(sink);
        }
    }

    /// Stops reassembling this direction and frees what it holds.
    pub fn go_passive(&mut self) {
        self.passive = true;
        self.pending.clear();
        self.pending_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stream: &mut Stream, segs: &[(u32, &[u8])]) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let mut gaps = 0;
        for (seq, data) in segs {
            stream.segment(*seq, data, 0, false, &mut |c| match c {
                Chunk::Data(d) => out.extend_from_slice(d),
                Chunk::Gap(n) => gaps += n,
            });
        }
        stream.finish(&mut |c| match c {
            Chunk::Data(d) => out.extend_from_slice(d),
            Chunk::Gap(n) => gaps += n,
        });
        (out, gaps)
    }

    #[test]
    fn reorders_and_drops_retransmissions_and_overlaps() {
        let mut s = Stream::default();
        s.syn(999);
        let (out, gaps) =
            run(&mut s, &[(1005, b"fgh"), (1000, b"abc"), (1000, b"abc"), (1002, b"cdef"), (1008, b"ij")]);
        assert_eq!(out, b"abcdefghij");
        assert_eq!(gaps, 0);
        assert!(s.stats.retransmitted_bytes >= 5);
    }

    #[test]
    fn reports_holes_as_gaps() {
        let mut s = Stream::default();
        s.syn(0);
        let (out, gaps) = run(&mut s, &[(1, b"ab"), (6, b"fg")]);
        assert_eq!(out, b"abfg");
        assert_eq!(gaps, 3);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut s = Stream::default();
        s.syn(u32::MAX - 2);
        let (out, gaps) = run(&mut s, &[(1, b"de"), (u32::MAX - 1, b"ab"), (0, b"c")]);
        assert_eq!(out, b"abcde");
        assert_eq!(gaps, 0);
    }

    #[test]
    fn pending_is_bounded() {
        let mut s = Stream::default();
        s.syn(0);
        let chunk = vec![7u8; 60_000];
        let mut seq = 100_001u32;
        let mut gaps = 0;
        for _ in 0..10 {
            s.segment(seq, &chunk, 0, false, &mut |c| {
                if let Chunk::Gap(n) = c {
                    gaps += n
                }
            });
            assert!(s.pending_bytes() <= MAX_PENDING);
            seq += 60_000;
        }
        assert_eq!(gaps, 100_000);
    }
}
