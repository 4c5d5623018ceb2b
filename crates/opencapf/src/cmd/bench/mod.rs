//! `opencapf bench capf`: full Install/Upgrade sessions per second, measured end to end by the
//! simulator's fast client (many phones in one process); `opencapf bench register`: SIP-over-TLS
//! registrations per second and phones held registered.
//!
//! - [`local`]: without `--target`, an in-process server on 127.0.0.1 in a throw-away cluster,
//!   once per CAPF key.
//! - [`target`]: with `--target HOST:PORT`, any CAPF server (another OpenCAPF node, capfd, a CUCM
//!   lab), the phones named by a devices file, its certificate checked against `--trust`.
//! - `cpu` and `floor`: with `--server-pid`, the server's CPU per session (`/proc/PID/stat`) beside
//!   the crypto floor of a session (server side of a TLS handshake and an LSC signature, aws-lc).
//! - `cluster`: the throw-away cluster and phones both in-process benches start from.
//! - [`drive`]: the one client loop and the one report both modes share.
//! - [`register`]: `bench register`, against a CallManager it starts (a child `serve`) or any
//!   other; [`http`]: its `--mode http`, the same client shape against an mTLS web server (nginx).
//!
//! Phone keys are made before the clock starts: the server is what is timed.

mod cluster;
mod cpu;
mod devices;
mod drive;
mod floor;
mod http;
mod local;
mod register;
mod target;

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use opencapf_pki::KeyAlgorithm;

use super::Context;
use crate::output;

#[derive(Subcommand)]
pub(crate) enum BenchCommand {
    /// Install/Upgrade sessions per second: of an in-process server with RSA-2048 and EC P-256 CAPF
    /// keys (or the one chosen), or of any CAPF server with --target
    Capf(CapfBenchArgs),
    /// SIP-over-TLS registrations per second, and phones held registered with refreshes
    Register(register::RegisterBenchArgs),
}

#[derive(Args)]
pub(crate) struct CapfBenchArgs {
    /// Sessions per CAPF key (in-process: default 300); with --target, at most the number of
    /// devices (default: one per device)
    #[arg(long)]
    pub sessions: Option<usize>,
    /// Phones in session at once
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Only this CAPF key (rsa2048, ec256, …); default: both rsa2048 and ec256 (in-process only)
    #[arg(long, ignore_case = true, conflicts_with = "target")]
    pub capf_key: Option<KeyAlgorithm>,
    /// The phones' key: ec256 (EC Only) or rsa2048 (RSA Only); with --target, the key the
    /// server's KeyGenRequest asks for must be this one, or the phone generates it on the clock
    #[arg(long, default_value = "ec256", ignore_case = true)]
    pub phone_key: KeyAlgorithm,
    /// Drive this CAPF server (HOST:PORT, port 3804 by default) instead of an in-process one;
    /// the report adds this tool's own CPU per session (the phones' side of the cores)
    #[arg(long, value_name = "HOST:PORT", requires_all = ["trust", "devices"])]
    pub target: Option<String>,
    /// The server's CAPF certificate (PEM or DER, e.g. from `opencapf cert own capf --out`):
    /// the phones' trust list
    #[arg(long, value_name = "CERT", requires = "target")]
    pub trust: Option<PathBuf>,
    /// Device names, one per line (blank lines and # comments skipped); each is used by one
    /// session, so each needs an Install/Upgrade operation pending on the server
    #[arg(long, value_name = "FILE", requires = "target")]
    pub devices: Option<PathBuf>,
    /// Authenticate By Null String (the default with --target)
    #[arg(long, requires = "target", conflicts_with = "auth_string")]
    pub null_string: bool,
    /// Authenticate By Authentication String: these digits for every device
    #[arg(long, value_name = "DIGITS", requires = "target")]
    pub auth_string: Option<String>,
    /// The server's process id (Linux, same machine): report its CPU per session, read from
    /// /proc/PID/stat before and after the run, beside the crypto floor of a session for its
    /// CAPF key type (server side of a TLS handshake and an LSC signature, measured here before
    /// the run)
    #[arg(long, value_name = "PID", requires = "target")]
    pub server_pid: Option<u32>,
}

pub(crate) async fn run(ctx: &Context, cmd: BenchCommand) -> anyhow::Result<()> {
    let a = match cmd {
        BenchCommand::Capf(a) => a,
        BenchCommand::Register(a) => return register::run(ctx, a).await,
    };
    if a.sessions == Some(0) || a.concurrency == 0 {
        bail!("--sessions and --concurrency must be at least 1");
    }
    match &a.target {
        Some(server) => target::run(ctx, server, &a).await,
        None => local::run(ctx, &a).await,
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Default)]
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

/// The nearest-rank percentiles of `latencies` (sorted here); `None` without any. One rule for
/// every bench report.
fn percentiles(latencies: &mut [std::time::Duration]) -> Option<Percentiles> {
    latencies.sort();
    let ms = |d: &std::time::Duration| d.as_secs_f64() * 1000.0;
    let at = |p: f64| ms(&latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]);
    let max = ms(latencies.last()?);
    Some(Percentiles { p50: at(0.5), p95: at(0.95), p99: at(0.99), max })
}

/// Prints the reports, for people or (`--json`) as one array for scripts.
fn print(ctx: &Context, reports: &[drive::Report]) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(reports);
    }
    for r in reports {
        println!("{}", r.line());
        if let Some(cpu) = &r.server_cpu {
            println!("  {}", cpu.line());
        }
        if let Some(cpu) = &r.process_cpu_ms_per_session {
            println!("  process CPU {cpu:.2} ms per session (server and phones together)");
        }
        if let Some(cpu) = &r.client_cpu_ms_per_session {
            println!("  load tool CPU {cpu:.2} ms per session (the phones' side)");
        }
        for (reason, n) in &r.failure_reasons {
            println!("  {n} failed: {reason}");
        }
        if r.keys_generated_on_the_clock > 0 {
            println!(
                "  {} sessions asked for another key than --phone-key {}: the phone generated it on the clock",
                r.keys_generated_on_the_clock, r.phone_key
            );
        }
    }
    Ok(())
}
