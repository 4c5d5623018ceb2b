//! `opencapf doctor`: what in the cluster's own state will break, for how many phones, and the
//! remedy. Exit code 1 when any finding is an error, so that it can run from cron.

use clap::Args;
use opencapf_diagnostics::doctor::{self, DoctorOptions};

use super::Context;

#[derive(Args)]
pub(crate) struct DoctorArgs {
    /// Name the devices of each finding (default: their number)
    #[arg(long)]
    pub verbose: bool,
    /// Report LSCs, MICs, manufacturing CAs and the CAPF certificate that expire within this many days
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub expiry_days: u32,
    /// The CAPF report as CSV (RFC 4180), every device with the codes of the findings about it
    #[arg(long)]
    pub csv: bool,
}

pub(crate) async fn run(ctx: &Context, args: DoctorArgs) -> anyhow::Result<()> {
    if args.csv && ctx.json {
        anyhow::bail!("--csv and --json: pick one");
    }
    let store = ctx.cluster().await?;
    let opts = DoctorOptions { expiry_days: args.expiry_days, ..Default::default() };
    let report = doctor::run(&store, &opts).await?;
    if args.csv {
        csv(&store, &report).await?;
    }
    store.close().await;
    let report = if args.verbose { report } else { report.without_names() };
    if args.csv {
        // The report is on standard output; the exit code still says whether there are errors.
    } else if ctx.json {
        crate::output::json(&report)?;
    } else {
        crate::output::text(&report.render(args.verbose));
    }
    if report.has_errors() {
        anyhow::bail!("the cluster has {} problem(s) at error severity (see above)", report.summary.errors);
    }
    Ok(())
}

/// `doctor --csv`: the CAPF report of every device, with the codes of the findings naming it.
async fn csv(store: &opencapf_cluster::Cluster, report: &doctor::DoctorReport) -> anyhow::Result<()> {
    let devices = store.devices().await?;
    let findings: Vec<String> = devices
        .iter()
        .map(|d| {
            let codes: Vec<&str> = report
                .findings
                .iter()
                .filter(|f| f.devices.iter().any(|n| n == d.name.as_str()))
                .map(|f| f.code.as_str())
                .collect();
            codes.join(" ")
        })
        .collect();
    let refs: Vec<&opencapf_model::Device> = devices.iter().collect();
    super::capf_report::write(store, &refs, Some(("findings", findings))).await
}
