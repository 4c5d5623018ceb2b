//! TLS key log files (NSS format, `SSLKEYLOGFILE`) and TLS 1.3 record decryption, so that the
//! certificates TLS 1.3 encrypts can be read.

use std::collections::HashMap;
use std::path::Path;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf;

use crate::DiagnoseError;

/// The TLS 1.3 secrets of one connection, found by its ClientHello random.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    pub client_traffic: Option<Vec<u8>>,
    pub server_traffic: Option<Vec<u8>>,
}

/// A key log file.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Secrets>,
    /// Lines that were not understood (comments and blank lines aside).
    pub skipped_lines: usize,
    /// TLS 1.2 lines (`CLIENT_RANDOM`): not needed, TLS 1.2 certificates are in clear.
    pub tls12_lines: usize,
}

impl KeyLog {
    pub fn parse(text: &str) -> KeyLog {
        let mut log = KeyLog::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(label), Some(random), Some(secret), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                log.skipped_lines += 1;
                continue;
            };
            let (Ok(random), Ok(secret)) = (hex::decode(random), hex::decode(secret)) else {
                log.skipped_lines += 1;
                continue;
            };
            let Ok(random) = <[u8; 32]>::try_from(random.as_slice()) else {
                log.skipped_lines += 1;
                continue;
            };
            let slot: fn(&mut Secrets) -> &mut Option<Vec<u8>> = match label {
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => |s| &mut s.client_handshake,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => |s| &mut s.server_handshake,
                "CLIENT_TRAFFIC_SECRET_0" => |s| &mut s.client_traffic,
                "SERVER_TRAFFIC_SECRET_0" => |s| &mut s.server_traffic,
                "CLIENT_RANDOM" => {
                    log.tls12_lines += 1;
                    continue;
                }
                // Exporter and early secrets: not needed to read certificates.
                "EXPORTER_SECRET" | "CLIENT_EARLY_TRAFFIC_SECRET" | "EARLY_EXPORTER_SECRET" => continue,
                _ => {
                    log.skipped_lines += 1;
                    continue;
                }
            };
            *slot(log.by_random.entry(random).or_default()) = Some(secret);
        }
        log
    }

    pub fn read(path: &Path) -> Result<KeyLog, DiagnoseError> {
        let bytes = std::fs::read(path).map_err(DiagnoseError::io(format!("reading {}", path.display())))?;
        let log = KeyLog::parse(&String::from_utf8_lossy(&bytes));
        if log.by_random.is_empty() && log.tls12_lines == 0 {
            return Err(DiagnoseError::KeyLog(format!(
                "{} holds no TLS 1.3 secrets (expected lines such as CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>, \
                 as written by SSLKEYLOGFILE or openssl s_client -keylogfile)",
                path.display()
            )));
        }
        Ok(log)
    }

    pub fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.by_random.get(client_random)
    }

    pub fn len(&self) -> usize {
        self.by_random.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_random.is_empty()
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context.
fn expand_label(alg: hkdf::Algorithm, secret: &[u8], label: &str, len: usize) -> Option<Vec<u8>> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let mut out = vec![0u8; len];
    prk.expand(&[&info], Len(len)).ok()?.fill(&mut out).ok()?;
    Some(out)
}

/// Decrypts the records of one direction of a TLS 1.3 connection.
pub struct Decryptor {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
    suite: u16,
}

impl Decryptor {
    /// For cipher suite `suite` (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
    /// TLS_CHACHA20_POLY1305_SHA256) and a traffic secret.
    pub fn new(suite: u16, secret: &[u8]) -> Option<Decryptor> {
        let (hash, alg, key_len) = match suite {
            0x1301 => (hkdf::HKDF_SHA256, &aead::AES_128_GCM, 16),
            0x1302 => (hkdf::HKDF_SHA384, &aead::AES_256_GCM, 32),
            0x1303 => (hkdf::HKDF_SHA256, &aead::CHACHA20_POLY1305, 32),
            _ => return None,
        };
        let key = expand_label(hash, secret, "key", key_len)?;
        let iv = expand_label(hash, secret, "iv", 12)?;
        let key = LessSafeKey::new(UnboundKey::new(alg, &key).ok()?);
        Some(Decryptor { key, iv: iv.try_into().ok()?, seq: 0, suite })
    }

    pub fn suite(&self) -> u16 {
        self.suite
    }

    /// Opens one record (`header` is its 5-byte header, `body` its ciphertext, replaced by the
    /// plaintext). Returns the inner content type.
    pub fn open(&mut self, header: &[u8], body: &mut Vec<u8>) -> Option<u8> {
        let mut nonce = self.iv;
        for (i, b) in self.seq.to_be_bytes().iter().enumerate() {
            nonce[4 + i] ^= b;
        }
        self.seq += 1;
        let plain_len =
            self.key.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(header), body).ok()?.len();
        body.truncate(plain_len);
        while body.last() == Some(&0) {
            body.pop();
        }
        body.pop()
    }
}

/// Where a direction's decryption stands.
pub enum Phase {
    Handshake(Decryptor, Option<Vec<u8>>),
    Application(Decryptor),
}

impl Phase {
    pub fn decryptor(&mut self) -> &mut Decryptor {
        match self {
            Phase::Handshake(d, _) | Phase::Application(d) => d,
        }
    }
}
