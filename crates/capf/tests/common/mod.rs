//! Shared helpers for the integration tests: the vectors in place under
//! `shared/data/capf-vectors`, hex, and a fixed-seed PRNG.
#![allow(dead_code)]

use std::path::PathBuf;

use opencapf_capf::proto::frame::RawMessage;
use opencapf_capf::proto::message::{Decoded, Message, MessageError};
use serde_json::Value;

/// The vectors directory, read in place (never copied into the project).
pub(crate) fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/capf-vectors")
}

pub(crate) fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A hex string field of a vector file.
pub(crate) fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string"));
    hex::decode(s).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// xorshift64*: a tiny deterministic generator, enough for fuzz loops.
pub(crate) struct Prng(u64);

impl Prng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform enough in `0..n` for tests (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// A CAPF message for session 1 with a hand-written body.
pub(crate) fn msg(command: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0x55, command, 0, 0, 0, 1];
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// Frame and message decoding in one step.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, MessageError> {
    Message::decode(&RawMessage::decode(bytes)?)
}
