//! Creating a cluster.
//!
//! Key files are written before the database transaction that names them, and removed again if
//! that transaction fails, so a crash leaves at worst an unused key file, never a record without
//! its key.

use std::fs;
use std::path::{Path, PathBuf};

use opencapf_model::{
    ClusterSettings, KeyAlgorithm, KeyDefaults, Service, ServiceCertificate, SubjectFields, TrustStore,
};
use opencapf_pki::profiles::{self, CAPF_DEFAULT_DAYS};
use opencapf_pki::{CertificateInfo, PrivateKey};
use opencapf_store::{audit, keyfile, service, settings, trust, Database, Store, DB_FILE};
use serde::Serialize;

use crate::{identities, Error, Result};

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
    pub itl_recovery: ServiceCertificate,
    pub tvs: ServiceCertificate,
    /// The admin web service's certificate (CUCM's `tomcat`).
    pub tomcat: ServiceCertificate,
    pub manufacturer_cas: Vec<String>,
}

/// Creates a cluster in `data_dir`. Everything is built in a sibling temporary folder that is
/// renamed into place at the end, so an interrupted init leaves no half-made cluster.
pub async fn init(data_dir: &Path, opts: InitOptions) -> Result<InitReport> {
    init_with(data_dir, None, opts).await
}

/// [`init`] with the database elsewhere (`--database`): a PostgreSQL database that must hold no
/// cluster yet, or a SQLite file. `None`: `cluster.db` in the data folder. The key files are
/// staged and moved as with `init`; the database's rows are committed in one transaction before
/// the folder is moved.
pub async fn init_with(data_dir: &Path, database: Option<&Database>, opts: InitOptions) -> Result<InitReport> {
    if data_dir.join(DB_FILE).exists() {
        return Err(Error::ClusterExists(data_dir.to_path_buf()));
    }
    if let Some(db) = database {
        if db.holds_cluster().await? {
            return Err(Error::Refused(format!("{db} already holds a cluster; refusing to overwrite it")));
        }
    }
    if data_dir.exists()
        && fs::read_dir(data_dir).map_err(Error::io(format!("reading {}", data_dir.display())))?.next().is_some()
    {
        return Err(Error::Refused(format!(
            "{} exists and is not empty; choose an empty or new folder for the cluster",
            data_dir.display()
        )));
    }
    opts.subject.validate()?;
    let mut infos = Vec::new();
    for der in &opts.manufacturer_cas {
        let info = CertificateInfo::parse(der)?;
        if !info.is_ca {
            return Err(Error::Invalid(format!(
                "{} is not a CA certificate and cannot be a manufacturing CA",
                info.subject
            )));
        }
        infos.push(info);
    }

    let name = data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cluster".into());
    let staging = data_dir.with_file_name(format!(".{name}.init-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(Error::io(format!("creating {}", staging.display())))?;
    let staged_database = database.cloned().unwrap_or_else(|| Database::in_folder(&staging));
    let result = build(&staging, &staged_database, &opts, &infos).await;
    match result {
        Ok(mut report) => {
            if data_dir.exists() {
                fs::remove_dir(data_dir).map_err(Error::io(format!("replacing empty {}", data_dir.display())))?;
            }
            fs::rename(&staging, data_dir)
                .map_err(Error::io(format!("moving the new cluster to {}", data_dir.display())))?;
            report.data_dir = data_dir.to_path_buf();
            Ok(report)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

async fn build(dir: &Path, database: &Database, opts: &InitOptions, mfg: &[CertificateInfo]) -> Result<InitReport> {
    let t = opencapf_model::now();
    let capf_key = PrivateKey::generate(opts.capf_key)?;
    let capf = profiles::capf_certificate(&capf_key, &opts.subject, CAPF_DEFAULT_DAYS, t)?;
    let capf_key_file = keyfile::write(dir, &format!("capf-{}", &capf.info.fingerprint[..12]), &capf_key)?;
    let cm_key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
    let cm = profiles::callmanager_certificate(&cm_key, &opts.hostname, &opts.subject, CAPF_DEFAULT_DAYS, t)?;
    let cm_key_file = keyfile::write(dir, &format!("callmanager-{}", &cm.info.fingerprint[..12]), &cm_key)?;
    let mut identities = Vec::new();
    for svc in identities::NEW_IDENTITIES {
        identities.push(identities::make(dir, svc, &opts.hostname, &opts.subject)?);
    }

    let store = Store::create_with(dir, database).await?;
    let mut db = store.write().await?;
    settings::save(
        &mut db,
        &ClusterSettings {
            hostname: opts.hostname.clone(),
            subject: opts.subject.clone(),
            capf_operation_expires_days: DEFAULT_OPERATION_EXPIRES_DAYS,
            lsc_validity_days: profiles::LSC_DEFAULT_DAYS,
            key_defaults: KeyDefaults::default(),
        },
    )
    .await?;
    service::insert_active(&mut db, Service::Capf, &capf, &capf_key_file, opts.capf_key).await?;
    service::insert_active(&mut db, Service::CallManager, &cm, &cm_key_file, KeyAlgorithm::Rsa2048).await?;
    for id in &identities {
        identities::record(&mut db, id).await?;
    }
    for store_kind in TrustStore::PHONE_CERTIFICATES {
        trust::add(&mut db, store_kind, &capf.der, false, "init").await?;
        for (der, _) in opts.manufacturer_cas.iter().zip(mfg) {
            // Manufacturing anchors keep the legacy-SHA-1 policy on: older MICs are SHA-1 signed.
            trust::add(&mut db, store_kind, der, true, "init (manufacturer CA)").await?;
        }
    }
    trust::add(&mut db, TrustStore::CallManager, &cm.der, false, "init").await?;
    let names: Vec<String> = mfg.iter().map(|i| i.subject.clone()).collect();
    audit::record(
        &mut db,
        &opts.actor,
        "cluster.init",
        capf.info.subject_cn.as_deref().unwrap_or(""),
        &format!("CAPF {} ({}), manufacturer CAs: {}", capf.info.subject, opts.capf_key, names.len()),
    )
    .await?;
    db.commit().await?;
    // Every key, and the authentication-string key, sealed into the database at once: the other
    // nodes of a PostgreSQL cluster need only keys/cluster.kek.
    let keyring = crate::keyring::Keyring::load(&store).await?;
    crate::credentials::AuthKey::load(dir)?;
    keyring.sync(&store).await?;
    let mut db = store.read().await?;
    let capf_row = service::require_active(&mut db, Service::Capf).await?;
    let cm_row = service::require_active(&mut db, Service::CallManager).await?;
    let itl_recovery = service::require_active(&mut db, Service::ItlRecovery).await?;
    let tvs = service::require_active(&mut db, Service::Tvs).await?;
    let tomcat = service::require_active(&mut db, Service::Tomcat).await?;
    drop(db);
    store.close().await;
    Ok(InitReport {
        data_dir: dir.to_path_buf(),
        capf: capf_row,
        callmanager: cm_row,
        itl_recovery,
        tvs,
        tomcat,
        manufacturer_cas: names,
    })
}
