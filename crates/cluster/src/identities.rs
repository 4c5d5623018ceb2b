//! The cluster's identities beyond CAPF and CallManager: ITLRecovery (the SAST that signs the ITL),
//! TVS and tomcat (the admin web service). `init` makes them; a cluster made before they existed gets them once, when opened
//! ([`ensure`]). ITLRecovery is never regenerated with the others (cucm-reference §5: a new SAST
//! strands every phone holding the old ITL).

use std::path::Path;

use opencapf_model::{now, KeyAlgorithm, Service, ServiceCertificate, SubjectFields};
use opencapf_pki::profiles::{self, ITL_RECOVERY_DAYS, TOMCAT_DEFAULT_DAYS, TVS_DEFAULT_DAYS};
use opencapf_pki::{CertificateInfo, IssuedCertificate, PrivateKey};
use opencapf_store::{audit, keyfile, service, settings, Db, Store};
use serde::Serialize;

use crate::{Cluster, Error, Result};

/// The services [`ensure`] creates when missing, in the order they are made.
pub(crate) const NEW_IDENTITIES: [Service; 3] = [Service::ItlRecovery, Service::Tvs, Service::Tomcat];

/// A certificate just made and its key file (written, not yet recorded).
pub(crate) struct NewIdentity {
    pub(crate) service: Service,
    pub(crate) cert: IssuedCertificate,
    pub(crate) key_file: String,
}

/// Makes the certificate of `service` (ITLRecovery, TVS or tomcat, RSA 2048) and writes its key file
/// (0600) in `data_dir`.
pub(crate) fn make(data_dir: &Path, service: Service, hostname: &str, subject: &SubjectFields) -> Result<NewIdentity> {
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
    let cert = match service {
        Service::ItlRecovery => profiles::itl_recovery_certificate(&key, hostname, subject, ITL_RECOVERY_DAYS, now())?,
        Service::Tvs => profiles::tvs_certificate(&key, hostname, subject, TVS_DEFAULT_DAYS, now())?,
        Service::Tomcat => profiles::tomcat_certificate(&key, hostname, subject, TOMCAT_DEFAULT_DAYS, now())?,
        other => return Err(Error::Invalid(format!("{other} is not made with the cluster's new identities"))),
    };
    let key_file = keyfile::write(data_dir, &format!("{}-{}", service.token(), &cert.info.fingerprint[..12]), &key)?;
    Ok(NewIdentity { service, cert, key_file })
}

/// Records an identity made by [`make`] as its service's active certificate.
pub(crate) async fn record(db: &mut Db, id: &NewIdentity) -> Result<()> {
    service::insert_active(db, id.service, &id.cert, &id.key_file, KeyAlgorithm::Rsa2048).await
}

/// Gives a cluster made before this version its ITLRecovery, TVS and tomcat certificates, once, in one
/// transaction with an audit record `cluster.identities`. Costs one read when they exist.
pub(crate) async fn ensure(store: &Store) -> Result<()> {
    let mut db = store.read().await?;
    let mut missing = Vec::new();
    for svc in NEW_IDENTITIES {
        if service::active(&mut db, svc).await?.is_none() {
            missing.push(svc);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let cluster = settings::load(&mut db).await?;
    drop(db);
    let mut made = Vec::new();
    for svc in missing {
        match make(store.data_dir(), svc, &cluster.hostname, &cluster.subject) {
            Ok(id) => made.push(id),
            Err(e) => {
                discard(store.data_dir(), &made);
                return Err(e);
            }
        }
    }
    let outcome = async {
        let mut db = store.write().await?;
        let mut recorded = Vec::new();
        for id in &made {
            // Another process may have made it between the read and the write lock.
            if service::active(&mut db, id.service).await?.is_none() {
                record(&mut db, id).await?;
                recorded.push(format!("{} {}", id.service, id.cert.info.subject));
            }
        }
        if !recorded.is_empty() {
            audit::record(&mut db, "opencapf", "cluster.identities", &cluster.hostname, &recorded.join("; ")).await?;
        }
        db.commit().await?;
        Ok::<_, Error>(recorded.len())
    }
    .await;
    match outcome {
        Ok(n) if n == made.len() => Ok(()),
        // Some were made elsewhere meanwhile: the keys this process wrote for them name nothing.
        Ok(_) => discard_unrecorded(store, &made).await,
        Err(e) => {
            discard(store.data_dir(), &made);
            Err(e)
        }
    }
}

/// Removes the key files of identities whose certificate is not the active one.
async fn discard_unrecorded(store: &Store, made: &[NewIdentity]) -> Result<()> {
    let mut db = store.read().await?;
    for id in made {
        let active = service::active(&mut db, id.service).await?;
        if active.is_none_or(|a| a.key_file != id.key_file) {
            keyfile::discard(store.data_dir(), &id.key_file);
        }
    }
    Ok(())
}

fn discard(data_dir: &Path, made: &[NewIdentity]) {
    for id in made {
        keyfile::discard(data_dir, &id.key_file);
    }
}

impl Cluster {
    /// The cluster's own certificates, as CUCM's `show cert own` lists them: the active
    /// CallManager, CAPF, ITLRecovery, TVS and tomcat certificates, then the retired CAPF
    /// certificates (newest first).
    pub async fn own_certificates(&self) -> Result<Vec<ServiceCertificate>> {
        let mut db = self.store.read().await?;
        let mut out = Vec::new();
        for svc in [Service::CallManager, Service::Capf, Service::ItlRecovery, Service::Tvs, Service::Tomcat] {
            out.push(service::require_active(&mut db, svc).await?);
        }
        out.extend(service::all(&mut db, Service::Capf).await?.into_iter().filter(|c| !c.is_active()));
        Ok(out)
    }

    /// `cert own`: each own certificate read, as CUCM's `show cert own` shows it.
    pub async fn own_certificates_read(&self) -> Result<Vec<OwnCertificate>> {
        self.own_certificates()
            .await?
            .into_iter()
            .map(|record| {
                let certificate = CertificateInfo::parse(&record.der)?;
                Ok(OwnCertificate { name: record.service, state: record.state.clone(), certificate, record })
            })
            .collect()
    }
}

/// One own certificate as `cert own --json` shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct OwnCertificate {
    /// CallManager, CAPF, ITLRecovery, TVS or tomcat.
    pub name: Service,
    /// `active`, or `retired` for an older CAPF certificate phones may still need.
    pub state: String,
    pub certificate: CertificateInfo,
    /// The stored record (its DER and key file), not shown.
    #[serde(skip)]
    pub record: ServiceCertificate,
}
