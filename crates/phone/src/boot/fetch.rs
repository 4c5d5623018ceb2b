//! How the phone fetches a file (phone-boot.md §1.2): `GET /<name>` on HTTP port 6970 first,
//! and on any failure the same name over TFTP port 69. Each attempt is logged as the phone's
//! `dgetfile` line and recorded for the [`BootReport`](super::BootReport).

use std::time::Duration;

use opencapf_tftp::{FetchError, TftpOptions};
use serde::Serialize;

use crate::Phone;

/// Where the files come from.
#[derive(Debug, Clone)]
pub(super) struct FileServer {
    pub host: String,
    pub http_port: u16,
    pub tftp_port: u16,
    /// `false`: TFTP only (old firmware).
    pub http: bool,
    pub timeout: Duration,
}

/// One request, as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FetchedFile {
    pub name: String,
    /// `HTTP` or `TFTP`: the transport of the last attempt.
    pub via: String,
    /// `found (N bytes)`, `not found`, or the failure.
    pub result: String,
}

/// What came of a fetch.
#[derive(Debug)]
pub(super) enum Fetched {
    Found(Vec<u8>),
    /// The server said the file does not exist (HTTP 404/503, TFTP error 1).
    NotFound,
    /// No answer, or a broken one.
    Failed(String),
}

/// Why one transport did not deliver the file.
#[derive(Debug)]
enum Miss {
    NotFound(String),
    Failed(String),
}

impl Phone {
    /// Fetches `name` as the phone does (see the module doc); `files` gets one entry.
    pub(super) async fn fetch(&self, server: &FileServer, name: &str, files: &mut Vec<FetchedFile>) -> Fetched {
        let log = self.console();
        let mut said_not_found = false;
        let mut last = String::new();
        if server.http {
            let addr = format!("{}:{}", host_for_addr(&server.host), server.http_port);
            match http_get(&addr, name, server.timeout).await {
                Ok(bytes) => return self.found(name, "HTTP", &addr, bytes, files),
                Err(miss) => {
                    let (text, nf) = match miss {
                        Miss::NotFound(t) => (t, true),
                        Miss::Failed(t) => (t, false),
                    };
                    said_not_found |= nf;
                    log.info(&format!("dgetfile: src={name}, via=HTTP {addr}: {text}; trying TFTP"));
                }
            }
        }
        let addr = format!("{}:{}", host_for_addr(&server.host), server.tftp_port);
        let (result, fetched) = match tftp_get(&addr, name, server.timeout).await {
            Ok(bytes) => return self.found(name, "TFTP", &addr, bytes, files),
            Err(Miss::NotFound(t)) => {
                last = t;
                ("not found".to_string(), Fetched::NotFound)
            }
            // HTTP said the file does not exist and TFTP did not answer: it does not exist.
            Err(Miss::Failed(t)) if said_not_found => {
                last = t;
                ("not found".to_string(), Fetched::NotFound)
            }
            Err(Miss::Failed(t)) => {
                last.push_str(&t);
                (t.clone(), Fetched::Failed(t))
            }
        };
        log.info(&format!("dgetfile: src={name}, via=TFTP {addr}: {last}"));
        files.push(FetchedFile { name: name.to_string(), via: "TFTP".into(), result });
        fetched
    }

    fn found(&self, name: &str, via: &str, addr: &str, bytes: Vec<u8>, files: &mut Vec<FetchedFile>) -> Fetched {
        self.console().info(&format!("dgetfile: src={name}, via={via} {addr}: {} bytes", bytes.len()));
        files.push(FetchedFile {
            name: name.to_string(),
            via: via.into(),
            result: format!("found ({} bytes)", bytes.len()),
        });
        Fetched::Found(bytes)
    }
}

/// An IPv6 literal in brackets, for `HOST:PORT`.
fn host_for_addr(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// TFTP options as current firmware is taken to ask for them [U: which options each firmware
/// puts in its RRQ is not documented]: a large block and the size first, so an oversize file is
/// refused before its first block.
fn tftp_options() -> TftpOptions {
    TftpOptions { blksize: Some(1428), tsize: true, ..TftpOptions::default() }
}

fn miss(e: FetchError, protocol: &str) -> Miss {
    match e {
        FetchError::NotFound if protocol == "HTTP" => Miss::NotFound("404 Not Found".into()),
        FetchError::Unavailable => Miss::NotFound("503 Service Unavailable".into()),
        FetchError::NotFound => Miss::NotFound("error 1 File not found".into()),
        other => Miss::Failed(opencapf_model::printable(&other.to_string()).into_owned()),
    }
}

async fn http_get(addr: &str, name: &str, timeout: Duration) -> Result<Vec<u8>, Miss> {
    opencapf_tftp::http_get(addr, name, timeout).await.map_err(|e| miss(e, "HTTP"))
}

async fn tftp_get(addr: &str, name: &str, timeout: Duration) -> Result<Vec<u8>, Miss> {
    match tokio::time::timeout(timeout, opencapf_tftp::tftp_get(addr, name, &tftp_options())).await {
        Ok(r) => r.map_err(|e| miss(e, "TFTP")),
        Err(_) => Err(Miss::Failed(format!("no answer within {} s", timeout.as_secs()))),
    }
}
