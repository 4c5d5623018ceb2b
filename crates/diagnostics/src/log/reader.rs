//! Console log lines, read one at a time: a line longer than 64 KiB is cut, and the next line can
//! be looked at before it is taken (to join the seed's wrapped lines).

use std::io::BufRead;

const MAX_LINE: usize = 64 * 1024;

pub(super) struct Lines<'a, R: BufRead> {
    pub(super) input: &'a mut R,
    pub(super) peeked: Option<(usize, String)>,
    pub(super) number: usize,
}

impl<R: BufRead> Lines<'_, R> {
    fn read(&mut self) -> Option<(usize, String)> {
        let mut buf = Vec::new();
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            };
            if chunk.is_empty() {
                if buf.is_empty() {
                    return None;
                }
                break;
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    let room = MAX_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..i.min(room)]);
                    self.input.consume(i + 1);
                    break;
                }
                None => {
                    let n = chunk.len();
                    let room = MAX_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..n.min(room)]);
                    self.input.consume(n);
                }
            }
        }
        self.number += 1;
        let text = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_owned();
        Some((self.number, text))
    }

    pub(super) fn next(&mut self) -> Option<(usize, String)> {
        self.peeked.take().or_else(|| self.read())
    }

    pub(super) fn peek(&mut self) -> Option<&str> {
        if self.peeked.is_none() {
            self.peeked = self.read();
        }
        self.peeked.as_ref().map(|(_, t)| t.as_str())
    }
}
