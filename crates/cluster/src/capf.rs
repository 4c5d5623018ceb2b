//! CAPF certificate regeneration and reissue, the lab manufacturer, and the signers and keys of
//! the cluster's services.

use opencapf_model::{
    now, AuthMode, CapfUpdate, CertificateOperation, DeviceName, KeyAlgorithm, Service, ServiceCertificate, TrustStore,
};
use opencapf_pki::profiles::{self, CAPF_DEFAULT_DAYS};
use opencapf_pki::{CaSigner, CertificateInfo, IssuedCertificate, PrivateKey};
use opencapf_store::{audit, devices, keyfile, service, settings, trust, Db, Topic};
use serde::Serialize;
use time::OffsetDateTime;

use crate::crl::refresh_crls;
use crate::{lsc, Cluster, Error, Result};

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Serialize)]
pub struct RegenerateReport {
    pub new: ServiceCertificate,
    pub retired: ServiceCertificate,
    /// Devices whose active LSC comes from a retired CAPF certificate.
    pub devices_on_retired: Vec<String>,
}

/// A CAPF certificate as `capf show` lists it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CapfCertificate {
    #[serde(flatten)]
    pub cert: ServiceCertificate,
    /// "RSA 2048", "EC P-256".
    pub key: String,
    /// Devices whose LSC this certificate issued.
    pub devices_with_lsc: usize,
}

impl Cluster {
    /// `capf show`: the CAPF certificates, active first, each with the devices holding its LSCs.
    pub async fn capf_certificates(&self) -> Result<Vec<CapfCertificate>> {
        let certs = self.certificates(Service::Capf).await?;
        let list = self.devices().await?;
        let mut rows = Vec::new();
        for cert in certs {
            let info = CertificateInfo::parse(&cert.der)?;
            let devices_with_lsc = list
                .iter()
                .filter(|d| d.lsc.as_ref().is_some_and(|l| lsc::issued_by_cluster(l, std::slice::from_ref(&info))))
                .count();
            rows.push(CapfCertificate { cert, key: info.key, devices_with_lsc });
        }
        Ok(rows)
    }

    /// Regenerates the CAPF certificate: the new one becomes the issuer and enters both stores; the
    /// old one is retired and stays in both stores, so that phones holding its LSCs keep working.
    pub async fn regenerate_capf(&self, key: Option<KeyAlgorithm>, actor: &str) -> Result<RegenerateReport> {
        let mut db = self.store.read().await?;
        let old = service::require_active(&mut db, Service::Capf).await?;
        let subject = settings::load(&mut db).await?.subject;
        drop(db);
        let alg: KeyAlgorithm = match key {
            Some(k) => k,
            None => old.key_algorithm,
        };
        if !KeyAlgorithm::CAPF.contains(&alg) {
            return Err(Error::Invalid(format!(
                "{alg} cannot be a CAPF key: use rsa2048, rsa3072, rsa4096, ec256 or ec384"
            )));
        }
        let new_key = PrivateKey::generate(alg)?;
        let cert = profiles::capf_certificate(&new_key, &subject, CAPF_DEFAULT_DAYS, now())?;
        let key_file =
            keyfile::write(self.store.data_dir(), &format!("capf-{}", &cert.info.fingerprint[..12]), &new_key)?;
        let outcome = async {
            let mut db = self.store.write().await?;
            service::retire(&mut db, old.id).await?;
            service::insert_active(&mut db, Service::Capf, &cert, &key_file, alg).await?;
            self.keyring.seal_file(&mut db, self.data_dir(), &key_file).await?;
            for s in TrustStore::PHONE_CERTIFICATES {
                trust::add(&mut db, s, &cert.der, false, "capf regenerate").await?;
            }
            audit::record(
                &mut db,
                actor,
                "capf.regenerate",
                cert.info.subject_cn.as_deref().unwrap_or(""),
                &format!("retired {} ({})", old.common_name, old.fingerprint),
            )
            .await?;
            refresh_crls(&mut db, self.data_dir()).await?;
            db.commit().await?;
            self.changed(&[Topic::Identities, Topic::Trust]);
            Ok::<_, Error>(())
        }
        .await;
        discard_key_on_error(self.data_dir(), &key_file, outcome)?;
        let mut db = self.store.read().await?;
        let new = service::require_active(&mut db, Service::Capf).await?;
        let retired =
            service::all(&mut db, Service::Capf).await?.into_iter().find(|c| c.id == old.id).expect("just retired");
        let devices_on_retired = devices_on_retired_capf(&mut db).await?;
        Ok(RegenerateReport { new, retired, devices_on_retired })
    }
}

/// A key file written for a change whose transaction then failed is removed again.
pub(crate) fn discard_key_on_error<T>(data_dir: &std::path::Path, key_file: &str, outcome: Result<T>) -> Result<T> {
    if outcome.is_err() {
        keyfile::discard(data_dir, key_file);
    }
    outcome
}

/// Devices whose active LSC was issued by a retired CAPF certificate of this cluster.
async fn devices_on_retired_capf(db: &mut Db) -> Result<Vec<String>> {
    let retired: Vec<CertificateInfo> = service::all(db, Service::Capf)
        .await?
        .iter()
        .filter(|c| !c.is_active())
        .map(|c| CertificateInfo::parse(&c.der))
        .collect::<Result<_, _>>()?;
    let mut names = Vec::new();
    for d in devices::list(db).await? {
        if let Some(lsc) = &d.lsc {
            if lsc::issued_by_cluster(lsc, &retired) {
                names.push(d.name.to_string());
            }
        }
    }
    Ok(names)
}

impl Cluster {
    /// Schedules Install/Upgrade, By Existing Certificate (Precedence to LSC), for every device whose
    /// LSC comes from a retired CAPF certificate. Returns the devices scheduled.
    pub async fn reissue(&self, completes_by: OffsetDateTime, actor: &str) -> Result<Vec<String>> {
        let mut db = self.store.write().await?;
        let names = devices_on_retired_capf(&mut db).await?;
        for name in &names {
            let device: DeviceName = name.parse()?;
            let current = devices::get(&mut db, &device).await?;
            let update = CapfUpdate {
                operation: CertificateOperation::InstallUpgrade,
                auth_mode: AuthMode::ExistingCertificateLsc,
                auth_string: None,
                key_order: current.capf.key_order,
                rsa_bits: current.capf.rsa_bits,
                ec_bits: current.capf.ec_bits,
                completes_by: Some(completes_by),
            };
            devices::set_capf(&mut db, &device, &update, None, "capf reissue: LSC from a retired CAPF certificate")
                .await?;
        }
        audit::record(&mut db, actor, "capf.reissue", "devices", &format!("{} devices scheduled", names.len())).await?;
        db.commit().await?;
        Ok(names)
    }
}

impl Cluster {
    /// Creates the lab manufacturer (root CA and key). Its root enters no store by itself.
    pub async fn mfg_init(&self, actor: &str) -> Result<ServiceCertificate> {
        let mut db = self.store.read().await?;
        if let Some(existing) = service::active(&mut db, Service::LabManufacturer).await? {
            return Err(Error::Conflict(format!(
                "the lab manufacturer already exists ({}, fingerprint {})",
                existing.common_name, existing.fingerprint
            )));
        }
        drop(db);
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
        let root = profiles::lab_manufacturer_root(&key, now())?;
        let key_file =
            keyfile::write(self.store.data_dir(), &format!("lab-manufacturer-{}", &root.info.fingerprint[..12]), &key)?;
        let outcome = async {
            let mut db = self.store.write().await?;
            service::insert_active(&mut db, Service::LabManufacturer, &root, &key_file, KeyAlgorithm::Rsa2048).await?;
            self.keyring.seal_file(&mut db, self.data_dir(), &key_file).await?;
            audit::record(&mut db, actor, "mfg.init", &root.info.subject, &root.info.fingerprint).await?;
            db.commit().await?;
            self.changed(&[Topic::Identities]);
            Ok::<_, Error>(())
        }
        .await;
        discard_key_on_error(self.data_dir(), &key_file, outcome)?;
        let mut db = self.store.read().await?;
        service::require_active(&mut db, Service::LabManufacturer).await
    }
}

impl Cluster {
    /// The signer of an active service certificate (CAPF or lab manufacturer).
    pub async fn signer(&self, svc: Service) -> Result<CaSigner> {
        let mut db = self.store.read().await?;
        let cert = service::require_active(&mut db, svc).await?;
        let key = self.private_key(&cert.key_file).await?;
        Ok(CaSigner::new(&cert.der, &key)?)
    }

    /// The lab manufacturer's older, SHA-1 CA (for 79xx-era MICs) and its signer: derived from the
    /// lab manufacturer's root and key, so nothing more is stored (`profiles::lab_manufacturer_sha1_root`).
    pub async fn lab_manufacturer_sha1(&self) -> Result<(IssuedCertificate, CaSigner)> {
        let mut db = self.store.read().await?;
        let cert = service::require_active(&mut db, Service::LabManufacturer).await?;
        let key = self.private_key(&cert.key_file).await?;
        let older = profiles::lab_manufacturer_sha1_root(&CaSigner::new(&cert.der, &key)?)?;
        let signer = CaSigner::new(&older.der, &key)?;
        Ok((older, signer))
    }
}

impl Cluster {
    /// Default "Operation Completes By": now plus the cluster's "CAPF Operation Expires in (days)".
    pub async fn default_completes_by(&self) -> Result<OffsetDateTime> {
        let mut db = self.store.read().await?;
        let days = settings::load(&mut db).await?.capf_operation_expires_days;
        Ok(now() + time::Duration::days(i64::from(days)))
    }
}

impl Cluster {
    /// Audits a MIC issued by the lab manufacturer (the files are the caller's).
    pub async fn record_mic_issued(&self, device: &DeviceName, mic: &IssuedCertificate, actor: &str) -> Result<()> {
        let mut db = self.store.read().await?;
        let detail = format!("MIC serial {} {}", mic.info.serial, mic.info.subject);
        audit::record(&mut db, actor, "mfg.issue", device.as_str(), &detail).await
    }
}

/// Writes a key the cluster does not keep (say, a lab phone's MIC key) to `path`, mode 0600,
/// never replacing a file.
pub fn write_key_file(path: &std::path::Path, key: &PrivateKey) -> Result<()> {
    keyfile::write_pem(path, key)
}
