//! `opencapf diagnose pcap|log`: the answers a TAC engineer gives from a capture or a phone log.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use opencapf_diagnostics::pcap::{self, KeyLog, PcapOptions, PcapReport, Service};
use opencapf_diagnostics::Severity;
use opencapf_pki::TrustStore;

use super::Context;

#[derive(Subcommand)]
pub(crate) enum DiagnoseCommand {
    /// Read a packet capture (pcap or pcapng): every TLS connection with the certificates each side
    /// presented (LSC of this cluster, of another cluster, MIC), its alerts and outcome; with a
    /// cluster (--data-dir), the verdict of CallManager-trust and CAPF-trust on each client certificate
    ///
    /// Exit status: 1 when the capture shows an error-level finding or a client certificate the
    /// store of its service does not trust, 0 otherwise (as `doctor`)
    Pcap(PcapArgs),
    /// Read a phone console log: which certificate the phone uses, MIC fallback, unknown CA alerts
    /// and their likely causes, trust list problems
    ///
    /// Exit status: 1 when the log shows an error-level finding, 0 otherwise (as `doctor`)
    Log(LogArgs),
}

#[derive(Args)]
pub(crate) struct PcapArgs {
    /// The capture (tcpdump -w, Wireshark, dumpcap): pcap or pcapng
    pub file: PathBuf,
    /// TLS key log file (SSLKEYLOGFILE format) to read the certificates TLS 1.3 encrypts
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Connections printed in the text report (all are in --json)
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub show: usize,
}

#[derive(Args)]
pub(crate) struct LogArgs {
    /// The phone's console log (text)
    pub file: PathBuf,
}

pub(crate) async fn run(ctx: &Context, cmd: DiagnoseCommand) -> anyhow::Result<()> {
    match cmd {
        DiagnoseCommand::Pcap(args) => pcap_cmd(ctx, args).await,
        DiagnoseCommand::Log(args) => {
            let file = args.file.clone();
            let report = tokio::task::spawn_blocking(move || opencapf_diagnostics::log::analyze_file(&file))
                .await
                .context("the log reader stopped")??;
            if ctx.json {
                crate::output::json(&report)?;
            } else {
                crate::output::text(&report.render());
            }
            let errors = report.findings.iter().filter(|f| f.severity == Severity::Error).count();
            if errors > 0 {
                anyhow::bail!("the log shows {errors} problem(s) at error severity (see above)");
            }
            Ok(())
        }
    }
}

async fn pcap_cmd(ctx: &Context, args: PcapArgs) -> anyhow::Result<()> {
    let mut opts = PcapOptions::default();
    let has_cluster = ctx.database.holds_cluster().await?;
    if has_cluster {
        let store = ctx.cluster().await?;
        opts.cluster = Some(store.trust_snapshot().await?.as_ref().clone());
        store.close().await;
    }
    if let Some(path) = &args.keylog {
        opts.keylog = Some(Arc::new(KeyLog::read(path)?));
    }
    let file = args.file.clone();
    let report = tokio::task::spawn_blocking(move || pcap::analyze_file(&file, &opts))
        .await
        .context("the capture reader stopped")??;
    if ctx.json {
        crate::output::json(&report)?;
    } else {
        print_pcap(ctx, &report, has_cluster, args.show);
    }
    pcap_verdict(&report)
}

fn print_pcap(ctx: &Context, report: &PcapReport, has_cluster: bool, show: usize) {
    if !has_cluster {
        println!(
            "(no cluster in {}: LSCs are not told apart by cluster and certificates are not checked against the trust \
             stores; pass --data-dir to do so)",
            ctx.data_dir.display()
        );
    }
    crate::output::text(&report.render(show));
}

/// Exit 1 when the capture shows an error-level finding, or a client certificate that the store
/// of the service it connected to (CallManager-trust for SIP/SCCP, CAPF-trust for CAPF) does not trust.
fn pcap_verdict(report: &PcapReport) -> anyhow::Result<()> {
    let errors = report.findings.iter().filter(|f| f.severity == Severity::Error).count();
    let untrusted = report
        .connections
        .iter()
        .filter(|c| {
            let store = match c.service {
                Service::Sip | Service::Sccp => TrustStore::CallManager,
                Service::Capf => TrustStore::Capf,
                _ => return false,
            };
            c.trust.iter().any(|v| v.store == store && !v.trusted)
        })
        .count();
    if errors + untrusted > 0 {
        anyhow::bail!(
            "the capture shows {errors} problem(s) at error severity and {untrusted} untrusted client certificate(s) (see above)"
        );
    }
    Ok(())
}
