//! `opencapf capf rollover plan|status`: the CAPF rollover across the stores, the ITL, the trust
//! consumers and the phones ([`opencapf_cluster::RolloverStatus`]).

use opencapf_cluster::{Cluster, RolloverPhase, RolloverStatus, StepState};

use super::Context;
use crate::cli::RolloverCommand;
use crate::output::{self, Table};

pub(crate) async fn run(ctx: &Context, cluster: &Cluster, cmd: RolloverCommand) -> anyhow::Result<()> {
    let status = cluster.rollover_status().await?;
    if ctx.json {
        return output::json(&status);
    }
    match cmd {
        RolloverCommand::Plan => plan(cluster, &status).await,
        RolloverCommand::Status => {
            print_status(&status);
            Ok(())
        }
    }
}

fn mark(state: StepState) -> &'static str {
    match state {
        StepState::Done => "[x]",
        StepState::Pending => "[ ]",
        StepState::Ready => "[>]",
        StepState::Blocked => "[!]",
    }
}

async fn plan(cluster: &Cluster, s: &RolloverStatus) -> anyhow::Result<()> {
    if s.phase == RolloverPhase::None {
        let before = cluster.capf_rollover_plan().await?;
        outln!("No CAPF rollover in progress: {} is the only CAPF certificate still trusted.", s.active.common_name);
        outln!("A rollover (`opencapf capf regenerate`) would go:");
        outln!(
            "  1. A new CAPF certificate enters CallManager-trust, CAPF-trust and the ITL; {} stays in both stores.",
            s.active.common_name
        );
        outln!(
            "  2. Each consumer is given the new certificate and confirmed running with it ({}).",
            if s.consumers.is_empty() {
                "none recorded: `opencapf consumer add`".to_owned()
            } else {
                s.consumers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            }
        );
        outln!(
            "  3. {} phone(s) holding an LSC from this cluster are re-keyed (`opencapf capf reissue`).",
            before.to_rekey.len()
        );
        outln!("  4. Then, and only then, {} leaves CallManager-trust and CAPF-trust.", s.active.common_name);
        return Ok(());
    }
    outln!("CAPF rollover to {} ({}):", s.active.common_name, &s.active.fingerprint[..16]);
    for (i, step) in s.steps.iter().enumerate() {
        outln!("{:>3}. {} {} ({}): {}", i + 1, mark(step.state), step.step, step.state.as_str(), step.detail);
        if let Some(cmd) = &step.command {
            outln!("       {cmd}");
        }
    }
    Ok(())
}

fn print_status(s: &RolloverStatus) {
    let yes = |b: bool| if b { "yes" } else { "NO" }.to_owned();
    outln!(
        "Active CAPF certificate: {} ({}), until {}",
        s.active.common_name,
        &s.active.fingerprint[..16],
        &s.active.not_after[..10.min(s.active.not_after.len())]
    );
    outln!(
        "  in CallManager-trust: {}   in CAPF-trust: {}   in the ITL: {}",
        yes(s.active.in_callmanager_trust),
        yes(s.active.in_capf_trust),
        yes(s.active.in_itl)
    );
    if s.phase == RolloverPhase::None {
        outln!("No rollover in progress: no retired CAPF certificate is still trusted.");
    }
    if !s.consumers.is_empty() {
        outln!("\nConsumers (the active CAPF certificate):");
        let mut t = Table::new(&["CONSUMER", "KIND", "EXPORTED", "CONFIRMED", "LAST EXPORT", "CONFIRMED AT"]);
        for c in &s.consumers {
            t.row(vec![
                c.name.clone(),
                c.kind.to_string(),
                yes(c.exported),
                yes(c.confirmed),
                c.exported_at.clone().unwrap_or_else(|| "never".into()),
                c.confirmed_at.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        t.print();
    }
    outln!("\nPhones re-keyed: {} of {}", s.rekeyed.len(), s.rekeyed.len() + s.still_on_old.len());
    list("re-keyed", &s.rekeyed);
    list("still on an old LSC", &s.still_on_old);
    for r in &s.retired {
        outln!(
            "\nRetired CAPF certificate {} ({}): {} phone(s) hold its LSCs",
            r.common_name,
            &r.fingerprint[..16],
            r.phones.len()
        );
        for rm in &r.removal {
            let mut why = Vec::new();
            if !rm.phones.is_empty() {
                why.push(format!("phones {}", rm.phones.join(", ")));
            }
            if !rm.consumers.is_empty() {
                why.push(format!("consumers not confirmed: {}", rm.consumers.join(", ")));
            }
            let state = match rm.state {
                StepState::Done => "removed".to_owned(),
                StepState::Ready => "removable".to_owned(),
                _ => format!("not removable yet ({})", why.join("; ")),
            };
            outln!("  {}: {state}", rm.store);
        }
    }
    outln!("\nSteps:");
    for step in &s.steps {
        outln!("  {} {}: {}", mark(step.state), step.step, step.detail);
    }
}

fn list(title: &str, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let shown: Vec<&str> = names.iter().take(50).map(String::as_str).collect();
    let more = if names.len() > 50 { format!(" … and {} more", names.len() - 50) } else { String::new() };
    outln!("  {title}: {}{more}", shown.join(", "));
}
