//! The client loop both modes share: many phones of the simulator's fast client at once against
//! one CAPF server, each session timed; and the report made of what they saw.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use opencapf_capf::client::{
    CapfClient, ClientConfig, ClientError, Operation, PhoneIdentity, SessionHandler, SessionOutcome, Stage,
};
use opencapf_capf::proto::message::{CertType, Reason};
use opencapf_model::printable;
use opencapf_pki::{KeyAlgorithm, PrivateKey};
use serde::Serialize;
use tokio::sync::Semaphore;

/// Distinct failure reasons kept; the rest are counted under one "other" line, so a server that
/// words each refusal differently cannot grow the report without bound.
const MAX_REASONS: usize = 16;
const OTHER: &str = "other failures (more than 16 distinct reasons)";

/// One phone of the run: who it says it is and the key made for it before the clock started.
pub(super) struct BenchPhone {
    pub identity: PhoneIdentity,
    pub key: PrivateKey,
}

/// What the sessions of one run saw.
pub(super) struct Tally {
    /// Wall time from the first connect to the last EndSession.
    pub elapsed: Duration,
    /// Of the successful sessions, connect to EndSession.
    pub latencies: Vec<Duration>,
    pub failures: usize,
    pub failure_reasons: BTreeMap<String, usize>,
    /// Sessions whose KeyGenRequest asked for another key than the one made beforehand: the
    /// phone generated it on the clock.
    pub keys_generated: usize,
}

/// Runs one Install/Upgrade session per phone, `concurrency` at once; a progress bar on a
/// terminal only.
pub(super) async fn drive(config: Arc<ClientConfig>, phones: Vec<BenchPhone>, concurrency: usize) -> Tally {
    let n = phones.len();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(n as u64)
            .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} sessions {per_sec}").expect("static"))
    } else {
        ProgressBar::hidden()
    };
    let gate = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for phone in phones {
        let permit = gate.clone().acquire_owned().await.expect("the semaphore is never closed");
        let config = config.clone();
        let bar = bar.clone();
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let prepared = phone.key.algorithm();
            let mut handler = PreparedPhone { key: Some(phone.key), asked: None };
            let result = CapfClient::run(&config, &phone.identity, &mut handler).await;
            let took = began.elapsed();
            drop(permit);
            bar.inc(1);
            let generated = handler.asked.is_some_and(|a| a != prepared);
            (verdict(result), took, generated)
        }));
    }
    let mut tally = Tally {
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(n),
        failures: 0,
        failure_reasons: BTreeMap::new(),
        keys_generated: 0,
    };
    for t in tasks {
        let (verdict, took, generated) = match t.await {
            Ok(r) => r,
            Err(e) => (Err(format!("client task: {e}")), Duration::ZERO, false),
        };
        tally.keys_generated += usize::from(generated);
        match verdict {
            Ok(()) => tally.latencies.push(took),
            Err(reason) => tally.fail(reason),
        }
    }
    tally.elapsed = start.elapsed();
    bar.finish_and_clear();
    tally
}

impl Tally {
    fn fail(&mut self, reason: String) {
        self.failures += 1;
        let key = if self.failure_reasons.len() < MAX_REASONS || self.failure_reasons.contains_key(&reason) {
            reason
        } else {
            OTHER.to_owned()
        };
        *self.failure_reasons.entry(key).or_default() += 1;
    }
}

/// Whether the session installed an LSC, or why not: the client's error, the phone's own
/// failure, or the server's EndSession reason (the wire carries a code, not a text).
fn verdict(result: Result<SessionOutcome, ClientError>) -> Result<(), String> {
    let outcome = result.map_err(|e| failure(&e))?;
    let ended = match outcome.end_reason {
        Reason::NoAction | Reason::UpdateCertificate => None,
        Reason::InvalidElement => Some("the server ended the session with reason 7 (failure)".to_owned()),
        Reason::UnknownDevice => Some("the server does not know the device (reason 9, unknown device)".to_owned()),
        Reason::Unknown(c) => Some(format!("the server ended the session with reason {c}")),
    };
    match outcome.operation {
        Operation::Install(r) if r.stored && ended.is_none() => Ok(()),
        Operation::Install(r) => Err(r
            .keygen_error
            .or(r.store_error)
            .map(|e| format!("the phone: {}", printable(&e)))
            .or(ended)
            .unwrap_or_else(|| "no LSC delivered".to_owned())),
        Operation::None => {
            Err(ended.unwrap_or_else(|| "no pending operation (the server ended the session with reason 0)".into()))
        }
        Operation::Delete { .. } => Err("the server asked for Delete, not Install/Upgrade".into()),
        Operation::Fetch { .. } => Err("the server asked for Troubleshoot (fetch), not Install/Upgrade".into()),
    }
}

/// A client error as a failure reason; the handshake's are named as such (a wrong `--trust`).
fn failure(e: &ClientError) -> String {
    let text = printable(&e.to_string()).into_owned();
    match e {
        ClientError::ServerNotTrusted { .. }
        | ClientError::TlsAlert(_)
        | ClientError::Timeout(Stage::Handshake)
        | ClientError::Closed(Stage::Handshake) => format!("TLS handshake: {text}"),
        _ => text,
    }
}

/// Keeps the LSC nowhere and hands out the key made beforehand.
struct PreparedPhone {
    key: Option<PrivateKey>,
    /// The key the server's KeyGenRequest asked for.
    asked: Option<KeyAlgorithm>,
}

impl SessionHandler for PreparedPhone {
    fn store_lsc(&mut self, _lsc_der: &[u8], _key: &PrivateKey) -> Result<(), String> {
        Ok(())
    }
    fn delete_lsc(&mut self) -> Result<bool, String> {
        Ok(false)
    }
    fn certificate_to_upload(&mut self, _: Option<CertType>) -> Option<Vec<u8>> {
        None
    }
    fn prepared_key(&mut self, algorithm: KeyAlgorithm) -> Option<PrivateKey> {
        self.asked = Some(algorithm);
        self.key.take()
    }
}

/// One run, as printed and as `--json` gives it.
#[derive(Serialize)]
pub(super) struct Report {
    /// The server driven (`--target`); absent for the in-process server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The in-process server's CAPF key; absent with `--target` (the server's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capf_key: Option<String>,
    pub phone_key: String,
    pub sessions: usize,
    pub concurrency: usize,
    pub seconds: f64,
    /// Successful Install/Upgrade sessions per second of wall time.
    pub sessions_per_second: f64,
    pub successes: usize,
    pub failures: usize,
    /// Failed sessions by reason.
    pub failure_reasons: BTreeMap<String, usize>,
    /// Sessions in which the server asked for another key than `phone_key`, so the phone made
    /// it on the clock: the figure then times the phone's key generation too.
    pub keys_generated_on_the_clock: usize,
    /// Latency percentiles of the successful sessions (connect to EndSession); `null` if none.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// With `--server-pid`: the server's CPU per session beside the crypto floor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu: Option<super::floor::ServerCpu>,
    /// In-process runs: this process's CPU per successful session, server and phones together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_cpu_ms_per_session: Option<f64>,
    /// `--target` runs: the load tool's own CPU per successful session (the phones' side), which
    /// shares the cores with a server on the same machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cpu_ms_per_session: Option<f64>,
}

impl Report {
    pub(super) fn new(mut tally: Tally, phone_key: KeyAlgorithm, concurrency: usize) -> Report {
        let p = super::percentiles(&mut tally.latencies);
        let l = &tally.latencies;
        let seconds = tally.elapsed.as_secs_f64();
        Report {
            target: None,
            capf_key: None,
            phone_key: phone_key.token().into(),
            sessions: l.len() + tally.failures,
            concurrency,
            seconds,
            sessions_per_second: if seconds > 0.0 { l.len() as f64 / seconds } else { 0.0 },
            successes: l.len(),
            failures: tally.failures,
            failure_reasons: tally.failure_reasons,
            keys_generated_on_the_clock: tally.keys_generated,
            p50_ms: p.as_ref().map(|p| p.p50),
            p95_ms: p.as_ref().map(|p| p.p95),
            p99_ms: p.as_ref().map(|p| p.p99),
            max_ms: p.as_ref().map(|p| p.max),
            server_cpu: None,
            process_cpu_ms_per_session: None,
            client_cpu_ms_per_session: None,
        }
    }

    /// The one-line summary people read.
    pub(super) fn line(&self) -> String {
        let who = match (&self.target, &self.capf_key) {
            (Some(t), _) => format!("{} ", printable(t)),
            (None, Some(k)) => format!("CAPF {k:<9}"),
            (None, None) => String::new(),
        };
        let f = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
        format!(
            "{who} phones {:<9} {:>5} sessions, {:>3} at once: {:>7.1} sessions/s, {} succeeded, {} failed (p50 {} ms, p95 {} ms, p99 {} ms, max {} ms)",
            self.phone_key,
            self.sessions,
            self.concurrency,
            self.sessions_per_second,
            self.successes,
            self.failures,
            f(self.p50_ms),
            f(self.p95_ms),
            f(self.p99_ms),
            f(self.max_ms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(ms: &[u64], failures: &[&str]) -> Tally {
        let mut t = Tally {
            elapsed: Duration::from_secs(2),
            latencies: ms.iter().map(|m| Duration::from_millis(*m)).collect(),
            failures: 0,
            failure_reasons: BTreeMap::new(),
            keys_generated: 0,
        };
        for f in failures {
            t.fail((*f).to_owned());
        }
        t
    }

    #[test]
    fn report_counts_and_percentiles() {
        let ms: Vec<u64> = (1..=100).rev().collect();
        let r = Report::new(tally(&ms, &["a", "a", "b"]), KeyAlgorithm::Ec256, 4);
        assert_eq!((r.sessions, r.successes, r.failures), (103, 100, 3));
        assert_eq!(r.failure_reasons, BTreeMap::from([("a".into(), 2), ("b".into(), 1)]));
        assert_eq!(r.sessions_per_second, 50.0);
        assert_eq!((r.p50_ms, r.p99_ms, r.max_ms), (Some(51.0), Some(99.0), Some(100.0)));
    }

    #[test]
    fn no_success_gives_no_percentiles_and_reasons_are_bounded() {
        let reasons: Vec<String> = (0..40).map(|i| format!("reason {i}")).collect();
        let refs: Vec<&str> = reasons.iter().map(String::as_str).collect();
        let r = Report::new(tally(&[], &refs), KeyAlgorithm::Ec256, 1);
        assert_eq!((r.successes, r.failures, r.p50_ms, r.max_ms), (0, 40, None, None));
        assert_eq!(r.failure_reasons.len(), MAX_REASONS + 1);
        assert_eq!(r.failure_reasons[OTHER], 40 - MAX_REASONS);
        assert!(r.line().contains("0 succeeded, 40 failed"), "{}", r.line());
    }
}
