//! `opencapf serve`. (Being written: CAPF server, issue 3.)

use clap::Args;

use super::Context;

#[derive(Args)]
pub struct ServeArgs {}

pub async fn run(_ctx: &Context, _args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("`opencapf serve` is not available yet")
}
