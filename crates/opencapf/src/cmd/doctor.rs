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
}

pub(crate) async fn run(ctx: &Context, args: DoctorArgs) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    let opts = DoctorOptions { expiry_days: args.expiry_days, ..Default::default() };
    let report = doctor::run(&store, &opts).await?;
    store.close().await;
    let report = if args.verbose { report } else { report.without_names() };
    if ctx.json {
        crate::output::json(&report)?;
    } else {
        crate::output::text(&report.render(args.verbose));
    }
    if report.has_errors() {
        anyhow::bail!("the cluster has {} problem(s) at error severity (see above)", report.summary.errors);
    }
    Ok(())
}
