//! `opencapf config`: the configuration file's example, its check, and the effective settings.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{ArgMatches, Subcommand};
use serde_json::{json, Map, Value};

use super::serve::ServeArgs;
use super::Context;
use crate::config::{self, Loaded, Source};

#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print a configuration file: every key commented out with its built-in default and its help
    Example,
    /// Check a configuration file (default: the one named by --config or OPENCAPF_CONFIG): its
    /// syntax, its keys and their values; exits 1 naming the line of the first error
    Check {
        /// The file to check
        file: Option<PathBuf>,
    },
    /// Show the settings `serve` would run with, given these flags, and where each value comes
    /// from: flag, env, file or default
    Show(Box<ServeArgs>),
}

pub(crate) fn run(
    ctx: &Context,
    command: &ConfigCommand,
    config_file: Option<&Path>,
    matches: &ArgMatches,
    loaded: Option<&Loaded>,
) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Example => print!("{}", config::example()),
        ConfigCommand::Check { file } => {
            let Some(path) = file.as_deref().or(config_file) else {
                anyhow::bail!("no file to check: name one (`opencapf config check FILE`) or pass --config FILE");
            };
            let loaded = Loaded::read(path)?;
            let n = loaded.file.settings.len();
            println!("{}: valid ({n} setting{})", path.display(), if n == 1 { "" } else { "s" });
        }
        ConfigCommand::Show(_) => show(ctx, matches, loaded)?,
    }
    Ok(())
}

fn show(ctx: &Context, matches: &ArgMatches, loaded: Option<&Loaded>) -> anyhow::Result<()> {
    let show = matches
        .subcommand_matches("config")
        .and_then(|m| m.subcommand_matches("show"))
        .context("the matches of `config show`")?;
    let all;
    let keys = match loaded {
        Some(l) => &l.keys,
        None => {
            all = config::keys();
            &all
        }
    };
    let mut settings = Map::new();
    let mut lines = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let m = if key.section.is_some() { show } else { matches };
        let values: Vec<String> = m
            .get_raw(key.arg.get_id().as_str())
            .map(|v| v.map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let source = Source::of(m, key, index, loaded);
        let value = match (key.is_list(), values.as_slice()) {
            (true, _) => json!(values),
            (false, []) => Value::Null,
            (false, [one, ..]) => json!(one),
        };
        let line = loaded.and_then(|l| l.file.get(index)).filter(|_| source == Source::File).map(|s| s.line);
        let mut entry = json!({ "value": value, "source": source.name() });
        if let Some(line) = line {
            entry["line"] = json!(line);
        }
        let shown = if value.is_null() { "(none)".to_owned() } else { value.to_string() };
        let from = line.map_or_else(|| source.name().to_owned(), |l| format!("file, line {l}"));
        lines.push((key.path(), shown, from));
        settings.insert(key.path(), entry);
    }
    let file = loaded.map(|l| l.file.path.display().to_string());
    if ctx.json {
        println!("{}", json!({ "config_file": file, "settings": settings }));
        return Ok(());
    }
    println!("Configuration file: {}", file.as_deref().unwrap_or("none"));
    let width = lines.iter().map(|(k, v, _)| k.len() + v.len() + 3).max().unwrap_or(0);
    for (key, value, from) in lines {
        let setting = opencapf_model::printable(&format!("{key} = {value}")).into_owned();
        println!("{setting:width$}  ({from})");
    }
    Ok(())
}
