//! `bench capf` without `--target`: an in-process server on 127.0.0.1 in a throw-away cluster,
//! measured end to end (TLS + CAPF + LSC signing + database commit), once per CAPF key. After the
//! run the cluster must record one installed LSC per session.

use std::sync::Arc;

use anyhow::{bail, Context as _};
use opencapf_capf::client::{ClientConfig, Credentials, PhoneIdentity};
use opencapf_capf::{CapfConfig, CapfServer};
use opencapf_cluster::{CapfSettings, Selection};
use opencapf_model::{AuthMode, CertificateOperation, KeyOrder, Service};
use opencapf_pki::KeyAlgorithm;

use super::drive::{drive, BenchPhone, Report};
use super::target::make_keys;
use super::{print, CapfBenchArgs};
use crate::cmd::Context;

pub(super) async fn run(ctx: &Context, a: &CapfBenchArgs) -> anyhow::Result<()> {
    let sessions = a.sessions.unwrap_or(300);
    let capf_keys: Vec<KeyAlgorithm> = match a.capf_key {
        Some(k) => vec![k],
        None => vec![KeyAlgorithm::Rsa2048, KeyAlgorithm::Ec256],
    };
    let mut reports = Vec::new();
    for capf_key in capf_keys {
        reports.push(bench_once(capf_key, a.phone_key, sessions, a.concurrency).await?);
    }
    print(ctx, &reports)
}

async fn bench_once(
    capf_key: KeyAlgorithm,
    phone_key: KeyAlgorithm,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Report> {
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
) -> anyhow::Result<Report> {
    let (store, names) = super::cluster::bench_cluster(dir, capf_key, n, 0xB0_0000_0000).await?;
    let key_order = if phone_key.is_rsa() { KeyOrder::RsaOnly } else { KeyOrder::EcOnly };
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
    let keys = make_keys(phone_key, n).await?;
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
    let phones = names
        .iter()
        .zip(keys)
        .map(|(name, key)| BenchPhone {
            identity: PhoneIdentity { device_name: name.to_string(), credentials: Credentials::NullString, sudi: None },
            key,
        })
        .collect();
    let cpu_before = super::cpu::own_cpu();
    let tally = drive(client_config, phones, concurrency).await;
    let cpu_used = super::cpu::own_cpu().saturating_sub(cpu_before);
    let _ = stop_tx.send(());
    server_task.await.context("CAPF server task")??;
    if let Some((reason, _)) = tally.failure_reasons.iter().max_by_key(|(_, n)| **n) {
        bail!("{} of {n} sessions failed (most: {reason})", tally.failures);
    }
    let installed = store.issued_count("installed").await?;
    if installed != n as i64 {
        bail!("{installed} LSCs recorded as installed for {n} sessions");
    }
    store.close().await;
    let mut report = Report::new(tally, phone_key, concurrency);
    report.capf_key = Some(capf_key.token().into());
    report.process_cpu_ms_per_session = Some(super::cpu::ms_per_session(cpu_used, report.successes));
    Ok(report)
}
