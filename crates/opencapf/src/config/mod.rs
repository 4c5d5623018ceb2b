//! The configuration file `opencapf.toml`, named by `--config FILE` or `OPENCAPF_CONFIG` (no
//! file is read otherwise). Top level: `data_dir`; table `[serve]`: every flag of `serve`, keyed
//! by its long name with `_` for `-` (`capf_listen = "0.0.0.0:3804"`). Repeatable flags take an
//! array. A command-line flag beats an environment variable, which beats the file, which beats
//! the built-in default.
//!
//! How: the file's values become the flags' defaults in clap's own command, which is then
//! parsed again, so clap applies the precedence, and a flag given on the command line replaces
//! the file's whole list for a repeatable flag.
//!
//! - `keys`: the keys, read from clap's description of the flags.
//! - `file`: reading and checking the file, with errors naming file, line and key.
//! - `example`: the commented example file, from the flags' help texts.

mod example;
mod file;
mod keys;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory};

use crate::cli::Cli;
pub(crate) use example::example;
pub(crate) use file::{ConfigError, ConfigFile};
pub(crate) use keys::{all as keys, Key};

/// `text` as the content of a configuration file, checked against every key (the fuzz target's
/// entry: the same checks as [`Loaded::read`] without the file).
pub(crate) fn parse_text(text: &str, keys: &[Key]) -> Result<ConfigFile, ConfigError> {
    ConfigFile::parse(std::path::Path::new("opencapf.toml"), text, keys)
}

/// Commands that read no cluster and so no configuration: a broken file does not stop them
/// (`config check` reads the file itself, to report on it).
const WITHOUT_CONFIG: &[&[&str]] = &[&["config", "check"], &["config", "example"], &["completions"], &["man"]];

/// A checked configuration file with the keys it was checked against.
pub(crate) struct Loaded {
    pub keys: Vec<Key>,
    pub file: ConfigFile,
}

impl Loaded {
    pub(crate) fn read(path: &std::path::Path) -> Result<Loaded, ConfigError> {
        let keys = keys::all();
        let file = ConfigFile::read(path, &keys)?;
        Ok(Loaded { keys, file })
    }

    /// The file sets this top-level key (`data_dir`).
    pub(crate) fn sets(&self, name: &str) -> bool {
        self.file.settings.iter().any(|s| self.keys[s.key].section.is_none() && self.keys[s.key].name == name)
    }

    /// `cli` with the file's values as the defaults of their flags.
    fn apply(&self, mut cli: Command) -> Command {
        for setting in &self.file.settings {
            let key = &self.keys[setting.key];
            let id = key.arg.get_id().clone();
            let values = setting.values.clone();
            let set = move |a: clap::Arg| a.default_values(values.clone());
            match key.section {
                None => cli = cli.mut_arg(id, set),
                Some(section) => {
                    let (_, commands) = keys::SECTIONS.iter().find(|(s, _)| *s == section).expect("a section");
                    for path in *commands {
                        cli = mut_path(cli, path, &id, set.clone());
                    }
                }
            }
        }
        cli
    }
}

fn mut_path(cmd: Command, path: &[&str], id: &clap::Id, set: impl FnOnce(clap::Arg) -> clap::Arg + Clone) -> Command {
    match path.split_first() {
        None => cmd.mut_arg(id, set),
        Some((first, rest)) => {
            let rest = rest.to_vec();
            let id = id.clone();
            cmd.mut_subcommand(first, move |sub| mut_path(sub, &rest, &id, set))
        }
    }
}

/// The command line, parsed with the configuration file's values as defaults; exits as clap
/// does on a usage error, and with one `error:` line on a configuration file that cannot be used.
pub(crate) fn command_line() -> (ArgMatches, Option<Loaded>) {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let first = Cli::command().get_matches_from(&argv);
    let Some(path) = first.get_one::<PathBuf>("config").cloned() else { return (first, None) };
    if WITHOUT_CONFIG.iter().any(|p| command_path(&first) == *p) {
        return (first, None);
    }
    let loaded = Loaded::read(&path).unwrap_or_else(|e| {
        eprintln!("error: {}", opencapf_model::printable(&e.to_string()));
        std::process::exit(1);
    });
    (loaded.apply(Cli::command()).get_matches_from(&argv), Some(loaded))
}

/// The subcommands typed, e.g. ["config", "show"].
pub(crate) fn command_path(matches: &ArgMatches) -> Vec<&str> {
    let mut path = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        path.push(name);
        m = sub;
    }
    path
}

/// Where a flag's value came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::File => "file",
            Source::Default => "default",
        }
    }

    /// The source of `key`'s value in `matches` (those of the command that has the flag).
    pub(crate) fn of(matches: &ArgMatches, key: &Key, index: usize, loaded: Option<&Loaded>) -> Source {
        match matches.value_source(key.arg.get_id().as_str()) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::EnvVariable) => Source::Env,
            _ if loaded.is_some_and(|l| l.file.get(index).is_some()) => Source::File,
            _ => Source::Default,
        }
    }
}
