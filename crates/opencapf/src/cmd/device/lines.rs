//! `opencapf device line add|remove`, and how `device add|show` print a phone's lines.

use opencapf_cluster::{cli_actor, parse_lines};
use opencapf_model::{DeviceName, DirectoryNumber, Registration};
use serde::Serialize;

use super::super::Context;
use crate::cli::DeviceLineCommand;
use crate::output::{self, Table};

/// What `device line add|remove --json` prints: the device's lines after the change.
#[derive(Serialize)]
struct Lines<'a> {
    device: &'a DeviceName,
    lines: &'a [DirectoryNumber],
}

pub(super) async fn run(ctx: &Context, cmd: DeviceLineCommand) -> anyhow::Result<()> {
    let (name, dn, adding) = match &cmd {
        DeviceLineCommand::Add { name, dn } => (name, dn, true),
        DeviceLineCommand::Remove { name, dn } => (name, dn, false),
    };
    let name: DeviceName = name.parse()?;
    let dn = one_line(dn)?;
    let store = ctx.cluster().await?;
    let lines = if adding {
        store.add_line(&name, &dn, &cli_actor()).await?
    } else {
        store.remove_line(&name, &dn, &cli_actor()).await?
    };
    if ctx.json {
        return output::json(&Lines { device: &name, lines: &lines });
    }
    let done = if adding { "Added" } else { "Removed" };
    outln!("{done} line {dn} {} {name}; lines now: {}", if adding { "to" } else { "from" }, listed(&lines));
    Ok(())
}

/// Exactly one directory number, checked as `--line` is.
fn one_line(dn: &str) -> anyhow::Result<DirectoryNumber> {
    let mut lines = parse_lines(&[dn])?;
    match (lines.pop(), lines.is_empty()) {
        (Some(dn), true) => Ok(dn),
        _ => anyhow::bail!("give one directory number, not '{dn}'"),
    }
}

/// `2222, 2223` in button order, or `none`.
pub(super) fn listed(lines: &[DirectoryNumber]) -> String {
    if lines.is_empty() {
        return "none".into();
    }
    lines.iter().map(DirectoryNumber::as_str).collect::<Vec<_>>().join(", ")
}

/// `, lines 2222 2223` after `Added SEP…`, or nothing.
pub(super) fn on_buttons(lines: &[DirectoryNumber]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    format!(", lines {}", lines.iter().map(DirectoryNumber::as_str).collect::<Vec<_>>().join(" "))
}

/// A line and its registration, as `device show` lists them.
#[derive(Debug, Serialize)]
pub(super) struct LineRegistration {
    /// 1 for line 1.
    button: usize,
    dn: DirectoryNumber,
    /// `registered`, `refused`, `unregistered`, or `none` (never seen).
    registration: String,
    /// When that happened.
    at: Option<String>,
}

/// Each line's registration: the newest record that names the line (a Cisco SIP phone registers
/// each line, or all of them in one bulk REGISTER), or else the newest that names no line (an
/// SCCP registration, or a REGISTER in the device's own name, covers every line).
pub(super) fn registrations(lines: &[DirectoryNumber], newest_first: &[Registration]) -> Vec<LineRegistration> {
    lines
        .iter()
        .enumerate()
        .map(|(i, dn)| {
            let latest = newest_first.iter().find(|r| r.lines.is_empty() || r.lines.contains(dn));
            LineRegistration {
                button: i + 1,
                dn: dn.clone(),
                registration: latest.map(|r| r.result.to_string()).unwrap_or_else(|| "none".into()),
                at: latest.map(|r| r.at.clone()),
            }
        })
        .collect()
}

pub(super) fn print_table(lines: &[LineRegistration]) {
    if lines.is_empty() {
        return;
    }
    outln!("\nLines:");
    let mut t = Table::new(&["LINE", "DN", "REGISTRATION", "AT"]);
    for l in lines {
        t.row(vec![
            l.button.to_string(),
            l.dn.to_string(),
            l.registration.clone(),
            l.at.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    t.print();
}
