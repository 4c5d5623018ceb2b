//! `opencapf completions SHELL`: the completion script clap writes for the command line.

use clap::{Args, CommandFactory};

use crate::cli::Cli;

#[derive(Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash (`source <(opencapf completions bash)`), zsh, fish, elvish or powershell
    #[arg(value_enum, ignore_case = true)]
    pub shell: clap_complete::Shell,
}

pub(crate) fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    clap_complete::generate(args.shell, &mut Cli::command(), "opencapf", &mut std::io::stdout());
    Ok(())
}
