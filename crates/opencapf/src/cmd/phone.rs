//! `opencapf phone …` and `opencapf trust export-phone`. (Being written: phone simulator, issue 3.)

use std::path::Path;

use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub enum PhoneCommand {}

pub async fn run(_ctx: &Context, cmd: PhoneCommand) -> anyhow::Result<()> {
    match cmd {}
}

pub async fn export_trust_list(_ctx: &Context, _out: Option<&Path>) -> anyhow::Result<()> {
    anyhow::bail!("`opencapf trust export-phone` is not available yet")
}
