//! `opencapf bench register`: SIP-over-TLS registrations per second and phones held registered,
//! against CallManager on 127.0.0.1 in a throw-away cluster. The phones' device records, keys and
//! LSCs (signed by the cluster's CAPF) are made before the clock starts; the server is
//! `opencapf serve` on that cluster in a child process ([`ServerProcess`]), so that each process
//! holds one descriptor per phone and the memory measured is the server's alone: its RSS growth
//! from before the first connection to the end of the hold, divided by the phones held.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use opencapf_cluster::Cluster;
use opencapf_model::{RegistrationResult, Service};
use opencapf_phone::{LoadFailure, LoadPhone, LoadRegistration};
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{DeviceName, KeyAlgorithm, PrivateKey};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::Context;
use crate::output;

/// Each connect, handshake or answer must come within this.
pub(super) const WAIT: Duration = Duration::from_secs(15);
/// Descriptors beyond one a phone: the database, listeners, stdio.
const SPARE_FDS: u64 = 128;

#[derive(Args)]
pub(crate) struct RegisterBenchArgs {
    /// Phones that register and stay registered
    #[arg(long, default_value_t = 1000)]
    pub phones: usize,
    /// Phones connecting and registering at once
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds all phones stay registered after the last one registered
    #[arg(long, default_value_t = 30)]
    pub hold: u64,
    /// Seconds between a phone's REGISTER refreshes while held (it asks for this plus 5 s)
    #[arg(long, default_value_t = 10)]
    pub refresh: u64,
    /// What the phones speak: SIP REGISTER to CallManager, or one HTTP/1.1 request each to an
    /// mTLS server (`--target`, `--trust`, `--cert`, `--key`: scripts/compare-nginx.sh)
    #[arg(long, value_enum, default_value = "sip")]
    pub mode: Mode,
    /// An external server, IP:PORT: a CallManager (with --trust and --phones-dir), or an mTLS
    /// server with --mode http
    #[arg(long, value_name = "IP:PORT")]
    pub target: Option<String>,
    /// With --target: the server's certificate (PEM or DER), trusted byte for byte as phones do
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// With --target (SIP): a folder of phone folders (`opencapf phone init`, each with an LSC
    /// of the target's cluster); --phones of them are used
    #[arg(long, value_name = "DIR")]
    pub phones_dir: Option<PathBuf>,
    /// --mode http: the client certificate every connection presents (PEM)
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// --mode http: its private key (PEM)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    Sip,
    Http,
}

#[derive(Serialize)]
struct RegisterRun {
    phones: usize,
    concurrency: usize,
    registered: usize,
    failures: usize,
    /// The first failure's text, escaped.
    first_failure: Option<String>,
    seconds: f64,
    registrations_per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    hold_seconds: u64,
    refresh_seconds: u64,
    refreshes: u64,
    refresh_failures: u64,
    /// Phones whose every refresh was answered 200 and that CallManager lists as registered.
    held: usize,
    /// Registrations CallManager's registry holds at the end of the hold.
    /// The following: known of the server started here only (`null` with --target).
    server_registered: Option<usize>,
    rss_before_kib: Option<u64>,
    rss_after_kib: Option<u64>,
    memory_per_phone_bytes: Option<u64>,
}

pub(crate) async fn run(ctx: &Context, a: RegisterBenchArgs) -> anyhow::Result<()> {
    if a.phones == 0 || a.concurrency == 0 {
        bail!("--phones and --concurrency must be at least 1");
    }
    if a.mode == Mode::Http {
        return super::http::run(ctx, &a).await;
    }
    if a.refresh == 0 {
        bail!("--refresh must be at least 1");
    }
    let limit = opencapf_net::raise_descriptor_limit().context("raising the open-file limit")?;
    let need = a.phones as u64 + SPARE_FDS;
    if limit.now < need {
        bail!(
            "{} phones need {need} open files and the limit is {}: raise the hard limit first (`ulimit -Hn {need}` as root)",
            a.phones,
            limit.now
        );
    }
    let r = match &a.target {
        Some(target) => bench_target(target, &a).await?,
        None => {
            let dir = std::env::temp_dir().join(format!("opencapf-bench-register-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let result = bench_in(&dir, &a).await;
            let _ = std::fs::remove_dir_all(&dir);
            result?
        }
    };
    if ctx.json {
        output::json(&r)?;
    } else {
        print_text(&r);
    }
    Ok(())
}

fn print_text(r: &RegisterRun) {
    println!(
        "{} of {} phones registered over SIP TLS, {} at once: {:.1} registrations/s (p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms)",
        r.registered, r.phones, r.concurrency, r.registrations_per_second, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms
    );
    println!(
        "held {} for {} s with a refresh every {} s ({} refreshes, {} failed)",
        r.held, r.hold_seconds, r.refresh_seconds, r.refreshes, r.refresh_failures
    );
    if let Some(listed) = r.server_registered {
        println!("CallManager recorded {listed} registered");
    }
    if let (Some(before), Some(after), Some(per)) = (r.rss_before_kib, r.rss_after_kib, r.memory_per_phone_bytes) {
        println!(
            "memory: RSS {before} KiB before, {after} KiB after: {per} bytes per registered phone (the server process)"
        );
    }
    if let Some(f) = &r.first_failure {
        println!("{} failed; the first: {f}", r.failures);
    }
}

/// The cluster, its SIP devices, and one [`LoadPhone`] each with a fresh LSC.
async fn prepare(dir: &std::path::Path, n: usize) -> anyhow::Result<(Cluster, Vec<(DeviceName, LoadPhone)>)> {
    let (store, names) = super::cluster::bench_cluster(dir, KeyAlgorithm::Ec256, n, 0xC0_0000_0000).await?;
    let signer = store.signer(Service::Capf).await?;
    let trust = vec![store.require_certificate(Service::CallManager).await?.der];
    let now = opencapf_model::now();
    let mut phones = Vec::with_capacity(n);
    for device in &names {
        let key = PrivateKey::generate(KeyAlgorithm::Ec256)?;
        let req = LscRequest {
            device,
            public_key_der: key.public_key_der(),
            model: None,
            pid_sn: None,
            validity_days: 30,
            now,
        };
        let lsc = profiles::lsc(&signer, &req)?;
        phones.push((device.clone(), LoadPhone::new(device, "CP-8861", lsc.der, key, trust.clone())?));
    }
    Ok((store, phones))
}

async fn bench_in(dir: &std::path::Path, a: &RegisterBenchArgs) -> anyhow::Result<RegisterRun> {
    let n = a.phones;
    let (store, phones) = prepare(dir, n).await?;
    let server = ServerProcess::start(dir).await?;
    let result = drive(Some((&store, server.pid)), server.sip_tls, phones, a).await;
    server.stop();
    store.close().await;
    result
}

/// External CallManager: the phones of `--phones-dir`, CallManager trusted as `--trust` says.
async fn bench_target(target: &str, a: &RegisterBenchArgs) -> anyhow::Result<RegisterRun> {
    let (Some(trust), Some(phones_dir)) = (&a.trust, &a.phones_dir) else {
        bail!("--target needs --trust (CallManager's certificate) and --phones-dir (phone folders with LSCs of its cluster)");
    };
    let addr: SocketAddr = target.parse().with_context(|| format!("--target {target}: not an IP:PORT"))?;
    let trust = crate::cmd::read_certificates(trust)?;
    let mut folders: Vec<PathBuf> = std::fs::read_dir(phones_dir)
        .with_context(|| format!("reading {}", phones_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(opencapf_phone::files::PHONE_JSON).is_file())
        .collect();
    folders.sort();
    folders.truncate(a.phones);
    let mut phones = Vec::with_capacity(folders.len());
    for dir in &folders {
        let phone = opencapf_phone::Phone::open(dir)?;
        let lsc = phone.lsc()?.with_context(|| format!("{} has no LSC", dir.display()))?;
        let name = phone.device_name().clone();
        phones.push((name.clone(), LoadPhone::new(&name, &phone.config().model, lsc.der, lsc.key, trust.clone())?));
    }
    if phones.is_empty() {
        bail!("{} holds no phone folders", phones_dir.display());
    }
    drive(None, addr, phones, a).await
}

/// Registers `phones` to `addr`, holds them, and measures; `local`: the cluster and process
/// of the server started here, for the registrations it recorded and its memory.
async fn drive(
    local: Option<(&Cluster, u32)>,
    addr: SocketAddr,
    phones: Vec<(DeviceName, LoadPhone)>,
    a: &RegisterBenchArgs,
) -> anyhow::Result<RegisterRun> {
    let n = phones.len();
    let expires = u32::try_from(a.refresh + 5).unwrap_or(u32::MAX);
    let rss_before = local.map(|(_, pid)| rss_kib(pid)).transpose()?;
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (name, phone) in phones {
        let permit = gate.clone().acquire_owned().await?;
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let r = phone.register(addr, expires, WAIT).await;
            drop(permit);
            (name, r, began.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    let mut failures = Vec::new();
    for t in tasks {
        let (name, r, took) = t.await?;
        latencies.push(took);
        match r {
            Ok(reg) => held.push((name, reg)),
            Err(e) => failures.push(e),
        }
    }
    let elapsed = start.elapsed();
    let registered = held.len();

    let (held, refreshes, refresh_failures) = hold(held, a.hold, a.refresh, expires).await?;
    let rss_after = local.map(|(_, pid)| rss_kib(pid)).transpose()?;
    // What CallManager recorded: each device's newest event is a registration.
    let listed: Option<HashSet<String>> = match local {
        None => None,
        Some((store, _)) => Some(
            store
                .newest_registrations()
                .await?
                .into_iter()
                .filter(|r| r.event.result == RegistrationResult::Registered)
                .filter_map(|r| r.event.device)
                .collect(),
        ),
    };
    let server_registered = listed.as_ref().map(HashSet::len);
    let held_count = held.iter().filter(|(name, _)| listed.as_ref().is_none_or(|l| l.contains(name.as_str()))).count();
    for (_, reg) in held {
        reg.close().await;
    }

    let p = super::percentiles(&mut latencies).unwrap_or_default();
    let per_phone = match (rss_before, rss_after) {
        (Some(b), Some(a)) => Some((a.saturating_sub(b) * 1024).checked_div(held_count as u64).unwrap_or(0)),
        _ => None,
    };
    Ok(RegisterRun {
        phones: n,
        concurrency: a.concurrency,
        registered,
        failures: failures.len(),
        first_failure: failures.first().map(LoadFailure::to_string),
        seconds: elapsed.as_secs_f64(),
        registrations_per_second: registered as f64 / elapsed.as_secs_f64(),
        p50_ms: p.p50,
        p95_ms: p.p95,
        p99_ms: p.p99,
        max_ms: p.max,
        hold_seconds: a.hold,
        refresh_seconds: a.refresh,
        refreshes,
        refresh_failures,
        held: held_count,
        server_registered,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        memory_per_phone_bytes: per_phone,
    })
}

/// `opencapf serve` on the throw-away cluster, in a process of its own (so that its memory is
/// its own, and each process holds one descriptor per phone), with only CAPF and SIP over TLS
/// listening on 127.0.0.1, logging warnings only.
struct ServerProcess {
    child: std::process::Child,
    pid: u32,
    sip_tls: SocketAddr,
}

impl ServerProcess {
    async fn start(dir: &std::path::Path) -> anyhow::Result<ServerProcess> {
        let exe = std::env::current_exe().context("finding the opencapf executable")?;
        let out_path = dir.join("serve.out");
        let err_path = dir.join("serve.err");
        let out = std::fs::File::create(&out_path).context("creating serve.out")?;
        let err = std::fs::File::create(&err_path).context("creating serve.err")?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("--data-dir").arg(dir).arg("serve");
        cmd.args(["--capf-listen", "127.0.0.1:0", "--sip-tls-listen", "127.0.0.1:0"]);
        for off in ["--sip-tcp-listen", "--sip-udp-listen", "--sccp-tls-listen", "--sccp-tcp-listen"] {
            cmd.args([off, "off"]);
        }
        for off in ["--http-listen", "--tvs-listen", "--admin-listen", "--tftp-listen", "--est-listen"] {
            cmd.args([off, "off"]);
        }
        // Every benchmark phone comes from 127.0.0.1.
        cmd.args(["--max-per-source", "0"]);
        cmd.env("RUST_LOG", "warn").stdin(std::process::Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().context("starting opencapf serve")?;
        let mut server = ServerProcess { pid: child.id(), child, sip_tls: SocketAddr::from(([127, 0, 0, 1], 0)) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&out_path).unwrap_or_default();
            let found = text.lines().find_map(|l| l.strip_prefix("CallManager SIP TLS listening on "));
            if let Some(addr) = found.and_then(|a| a.trim().parse().ok()) {
                server.sip_tls = addr;
                return Ok(server);
            }
            let exited = server.child.try_wait().ok().flatten().is_some();
            if exited || Instant::now() > deadline {
                server.stop();
                let err = std::fs::read_to_string(&err_path).unwrap_or_default();
                bail!("opencapf serve did not start: {}", opencapf_model::printable(err.trim()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Keeps every registration for `hold` seconds, each refreshed every `refresh` seconds; the
/// phones' first refreshes are spread over one period so they do not all come at once. Returns
/// the registrations whose every refresh succeeded (by device name), the refreshes sent, and
/// those that failed.
async fn hold(
    regs: Vec<(DeviceName, LoadRegistration)>,
    hold: u64,
    refresh: u64,
    expires: u32,
) -> anyhow::Result<(Vec<(DeviceName, LoadRegistration)>, u64, u64)> {
    let n = regs.len().max(1) as u64;
    let end = tokio::time::Instant::now() + Duration::from_secs(hold);
    let period = Duration::from_secs(refresh);
    let mut tasks = Vec::with_capacity(regs.len());
    for (i, (name, mut reg)) in regs.into_iter().enumerate() {
        let first = tokio::time::Instant::now() + period.mul_f64(i as f64 / n as f64);
        tasks.push(tokio::spawn(async move {
            let (mut sent, mut failed) = (0u64, 0u64);
            let mut next = first;
            while next < end {
                tokio::time::sleep_until(next).await;
                sent += 1;
                if reg.refresh(expires, WAIT).await.is_err() {
                    failed += 1;
                    break;
                }
                next += period;
            }
            tokio::time::sleep_until(end).await;
            (name, reg, sent, failed)
        }));
    }
    let (mut kept, mut sent, mut failed) = (Vec::new(), 0, 0);
    for t in tasks {
        let (name, reg, s, f) = t.await?;
        sent += s;
        failed += f;
        if f == 0 {
            kept.push((name, reg));
        }
    }
    Ok((kept, sent, failed))
}

/// A process's resident set (`VmRSS` of /proc/PID/status), in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/self/status")
}
