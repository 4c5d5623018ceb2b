//! `--json` is global in clap, so every command shows it; the commands that print nothing a
//! script reads refuse it rather than silently printing text a script would fail to parse.

use clap::ArgMatches;

/// Commands (as typed, subcommands joined by spaces) that have no JSON output.
const WITHOUT_JSON: &[&str] = &[
    "serve",
    "device add",
    "device import",
    "device update",
    "device remove",
    "device record-cert",
    "trust remove",
    "trust export-itl",
    "cluster export-bundle",
    "capf set",
    "capf csr",
    "mfg export",
    "admin remove",
    "admin passwd",
    "admin token revoke",
    "config example",
    "config check",
    "completions",
    "man",
];

/// The command typed, e.g. "device add".
fn command_path(matches: &ArgMatches) -> String {
    let mut path = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        path.push(name);
        m = sub;
    }
    path.join(" ")
}

/// The command when `--json` was given to one that ignores it.
pub(crate) fn refused(matches: &ArgMatches, json: bool) -> Option<String> {
    let path = command_path(matches);
    (json && WITHOUT_JSON.contains(&path.as_str())).then_some(path)
}
