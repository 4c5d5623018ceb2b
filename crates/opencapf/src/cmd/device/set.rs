//! `opencapf device set`: the CAPF information block, for some devices or all of them.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use opencapf_cluster::cli_actor;
use opencapf_cluster::{CapfSettings, Selection};
use opencapf_model::{CertificateOperation, DeviceName};

use super::super::Context;
use crate::cli::DeviceSetArgs;
use crate::output::{self, Table};

pub(super) async fn run(ctx: &Context, a: DeviceSetArgs) -> anyhow::Result<()> {
    let operation = a.operation;
    let auth_mode = a.auth;
    let key_order = a.key_order;
    let mut settings = CapfSettings {
        operation,
        auth_mode,
        auth_string: a.auth_string.clone(),
        generate_auth_string: a.generate_auth_string,
        key_order,
        rsa_bits: a.rsa_bits,
        ec_bits: a.ec_bits,
        replace_pending: a.replace,
    };
    settings.validate()?;
    let store = ctx.cluster().await?;
    let deadline = store.operation_deadline(a.completes_by.as_deref(), a.expires_in_days).await?;
    if !a.filter.is_empty() && !a.r#match {
        bail!(
            "the filter flags select devices with --match (e.g. `device set --match --model CP-8861 --lsc none ...`)"
        );
    }
    let selection = if a.all {
        Selection::All
    } else if a.r#match {
        if a.filter.is_empty() && a.current_operation.is_none() {
            bail!("--match needs a filter (--name, --model, --line, --lsc, --issuer, --status, --current-operation...); for every device use --all");
        }
        Selection::Query(super::query(&a.filter, a.current_operation)?)
    } else {
        Selection::Names(a.names.iter().map(|n| n.parse()).collect::<Result<Vec<DeviceName>, _>>()?)
    };
    let replaced = store.pending_replaced(&selection, &settings).await?;
    if replaced > 0 && !settings.replace_pending {
        settings.replace_pending = confirm_replace(replaced)?;
    }
    let bar = ProgressBar::new(0)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} devices").expect("static template"));
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let results = store.set_capf(&selection, &settings, deadline, &cli_actor(), progress).await?;
    bar.finish_and_clear();
    if replaced > 0 {
        errln!("Replaced the pending operation of {replaced} device(s)");
    }
    if ctx.json {
        return output::json(&results);
    }
    let mut t = Table::new(&["DEVICE", "OPERATION", "AUTHENTICATION", "STATUS", "AUTH STRING"]);
    for r in results {
        t.row(vec![r.device, r.operation, r.auth_mode, r.status, r.auth_string.unwrap_or_else(|| "-".into())]);
    }
    t.print();
    if operation.is_some_and(|o| o != CertificateOperation::NoPendingOperation) {
        errln!("Operation Completes By: {}", opencapf_model::ts(deadline));
    }
    Ok(())
}

/// Asks on a terminal whether to replace `n` pending operations; elsewhere `--replace` is needed.
fn confirm_replace(n: usize) -> anyhow::Result<bool> {
    let question = format!("this replaces the pending operation of {n} device(s)");
    if !std::io::stdin().is_terminal() {
        bail!("{question}: add --replace to replace them");
    }
    eprint!("{question}; replace them? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(true)
    } else {
        bail!("nothing changed: the pending operations were kept")
    }
}
