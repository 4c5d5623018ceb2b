//! `opencapf migrate plan|start|status|confirm|refresh|trust-old-capf|untrust-old-capf|
//! trust-manufacturers|schedule|finish`: phones moving from another cluster to this one.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use opencapf_cluster::{cli_actor, ClusterBundle, MigrationPlan, MigrationStatus, Remedy, MAX_BUNDLE_BYTES};
use opencapf_model::AuthMode;

use super::Context;
use crate::output::{self, Table};

pub(crate) const ABOUT: &str =
    "Phones move from the old cluster to this one by one of two remedies for the 'unknown CA' \
an old LSC meets here:\n\n  trust-old-capf    the old CAPF in CAPF-trust for a while; each phone re-keyed By Existing \
Certificate (Precedence to LSC) with its old LSC; then the old CAPF removed\n  delete-and-enrol  the old LSCs \
deleted on the old cluster (Delete operation); the phones enrol here By Existing Certificate (Precedence to MIC)\n\n\
Workflow: on the old cluster `opencapf cluster export-bundle --out bundle.json`; here `opencapf migrate plan --from \
bundle.json --remedy R`, then `migrate start`, and each step the plan lists, in order, doing only the steps it marks \
safe; `migrate status` shows every device; `migrate finish` at the end.";

#[derive(Subcommand)]
pub(crate) enum MigrateCommand {
    /// The plan: every step in order, on the old cluster and here, with the exact command, the CUCM
    /// action, whether it is done and whether it is safe now (no phone left unable to register)
    Plan(PlanArgs),
    /// Start the migration: record the bundle, add its devices that are not here, record the LSC and
    /// MIC each holds. Refused while another migration is in progress
    Start {
        /// The old cluster's bundle (`opencapf cluster export-bundle`)
        #[arg(long, value_name = "BUNDLE")]
        from: PathBuf,
        #[arg(long, value_enum, default_value = "trust-old-capf")]
        remedy: RemedyChoice,
    },
    /// Each device of the migration: its state (not-here, on-old-cluster, old-lsc-deleted, scheduled,
    /// failed, registered-with-mic, lsc-installed, migrated), from this cluster's records
    Status,
    /// Record that an old-cluster step is done (this cluster cannot see it): `itl`, once the old
    /// cluster trusts this cluster's ITLRecovery (Phone-SAST-trust) and CallManager certificates
    Confirm {
        /// The step: itl
        step: String,
    },
    /// Read a newer bundle of the old cluster (say, after it deleted the LSCs): old LSCs it no longer
    /// lists are forgotten here too
    Refresh {
        #[arg(long, value_name = "BUNDLE")]
        from: PathBuf,
    },
    /// Add the old cluster's CAPF certificates to CAPF-trust (as `trust add CAPF-trust`), for
    /// trust-old-capf
    TrustOldCapf,
    /// Remove the old cluster's CAPF certificates from CAPF-trust (as `trust remove CAPF-trust`):
    /// refused while a device still holds only an LSC of the old cluster
    UntrustOldCapf {
        /// Remove them even so (audited)
        #[arg(long)]
        force: bool,
    },
    /// Add the manufacturing CAs the old cluster trusts (its CallManager-trust) to CallManager-trust
    /// and CAPF-trust, for delete-and-enrol (and phones without an LSC)
    TrustManufacturers,
    /// Schedule Install/Upgrade for every device of the migration without an LSC of this cluster (as
    /// `device set --operation install`): By Existing Certificate, Precedence to LSC for
    /// trust-old-capf, to MIC for delete-and-enrol
    Schedule(ScheduleArgs),
    /// End the migration: refused while a device is not migrated or (trust-old-capf) the old CAPF is
    /// still in CAPF-trust
    Finish {
        /// End it even so (audited)
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
pub(crate) struct PlanArgs {
    /// The old cluster's bundle; without it, the migration in progress (or the last one)
    #[arg(long, value_name = "BUNDLE")]
    from: Option<PathBuf>,
    /// The remedy (default: the migration's, else trust-old-capf)
    #[arg(long, value_enum)]
    remedy: Option<RemedyChoice>,
}

#[derive(Args)]
pub(crate) struct ScheduleArgs {
    /// Authentication Mode instead of the remedy's: string (a string generated per device and shown
    /// once), null, lsc, mic
    #[arg(long, ignore_case = true)]
    auth: Option<AuthMode>,
    /// Operation Completes By, in days from now (default: the cluster's CAPF Operation Expires in)
    #[arg(long, value_name = "N")]
    expires_in_days: Option<u32>,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RemedyChoice {
    /// Trust the old CAPF for a while, re-key each phone by its old LSC, then remove it
    TrustOldCapf,
    /// Delete the old LSCs on the old cluster, enrol here by MIC
    DeleteAndEnrol,
}

impl From<RemedyChoice> for Remedy {
    fn from(r: RemedyChoice) -> Remedy {
        match r {
            RemedyChoice::TrustOldCapf => Remedy::TrustOldCapf,
            RemedyChoice::DeleteAndEnrol => Remedy::DeleteAndEnrol,
        }
    }
}

fn read_bundle(path: &Path) -> anyhow::Result<ClusterBundle> {
    let len = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    if len > MAX_BUNDLE_BYTES as u64 {
        anyhow::bail!(
            "{}: {len} bytes, more than the {} MiB a bundle may hold",
            path.display(),
            MAX_BUNDLE_BYTES >> 20
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ClusterBundle::parse(&bytes).with_context(|| path.display().to_string())
}

pub(crate) async fn run(ctx: &Context, cmd: MigrateCommand) -> anyhow::Result<()> {
    let s = ctx.cluster().await?;
    let actor = cli_actor();
    match cmd {
        MigrateCommand::Plan(a) => {
            let bundle = a.from.as_deref().map(read_bundle).transpose()?;
            let plan = s.migration_plan(bundle, a.remedy.map(Remedy::from)).await?;
            if ctx.json {
                return output::json(&plan);
            }
            print_plan(&plan);
        }
        MigrateCommand::Start { from, remedy } => {
            let bundle = read_bundle(&from)?;
            let started = s.start_migration(&bundle, remedy.into(), &actor).await?;
            if ctx.json {
                return output::json(&started);
            }
            outln!(
                "Migration from {} started ({}): {} device(s) added, {} already here; {} old LSC(s) and {} MIC(s) \
                 recorded",
                started.source,
                started.remedy,
                started.added.len(),
                started.existing.len(),
                started.lscs_recorded,
                started.mics_recorded
            );
            outln!("Next: `opencapf migrate plan`");
        }
        MigrateCommand::Status => {
            let status = s.migration_status().await?;
            if ctx.json {
                return output::json(&status);
            }
            print_status(&status);
        }
        MigrateCommand::Confirm { step } => {
            let new = s.confirm_migration_step(&step, &actor).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "step": step, "newly_confirmed": new }));
            }
            match new {
                true => outln!("Confirmed: {step}"),
                false => outln!("{step} was already confirmed"),
            }
        }
        MigrateCommand::Refresh { from } => {
            let bundle = read_bundle(&from)?;
            let r = s.refresh_migration(&bundle, &actor).await?;
            if ctx.json {
                return output::json(&r);
            }
            outln!(
                "Bundle of {} read: {} old LSC(s) deleted on the old cluster, {} MIC(s) recorded",
                opencapf_model::ts(r.bundle_exported_at),
                r.old_lscs_gone.len(),
                r.mics_recorded
            );
        }
        MigrateCommand::TrustOldCapf => {
            let added = s.migration_trust_old_capf(&actor).await?;
            if ctx.json {
                return output::json(&added);
            }
            for a in &added {
                outln!("{} {}: {} ({})", added_word(a.added), a.store, a.subject, &a.fingerprint[..16]);
            }
        }
        MigrateCommand::TrustManufacturers => {
            let added = s.migration_trust_manufacturers(&actor).await?;
            if ctx.json {
                return output::json(&added);
            }
            for a in &added {
                outln!("{} {}: {} ({})", added_word(a.added), a.store, a.subject, &a.fingerprint[..16]);
            }
        }
        MigrateCommand::UntrustOldCapf { force } => {
            let removed = s.migration_untrust_old_capf(force, &actor).await?;
            if ctx.json {
                return output::json(&removed);
            }
            for r in &removed {
                outln!(
                    "Removed from {}: {} ({})",
                    r.store,
                    r.common_name.as_deref().unwrap_or("?"),
                    &r.fingerprint[..16]
                );
                if !r.stranded_devices.is_empty() {
                    errln!(
                        "warning: forced removal: {} device(s) still hold only an LSC it issued (audited)",
                        r.stranded_devices.len()
                    );
                }
            }
        }
        MigrateCommand::Schedule(a) => {
            let deadline = s.operation_deadline(None, a.expires_in_days).await?;
            let results = s.migration_schedule(a.auth, deadline, &actor).await?;
            if ctx.json {
                return output::json(&results);
            }
            let mut t = Table::new(&["DEVICE", "OPERATION", "AUTHENTICATION", "STATUS", "AUTH STRING"]);
            for r in results {
                t.row(vec![r.device, r.operation, r.auth_mode, r.status, r.auth_string.unwrap_or_else(|| "-".into())]);
            }
            t.print();
            errln!("Operation Completes By: {}", opencapf_model::ts(deadline));
        }
        MigrateCommand::Finish { force } => {
            let status = s.finish_migration(force, &actor).await?;
            if ctx.json {
                return output::json(&status);
            }
            let migrated = status.plan.counts.get("migrated").copied().unwrap_or(0);
            outln!(
                "Migration from {} finished: {migrated} of {} device(s) migrated",
                status.plan.source,
                status.plan.devices
            );
        }
    }
    s.close().await;
    Ok(())
}

fn added_word(added: &str) -> &'static str {
    if added == "added" {
        "Added to"
    } else {
        "Already in"
    }
}

fn counts_line(plan: &MigrationPlan) -> String {
    let parts: Vec<String> = plan.counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{k} {n}")).collect();
    if parts.is_empty() {
        "no device".into()
    } else {
        parts.join(", ")
    }
}

fn print_plan(plan: &MigrationPlan) {
    outln!("Migration from {} ({}): {}", plan.source, plan.remedy, plan.remedy.words());
    outln!(
        "State: {}; bundle of {}; old CAPF: {}",
        plan.state,
        opencapf_model::ts(plan.bundle_exported_at),
        plan.old_capf.join(", ")
    );
    outln!("Devices: {} ({})", plan.devices, counts_line(plan));
    for step in &plan.steps {
        let safe = if step.safe { "safe" } else { "NOT SAFE YET" };
        outln!("\n{}. [{}] {} ({}; {safe})", step.number, step.side.words(), step.title, step.state.words());
        for c in &step.commands {
            outln!("     {c}");
        }
        if let Some(cucm) = &step.cucm {
            outln!("     CUCM: {cucm}");
        }
        outln!("     {}", step.why);
    }
    for n in &plan.notes {
        outln!("\nnote: {n}");
    }
}

fn print_status(status: &MigrationStatus) {
    let plan = &status.plan;
    outln!("Migration from {} ({}), {}", plan.source, plan.remedy, plan.state);
    if let Some(m) = &plan.migration {
        outln!("Started {} by {}", m.started_at, m.started_by);
        if let Some(at) = &m.finished_at {
            outln!(
                "Finished {at} by {}{}",
                m.finished_by.as_deref().unwrap_or("?"),
                if m.forced { " (forced)" } else { "" }
            );
        }
    }
    outln!("Devices: {} ({})", plan.devices, counts_line(plan));
    let steps: Vec<String> = plan.steps.iter().map(|s| format!("{} {}", s.id, s.state.words())).collect();
    outln!("Steps: {}\n", steps.join(", "));
    let mut t = Table::new(&["DEVICE", "STATE", "OLD LSC", "LSC HERE", "OPERATION", "STATUS", "LAST REGISTRATION"]);
    for d in &status.device_progress {
        let reg = d.last_registration.as_ref().map(|r| {
            format!("{} {} {}", r.result, r.cert_kind.as_deref().unwrap_or("-"), r.issuer_cn.as_deref().unwrap_or(""))
        });
        t.row(vec![
            d.name.clone(),
            d.state.token().to_owned(),
            if d.holds_old_lsc || d.old_cluster_lsc.is_some() { "yes".into() } else { "-".into() },
            d.lsc_here.clone().unwrap_or_else(|| "-".into()),
            d.operation.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
            d.status.clone().unwrap_or_else(|| "-".into()),
            reg.map(|r| r.trim_end().to_owned()).unwrap_or_else(|| "-".into()),
        ]);
    }
    t.print();
}
