//! The crypto floor of one Install/Upgrade session: the server's side of a TLS handshake and one
//! LSC signature, done here with aws-lc for the server's CAPF key type, so that the server's CPU
//! per session can be compared with the work no implementation can skip.
//!
//! The handshake is a full one between an in-memory rustls pair built as the CAPF listener and
//! the bench phones build theirs ([`opencapf_tls::server_config`], [`opencapf_tls::client_config`]
//! with the project's provider, TLS 1.2 and 1.3; a new client configuration per handshake, as the
//! phones make, so nothing resumes); only the server's calls are timed, in CPU time of this thread.
//! The LSC is the pki crate's profile, signed by a throw-away CA of the same key type for an EC
//! P-256 phone key made beforehand.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use opencapf_pki::{profiles, CaSigner, DeviceName, KeyAlgorithm, LscRequest, PrivateKey, SubjectFields};
use opencapf_tls::{TlsVersions, TrustListVerifier};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection};
use serde::Serialize;

use super::cpu::thread_cpu;

/// What one session's crypto costs the server, averaged over `samples` of each.
#[derive(Serialize, Clone, Debug)]
pub(super) struct Floor {
    /// The CAPF key type measured (the server's, read from `--trust`).
    pub capf_key: String,
    pub samples: usize,
    /// CPU of the server side of one full TLS handshake, in milliseconds.
    pub tls_handshake_ms: f64,
    /// CPU of one LSC signature (the certificate built and signed), in milliseconds.
    pub lsc_signature_ms: f64,
    /// Their sum: the floor of one session.
    pub ms_per_session: f64,
}

/// The server's CPU per session (`--server-pid`) beside the floor.
#[derive(Serialize, Clone, Debug)]
pub(super) struct ServerCpu {
    pub pid: u32,
    /// utime + stime of the server process over the run (every thread).
    pub cpu_seconds: f64,
    /// `cpu_seconds` per successful session, in milliseconds (failed sessions' work included).
    pub ms_per_session: f64,
    pub floor: Floor,
    /// `ms_per_session` / `floor.ms_per_session`: 1.0 would be a server doing nothing but the
    /// crypto it must do.
    pub ratio_to_floor: f64,
}

impl ServerCpu {
    pub(super) fn new(pid: u32, cpu: Duration, successes: usize, floor: Floor) -> ServerCpu {
        let ms_per_session = super::cpu::ms_per_session(cpu, successes);
        let ratio_to_floor = if floor.ms_per_session > 0.0 { ms_per_session / floor.ms_per_session } else { 0.0 };
        ServerCpu { pid, cpu_seconds: cpu.as_secs_f64(), ms_per_session, floor, ratio_to_floor }
    }

    /// The line people read under the report.
    pub(super) fn line(&self) -> String {
        let f = &self.floor;
        format!(
            "server CPU {:.2} ms per session (pid {}, {:.2} s); crypto floor {:.2} ms ({} TLS handshake {:.2} ms + LSC signature {:.2} ms, {} samples): {:.2}x the floor",
            self.ms_per_session,
            self.pid,
            self.cpu_seconds,
            f.ms_per_session,
            f.capf_key,
            f.tls_handshake_ms,
            f.lsc_signature_ms,
            f.samples,
            self.ratio_to_floor
        )
    }
}

/// Measures the floor for `capf_key` with `samples` handshakes and signatures (on the blocking
/// pool: it is CPU work).
pub(super) async fn measure(capf_key: KeyAlgorithm, samples: usize) -> anyhow::Result<Floor> {
    tokio::task::spawn_blocking(move || measure_now(capf_key, samples)).await?
}

fn measure_now(capf_key: KeyAlgorithm, samples: usize) -> anyhow::Result<Floor> {
    let key = PrivateKey::generate(capf_key)?;
    let now = opencapf_model::now();
    let ca = profiles::capf_certificate(&key, &SubjectFields::default(), profiles::CAPF_DEFAULT_DAYS, now)?;
    let certified = opencapf_tls::certified_key(vec![ca.der.clone()], &key)?;
    let server_config = Arc::new(opencapf_tls::server_config(certified, None)?);

    // One warm-up of each, untimed: first-use initialisation is not per-session work.
    handshake(&server_config, &ca.der)?;
    let signer = CaSigner::new(&ca.der, &key)?;
    let phone = PrivateKey::generate(KeyAlgorithm::Ec256)?;
    let device: DeviceName = "SEP00000000F100".parse()?;
    let request = LscRequest {
        device: &device,
        model: Some("CP-8861"),
        public_key_der: phone.public_key_der(),
        pid_sn: None,
        validity_days: profiles::LSC_DEFAULT_DAYS,
        now,
    };
    profiles::lsc(&signer, &request)?;

    let mut tls = Duration::ZERO;
    for _ in 0..samples {
        tls += handshake(&server_config, &ca.der)?;
    }
    let mut lsc = Duration::ZERO;
    for _ in 0..samples {
        let before = thread_cpu();
        std::hint::black_box(profiles::lsc(&signer, &request)?);
        lsc += thread_cpu() - before;
    }
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / samples.max(1) as f64;
    let (tls_handshake_ms, lsc_signature_ms) = (per(tls), per(lsc));
    Ok(Floor {
        capf_key: capf_key.token().to_owned(),
        samples,
        tls_handshake_ms,
        lsc_signature_ms,
        ms_per_session: tls_handshake_ms + lsc_signature_ms,
    })
}

/// One full handshake over memory; returns the CPU the server's side used (reading and
/// processing the client's flights, writing its own, session tickets included).
fn handshake(server_config: &Arc<rustls::ServerConfig>, ca_der: &[u8]) -> anyhow::Result<Duration> {
    let verifier = Arc::new(TrustListVerifier::new(vec![ca_der.to_vec()]));
    let client_config = opencapf_tls::client_config(opencapf_tls::provider(), TlsVersions::default(), verifier, None)?;
    let name = ServerName::try_from("127.0.0.1").context("server name")?;
    let mut client = ClientConnection::new(Arc::new(client_config), name)?;
    let mut server = ServerConnection::new(server_config.clone())?;
    let mut spent = Duration::ZERO;
    for _ in 0..8 {
        let mut to_server = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut to_server)?;
        }
        let before = thread_cpu();
        let mut rd = to_server.as_slice();
        while !rd.is_empty() {
            server.read_tls(&mut rd)?;
            server.process_new_packets()?;
        }
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client)?;
        }
        spent += thread_cpu() - before;
        let mut rd = to_client.as_slice();
        while !rd.is_empty() {
            client.read_tls(&mut rd)?;
            client.process_new_packets()?;
        }
        let done = !client.is_handshaking() && !server.is_handshaking();
        if done && !client.wants_write() && !server.wants_write() {
            return Ok(spent);
        }
    }
    bail!("the in-memory TLS handshake did not finish")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_of_each_capf_key_type_is_positive_and_adds_up() {
        for key in [KeyAlgorithm::Ec256, KeyAlgorithm::Rsa2048] {
            let f = measure_now(key, 2).unwrap();
            assert_eq!((f.capf_key.as_str(), f.samples), (key.token(), 2));
            assert!(f.tls_handshake_ms > 0.0 && f.lsc_signature_ms > 0.0, "{f:?}");
            assert!((f.ms_per_session - (f.tls_handshake_ms + f.lsc_signature_ms)).abs() < 1e-9);
        }
    }
}
