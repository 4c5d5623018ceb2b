//! The TLS side of a connection: records (through any segmentation), handshake messages that
//! span records, alerts, and the small amount of bookkeeping needed to say how it ended.

use std::sync::Arc;

use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_handshake_certificaterequest, parse_tls_handshake_client_hello,
    parse_tls_handshake_msg_certificate, parse_tls_handshake_server_hello, parse_tls_server_hello_extensions,
    TlsExtension, TlsMessageHandshake,
};

use super::hunt::{self, HUNT_KEEP, HUNT_STEP, MAX_HUNT};
use super::keylog::{Decryptor, KeyLog, Phase};
use super::tcp::Chunk;

/// Largest record body TLS allows (2^14 plus expansion).
pub(super) const MAX_RECORD: usize = 16384 + 2048;
/// Largest handshake message kept (a Certificate message with a long chain is well below).
pub const MAX_HANDSHAKE_MESSAGE: usize = 256 * 1024;
/// Application data records looked at per direction before the direction is left alone.
pub const APP_RECORDS_WATCHED: u64 = 64;
const MAX_EVENTS: usize = 64;

const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11,
    0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

#[derive(Default)]
struct Dir {
    /// The record being collected: header, then body.
    buf: Vec<u8>,
    /// Body bytes of the current record still to skip (records whose content is not needed).
    skip: usize,
    hs: Vec<u8>,
    hs_skip: usize,
    /// After ChangeCipherSpec (TLS 1.2): handshake records are encrypted.
    encrypted: bool,
    desync: bool,
    records: u64,
    app_records: u64,
    decrypt: Option<Phase>,
    done: bool,
    /// TLS has been found in this direction; before that, its bytes are searched ([`hunt`]).
    locked: bool,
    /// Bytes searched so far without finding TLS.
    hunted: usize,
}

/// An alert seen on the wire.
#[derive(Debug, Clone)]
pub struct AlertSeen {
    pub dir: usize,
    /// 1 warning, 2 fatal; `None` when encrypted.
    pub level: Option<u8>,
    pub description: Option<u8>,
    pub decrypted: bool,
}

/// Records and connection events after the ServerHello, in order, for TLS 1.3 (whose alerts
/// and handshake are encrypted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    App(usize, usize),
    Fin(usize),
    Rst(usize),
}

/// What the TLS layer learned about one TCP connection. Direction 0 is from the flow's first
/// endpoint to its second.
#[derive(Default)]
pub struct TlsState {
    dirs: [Dir; 2],
    pub is_tls: Option<bool>,
    /// The direction that sent the ClientHello.
    pub client_dir: Option<usize>,
    pub client_hello: bool,
    pub server_hello: bool,
    pub hello_retry: bool,
    pub version: Option<u16>,
    pub offered_versions: Vec<u16>,
    pub cipher: Option<u16>,
    pub sni: Option<String>,
    pub client_random: Option<[u8; 32]>,
    /// CertificateRequest seen, with the CA names it lists (TLS 1.2).
    pub cert_request: Option<Vec<String>>,
    /// Certificate chains by direction, DER.
    pub certs: [Option<Vec<Vec<u8>>>; 2],
    pub ccs: [bool; 2],
    pub finished: [bool; 2],
    pub alerts: Vec<AlertSeen>,
    pub events: Vec<Event>,
    pub notes: Vec<String>,
    pub decrypted: bool,
    pub keylog_missing: bool,
    keylog: Option<Arc<KeyLog>>,
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

fn plausible_header(h: &[u8]) -> bool {
    (20..=24).contains(&h[0])
        && h[1] == 3
        && h[2] <= 4
        && usize::from(u16::from_be_bytes([h[3], h[4]])) <= MAX_RECORD + 256
}

impl TlsState {
    pub fn new(keylog: Option<Arc<KeyLog>>) -> TlsState {
        TlsState { keylog, ..Default::default() }
    }

    pub fn tls13(&self) -> bool {
        self.version == Some(0x0304)
    }

    /// Whether this direction needs no more bytes (the flow may stop reassembling it).
    pub fn dir_done(&self, d: usize) -> bool {
        self.dirs[d].done
    }

    pub fn app_records(&self, d: usize) -> u64 {
        self.dirs[d].app_records
    }

    pub fn event(&mut self, e: Event) {
        if self.server_hello && self.events.len() < MAX_EVENTS {
            self.events.push(e);
        }
    }

    fn note(&mut self, n: String) {
        if self.notes.len() < 16 && !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    fn dir_name(&self, d: usize) -> &'static str {
        match self.client_dir {
            Some(c) if c == d => "client",
            Some(_) => "server",
            None => "one side",
        }
    }

    /// Bytes (or a gap) of direction `d`, in stream order.
    pub fn chunk(&mut self, d: usize, chunk: Chunk<'_>) {
        if self.is_tls == Some(false) || self.dirs[d].done {
            return;
        }
        match chunk {
            Chunk::Data(data) => self.data(d, data),
            Chunk::Gap(n) => self.gap(d, n),
        }
    }

    fn gap(&mut self, d: usize, n: u64) {
        let dir = &mut self.dirs[d];
        if !dir.locked {
            // Still searching: the start may come after the hole.
            dir.buf.clear();
            return;
        }
        if dir.skip as u64 >= n && dir.buf.len() >= 5 {
            // Inside a record whose content is skipped anyway: nothing is lost.
            dir.skip -= n as usize;
            if dir.skip == 0 {
                dir.buf.clear();
            }
            return;
        }
        let handshake_over = self.ccs[d] || self.tls13() && self.server_hello;
        let dir = &mut self.dirs[d];
        dir.desync = true;
        dir.buf.clear();
        dir.skip = 0;
        dir.hs.clear();
        dir.hs_skip = 0;
        let side = self.dir_name(d);
        if !handshake_over {
            self.note(format!(
                "{n} bytes from the {side} were not captured during the handshake: messages may be missing"
            ));
        }
    }

    fn data(&mut self, d: usize, data: &[u8]) {
        let mut replay = self.data_step(d, data);
        while let Some(bytes) = replay {
            replay = self.data_step(d, &bytes);
        }
    }

    /// Consumes `data`; after picking a damaged stream up again, returns the bytes to feed anew.
    fn data_step(&mut self, d: usize, mut data: &[u8]) -> Option<Vec<u8>> {
        while !data.is_empty() && !self.dirs[d].done && self.is_tls != Some(false) {
            if !self.dirs[d].locked {
                let (rest, found) = self.hunt(d, data);
                if found.is_some() {
                    return found;
                }
                data = rest;
                continue;
            }
            let dir = &mut self.dirs[d];
            if dir.skip > 0 {
                let n = dir.skip.min(data.len());
                dir.skip -= n;
                data = &data[n..];
                if dir.skip == 0 {
                    dir.buf.clear();
                }
                continue;
            }
            if dir.desync {
                // Look for a plausible record header to pick the stream up again.
                let take = data.len().min(4096);
                dir.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                let found = (0..dir.buf.len().saturating_sub(4)).find(|&i| plausible_header(&dir.buf[i..i + 5]));
                match found {
                    Some(i) => {
                        let mut again = dir.buf.split_off(i);
                        dir.buf.clear();
                        dir.desync = false;
                        again.extend_from_slice(data);
                        return Some(again);
                    }
                    None => {
                        let cut = dir.buf.len() - dir.buf.len().min(4);
                        dir.buf.drain(..cut);
                    }
                }
                continue;
            }
            if dir.buf.len() < 5 {
                let take = (5 - dir.buf.len()).min(data.len());
                dir.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                if dir.buf.len() < 5 {
                    return None;
                }
                if !self.header(d) {
                    return None;
                }
                continue;
            }
            // Collecting a body.
            let len = usize::from(u16::from_be_bytes([dir.buf[3], dir.buf[4]]));
            let take = (5 + len - dir.buf.len()).min(data.len());
            dir.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if dir.buf.len() == 5 + len {
                let record = std::mem::take(&mut self.dirs[d].buf);
                self.record(d, record);
            }
        }
        None
    }

    /// Searches the next bytes of a direction for where TLS starts. Returns the bytes not yet
    /// searched and, once found, the bytes to read as TLS from its start.
    fn hunt<'a>(&mut self, d: usize, data: &'a [u8]) -> (&'a [u8], Option<Vec<u8>>) {
        let peer_tls = self.dirs[1 - d].locked;
        let dir = &mut self.dirs[d];
        let take = data.len().min(HUNT_STEP);
        let before = dir.hunted - dir.buf.len();
        dir.buf.extend_from_slice(&data[..take]);
        dir.hunted += take;
        let rest = &data[take..];
        if let Some(i) = hunt::tls_start(&dir.buf, peer_tls) {
            let mut again = dir.buf.split_off(i);
            dir.buf.clear();
            dir.locked = true;
            again.extend_from_slice(rest);
            self.is_tls = Some(true);
            let skipped = before + i;
            if skipped > 0 {
                let side = match again.get(5) {
                    Some(1) => "client",
                    Some(2) => "server",
                    _ => self.dir_name(d),
                };
                self.note(format!(
                    "TLS from the {side} starts after {skipped} bytes of other data (STARTTLS, or a capture begun mid-connection)"
                ));
            }
            return (rest, Some(again));
        }
        let cut = dir.buf.len().saturating_sub(HUNT_KEEP);
        dir.buf.drain(..cut);
        if dir.hunted > MAX_HUNT {
            dir.done = true;
            dir.buf.clear();
            if !peer_tls && self.dirs[1 - d].done {
                self.is_tls = Some(false);
            }
        }
        (rest, None)
    }

    /// A complete record header is in `buf`: check it and decide whether its body is needed.
    /// Returns false when the stream is not (or no longer) TLS.
    fn header(&mut self, d: usize) -> bool {
        let h =
            [self.dirs[d].buf[0], self.dirs[d].buf[1], self.dirs[d].buf[2], self.dirs[d].buf[3], self.dirs[d].buf[4]];
        let ty = h[0];
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if !plausible_header(&h) {
            let side = self.dir_name(d);
            self.note(format!("the {side}'s stream stopped looking like TLS (a damaged or mis-reassembled record)"));
            let dir = &mut self.dirs[d];
            dir.buf.clear();
            dir.desync = true;
            return true;
        }
        let dir = &mut self.dirs[d];
        dir.records += 1;
        let need_body = match ty {
            20 => false,
            21 => len == 2,
            22 => !dir.encrypted,
            23 => dir.decrypt.is_some(),
            _ => false,
        };
        if need_body {
            return true;
        }
        match ty {
            20 => {
                self.ccs[d] = true;
                if self.server_hello && !self.tls13() {
                    self.dirs[d].encrypted = true;
                }
            }
            21 => self.alerts.push(AlertSeen { dir: d, level: None, description: None, decrypted: false }),
            22 => self.finished[d] = true, // the encrypted Finished of TLS 1.2
            23 => self.app_record(d, len),
            _ => {}
        }
        let dir = &mut self.dirs[d];
        if len == 0 {
            dir.buf.clear();
        } else {
            dir.skip = len;
        }
        true
    }

    fn app_record(&mut self, d: usize, len: usize) {
        self.event(Event::App(d, len));
        let dir = &mut self.dirs[d];
        dir.app_records += 1;
        if dir.app_records >= APP_RECORDS_WATCHED {
            dir.done = true;
        }
    }

    fn record(&mut self, d: usize, record: Vec<u8>) {
        let ty = record[0];
        let body = &record[5..];
        match ty {
            21 => {
                self.alerts.push(AlertSeen {
                    dir: d,
                    level: Some(body[0]),
                    description: Some(body[1]),
                    decrypted: false,
                });
            }
            22 => self.handshake_bytes(d, body),
            23 => self.encrypted_record(d, &record),
            _ => {}
        }
    }

    fn encrypted_record(&mut self, d: usize, record: &[u8]) {
        let len = record.len() - 5;
        self.app_record(d, len);
        let Some(mut phase) = self.dirs[d].decrypt.take() else { return };
        let mut body = record[5..].to_vec();
        let Some(inner) = phase.decryptor().open(&record[..5], &mut body) else {
            let side = self.dir_name(d);
            self.note(format!(
                "a record from the {side} could not be decrypted with the key log (wrong or missing secrets?)"
            ));
            return;
        };
        self.decrypted = true;
        let in_handshake = matches!(phase, Phase::Handshake(..));
        self.dirs[d].decrypt = Some(phase);
        match inner {
            21 if body.len() >= 2 => self.alerts.push(AlertSeen {
                dir: d,
                level: Some(body[0]),
                description: Some(body[1]),
                decrypted: true,
            }),
            22 if in_handshake => {
                // Remove the app_record count for what is really handshake.
                self.dirs[d].app_records = self.dirs[d].app_records.saturating_sub(1);
                if let Some(Event::App(..)) = self.events.last() {
                    self.events.pop();
                }
                self.handshake_bytes(d, &body);
            }
            _ => {}
        }
    }

    fn handshake_bytes(&mut self, d: usize, mut bytes: &[u8]) {
        let dir = &mut self.dirs[d];
        if dir.hs_skip > 0 {
            let n = dir.hs_skip.min(bytes.len());
            dir.hs_skip -= n;
            bytes = &bytes[n..];
        }
        dir.hs.extend_from_slice(bytes);
        loop {
            let dir = &mut self.dirs[d];
            if dir.hs.len() < 4 {
                return;
            }
            let len = u24(&dir.hs[1..4]);
            if len > MAX_HANDSHAKE_MESSAGE {
                let have = dir.hs.len();
                dir.hs.clear();
                dir.hs_skip = (4 + len).saturating_sub(have);
                let side = self.dir_name(d);
                self.note(format!("a handshake message of {len} bytes from the {side} is too large to read: skipped"));
                return;
            }
            if dir.hs.len() < 4 + len {
                return;
            }
            let msg: Vec<u8> = dir.hs.drain(..4 + len).collect();
            self.handshake_message(d, msg[0], &msg[4..]);
        }
    }

    fn handshake_message(&mut self, d: usize, ty: u8, body: &[u8]) {
        match ty {
            1 => self.client_hello(d, body),
            2 => self.server_hello(d, body),
            11 => self.certificate(d, body),
            13 => self.certificate_request(body),
            20 => {
                self.finished[d] = true;
                if let Some(Phase::Handshake(_, next)) = &mut self.dirs[d].decrypt {
                    let next = next.take();
                    let suite = self.cipher.unwrap_or(0);
                    self.dirs[d].decrypt = next.and_then(|s| Decryptor::new(suite, &s)).map(Phase::Application);
                }
            }
            _ => {}
        }
    }

    fn client_hello(&mut self, d: usize, body: &[u8]) {
        self.client_dir.get_or_insert(d);
        self.client_hello = true;
        let Ok((_, ch)) = parse_tls_handshake_client_hello(body) else {
            self.note("the ClientHello could not be parsed".into());
            return;
        };
        if let Ok(r) = <[u8; 32]>::try_from(ch.random) {
            self.client_random = Some(r);
        }
        self.offered_versions = vec![ch.version.0];
        if let Some(ext) = ch.ext {
            if let Ok((_, exts)) = parse_tls_client_hello_extensions(ext) {
                for e in exts {
                    match e {
                        TlsExtension::SNI(names) => {
                            if let Some((_, name)) = names.first() {
                                self.sni = Some(String::from_utf8_lossy(name).into_owned());
                            }
                        }
                        TlsExtension::SupportedVersions(v) => {
                            self.offered_versions = v.iter().map(|v| v.0).filter(|v| v & 0x0f0f != 0x0a0a).collect();
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn server_hello(&mut self, d: usize, body: &[u8]) {
        self.client_dir.get_or_insert(1 - d);
        let Ok((_, sh)) = parse_tls_handshake_server_hello(body) else {
            self.note("the ServerHello could not be parsed".into());
            return;
        };
        if sh.random == HRR_RANDOM {
            self.hello_retry = true;
            return;
        }
        self.server_hello = true;
        let mut version = sh.version.0;
        if let Some(ext) = sh.ext {
            if let Ok((_, exts)) = parse_tls_server_hello_extensions(ext) {
                for e in exts {
                    if let TlsExtension::SupportedVersions(v) = e {
                        if let Some(v) = v.first() {
                            version = v.0;
                        }
                    }
                }
            }
        }
        self.version = Some(version);
        self.cipher = Some(sh.cipher.0);
        if version == 0x0304 {
            for dir in &mut self.dirs {
                dir.encrypted = true;
            }
            self.start_decryption(d);
        }
    }

    fn start_decryption(&mut self, server: usize) {
        let (Some(keylog), Some(random), Some(suite)) = (&self.keylog, self.client_random, self.cipher) else {
            return;
        };
        let Some(secrets) = keylog.get(&random) else {
            self.keylog_missing = true;
            return;
        };
        let client = 1 - server;
        let pairs = [
            (client, &secrets.client_handshake, &secrets.client_traffic),
            (server, &secrets.server_handshake, &secrets.server_traffic),
        ];
        for (dir, hs, app) in pairs {
            if let Some(dec) = hs.as_ref().and_then(|s| Decryptor::new(suite, s)) {
                self.dirs[dir].decrypt = Some(Phase::Handshake(dec, app.clone()));
            }
        }
    }

    fn certificate(&mut self, d: usize, body: &[u8]) {
        let chain = if self.tls13() { tls13_certificates(body) } else { tls12_certificates(body) };
        match chain {
            Some(chain) => self.certs[d] = Some(chain),
            None => {
                let side = self.dir_name(d);
                self.note(format!("the {side}'s Certificate message could not be parsed"));
            }
        }
    }

    fn certificate_request(&mut self, body: &[u8]) {
        let mut names = Vec::new();
        if !self.tls13() {
            if let Ok((_, req)) = parse_tls_handshake_certificaterequest(body) {
                for raw in req.unparsed_ca {
                    use x509_parser::prelude::FromDer;
                    if let Ok((_, name)) = x509_parser::x509::X509Name::from_der(raw) {
                        names.push(name.to_string());
                    }
                }
            }
        }
        self.cert_request = Some(names);
    }
}

fn tls12_certificates(body: &[u8]) -> Option<Vec<Vec<u8>>> {
    // parse_tls_handshake_msg_certificate wants the message body.
    match parse_tls_handshake_msg_certificate(body) {
        Ok((_, TlsMessageHandshake::Certificate(c))) => Some(c.cert_chain.iter().map(|c| c.data.to_vec()).collect()),
        _ => None,
    }
}

/// TLS 1.3 Certificate: request context, then (certificate, extensions) entries.
fn tls13_certificates(body: &[u8]) -> Option<Vec<Vec<u8>>> {
    let ctx_len = usize::from(*body.first()?);
    let rest = body.get(1 + ctx_len..)?;
    let list_len = u24(rest.get(..3)?);
    let mut list = rest.get(3..3 + list_len)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = u24(list.get(..3)?);
        out.push(list.get(3..3 + len)?.to_vec());
        let ext_len = usize::from(u16::from_be_bytes([*list.get(3 + len)?, *list.get(4 + len)?]));
        list = list.get(5 + len + ext_len..)?;
    }
    Some(out)
}
