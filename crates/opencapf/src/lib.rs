//! `opencapf`: one binary that wires the OpenCAPF crates together. The binary (`src/main.rs`)
//! calls [`main`]; the library exists so that the fuzz workspace (`fuzz/`) reaches the
//! configuration file's parser through [`fuzzing`] (the CLI's modules stay private).
//!
//! Exit codes: 0 success, 1 failure (one `error:` line on standard error), 2 usage error.

#[macro_use]
mod output;
mod cli;
mod cmd;
mod config;
mod json_scope;
mod logging;
mod provisioning;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

/// The whole command: parses the command line and runs it.
pub fn main() {
    let (matches, config) = config::command_line();
    // `serve` creates a cluster by itself only in the default folder, not in one the user named
    // (on the command line, in the environment or in the configuration file).
    let data_dir_named = matches.value_source("data_dir") != Some(ValueSource::DefaultValue)
        || config.as_ref().is_some_and(|c| c.sets("data_dir"));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some(command) = json_scope::refused(&matches, cli.json) {
        let message = format!("`opencapf {command}` has no JSON output: run it without --json");
        Cli::command().error(clap::error::ErrorKind::ArgumentConflict, message).exit();
    }
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`opencapf device list --json | head`) instead of failing on a broken pipe. Not `serve`:
    // a TLS write (writev) to a phone that has gone would kill the server.
    // std has no API for signal dispositions, hence libc and the one unsafe block of the binary.
    if !matches!(cli.command, Command::Serve(_)) {
        // SAFETY: resetting a signal disposition to its default before any thread starts.
        #[allow(unsafe_code)]
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(cli, data_dir_named, &matches, config.as_ref())) {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

/// The error and its contexts on one line, most general first. The workspace's errors carry the
/// text of their cause in their own message and expose no `source()`, so each part is new.
fn one_line(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e.chain().map(ToString::to_string).collect();
    // Errors can quote what a phone or a file said: no control character reaches the terminal.
    opencapf_model::printable(&parts.join(": ").replace('\n', " ")).into_owned()
}

async fn run(
    cli: Cli,
    data_dir_named: bool,
    matches: &ArgMatches,
    config: Option<&config::Loaded>,
) -> anyhow::Result<()> {
    let database = opencapf_cluster::Database::resolve(cli.database.as_deref(), &cli.data_dir)?;
    let ctx = cmd::Context { data_dir: cli.data_dir, data_dir_named, database, json: cli.json };
    match cli.command {
        Command::Init(args) => cmd::init::run(&ctx, args).await,
        Command::Status => cmd::status::run(&ctx).await,
        Command::Trust(c) => cmd::trust::run(&ctx, c).await,
        Command::Consumer(c) => cmd::consumer::run(&ctx, c).await,
        Command::Device(c) => cmd::device::run(&ctx, c).await,
        Command::Cluster(c) => cmd::cluster::run(&ctx, c).await,
        Command::Migrate(c) => cmd::migrate::run(&ctx, c).await,
        Command::Capf(c) => cmd::capf::run(&ctx, c).await,
        Command::Cert(c) => cmd::cert::run(&ctx, c).await,
        Command::Mfg(c) => cmd::mfg::run(&ctx, c).await,
        Command::Serve(args) => cmd::serve::run(&ctx, *args).await,
        Command::Phone(c) => cmd::phone::run(&ctx, c).await,
        Command::Nodes => cmd::nodes::run(&ctx).await,
        Command::Registrations(args) => cmd::registrations::run(&ctx, args).await,
        Command::Diagnose(c) => cmd::diagnose::run(&ctx, c).await,
        Command::Doctor(args) => cmd::doctor::run(&ctx, args).await,
        Command::Bench(c) => cmd::bench::run(&ctx, c).await,
        Command::Audit(args) => cmd::audit::run(&ctx, args).await,
        Command::Settings(c) => cmd::settings::run(&ctx, c).await,
        Command::Admin(c) => cmd::admin::run(&ctx, c).await,
        Command::Est(c) => cmd::est::run(&ctx, c).await,
        Command::Config(c) => cmd::config::run(&ctx, &c, cli.config.as_deref(), matches, config),
        Command::Completions(args) => cmd::completions::run(&args),
        Command::Man(args) => cmd::man::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;

    #[test]
    fn each_cause_is_printed_once() {
        let io = io::Error::new(io::ErrorKind::NotFound, "No such file");
        let store = opencapf_cluster::Error::io("reading keys/capf.key")(io);
        assert!(store.source().is_none(), "the cause's text is in the message, not a source");
        let e = anyhow::Error::from(store).context("opening the cluster");
        assert_eq!(super::one_line(&e), "opening the cluster: reading keys/capf.key: No such file");
    }
}

/// The parsers of user files the binary owns, for the fuzz targets only (`fuzz/`).
#[doc(hidden)]
pub mod fuzzing {
    /// `opencapf.toml` as `--config` reads it: checked key by key against the CLI's flags.
    /// Returns the number of settings, or the error's message.
    pub fn parse_config(text: &str) -> Result<usize, String> {
        // The keys come from clap's description of the command line: built once, not per input.
        thread_local!(static KEYS: Vec<crate::config::Key> = crate::config::keys());
        KEYS.with(|keys| crate::config::parse_text(text, keys).map(|f| f.settings.len()).map_err(|e| e.to_string()))
    }
}
