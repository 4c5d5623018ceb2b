//! `opencapf diagnose pcap|log`. (Being written: diagnostics, issue 5.)

use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub enum DiagnoseCommand {}

pub async fn run(_ctx: &Context, cmd: DiagnoseCommand) -> anyhow::Result<()> {
    match cmd {}
}
