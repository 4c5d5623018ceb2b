//! Changes to the cluster that span several records, each all-or-nothing.
//!
//! Key files are written before the database transaction that names them, and removed again if
//! that transaction fails, so a crash leaves at worst an unused key file, never a record without
//! its key.

use std::fs;
use std::path::{Path, PathBuf};

use opencapf_pki::classify::is_manufacturing_ca;
use opencapf_pki::profiles::{self, CAPF_DEFAULT_DAYS};
use opencapf_pki::{CertificateInfo, KeyAlgorithm, PrivateKey, SubjectFields, TrustStore};
use serde::Serialize;
use time::OffsetDateTime;

use crate::devices::{self, CapfUpdate};
use crate::{
    audit, keyfile, now, service, settings, trust, AuthMode, CertificateOperation, ClusterSettings, Result, Service,
    ServiceCertificate, Store, StoreError, DB_FILE,
};

/// Default "CAPF Operation Expires in (days)".
pub const DEFAULT_OPERATION_EXPIRES_DAYS: u32 = 10;

pub struct InitOptions {
    pub capf_key: KeyAlgorithm,
    pub subject: SubjectFields,
    pub hostname: String,
    /// DER certificates of the manufacturing CAs to trust (Cisco's, or a lab's).
    pub manufacturer_cas: Vec<Vec<u8>>,
    pub actor: String,
}

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub data_dir: PathBuf,
    pub capf: ServiceCertificate,
    pub callmanager: ServiceCertificate,
    pub manufacturer_cas: Vec<String>,
}

/// Creates a cluster in `data_dir`. Everything is built in a sibling temporary folder that is
/// renamed into place at the end, so an interrupted init leaves no half-made cluster.
pub async fn init(data_dir: &Path, opts: InitOptions) -> Result<InitReport> {
    if data_dir.join(DB_FILE).exists() {
        return Err(StoreError::ClusterExists(data_dir.to_path_buf()));
    }
    if data_dir.exists()
        && fs::read_dir(data_dir).map_err(StoreError::io(format!("reading {}", data_dir.display())))?.next().is_some()
    {
        return Err(StoreError::Refused(format!(
            "{} exists and is not empty; choose an empty or new folder for the cluster",
            data_dir.display()
        )));
    }
    opts.subject.validate()?;
    let mut infos = Vec::new();
    for der in &opts.manufacturer_cas {
        let info = CertificateInfo::parse(der)?;
        if !info.is_ca {
            return Err(StoreError::Invalid(format!(
                "{} is not a CA certificate and cannot be a manufacturing CA",
                info.subject
            )));
        }
        infos.push(info);
    }

    let name = data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cluster".into());
    let staging = data_dir.with_file_name(format!(".{name}.init-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(StoreError::io(format!("creating {}", staging.display())))?;
    let result = build(&staging, &opts, &infos).await;
    match result {
        Ok(mut report) => {
            if data_dir.exists() {
                fs::remove_dir(data_dir).map_err(StoreError::io(format!("replacing empty {}", data_dir.display())))?;
            }
            fs::rename(&staging, data_dir)
                .map_err(StoreError::io(format!("moving the new cluster to {}", data_dir.display())))?;
            report.data_dir = data_dir.to_path_buf();
            Ok(report)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

async fn build(dir: &Path, opts: &InitOptions, mfg: &[CertificateInfo]) -> Result<InitReport> {
    let t = now();
    let capf_key = PrivateKey::generate(opts.capf_key)?;
    let capf = profiles::capf_certificate(&capf_key, &opts.subject, CAPF_DEFAULT_DAYS, t)?;
    let capf_key_file = keyfile::write(dir, &format!("capf-{}", &capf.info.fingerprint[..12]), &capf_key)?;
    let cm_key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
    let cm = profiles::callmanager_certificate(&cm_key, &opts.hostname, &opts.subject, CAPF_DEFAULT_DAYS, t)?;
    let cm_key_file = keyfile::write(dir, &format!("callmanager-{}", &cm.info.fingerprint[..12]), &cm_key)?;

    let store = Store::create(dir).await?;
    let mut tx = store.begin_write().await?;
    settings::save(
        &mut tx,
        &ClusterSettings {
            hostname: opts.hostname.clone(),
            subject: opts.subject.clone(),
            capf_operation_expires_days: DEFAULT_OPERATION_EXPIRES_DAYS,
            lsc_validity_days: profiles::LSC_DEFAULT_DAYS,
        },
    )
    .await?;
    service::insert_active(&mut tx, Service::Capf, &capf, &capf_key_file, opts.capf_key).await?;
    service::insert_active(&mut tx, Service::CallManager, &cm, &cm_key_file, KeyAlgorithm::Rsa2048).await?;
    for store_kind in TrustStore::ALL {
        trust::add(&mut tx, store_kind, &capf.der, false, "init").await?;
        for (der, _) in opts.manufacturer_cas.iter().zip(mfg) {
            // Manufacturing anchors keep the legacy-SHA-1 policy on: older MICs are SHA-1 signed.
            trust::add(&mut tx, store_kind, der, true, "init (manufacturer CA)").await?;
        }
    }
    trust::add(&mut tx, TrustStore::CallManager, &cm.der, false, "init").await?;
    let names: Vec<String> = mfg.iter().map(|i| i.subject.clone()).collect();
    audit::record(
        &mut tx,
        &opts.actor,
        "cluster.init",
        capf.info.subject_cn.as_deref().unwrap_or(""),
        &format!("CAPF {} ({}), manufacturer CAs: {}", capf.info.subject, opts.capf_key, names.len()),
    )
    .await?;
    tx.commit().await?;
    let mut conn = store.pool().acquire().await?;
    let capf_row = service::require_active(&mut conn, Service::Capf).await?;
    let cm_row = service::require_active(&mut conn, Service::CallManager).await?;
    drop(conn);
    store.close().await;
    Ok(InitReport { data_dir: dir.to_path_buf(), capf: capf_row, callmanager: cm_row, manufacturer_cas: names })
}

#[derive(Debug, Serialize)]
pub struct RegenerateReport {
    pub new: ServiceCertificate,
    pub retired: ServiceCertificate,
    /// Devices whose active LSC comes from a retired CAPF certificate.
    pub devices_on_retired: Vec<String>,
}

/// Regenerates the CAPF certificate: the new one becomes the issuer and enters both stores; the
/// old one is retired and stays in both stores, so that phones holding its LSCs keep working.
pub async fn regenerate_capf(store: &Store, key: Option<KeyAlgorithm>, actor: &str) -> Result<RegenerateReport> {
    let mut conn = store.pool().acquire().await?;
    let old = service::require_active(&mut conn, Service::Capf).await?;
    let subject = settings::load(&mut conn).await?.subject;
    drop(conn);
    let alg: KeyAlgorithm = match key {
        Some(k) => k,
        None => old.key_algorithm.parse()?,
    };
    if !KeyAlgorithm::CAPF.contains(&alg) {
        return Err(StoreError::Invalid(format!(
            "{alg} cannot be a CAPF key: use rsa2048, rsa3072, rsa4096, ec256 or ec384"
        )));
    }
    let new_key = PrivateKey::generate(alg)?;
    let cert = profiles::capf_certificate(&new_key, &subject, CAPF_DEFAULT_DAYS, now())?;
    let key_file = keyfile::write(store.data_dir(), &format!("capf-{}", &cert.info.fingerprint[..12]), &new_key)?;
    let outcome = async {
        let mut tx = store.begin_write().await?;
        service::retire(&mut tx, old.id).await?;
        service::insert_active(&mut tx, Service::Capf, &cert, &key_file, alg).await?;
        for s in TrustStore::ALL {
            trust::add(&mut tx, s, &cert.der, false, "capf regenerate").await?;
        }
        audit::record(
            &mut tx,
            actor,
            "capf.regenerate",
            cert.info.subject_cn.as_deref().unwrap_or(""),
            &format!("retired {} ({})", old.common_name, old.fingerprint),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    discard_key_on_error(store, &key_file, outcome)?;
    let mut conn = store.pool().acquire().await?;
    let new = service::require_active(&mut conn, Service::Capf).await?;
    let retired =
        service::all(&mut conn, Service::Capf).await?.into_iter().find(|c| c.id == old.id).expect("just retired");
    let devices_on_retired = devices_on_retired_capf(&mut conn).await?;
    Ok(RegenerateReport { new, retired, devices_on_retired })
}

/// A key file written for a change whose transaction then failed is removed again.
fn discard_key_on_error<T>(store: &Store, key_file: &str, outcome: Result<T>) -> Result<T> {
    if outcome.is_err() {
        keyfile::discard(store.data_dir(), key_file);
    }
    outcome
}

/// Devices whose active LSC was issued by a retired CAPF certificate of this cluster.
pub async fn devices_on_retired_capf(conn: &mut crate::SqliteConnection) -> Result<Vec<String>> {
    let retired: Vec<CertificateInfo> = service::all(conn, Service::Capf)
        .await?
        .iter()
        .filter(|c| !c.is_active())
        .map(|c| CertificateInfo::parse(&c.der))
        .collect::<Result<_, _>>()?;
    let mut names = Vec::new();
    for d in devices::list(conn).await? {
        if let Some(lsc) = &d.lsc {
            if devices::issued_by_cluster(lsc, &retired) {
                names.push(d.name.to_string());
            }
        }
    }
    Ok(names)
}

/// Schedules Install/Upgrade, By Existing Certificate (Precedence to LSC), for every device whose
/// LSC comes from a retired CAPF certificate. Returns the devices scheduled.
pub async fn reissue(store: &Store, completes_by: OffsetDateTime, actor: &str) -> Result<Vec<String>> {
    let mut tx = store.begin_write().await?;
    let names = devices_on_retired_capf(&mut tx).await?;
    for name in &names {
        let device: opencapf_pki::DeviceName = name.parse()?;
        let current = devices::get(&mut tx, &device).await?;
        let update = CapfUpdate {
            operation: CertificateOperation::InstallUpgrade,
            auth_mode: AuthMode::ExistingCertificateLsc,
            auth_string: None,
            key_order: current.capf.key_order,
            rsa_bits: current.capf.rsa_bits,
            ec_bits: current.capf.ec_bits,
            completes_by: Some(completes_by),
        };
        devices::set_capf(&mut tx, &device, &update, "capf reissue: LSC from a retired CAPF certificate").await?;
    }
    audit::record(&mut tx, actor, "capf.reissue", "devices", &format!("{} devices scheduled", names.len())).await?;
    tx.commit().await?;
    Ok(names)
}

/// What a trust removal did.
#[derive(Debug, Serialize)]
pub struct Removal {
    pub store: TrustStore,
    pub common_name: Option<String>,
    pub fingerprint: String,
    /// Devices whose active LSC the removed certificate backed (non-empty only when forced).
    pub stranded_devices: Vec<String>,
}

/// Removes a certificate from a store, refusing when it backs the active LSC of any device, or is
/// the cluster's active CAPF or CallManager certificate, unless `force`.
pub async fn remove_trust(
    store: &Store,
    kind: TrustStore,
    selector: &str,
    force: bool,
    actor: &str,
) -> Result<Removal> {
    let mut tx = store.begin_write().await?;
    let entry = trust::find(&mut tx, kind, selector).await?;
    let backed = trust::backed_devices(&mut tx, &entry).await?;
    let name = entry.common_name.clone().unwrap_or_else(|| entry.subject.clone());
    let mut active_role = None;
    for svc in [Service::Capf, Service::CallManager] {
        if service::active(&mut tx, svc).await?.is_some_and(|c| c.fingerprint == entry.fingerprint) {
            active_role = Some(svc);
        }
    }
    if !force {
        if !backed.is_empty() {
            let shown: Vec<&str> = backed.iter().take(20).map(String::as_str).collect();
            let more = if backed.len() > 20 { format!(" and {} more", backed.len() - 20) } else { String::new() };
            let effect = match kind {
                TrustStore::CallManager => "they would fail TLS to CallManager with 'unknown CA'",
                TrustStore::Capf => "their By Existing Certificate operations would fail with 'Invalid LSC'",
            };
            return Err(StoreError::Refused(format!(
                "refusing to remove {name} from {kind}: it issued the active LSC of {} device(s) ({}{more}); {effect}. \
                 Give them new LSCs first (`opencapf capf reissue`), or pass --force",
                backed.len(),
                shown.join(", ")
            )));
        }
        if let Some(svc) = active_role {
            return Err(StoreError::Refused(format!(
                "refusing to remove {name} from {kind}: it is the cluster's active {svc} certificate; pass --force to remove it anyway"
            )));
        }
    }
    trust::delete(&mut tx, entry.id).await?;
    let action =
        if force && (!backed.is_empty() || active_role.is_some()) { "trust.remove.forced" } else { "trust.remove" };
    audit::record(
        &mut tx,
        actor,
        action,
        &format!("{kind}: {name}"),
        &format!("fingerprint {}; devices left without a trusted LSC issuer: {}", entry.fingerprint, backed.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(Removal {
        store: kind,
        common_name: entry.common_name,
        fingerprint: entry.fingerprint,
        stranded_devices: backed,
    })
}

/// Adds certificates to a store (idempotent), audited. `legacy_sha1`: None = on for
/// manufacturing CAs, off otherwise.
pub async fn add_trust(
    store: &Store,
    kind: TrustStore,
    ders: &[Vec<u8>],
    legacy_sha1: Option<bool>,
    actor: &str,
) -> Result<Vec<(CertificateInfo, trust::Added)>> {
    let mut tx = store.begin_write().await?;
    let mut out = Vec::new();
    for der in ders {
        let info = CertificateInfo::parse(der)?;
        let legacy = legacy_sha1.unwrap_or_else(|| is_manufacturing_ca(&info));
        let added = trust::add(&mut tx, kind, der, legacy, actor).await?;
        if added == trust::Added::Added {
            audit::record(&mut tx, actor, "trust.add", &format!("{kind}: {}", info.subject), &info.fingerprint).await?;
        }
        out.push((info, added));
    }
    tx.commit().await?;
    Ok(out)
}

/// Creates the lab manufacturer (root CA and key). Its root enters no store by itself.
pub async fn mfg_init(store: &Store, actor: &str) -> Result<ServiceCertificate> {
    let mut conn = store.pool().acquire().await?;
    if let Some(existing) = service::active(&mut conn, Service::LabManufacturer).await? {
        return Err(StoreError::Conflict(format!(
            "the lab manufacturer already exists ({}, fingerprint {})",
            existing.common_name, existing.fingerprint
        )));
    }
    drop(conn);
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
    let root = profiles::lab_manufacturer_root(&key, now())?;
    let key_file =
        keyfile::write(store.data_dir(), &format!("lab-manufacturer-{}", &root.info.fingerprint[..12]), &key)?;
    let outcome = async {
        let mut tx = store.begin_write().await?;
        service::insert_active(&mut tx, Service::LabManufacturer, &root, &key_file, KeyAlgorithm::Rsa2048).await?;
        audit::record(&mut tx, actor, "mfg.init", &root.info.subject, &root.info.fingerprint).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    discard_key_on_error(store, &key_file, outcome)?;
    let mut conn = store.pool().acquire().await?;
    service::require_active(&mut conn, Service::LabManufacturer).await
}

/// The signer of an active service certificate (CAPF or lab manufacturer).
pub async fn signer(store: &Store, svc: Service) -> Result<opencapf_pki::CaSigner> {
    let mut conn = store.pool().acquire().await?;
    let cert = service::require_active(&mut conn, svc).await?;
    let key = keyfile::read(store.data_dir(), &cert.key_file)?;
    Ok(opencapf_pki::CaSigner::new(&cert.der, &key)?)
}

/// Default "Operation Completes By": now plus the cluster's "CAPF Operation Expires in (days)".
pub async fn default_completes_by(store: &Store) -> Result<OffsetDateTime> {
    let mut conn = store.pool().acquire().await?;
    let days = settings::load(&mut conn).await?.capf_operation_expires_days;
    Ok(now() + time::Duration::days(i64::from(days)))
}
