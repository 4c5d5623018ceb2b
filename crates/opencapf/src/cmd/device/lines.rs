//! `opencapf device line add|remove`, and how `device add|show` print a phone's lines.

use opencapf_cluster::{cli_actor, parse_lines};
use opencapf_model::{DeviceName, DirectoryNumber};
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

pub(super) fn print_table(lines: &[opencapf_cluster::LineRegistration]) {
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
