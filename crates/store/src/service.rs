//! The certificates of the cluster's own services: CAPF (active and retired), CallManager,
//! ITLRecovery, TVS, tomcat (with the issuers of an enterprise-signed one), and the lab
//! manufacturer.

use opencapf_model::{KeyAlgorithm, Service, ServiceCertificate};
use opencapf_pki::{CertificateInfo, IssuedCertificate};

use crate::{now, ts, Db, Result, StoreError};

const COLUMNS: &str = "id, service, state, common_name, subject, fingerprint, der, key_file, key_algorithm, \
                       not_before, not_after, created_at, retired_at";

/// One row of `service_certificates`.
#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    service: String,
    state: String,
    common_name: String,
    subject: String,
    fingerprint: String,
    der: Vec<u8>,
    key_file: String,
    key_algorithm: String,
    not_before: String,
    not_after: String,
    created_at: String,
    retired_at: Option<String>,
}

impl ServiceRow {
    fn into_certificate(self) -> Result<ServiceCertificate> {
        Ok(ServiceCertificate {
            id: self.id,
            service: self.service.parse()?,
            state: self.state,
            common_name: self.common_name,
            subject: self.subject,
            fingerprint: self.fingerprint,
            der: self.der,
            key_file: self.key_file,
            key_algorithm: self.key_algorithm.parse()?,
            not_before: self.not_before,
            not_after: self.not_after,
            created_at: self.created_at,
            retired_at: self.retired_at,
        })
    }
}

/// Records a new active certificate for `service`.
pub async fn insert_active(
    db: &mut Db,
    service: Service,
    cert: &IssuedCertificate,
    key_file: &str,
    key_algorithm: KeyAlgorithm,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO service_certificates (service, state, common_name, subject, fingerprint, der, key_file, \
         key_algorithm, not_before, not_after, created_at) VALUES ($1, 'active', $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(service.as_str())
    .bind(cert.info.subject_cn.clone().unwrap_or_default())
    .bind(&cert.info.subject)
    .bind(&cert.info.fingerprint)
    .bind(&cert.der)
    .bind(key_file)
    .bind(key_algorithm.token())
    .bind(ts(cert.info.not_before))
    .bind(ts(cert.info.not_after))
    .bind(ts(now()))
    .execute(db.c())
    .await?;
    Ok(())
}

pub async fn active(db: &mut Db, service: Service) -> Result<Option<ServiceCertificate>> {
    let sql = format!("SELECT {COLUMNS} FROM service_certificates WHERE service = $1 AND state = 'active'");
    let row = sqlx::query_as::<_, ServiceRow>(&sql).bind(service.as_str()).fetch_optional(db.c()).await?;
    row.map(ServiceRow::into_certificate).transpose()
}

pub async fn require_active(db: &mut Db, service: Service) -> Result<ServiceCertificate> {
    active(db, service).await?.ok_or_else(|| match service {
        Service::LabManufacturer => {
            StoreError::NotFound("no lab manufacturer yet: create it with `opencapf mfg init`".into())
        }
        s => StoreError::NotFound(format!("the cluster has no active {s} certificate")),
    })
}

/// Every certificate of a service, active first, then retired from newest to oldest.
pub async fn all(db: &mut Db, service: Service) -> Result<Vec<ServiceCertificate>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM service_certificates WHERE service = $1 ORDER BY state = 'active' DESC, id DESC"
    );
    let rows = sqlx::query_as::<_, ServiceRow>(&sql).bind(service.as_str()).fetch_all(db.c()).await?;
    rows.into_iter().map(ServiceRow::into_certificate).collect()
}

/// The service certificate (any service, active or retired) with this SHA-256 fingerprint.
pub async fn with_fingerprint(db: &mut Db, fingerprint: &str) -> Result<Option<ServiceCertificate>> {
    let sql = format!("SELECT {COLUMNS} FROM service_certificates WHERE fingerprint = $1");
    let row = sqlx::query_as::<_, ServiceRow>(&sql).bind(fingerprint).fetch_optional(db.c()).await?;
    row.map(ServiceRow::into_certificate).transpose()
}

pub async fn retire(db: &mut Db, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE service_certificates SET state = 'retired', retired_at = $1 WHERE id = $2 AND state = 'active'",
    )
    .bind(ts(now()))
    .bind(id)
    .execute(db.c())
    .await?;
    Ok(())
}

/// Keeps the issuer certificates (DER, nearest first) of the service certificate `id`.
pub async fn set_issuers(db: &mut Db, id: i64, issuers: &[Vec<u8>]) -> Result<()> {
    sqlx::query("DELETE FROM service_certificate_issuers WHERE certificate_id = $1").bind(id).execute(db.c()).await?;
    for (position, der) in (0i64..).zip(issuers) {
        sqlx::query("INSERT INTO service_certificate_issuers (certificate_id, position, der) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(position)
            .bind(der)
            .execute(db.c())
            .await?;
    }
    Ok(())
}

/// The issuer certificates kept for the service certificate `id` (none when self-signed).
pub async fn issuers(db: &mut Db, id: i64) -> Result<Vec<Vec<u8>>> {
    let rows: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT der FROM service_certificate_issuers WHERE certificate_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(db.c())
            .await?;
    Ok(rows.into_iter().map(|(der,)| der).collect())
}

/// Parsed CAPF certificates of this cluster, current and retired: what makes an LSC "ours".
pub async fn capf_infos(db: &mut Db) -> Result<Vec<CertificateInfo>> {
    all(db, Service::Capf).await?.iter().map(|c| Ok(CertificateInfo::parse(&c.der)?)).collect()
}
