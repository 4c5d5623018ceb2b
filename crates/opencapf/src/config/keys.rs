//! The keys a configuration file may set, read from clap's own description of the command line,
//! so that a flag added to `serve` is a key without a change here.

use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::cli::Cli;

/// Global flags the file may set at its top level. `--json` and `--config` are no settings.
const TOP_LEVEL: &[&str] = &["data_dir", "database"];

/// Sections (TOML tables) and the commands whose flags they set: the first command names the
/// keys; the others (`config show`) take the same flags and get the same values.
pub(super) const SECTIONS: &[(&str, &[&[&str]])] = &[("serve", &[&["serve"], &["config", "show"]])];

/// One key: `data_dir`, or `capf_listen` in `[serve]`.
pub(crate) struct Key {
    /// `None` for the top level, else the table (`serve`).
    pub section: Option<&'static str>,
    /// The long flag with `_` for `-`: `capf_listen` for `--capf-listen`.
    pub name: String,
    pub arg: Arg,
    /// The command the flag belongs to, for clap's error messages.
    command: Command,
}

impl Key {
    /// `data_dir` or `serve.capf_listen`, as errors and `config show` name it.
    pub(crate) fn path(&self) -> String {
        match self.section {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The flag may be repeated (and so the key holds an array).
    pub(crate) fn is_list(&self) -> bool {
        matches!(self.arg.get_action(), ArgAction::Append)
    }

    /// The flag is an on/off switch (`--init`): `true` or `false` in the file.
    pub(crate) fn is_switch(&self) -> bool {
        matches!(self.arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
    }

    /// Checks a value by parsing the flag with it, alone, in its own command: the error is
    /// clap's, as for the flag on the command line.
    pub(crate) fn check(&self, value: &str) -> Result<(), String> {
        let long = self.arg.get_long().unwrap_or_default();
        if self.is_switch() {
            return match value {
                "true" | "false" => Ok(()),
                _ => Err(format!("invalid value '{value}' for '--{long}': give true or false")),
            };
        }
        let command = self.command.clone().no_binary_name(true).subcommand_required(false);
        command.try_get_matches_from([format!("--{long}={value}")]).map(drop).map_err(|e| clap_message(&e))
    }
}

/// The first line of a clap error without its `error: ` prefix.
fn clap_message(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// Every key, top level first, then each section in the order of its command's flags.
pub(crate) fn all() -> Vec<Key> {
    let mut cli = Cli::command();
    cli.build();
    let mut keys: Vec<Key> = TOP_LEVEL
        .iter()
        .map(|id| {
            let arg = cli.get_arguments().find(|a| a.get_id() == *id).expect("a global flag of Cli").clone();
            Key { section: None, name: (*id).to_owned(), arg, command: cli.clone() }
        })
        .collect();
    for (section, commands) in SECTIONS {
        let command = find(&cli, commands[0]);
        for arg in command.get_arguments().filter(|a| is_setting(a)) {
            let name = arg.get_long().expect("settings have a long flag").replace('-', "_");
            keys.push(Key { section: Some(section), name, arg: arg.clone(), command: command.clone() });
        }
    }
    keys
}

fn find<'a>(cli: &'a Command, path: &[&str]) -> &'a Command {
    path.iter().fold(cli, |c, name| c.find_subcommand(name).expect("a subcommand of Cli"))
}

/// A flag of the command itself with a value or an on/off meaning: not help, version or globals.
fn is_setting(arg: &Arg) -> bool {
    let own = !arg.is_global_set() && !arg.is_positional() && arg.get_long().is_some();
    let kind = matches!(
        arg.get_action(),
        ArgAction::Set | ArgAction::Append | ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count
    );
    own && kind
}
