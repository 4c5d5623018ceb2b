//! Cluster migration: phones moving from another cluster to this one, by one of the seed's two
//! remedies for the "unknown CA" a phone meets with its old LSC (domain rule 5):
//!
//! - [`Remedy::TrustOldCapf`]: the old cluster's CAPF in CAPF-trust for the time of the move,
//!   each phone re-keyed By Existing Certificate (Precedence to LSC) with its old LSC, then the
//!   old CAPF removed;
//! - [`Remedy::DeleteAndEnrol`]: the old LSCs deleted on the old cluster (Delete operation), the
//!   phones enrolled here By Existing Certificate (Precedence to MIC).
//!
//! The old cluster gives a [`ClusterBundle`] (`bundle`); the [`MigrationPlan`] (`plan`) lists the
//! steps on both sides and says which are safe now; [`MigrationStatus`] tracks each device
//! (`progress`) from this cluster's own records. The changes here go through the existing use
//! cases (trust add/remove and their guard, `device set`); `start`, `refresh`, `confirm` and
//! `finish` are recorded in the `migrations` table, each with its audit record.

mod bundle;
mod plan;
mod progress;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use opencapf_model::{AuthMode, CertificateOperation, KeyDefaults, NewDevice, Service, TrustStore};
use opencapf_pki::{is_manufacturing_ca, pem, verify, Anchor, CertificateInfo};
use opencapf_store::migrations::{self, MigrationRow};
use opencapf_store::{audit, devices, registrations, service, trust, Db};
use serde::Serialize;
use time::OffsetDateTime;

pub use bundle::{
    BundleDevice, BundleLsc, BundleServiceCert, BundleTrustEntry, ClusterBundle, BUNDLE_FORMAT, BUNDLE_VERSION,
    MAX_BUNDLE_BYTES, MAX_DEVICES,
};
pub use plan::{PlanStep, PlanStepState, Side};
pub use progress::{DeviceProgress, DeviceState, SeenRegistration};

use crate::capf_settings::{CapfSettings, Selection, SetResult};
use crate::lsc::issued_by_cluster;
use crate::trust::{Removal, TrustAddition};
use crate::{Cluster, Error, Result};

/// The seed's two remedies for phones that move with another cluster's LSC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Remedy {
    /// Trust the old CAPF in CAPF-trust for a while, re-key each phone by its old LSC, remove it.
    TrustOldCapf,
    /// Delete the old LSCs on the old cluster, enrol here by MIC.
    DeleteAndEnrol,
}

impl Remedy {
    pub fn token(self) -> &'static str {
        match self {
            Remedy::TrustOldCapf => "trust-old-capf",
            Remedy::DeleteAndEnrol => "delete-and-enrol",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Remedy::TrustOldCapf => "trust the old CAPF for a while, re-key each phone by its old LSC, remove it",
            Remedy::DeleteAndEnrol => "delete the old LSCs on the old cluster, enrol here by MIC",
        }
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

impl FromStr for Remedy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Remedy> {
        match s {
            "trust-old-capf" => Ok(Remedy::TrustOldCapf),
            "delete-and-enrol" => Ok(Remedy::DeleteAndEnrol),
            _ => Err(Error::Invalid(format!("remedy '{s}': use trust-old-capf or delete-and-enrol"))),
        }
    }
}

/// Old-cluster steps `migrate confirm` records (this cluster cannot see them done).
pub const CONFIRMABLE_STEPS: [&str; 1] = ["itl"];

/// The migration as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationRecord {
    pub id: i64,
    pub started_at: String,
    pub started_by: String,
    pub finished_at: Option<String>,
    pub finished_by: Option<String>,
    pub forced: bool,
    /// Old-cluster steps the administrator confirmed: step, when, by whom.
    pub confirmed: Vec<Confirmation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Confirmation {
    pub step: String,
    pub at: String,
    pub by: String,
}

/// `migrate plan`: the steps in order, each with its state and safety.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationPlan {
    /// The old cluster (its CallManager's name).
    pub source: String,
    pub remedy: Remedy,
    /// `not-started`, `in-progress` or `finished`.
    pub state: &'static str,
    pub migration: Option<MigrationRecord>,
    #[serde(with = "time::serde::rfc3339")]
    pub bundle_exported_at: OffsetDateTime,
    /// The old cluster's CAPF certificates (active first).
    pub old_capf: Vec<String>,
    pub devices: usize,
    /// Devices per state (every state listed, 0 included).
    pub counts: BTreeMap<String, usize>,
    pub steps: Vec<PlanStep>,
    /// What the administrator should know beside the steps.
    pub notes: Vec<String>,
}

/// `migrate status`: the plan's summary and every device.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    #[serde(flatten)]
    pub plan: MigrationPlan,
    pub device_progress: Vec<DeviceProgress>,
}

/// What `migrate start` did.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub id: i64,
    pub source: String,
    pub remedy: Remedy,
    /// Devices added here.
    pub added: Vec<String>,
    /// Devices already here.
    pub existing: Vec<String>,
    /// Devices whose old-cluster LSC is now recorded here (what the trust guard protects).
    pub lscs_recorded: usize,
    pub mics_recorded: usize,
}

/// What `migrate refresh` did.
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    #[serde(with = "time::serde::rfc3339")]
    pub bundle_exported_at: OffsetDateTime,
    /// Devices whose old-cluster LSC the old cluster no longer records: forgotten here too.
    pub old_lscs_gone: Vec<String>,
    pub mics_recorded: usize,
}

/// The migration being judged: its record (if started) and the bundle.
struct Subject {
    row: Option<MigrationRow>,
    bundle: ClusterBundle,
    remedy: Remedy,
    confirmed: Vec<Confirmation>,
}

impl Cluster {
    /// `cluster export-bundle`: this cluster's certificates (never a key), its CallManager-trust
    /// and CAPF-trust, and its devices with the LSC and MIC each holds.
    pub async fn export_bundle(&self) -> Result<ClusterBundle> {
        let mut db = self.store.read().await?;
        let mut certificates = Vec::new();
        for svc in [Service::Capf, Service::CallManager, Service::ItlRecovery, Service::Tvs] {
            for c in service::all(&mut db, svc).await? {
                certificates.push(BundleServiceCert {
                    service: svc,
                    state: if c.is_active() { "active".into() } else { "retired".into() },
                    common_name: c.common_name.clone(),
                    fingerprint: c.fingerprint.clone(),
                    not_after: c.not_after.clone(),
                    pem: pem::encode("CERTIFICATE", &c.der),
                });
            }
        }
        let cluster = service::require_active(&mut db, Service::CallManager).await?.common_name;
        let mut entries = Vec::new();
        for store in TrustStore::PHONE_CERTIFICATES {
            for e in trust::list(&mut db, Some(store)).await? {
                entries.push(BundleTrustEntry {
                    store,
                    common_name: e.common_name.clone(),
                    fingerprint: e.fingerprint.clone(),
                    pem: pem::encode("CERTIFICATE", &e.der),
                });
            }
        }
        let capfs = service::capf_infos(&mut db).await?;
        let mut list = Vec::new();
        for d in devices::list(&mut db).await? {
            let lsc = d.lsc.as_ref().map(|l| BundleLsc {
                serial: l.serial.clone(),
                issuer: l.issuer.clone(),
                issuer_cn: l.issuer_cn.clone(),
                not_after: opencapf_model::ts(l.not_after),
                issued_by_cluster: issued_by_cluster(l, &capfs),
                pem: pem::encode("CERTIFICATE", &l.der),
            });
            list.push(BundleDevice {
                name: d.name.clone(),
                model: d.model.clone(),
                protocol: d.protocol,
                security_mode: d.security_mode,
                description: d.description.clone(),
                lines: d.lines.clone(),
                key_order: d.capf.key_order,
                rsa_bits: d.capf.rsa_bits,
                ec_bits: d.capf.ec_bits,
                lsc,
                mic: d.mic_der.is_some(),
                mic_pem: d.mic_der.as_ref().map(|m| pem::encode("CERTIFICATE", m)),
            });
        }
        Ok(ClusterBundle {
            format: BUNDLE_FORMAT.into(),
            version: BUNDLE_VERSION,
            cluster,
            exported_at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc()),
            certificates,
            trust: entries,
            devices: list,
        })
    }

    /// `migrate plan`: with `from`, the plan for that bundle (before `migrate start`, or to
    /// compare); without it, the migration in progress (or the last one). `remedy` defaults to
    /// the recorded one, else trust-old-capf.
    pub async fn migration_plan(&self, from: Option<ClusterBundle>, remedy: Option<Remedy>) -> Result<MigrationPlan> {
        let subject = self.subject(from, remedy).await?;
        Ok(self.assess(&subject).await?.0)
    }

    /// `migrate status`: the migration in progress (or the last one), device by device.
    pub async fn migration_status(&self) -> Result<MigrationStatus> {
        let subject = self.subject(None, None).await?;
        let (plan, device_progress) = self.assess(&subject).await?;
        Ok(MigrationStatus { plan, device_progress })
    }

    /// `migrate start`: records the migration, adds the bundle's devices that are not here yet
    /// and records the LSC (of the old cluster) and MIC each holds, so that the trust guard
    /// knows what the phones present. One transaction, audited. Refused while another migration
    /// is in progress, or when the bundle is this cluster's own.
    pub async fn start_migration(&self, bundle: &ClusterBundle, remedy: Remedy, actor: &str) -> Result<Started> {
        let mut db = self.store.write().await?;
        let own: HashSet<String> =
            service::all(&mut db, Service::Capf).await?.into_iter().map(|c| c.fingerprint).collect();
        if bundle.certificates.iter().any(|c| c.service == Service::Capf && own.contains(&c.fingerprint)) {
            return Err(Error::Refused(format!(
                "the bundle is this cluster's own ({}): run `opencapf migrate` on the cluster the phones move to",
                bundle.cluster
            )));
        }
        let id = migrations::start(
            &mut db,
            &bundle.cluster,
            remedy.token(),
            &bundle.to_json(),
            &opencapf_model::ts(bundle.exported_at),
            actor,
        )
        .await?;
        let (mut added, mut existing) = (Vec::new(), Vec::new());
        let (mut lscs_recorded, mut mics_recorded) = (0, 0);
        for b in &bundle.devices {
            if devices::exists(&mut db, &b.name).await? {
                existing.push(b.name.to_string());
            } else {
                let d = NewDevice {
                    name: b.name.clone(),
                    model: b.model.trim().to_owned(),
                    protocol: b.protocol,
                    security_mode: b.security_mode,
                    description: b.description.clone(),
                    lines: b.lines.clone(),
                    load_information: None,
                };
                let keys = KeyDefaults { key_order: b.key_order, rsa_bits: b.rsa_bits, ec_bits: b.ec_bits };
                devices::add(&mut db, &d, &keys).await?;
                added.push(b.name.to_string());
            }
            let here = devices::get(&mut db, &b.name).await?;
            if let (None, Some(lsc)) = (&here.lsc, b.lsc_der()) {
                devices::set_lsc(&mut db, &b.name, Some(&lsc)).await?;
                lscs_recorded += 1;
            }
            if let (None, Some(mic)) = (&here.mic_der, b.mic_der()) {
                devices::set_mic(&mut db, &b.name, &mic).await?;
                mics_recorded += 1;
            }
        }
        let detail = format!(
            "from {} (bundle of {}), remedy {remedy}; {} device(s) added, {} already here; {lscs_recorded} old LSC(s) \
             and {mics_recorded} MIC(s) recorded",
            bundle.cluster,
            opencapf_model::ts(bundle.exported_at),
            added.len(),
            existing.len()
        );
        audit::record(&mut db, actor, "migrate.start", &bundle.cluster, &detail).await?;
        db.commit().await?;
        Ok(Started { id, source: bundle.cluster.clone(), remedy, added, existing, lscs_recorded, mics_recorded })
    }

    /// `migrate refresh`: a newer bundle of the same old cluster replaces the recorded one (say,
    /// after the old cluster deleted the LSCs). An old-cluster LSC it no longer lists is
    /// forgotten here too, so that the guard and the plan see the phone present its MIC.
    pub async fn refresh_migration(&self, bundle: &ClusterBundle, actor: &str) -> Result<Refreshed> {
        let mut db = self.store.write().await?;
        let row = in_progress(&mut db).await?;
        let old = ClusterBundle::parse(row.bundle.as_bytes())?;
        if old.cluster != bundle.cluster {
            return Err(Error::Refused(format!(
                "the bundle is of {}, the migration in progress is from {}",
                bundle.cluster, old.cluster
            )));
        }
        if bundle.exported_at < old.exported_at {
            return Err(Error::Refused(format!(
                "the bundle was exported {}, before the one recorded ({}): export it again",
                opencapf_model::ts(bundle.exported_at),
                opencapf_model::ts(old.exported_at)
            )));
        }
        let old_capfs: Vec<CertificateInfo> = old.capf_certificates().into_iter().map(|(_, i)| i).collect();
        let (mut old_lscs_gone, mut mics_recorded) = (Vec::new(), 0);
        for b in &bundle.devices {
            let Ok(here) = devices::get(&mut db, &b.name).await else { continue };
            let still = b.lsc.as_ref().is_some_and(|l| l.issued_by_cluster);
            if let Some(l) = here.lsc.as_ref().filter(|l| issued_by_cluster(l, &old_capfs)) {
                if !still || b.lsc.as_ref().is_some_and(|n| n.serial != l.serial) {
                    devices::set_lsc(&mut db, &b.name, b.lsc_der().as_deref().filter(|_| still)).await?;
                    if !still {
                        old_lscs_gone.push(b.name.to_string());
                    }
                }
            }
            if let (None, Some(mic)) = (&here.mic_der, b.mic_der()) {
                devices::set_mic(&mut db, &b.name, &mic).await?;
                mics_recorded += 1;
            }
        }
        migrations::set_bundle(&mut db, row.id, &bundle.to_json(), &opencapf_model::ts(bundle.exported_at)).await?;
        let detail = format!(
            "bundle of {}; {} old LSC(s) deleted there, {mics_recorded} MIC(s) recorded",
            opencapf_model::ts(bundle.exported_at),
            old_lscs_gone.len()
        );
        audit::record(&mut db, actor, "migrate.refresh", &bundle.cluster, &detail).await?;
        db.commit().await?;
        Ok(Refreshed { bundle_exported_at: bundle.exported_at, old_lscs_gone, mics_recorded })
    }

    /// `migrate confirm STEP`: an old-cluster step done (audited once). Whether it was new.
    pub async fn confirm_migration_step(&self, step: &str, actor: &str) -> Result<bool> {
        if !CONFIRMABLE_STEPS.contains(&step) {
            return Err(Error::Invalid(format!(
                "step '{step}' is not one to confirm: {} (the others this cluster sees for itself)",
                CONFIRMABLE_STEPS.join(", ")
            )));
        }
        let mut db = self.store.write().await?;
        let row = in_progress(&mut db).await?;
        let new = migrations::confirm(&mut db, row.id, step, actor).await?;
        if new {
            audit::record(&mut db, actor, "migrate.confirm", &row.source, step).await?;
        }
        db.commit().await?;
        Ok(new)
    }

    /// `migrate trust-old-capf`: the old cluster's CAPF certificates into CAPF-trust (`trust
    /// add`'s use case, audited as such).
    pub async fn migration_trust_old_capf(&self, actor: &str) -> Result<Vec<TrustAddition>> {
        let subject = self.subject(None, None).await?;
        if subject.row.as_ref().is_none_or(|r| r.finished_at.is_some()) {
            return Err(no_migration());
        }
        let ders: Vec<Vec<u8>> = subject.bundle.capf_certificates().into_iter().map(|(d, _)| d).collect();
        let added = self.add_trust(TrustStore::Capf, &ders, Some(false), actor).await?;
        Ok(added.into_iter().map(|(info, a)| TrustAddition::new(TrustStore::Capf, &info, a)).collect())
    }

    /// `migrate untrust-old-capf`: the old cluster's CAPF certificates out of CAPF-trust, through
    /// the trust guard: refused, naming them, while a device still holds only an LSC of the old
    /// cluster (unless `force`, audited as a forced removal). All or none.
    pub async fn migration_untrust_old_capf(&self, force: bool, actor: &str) -> Result<Vec<Removal>> {
        let subject = self.subject(None, None).await?;
        if subject.row.as_ref().is_none_or(|r| r.finished_at.is_some()) {
            return Err(no_migration());
        }
        let in_store = self.trust_list(Some(TrustStore::Capf)).await?;
        let present: Vec<(String, String)> = subject
            .bundle
            .capf_certificates()
            .into_iter()
            .filter(|(_, i)| in_store.iter().any(|e| e.fingerprint == i.fingerprint))
            .map(|(_, i)| (i.fingerprint.clone(), i.subject_cn.clone().unwrap_or(i.subject.clone())))
            .collect();
        if present.is_empty() {
            return Err(Error::Refused(format!(
                "no CAPF certificate of {} is in CAPF-trust: nothing to remove",
                subject.bundle.cluster
            )));
        }
        if !force {
            for (fingerprint, name) in &present {
                let dependents = self.trust_dependents(TrustStore::Capf, fingerprint).await?;
                if !dependents.is_empty() {
                    let shown: Vec<&str> = dependents.iter().map(String::as_str).collect();
                    return Err(Error::Refused(format!(
                        "refusing to remove {name} (the old cluster's CAPF) from CAPF-trust: {} device(s) still hold \
                         only an LSC it issued ({}); their re-key By Existing Certificate (Precedence to LSC) would \
                         fail with 'Invalid LSC'. Let them re-key here first (`opencapf migrate status`), or pass --force",
                        dependents.len(),
                        plan::names(&shown)
                    )));
                }
            }
        }
        let mut out = Vec::new();
        for (fingerprint, _) in &present {
            out.push(self.remove_trust(TrustStore::Capf, fingerprint, force, actor).await?);
        }
        Ok(out)
    }

    /// `migrate trust-manufacturers`: the manufacturing CAs the old cluster trusts in its
    /// CallManager-trust, into this cluster's CallManager-trust and CAPF-trust (`trust add`'s use
    /// case), so that the phones register here with their MIC and enrol by it.
    pub async fn migration_trust_manufacturers(&self, actor: &str) -> Result<Vec<TrustAddition>> {
        let subject = self.subject(None, None).await?;
        if subject.row.as_ref().is_none_or(|r| r.finished_at.is_some()) {
            return Err(no_migration());
        }
        let cas: Vec<Vec<u8>> = manufacturers(&subject.bundle).into_iter().map(|(d, _)| d).collect();
        if cas.is_empty() {
            return Err(Error::Refused(format!(
                "the bundle of {} lists no manufacturing CA in its CallManager-trust: add Cisco's with `opencapf trust \
                 add CallManager-trust FILE` and `opencapf trust add CAPF-trust FILE`",
                subject.bundle.cluster
            )));
        }
        let mut out = Vec::new();
        for store in TrustStore::PHONE_CERTIFICATES {
            let added = self.add_trust(store, &cas, None, actor).await?;
            out.extend(added.into_iter().map(|(info, a)| TrustAddition::new(store, &info, a)));
        }
        Ok(out)
    }

    /// `migrate schedule`: Install/Upgrade for every device of the migration without an LSC of
    /// this cluster (`device set`'s use case): By Existing Certificate with the remedy's
    /// precedence, or `auth` when given (a string is generated per device and shown once).
    pub async fn migration_schedule(
        &self,
        auth: Option<AuthMode>,
        deadline: OffsetDateTime,
        actor: &str,
    ) -> Result<Vec<SetResult>> {
        let subject = self.subject(None, None).await?;
        if subject.row.as_ref().is_none_or(|r| r.finished_at.is_some()) {
            return Err(no_migration());
        }
        let (_, progress) = self.assess(&subject).await?;
        let names: Vec<opencapf_model::DeviceName> = progress
            .iter()
            .filter(|d| d.exists_here && d.lsc_here.is_none())
            .filter_map(|d| d.name.parse().ok())
            .collect();
        if names.is_empty() {
            return Err(Error::Refused("every device of the migration holds an LSC of this cluster already".into()));
        }
        let mode = auth.unwrap_or(match subject.remedy {
            Remedy::TrustOldCapf => AuthMode::ExistingCertificateLsc,
            Remedy::DeleteAndEnrol => AuthMode::ExistingCertificateMic,
        });
        let settings = CapfSettings {
            operation: Some(CertificateOperation::InstallUpgrade),
            auth_mode: Some(mode),
            generate_auth_string: mode == AuthMode::AuthenticationString,
            replace_pending: true,
            ..Default::default()
        };
        self.set_capf(&Selection::Names(names), &settings, deadline, actor, |_, _| {}).await
    }

    /// `migrate finish`: ends the migration. Refused while a device is not migrated (it holds no
    /// LSC of this cluster or has not registered with it) or, for trust-old-capf, while the old
    /// CAPF is still in CAPF-trust; `force` ends it anyway (audited).
    pub async fn finish_migration(&self, force: bool, actor: &str) -> Result<MigrationStatus> {
        let status = self.migration_status().await?;
        let Some(record) = status.plan.migration.as_ref().filter(|m| m.finished_at.is_none()) else {
            return Err(no_migration());
        };
        let finish = status.plan.steps.iter().find(|s| s.id == "finish").expect("every plan ends with finish");
        if !finish.safe && !force {
            return Err(Error::Refused(format!(
                "refusing to finish the migration from {}: {}. Pass --force to end it anyway",
                status.plan.source,
                finish.why.trim_start_matches("not yet: ")
            )));
        }
        let mut db = self.store.write().await?;
        migrations::finish(&mut db, record.id, force && !finish.safe, actor).await?;
        let migrated = status.plan.counts.get(DeviceState::Migrated.token()).copied().unwrap_or(0);
        let action = if force && !finish.safe { "migrate.finish.forced" } else { "migrate.finish" };
        let detail = format!("{migrated} of {} device(s) migrated", status.plan.devices);
        audit::record(&mut db, actor, action, &status.plan.source, &detail).await?;
        db.commit().await?;
        self.migration_status().await
    }

    /// The migration to judge: the bundle given, else the recorded one.
    async fn subject(&self, from: Option<ClusterBundle>, remedy: Option<Remedy>) -> Result<Subject> {
        let mut db = self.store.read().await?;
        let row = match migrations::in_progress(&mut db).await? {
            Some(r) => Some(r),
            None => migrations::latest(&mut db).await?,
        };
        // A bundle given for another cluster than the recorded migration's is judged alone.
        let row = row.filter(|r| from.as_ref().is_none_or(|b| b.cluster == r.source && r.finished_at.is_none()));
        let confirmed = match &row {
            Some(r) => migrations::confirmations(&mut db, r.id)
                .await?
                .into_iter()
                .map(|(step, at, by)| Confirmation { step, at, by })
                .collect(),
            None => Vec::new(),
        };
        let recorded_remedy = row.as_ref().map(|r| r.remedy.parse::<Remedy>()).transpose()?;
        let bundle = match (from, &row) {
            (Some(b), _) => b,
            (None, Some(r)) => ClusterBundle::parse(r.bundle.as_bytes())?,
            (None, None) => return Err(no_migration()),
        };
        let remedy = remedy.or(recorded_remedy).unwrap_or(Remedy::TrustOldCapf);
        Ok(Subject { row, bundle, remedy, confirmed })
    }

    /// The plan and every device's progress, from the bundle and this cluster's records.
    async fn assess(&self, s: &Subject) -> Result<(MigrationPlan, Vec<DeviceProgress>)> {
        let mut db = self.store.read().await?;
        let all_devices = devices::list(&mut db).await?;
        let regs = registrations::newest_per_device(&mut db).await?;
        let here_capfs = service::capf_infos(&mut db).await?;
        let capf_trust = trust::list(&mut db, Some(TrustStore::Capf)).await?;
        drop(db);
        let old: Vec<(Vec<u8>, CertificateInfo)> = s.bundle.capf_certificates();
        let old_capfs: Vec<CertificateInfo> = old.iter().map(|(_, i)| i.clone()).collect();
        let records = progress::Records {
            devices: all_devices.iter().map(|d| (d.name.as_str(), d)).collect(),
            registrations: regs.iter().filter_map(|r| Some((r.event.device.as_deref()?, r))).collect(),
            here_capfs: &here_capfs,
            old_capfs: &old_capfs,
        };
        let progress: Vec<DeviceProgress> = s.bundle.devices.iter().map(|b| records.progress(b)).collect();

        let snapshot = self.trust_snapshot().await?;
        let now = OffsetDateTime::now_utc();
        let mics: Vec<(&str, Vec<u8>)> = s
            .bundle
            .devices
            .iter()
            .filter_map(|b| {
                let here = records.devices.get(b.name.as_str()).and_then(|d| d.mic_der.clone());
                Some((b.name.as_str(), here.or_else(|| b.mic_der())?))
            })
            .collect();
        let trusted_here = |der: &Vec<u8>| {
            TrustStore::PHONE_CERTIFICATES
                .iter()
                .all(|&k| snapshot.verify(k, std::slice::from_ref(der), now).is_ok_and(|v| v.is_trusted()))
        };
        let old_manufacturers = manufacturers(&s.bundle);
        let mic_untrusted_here = if mics.is_empty() {
            let all_here = !old_manufacturers.is_empty()
                && old_manufacturers
                    .iter()
                    .all(|(_, i)| TrustStore::PHONE_CERTIFICATES.iter().all(|&k| snapshot.contains(k, i)));
            all_here.then(Vec::new)
        } else {
            Some(mics.iter().filter(|(_, m)| !trusted_here(m)).map(|(n, _)| n.to_string()).collect())
        };
        let old_anchors: Vec<Anchor> = s
            .bundle
            .trust_ders(TrustStore::CallManager)
            .into_iter()
            .map(|der| {
                let legacy_sha1 = CertificateInfo::parse(&der).is_ok_and(|i| is_manufacturing_ca(&i));
                Anchor { der, legacy_sha1 }
            })
            .collect();
        let mic_untrusted_old = (!mics.is_empty()).then(|| {
            mics.iter()
                .filter(|(_, m)| !verify(std::slice::from_ref(m), &old_anchors, now).is_ok_and(|v| v.is_trusted()))
                .map(|(n, _)| n.to_string())
                .collect()
        });
        let started = s.row.is_some();
        let finished = s.row.as_ref().is_some_and(|r| r.finished_at.is_some());
        let itl_confirmed =
            s.confirmed.iter().any(|c| c.step == "itl") || progress.iter().any(|d| d.state == DeviceState::Migrated);
        let facts = plan::Facts {
            remedy: s.remedy,
            started,
            finished,
            devices: &progress,
            old_capfs: old_capfs.iter().map(|i| i.subject_cn.clone().unwrap_or(i.subject.clone())).collect(),
            old_capfs_trusted: old_capfs
                .iter()
                .filter(|i| capf_trust.iter().any(|e| e.fingerprint == i.fingerprint))
                .count(),
            itl_confirmed,
            mic_untrusted_here,
            mic_untrusted_old,
            old_manufacturers: old_manufacturers
                .iter()
                .map(|(_, i)| i.subject_cn.clone().unwrap_or(i.subject.clone()))
                .collect(),
        };
        let steps = facts.steps();
        let mut counts: BTreeMap<String, usize> = DeviceState::ALL.iter().map(|s| (s.token().to_owned(), 0)).collect();
        for d in &progress {
            *counts.entry(d.state.token().to_owned()).or_default() += 1;
        }
        let mut notes = Vec::new();
        let no_lsc = s.bundle.devices.iter().filter(|d| d.lsc.is_none()).count();
        if s.remedy == Remedy::TrustOldCapf && no_lsc > 0 {
            notes.push(format!(
                "{no_lsc} device(s) hold no LSC on the old cluster: By Existing Certificate (Precedence to LSC) \
                 authenticates them by their MIC, so CAPF-trust needs their manufacturing CA too (`opencapf migrate \
                 trust-manufacturers`)"
            ));
        }
        let foreign = s.bundle.devices.iter().filter(|d| d.lsc.as_ref().is_some_and(|l| !l.issued_by_cluster)).count();
        if foreign > 0 {
            notes.push(format!(
                "{foreign} device(s) hold an LSC the old cluster did not issue (a third cluster's): trusting the old \
                 CAPF does not cover them"
            ));
        }
        let migration = s.row.as_ref().map(|r| MigrationRecord {
            id: r.id,
            started_at: r.started_at.clone(),
            started_by: r.started_by.clone(),
            finished_at: r.finished_at.clone(),
            finished_by: r.finished_by.clone(),
            forced: r.forced != 0,
            confirmed: s.confirmed.clone(),
        });
        let plan = MigrationPlan {
            source: s.bundle.cluster.clone(),
            remedy: s.remedy,
            state: if finished {
                "finished"
            } else if started {
                "in-progress"
            } else {
                "not-started"
            },
            migration,
            bundle_exported_at: s.bundle.exported_at,
            old_capf: facts.old_capfs.clone(),
            devices: progress.len(),
            counts,
            steps,
            notes,
        };
        Ok((plan, progress))
    }
}

/// The migration in progress, or the refusal that says there is none.
async fn in_progress(db: &mut Db) -> Result<MigrationRow> {
    migrations::in_progress(db).await?.ok_or_else(no_migration)
}

fn no_migration() -> Error {
    Error::NotFound(
        "no migration in progress: read the old cluster's bundle with `opencapf migrate plan --from BUNDLE`, then \
         start with `opencapf migrate start --from BUNDLE --remedy REMEDY`"
            .into(),
    )
}

/// The manufacturing CAs of the old cluster, from its CallManager-trust: Cisco's (by name) and
/// the issuers of the MICs it knows; when it knows no MIC, every CA certificate there that is
/// neither a CAPF certificate (its own, another cluster's) nor one of its own certificates.
fn manufacturers(b: &ClusterBundle) -> Vec<(Vec<u8>, CertificateInfo)> {
    let own: HashSet<&str> = b.certificates.iter().map(|c| c.fingerprint.as_str()).collect();
    let mic_issuers: HashSet<Vec<u8>> =
        b.devices.iter().filter_map(|d| CertificateInfo::parse(&d.mic_der()?).ok()).map(|i| i.issuer_der).collect();
    let mut seen = HashSet::new();
    b.trust_ders(TrustStore::CallManager)
        .into_iter()
        .filter_map(|der| Some((der.clone(), CertificateInfo::parse(&der).ok()?)))
        .filter(|(_, i)| i.is_ca && !own.contains(i.fingerprint.as_str()))
        .filter(|(_, i)| {
            is_manufacturing_ca(i)
                || mic_issuers.contains(&i.subject_der)
                || (mic_issuers.is_empty() && !i.subject_cn.as_deref().is_some_and(|cn| cn.starts_with("CAPF-")))
        })
        .filter(|(_, i)| seen.insert(i.fingerprint.clone()))
        .collect()
}
