//! `bench capf --target HOST:PORT`: any CAPF server (another OpenCAPF node, capfd, a CUCM lab)
//! driven by the phones of a devices file, over the same wire protocol a phone speaks; nothing
//! here relies on OpenCAPF-only behaviour.
//!
//! Each session consumes its device's pending Install/Upgrade operation, so a run has at most one
//! session per device: `--sessions` larger than the devices file is refused rather than cycled
//! (cycling would need the operations rescheduled between rounds, which only the server's
//! administrator can do).

use std::sync::Arc;

use anyhow::bail;
use opencapf_capf::client::{ClientConfig, Credentials, PhoneIdentity};
use opencapf_pki::{KeyAlgorithm, PrivateKey};

use super::drive::{drive, BenchPhone, Report};
use super::floor::ServerCpu;
use super::{cpu, devices, floor, print, CapfBenchArgs};
use crate::cmd::{read_certificates, Context};

/// Handshakes and signatures the floor averages (fewer for a run of fewer sessions, at least 20).
const FLOOR_SAMPLES: usize = 200;
/// Waited after the run before the server's CPU is read again.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(250);

pub(super) async fn run(ctx: &Context, server: &str, a: &CapfBenchArgs) -> anyhow::Result<()> {
    let (Some(trust), Some(devices_file)) = (&a.trust, &a.devices) else {
        bail!("--target needs --trust CERT and --devices FILE");
    };
    let trust_list = read_certificates(trust)?;
    let names = devices::read(devices_file)?;
    let sessions = a.sessions.unwrap_or(names.len());
    if sessions > names.len() {
        bail!(
            "--sessions {sessions} is more than the {} devices of {}: each session consumes its device's \
             pending operation, so give one device per session",
            names.len(),
            devices_file.display()
        );
    }
    let credentials = match &a.auth_string {
        Some(s) if !((4..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())) => {
            bail!("--auth-string: an authentication string is 4 to 10 digits")
        }
        Some(s) => Credentials::AuthString(s.clone()),
        // capfc's default, and the mode a lab schedules for a bulk run.
        None => Credentials::NullString,
    };
    let keys = make_keys(a.phone_key, sessions).await?;
    let phones = names
        .into_iter()
        .zip(keys)
        .map(|(name, key)| BenchPhone {
            identity: PhoneIdentity { device_name: name.to_string(), credentials: credentials.clone(), sudi: None },
            key,
        })
        .collect();
    // The floor before the load, never during it: both would share the cores.
    let floor = match a.server_pid {
        Some(pid) => {
            cpu::process_cpu(pid)?;
            let Some(capf) = trust_list.first() else { bail!("--trust holds no certificate") };
            let capf_key = capf_key_of(capf)?;
            Some((pid, floor::measure(capf_key, sessions.clamp(20, FLOOR_SAMPLES)).await?))
        }
        None => None,
    };
    let cpu_before = floor.as_ref().map(|(pid, _)| cpu::process_cpu(*pid)).transpose()?;
    let own_before = cpu::own_cpu();
    let config = ClientConfig::new(server, trust_list);
    let tally = drive(Arc::new(config), phones, a.concurrency).await;
    let own_used = cpu::own_cpu().saturating_sub(own_before);
    let mut report = Report::new(tally, a.phone_key, a.concurrency);
    report.target = Some(server.to_owned());
    report.client_cpu_ms_per_session = Some(cpu::ms_per_session(own_used, report.successes));
    if let (Some((pid, floor)), Some(before)) = (floor, cpu_before) {
        // What the server still does once the last EndSession is sent (its last commit).
        tokio::time::sleep(SETTLE).await;
        let used = cpu::process_cpu(pid)?.saturating_sub(before);
        report.server_cpu = Some(ServerCpu::new(pid, used, report.successes, floor));
    }
    print(ctx, std::slice::from_ref(&report))?;
    if let Some((reason, _)) = report.failure_reasons.iter().max_by_key(|(_, n)| **n) {
        bail!("{} of {} sessions failed (most: {reason})", report.failures, report.sessions);
    }
    Ok(())
}

/// The key type of the server's CAPF certificate (the first of `--trust`).
fn capf_key_of(der: &[u8]) -> anyhow::Result<KeyAlgorithm> {
    let info = opencapf_pki::CertificateInfo::parse(der)?;
    match KeyAlgorithm::ALL.into_iter().find(|k| k.to_string() == info.key) {
        Some(k) => Ok(k),
        None => bail!("--server-pid: no crypto floor for the server's {} key", info.key),
    }
}

/// The phones' keys, made before the clock starts, on the blocking pool (RSA takes a while).
pub(super) async fn make_keys(algorithm: KeyAlgorithm, n: usize) -> anyhow::Result<Vec<PrivateKey>> {
    let keys = tokio::task::spawn_blocking(move || {
        (0..n).map(|_| PrivateKey::generate(algorithm)).collect::<Result<Vec<_>, _>>()
    });
    Ok(keys.await??)
}
