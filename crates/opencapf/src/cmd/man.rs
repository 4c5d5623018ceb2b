//! `opencapf man`: the manual page in roff, generated from the command line's help texts.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory};

use crate::cli::Cli;

#[derive(Args)]
pub(crate) struct ManArgs {
    /// Folder to write one page per command into (opencapf.1, opencapf-serve.1, ...) instead of
    /// printing the main page
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub(crate) fn run(args: &ManArgs) -> anyhow::Result<()> {
    let command = Cli::command();
    let Some(dir) = &args.out else {
        let mut stdout = std::io::stdout().lock();
        return clap_mangen::Man::new(command).render(&mut stdout).context("writing the manual page");
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(command, dir).with_context(|| format!("writing the manual pages to {}", dir.display()))?;
    println!("Manual pages written to {}", dir.display());
    Ok(())
}
