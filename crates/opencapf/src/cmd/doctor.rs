//! `opencapf doctor`. (Being written: diagnostics, issue 5.)

use clap::Args;

use super::Context;

#[derive(Args)]
pub struct DoctorArgs {}

pub async fn run(_ctx: &Context, _args: DoctorArgs) -> anyhow::Result<()> {
    anyhow::bail!("`opencapf doctor` is not available yet")
}
