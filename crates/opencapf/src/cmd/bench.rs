//! `opencapf bench capf`: full Install/Upgrade sessions per second, measured end to end (TLS +
//! CAPF + LSC signing + database commit) against an in-process server on 127.0.0.1, in a
//! throw-away cluster. Phone keys are made before the clock starts: the server is what is timed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use opencapf_capf::client::{CapfClient, ClientConfig, Credentials, PhoneIdentity, SessionHandler};
use opencapf_capf::{CapfConfig, CapfServer};
use opencapf_cluster::{init, Cluster, InitOptions};
use opencapf_cluster::{CapfSettings, Selection};
use opencapf_model::{AuthMode, CertificateOperation, KeyOrder, NewDevice, Protocol, SecurityMode, Service};
use opencapf_pki::{DeviceName, KeyAlgorithm, PrivateKey, SubjectFields};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::Context;
use crate::output;

#[derive(Subcommand)]
pub(crate) enum BenchCommand {
    /// Install/Upgrade sessions per second, with RSA-2048 and EC P-256 CAPF keys (or the one chosen)
    Capf(CapfBenchArgs),
    /// SIP-over-TLS registrations per second, and phones held registered with refreshes
    Register(super::bench_register::RegisterBenchArgs),
}

#[derive(Args)]
pub(crate) struct CapfBenchArgs {
    /// Sessions per CAPF key
    #[arg(long, default_value_t = 300)]
    pub sessions: usize,
    /// Phones in session at once
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Only this CAPF key (rsa2048, ec256, …); default: both rsa2048 and ec256
    #[arg(long, ignore_case = true)]
    pub capf_key: Option<KeyAlgorithm>,
    /// The phones' key: ec256 (EC Only) or rsa2048 (RSA Only)
    #[arg(long, default_value = "ec256", ignore_case = true)]
    pub phone_key: KeyAlgorithm,
}

#[derive(Serialize)]
struct Run {
    capf_key: String,
    phone_key: String,
    sessions: usize,
    concurrency: usize,
    seconds: f64,
    sessions_per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    max_ms: f64,
}

pub(crate) async fn run(ctx: &Context, cmd: BenchCommand) -> anyhow::Result<()> {
    let a = match cmd {
        BenchCommand::Capf(a) => a,
        BenchCommand::Register(a) => return super::bench_register::run(ctx, a).await,
    };
    if a.sessions == 0 || a.concurrency == 0 {
        bail!("--sessions and --concurrency must be at least 1");
    }
    let phone_key = a.phone_key;
    let capf_keys: Vec<KeyAlgorithm> = match a.capf_key {
        Some(k) => vec![k],
        None => vec![KeyAlgorithm::Rsa2048, KeyAlgorithm::Ec256],
    };
    let mut runs = Vec::new();
    for capf_key in capf_keys {
        let r = bench_once(capf_key, phone_key, a.sessions, a.concurrency).await?;
        if !ctx.json {
            println!(
                "CAPF {:<9} phones {:<9} {:>5} sessions, {:>3} at once: {:>7.1} sessions/s (p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms)",
                r.capf_key, r.phone_key, r.sessions, r.concurrency, r.sessions_per_second, r.p50_ms, r.p95_ms, r.max_ms
            );
        }
        runs.push(r);
    }
    if ctx.json {
        output::json(&runs)?;
    }
    Ok(())
}

/// Keeps the LSC in memory and hands out the key made beforehand.
struct BenchPhone {
    key: Option<PrivateKey>,
    stored: bool,
}

impl SessionHandler for BenchPhone {
    fn store_lsc(&mut self, _lsc_der: &[u8], _key: &PrivateKey) -> Result<(), String> {
        self.stored = true;
        Ok(())
    }
    fn delete_lsc(&mut self) -> Result<bool, String> {
        Ok(false)
    }
    fn certificate_to_upload(&mut self, _: Option<opencapf_capf::proto::message::CertType>) -> Option<Vec<u8>> {
        None
    }
    fn prepared_key(&mut self, _: KeyAlgorithm) -> Option<PrivateKey> {
        self.key.take()
    }
}

async fn bench_once(
    capf_key: KeyAlgorithm,
    phone_key: KeyAlgorithm,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let dir = std::env::temp_dir().join(format!("opencapf-bench-{}-{}", std::process::id(), capf_key.token()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = bench_in(&dir, capf_key, phone_key, n, concurrency).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench_in(
    dir: &std::path::Path,
    capf_key: KeyAlgorithm,
    phone_key: KeyAlgorithm,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let options = InitOptions {
        capf_key,
        subject: SubjectFields { organization: Some("OpenCAPF bench".into()), ..Default::default() },
        hostname: "bench.invalid".into(),
        manufacturer_cas: Vec::new(),
        actor: "bench".into(),
    };
    init(dir, options).await?;
    let store = Cluster::open(dir).await?;
    let key_order = if phone_key.is_rsa() { KeyOrder::RsaOnly } else { KeyOrder::EcOnly };
    let names: Vec<DeviceName> =
        (0..n).map(|i| format!("SEP{:012X}", 0xB0_0000_0000u64 + i as u64).parse()).collect::<Result<_, _>>()?;
    let new_devices = names
        .iter()
        .map(|name| NewDevice {
            name: name.clone(),
            model: "CP-8861".into(),
            protocol: Protocol::Sip,
            security_mode: SecurityMode::Encrypted,
            description: String::new(),
            lines: Vec::new(),
            load_information: None,
        })
        .collect();
    store.import_devices("bench", new_devices, Vec::new(), false, "bench", |_, _| {}).await?;
    let settings = CapfSettings {
        operation: Some(CertificateOperation::InstallUpgrade),
        auth_mode: Some(AuthMode::NullString),
        key_order: Some(key_order),
        rsa_bits: phone_key.is_rsa().then_some(phone_key.bits()),
        ec_bits: Some(if phone_key.is_rsa() { 256 } else { phone_key.bits() }),
        ..CapfSettings::default()
    };
    let deadline = opencapf_model::now() + time::Duration::days(1);
    store.set_capf(&Selection::All, &settings, deadline, "bench", |_, _| {}).await?;
    let keys: Vec<PrivateKey> = (0..n).map(|_| PrivateKey::generate(phone_key)).collect::<Result<_, _>>()?;
    let capf_der = store.require_certificate(Service::Capf).await?.der;

    let config = CapfConfig {
        listen: "127.0.0.1:0".parse().expect("literal address"),
        max_sessions: concurrency * 2,
        // Every benchmark phone comes from 127.0.0.1.
        max_per_source: None,
        ..CapfConfig::default()
    };
    let (addr, server) = CapfServer::bind(store.clone(), config).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_task = tokio::spawn(server.serve_until(async move {
        let _ = stop_rx.await;
    }));

    let client_config = Arc::new({
        let mut c = ClientConfig::new(addr.to_string(), vec![capf_der]);
        c.progress_interval = None;
        c
    });
    let gate = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (name, key) in names.iter().zip(keys) {
        let permit = gate.clone().acquire_owned().await?;
        let config = client_config.clone();
        let identity =
            PhoneIdentity { device_name: name.to_string(), credentials: Credentials::NullString, sudi: None };
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let mut phone = BenchPhone { key: Some(key), stored: false };
            let outcome = CapfClient::run(&config, &identity, &mut phone).await;
            drop(permit);
            (outcome.map(|o| o.is_success() && phone.stored), began.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let mut failures = 0;
    for t in tasks {
        let (ok, took) = t.await?;
        if !matches!(ok, Ok(true)) {
            failures += 1;
        }
        latencies.push(took);
    }
    let elapsed = start.elapsed();
    let _ = stop_tx.send(());
    server_task.await.context("CAPF server task")??;
    if failures > 0 {
        bail!("{failures} of {n} sessions failed");
    }
    let installed = store.issued_count("installed").await?;
    if installed != n as i64 {
        bail!("{installed} LSCs recorded as installed for {n} sessions");
    }
    store.close().await;
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]);
    Ok(Run {
        capf_key: capf_key.token().into(),
        phone_key: phone_key.token().into(),
        sessions: n,
        concurrency,
        seconds: elapsed.as_secs_f64(),
        sessions_per_second: n as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
        max_ms: ms(*latencies.last().expect("at least one session")),
    })
}
