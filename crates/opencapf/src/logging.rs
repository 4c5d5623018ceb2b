//! What `serve` logs on standard error: text for people, or JSON (one object per line) for log
//! shippers (journald forwarders, Fluent Bit, Vector). RUST_LOG chooses what is logged.

use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

/// The format of the log lines.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// One line per event for people, coloured on a terminal
    Text,
    /// One JSON object per line: timestamp, level, fields (message included), target
    Json,
}

#[derive(Args)]
pub(crate) struct LogArgs {
    /// Format of the log on standard error: text, or json (one object per line) for log shippers
    #[arg(long, value_enum, default_value_t = LogFormat::Text, ignore_case = true, value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// Starts logging to standard error (default level: info). A second call keeps the first logger.
pub(crate) fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}
