//! `capf rollover plan|status`: every step of the current CAPF rollover and its state, across
//! the cluster (CallManager-trust, CAPF-trust, the ITL), the consumers outside it (FreeRADIUS,
//! ISE, an ASA) and the phones; and when the old CAPF certificate may leave each store. The
//! guarded `trust remove` applies the same two rules ([`consumers_lacking`] and the devices of
//! `trust_guard`), so that what this says is removable is what the removal accepts.

use opencapf_model::{Service, TrustEntry, TrustStore};
use opencapf_pki::{CertificateInfo, Itl};
use opencapf_store::{devices, service, trust, Db};
use serde::Serialize;

use crate::consumers::{self, Consumer, ConsumerKind};
use crate::lsc::issued_by_cluster;
use crate::trust_guard::dependent_devices;
use crate::{Cluster, Result};

/// Where the rollover is.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloverPhase {
    /// No retired CAPF certificate is trusted any more: nothing to finish.
    None,
    /// A retired CAPF certificate is still in CallManager-trust or CAPF-trust.
    InProgress,
}

/// The state of one step.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Done,
    /// To do; nothing stops it.
    Pending,
    /// Can be done now (the old certificate may leave the store).
    Ready,
    /// Cannot be done yet: the step's `blocked_by` says why.
    Blocked,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Pending => "pending",
            StepState::Ready => "ready",
            StepState::Blocked => "blocked",
        }
    }
}

/// One step of the rollover.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RolloverStep {
    pub step: String,
    pub state: StepState,
    /// What it is waiting for, or what was done.
    pub detail: String,
    /// The command that does it, when there is one to run.
    pub command: Option<String>,
}

/// The active CAPF certificate and where it is.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ActiveCapf {
    pub common_name: String,
    pub fingerprint: String,
    pub not_after: String,
    pub in_callmanager_trust: bool,
    pub in_capf_trust: bool,
    /// In the ITL the cluster serves (phones take it at their next reset).
    pub in_itl: bool,
}

/// What stops a retired CAPF certificate leaving a store.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct StoreRemoval {
    pub store: TrustStore,
    /// `done` (not in the store any more), `ready` or `blocked`.
    pub state: StepState,
    /// Devices whose current certificate still chains to it in that store.
    pub phones: Vec<String>,
    /// Consumers not confirmed to run with the active CAPF certificate.
    pub consumers: Vec<String>,
}

/// A retired CAPF certificate and when it may go.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RetiredCapf {
    pub common_name: String,
    pub fingerprint: String,
    pub retired_at: Option<String>,
    /// Devices whose installed LSC it issued.
    pub phones: Vec<String>,
    pub removal: Vec<StoreRemoval>,
}

/// A consumer and the active CAPF certificate.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerRollover {
    pub name: String,
    pub kind: ConsumerKind,
    /// Its last export held the active CAPF certificate.
    pub exported: bool,
    pub exported_at: Option<String>,
    /// It is confirmed to run with the active CAPF certificate.
    pub confirmed: bool,
    pub confirmed_at: Option<String>,
}

/// `capf rollover plan|status --json`.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RolloverStatus {
    pub phase: RolloverPhase,
    pub active: ActiveCapf,
    pub retired: Vec<RetiredCapf>,
    pub consumers: Vec<ConsumerRollover>,
    /// Devices whose installed LSC comes from the active CAPF certificate.
    pub rekeyed: Vec<String>,
    /// Devices whose installed LSC comes from a retired CAPF certificate.
    pub still_on_old: Vec<String>,
    pub steps: Vec<RolloverStep>,
}

/// The consumers not confirmed to run with the certificate `fingerprint` (the active CAPF's).
pub(crate) fn consumers_lacking(all: &[Consumer], fingerprint: &str) -> Vec<String> {
    all.iter().filter(|c| !c.has(fingerprint)).map(|c| c.name.clone()).collect()
}

/// When `entry` is a retired CAPF certificate of the cluster and the active one exists: the
/// consumers that lack the active one (what the removal of `entry` waits for).
pub(crate) async fn consumers_blocking_removal(db: &mut Db, entry: &TrustEntry) -> Result<Vec<String>> {
    let capfs = service::all(db, Service::Capf).await?;
    let is_retired_capf = capfs.iter().any(|c| !c.is_active() && c.fingerprint == entry.fingerprint);
    let Some(active) = capfs.iter().find(|c| c.is_active()) else { return Ok(Vec::new()) };
    if !is_retired_capf {
        return Ok(Vec::new());
    }
    Ok(consumers_lacking(&consumers::all(db).await?, &active.fingerprint))
}

impl Cluster {
    /// Every step of the current CAPF rollover and its state.
    pub async fn rollover_status(&self) -> Result<RolloverStatus> {
        let in_itl_prints = self.itl_fingerprints().await?;
        let mut db = self.store.read().await?;
        let capfs = service::all(&mut db, Service::Capf).await?;
        let active = service::require_active(&mut db, Service::Capf).await?;
        let cm = trust::list(&mut db, Some(TrustStore::CallManager)).await?;
        let capf_store = trust::list(&mut db, Some(TrustStore::Capf)).await?;
        let current = devices::current_certificates(&mut db).await?;
        let all_consumers = consumers::all(&mut db).await?;
        let device_list = devices::list(&mut db).await?;
        drop(db);

        let in_store = |store: &[TrustEntry], fp: &str| store.iter().any(|e| e.fingerprint == fp);
        let active_info = CertificateInfo::parse(&active.der)?;
        let active_view = ActiveCapf {
            common_name: active.common_name.clone(),
            fingerprint: active.fingerprint.clone(),
            not_after: active.not_after.clone(),
            in_callmanager_trust: in_store(&cm, &active.fingerprint),
            in_capf_trust: in_store(&capf_store, &active.fingerprint),
            in_itl: in_itl_prints.contains(&active.fingerprint),
        };
        let lacking = consumers_lacking(&all_consumers, &active.fingerprint);

        let mut retired = Vec::new();
        let mut old_infos = Vec::new();
        for c in capfs.iter().filter(|c| !c.is_active()) {
            if !in_store(&cm, &c.fingerprint) && !in_store(&capf_store, &c.fingerprint) {
                continue;
            }
            let info = CertificateInfo::parse(&c.der)?;
            let phones = device_list
                .iter()
                .filter(|d| d.lsc.as_ref().is_some_and(|l| issued_by_cluster(l, std::slice::from_ref(&info))))
                .map(|d| d.name.to_string())
                .collect();
            old_infos.push(info);
            let mut removal = Vec::new();
            for (kind, entries) in [(TrustStore::CallManager, &cm), (TrustStore::Capf, &capf_store)] {
                removal.push(match entries.iter().find(|e| e.fingerprint == c.fingerprint) {
                    None => StoreRemoval { store: kind, state: StepState::Done, phones: vec![], consumers: vec![] },
                    Some(entry) => {
                        let phones = dependent_devices(entry, entries, &current);
                        let state =
                            if phones.is_empty() && lacking.is_empty() { StepState::Ready } else { StepState::Blocked };
                        StoreRemoval { store: kind, state, phones, consumers: lacking.clone() }
                    }
                });
            }
            retired.push(RetiredCapf {
                common_name: c.common_name.clone(),
                fingerprint: c.fingerprint.clone(),
                retired_at: c.retired_at.clone(),
                phones,
                removal,
            });
        }

        let lsc_names = |infos: &[CertificateInfo]| -> Vec<String> {
            device_list
                .iter()
                .filter(|d| d.lsc.as_ref().is_some_and(|l| issued_by_cluster(l, infos)))
                .map(|d| d.name.to_string())
                .collect()
        };
        let rekeyed = lsc_names(std::slice::from_ref(&active_info));
        let still_on_old = if old_infos.is_empty() { Vec::new() } else { lsc_names(&old_infos) };

        let consumers_view: Vec<ConsumerRollover> = all_consumers
            .iter()
            .map(|c| ConsumerRollover {
                name: c.name.clone(),
                kind: c.kind,
                exported: c.exported(&active.fingerprint),
                exported_at: c.last_export.as_ref().map(|e| e.exported_at.clone()),
                confirmed: c.has(&active.fingerprint),
                confirmed_at: c.confirmed.as_ref().and_then(|e| e.confirmed_at.clone()),
            })
            .collect();
        let phase = if retired.is_empty() { RolloverPhase::None } else { RolloverPhase::InProgress };
        let steps = steps(&active_view, &retired, &consumers_view, &rekeyed, &still_on_old);
        Ok(RolloverStatus {
            phase,
            active: active_view,
            retired,
            consumers: consumers_view,
            rekeyed,
            still_on_old,
            steps,
        })
    }

    /// The fingerprints of the certificates of the ITL the cluster serves.
    async fn itl_fingerprints(&self) -> Result<Vec<String>> {
        let itl = self.itl_file().await?;
        let records = Itl::parse(&itl).map(|i| i.records).unwrap_or_default();
        Ok(records.iter().filter_map(|r| r.certificate.as_deref()).map(opencapf_pki::fingerprint).collect())
    }
}

fn done_or(done: bool, otherwise: StepState) -> StepState {
    if done {
        StepState::Done
    } else {
        otherwise
    }
}

fn step(step: String, state: StepState, detail: String, command: Option<String>) -> RolloverStep {
    let command = if state == StepState::Done { None } else { command };
    RolloverStep { step, state, detail, command }
}

fn steps(
    active: &ActiveCapf,
    retired: &[RetiredCapf],
    consumers: &[ConsumerRollover],
    rekeyed: &[String],
    still_on_old: &[String],
) -> Vec<RolloverStep> {
    let cn = &active.common_name;
    let mut out = Vec::new();
    for (store, present) in
        [(TrustStore::CallManager, active.in_callmanager_trust), (TrustStore::Capf, active.in_capf_trust)]
    {
        out.push(step(
            format!("New CAPF certificate {cn} in {store}"),
            done_or(present, StepState::Pending),
            if present { "present".into() } else { format!("{cn} is missing from {store}") },
            Some(format!("opencapf cert own capf --out capf.pem && opencapf trust add {store} capf.pem")),
        ));
    }
    out.push(step(
        format!("New CAPF certificate {cn} in the ITL"),
        done_or(active.in_itl, StepState::Pending),
        if active.in_itl {
            "served in ITLFile.tlv; phones take it at their next reset".into()
        } else {
            "not in the ITL the cluster serves".into()
        },
        None,
    ));
    for c in consumers {
        let export = format!("opencapf trust export CAPF-trust --consumer {} --out …", c.name);
        out.push(step(
            format!("{} ({}) given the new certificate", c.name, c.kind),
            done_or(c.exported, StepState::Pending),
            match (&c.exported_at, c.exported) {
                (Some(at), true) => format!("exported {at}"),
                (Some(at), false) => format!("its last export ({at}) lacks {cn}"),
                (None, _) => "never exported".into(),
            },
            Some(export),
        ));
        let confirm = if c.kind == ConsumerKind::Freeradius {
            format!("opencapf consumer check {} --radius HOST:1812 --secret … (or consumer confirm {})", c.name, c.name)
        } else {
            format!("opencapf consumer confirm {}", c.name)
        };
        out.push(step(
            format!("{} ({}) runs with the new certificate", c.name, c.kind),
            done_or(c.confirmed, if c.exported { StepState::Pending } else { StepState::Blocked }),
            match (c.confirmed, &c.confirmed_at) {
                (true, Some(at)) => format!("confirmed {at}"),
                _ if c.exported => "exported, not confirmed applied yet".into(),
                _ => "waiting for the export".into(),
            },
            Some(confirm),
        ));
    }
    let total = rekeyed.len() + still_on_old.len();
    out.push(step(
        format!("Phones re-keyed: {} of {total}", rekeyed.len()),
        done_or(still_on_old.is_empty(), StepState::Pending),
        if still_on_old.is_empty() {
            "no phone holds an LSC from a retired CAPF certificate".into()
        } else {
            format!("{} phone(s) still on an old LSC", still_on_old.len())
        },
        Some("opencapf capf reissue".into()),
    ));
    for r in retired {
        for s in &r.removal {
            let mut why = Vec::new();
            if !s.phones.is_empty() {
                why.push(format!("{} phone(s) still chain to it", s.phones.len()));
            }
            if !s.consumers.is_empty() {
                why.push(format!("not confirmed at {}", s.consumers.join(", ")));
            }
            out.push(step(
                format!("Old CAPF certificate {} out of {}", r.common_name, s.store),
                s.state,
                match s.state {
                    StepState::Done => "removed".into(),
                    StepState::Ready => "nothing depends on it any more".into(),
                    _ => why.join("; "),
                },
                Some(format!("opencapf trust remove {} {}", s.store, r.common_name)),
            ));
        }
    }
    out
}
