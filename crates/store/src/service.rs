//! The certificates of the cluster's own services: CAPF (active and retired), CallManager, and
//! the lab manufacturer.

use opencapf_model::{KeyAlgorithm, Service, ServiceCertificate};
use opencapf_pki::{CertificateInfo, IssuedCertificate};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::{now, ts, Db, Result, StoreError};

const COLUMNS: &str = "id, service, state, common_name, subject, fingerprint, der, key_file, key_algorithm, \
                       not_before, not_after, created_at, retired_at";

fn from_row(r: SqliteRow) -> Result<ServiceCertificate> {
    let service: String = r.get(1);
    let key_algorithm: String = r.get(8);
    Ok(ServiceCertificate {
        id: r.get(0),
        service: service.parse()?,
        state: r.get(2),
        common_name: r.get(3),
        subject: r.get(4),
        fingerprint: r.get(5),
        der: r.get(6),
        key_file: r.get(7),
        key_algorithm: key_algorithm.parse()?,
        not_before: r.get(9),
        not_after: r.get(10),
        created_at: r.get(11),
        retired_at: r.get(12),
    })
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
         key_algorithm, not_before, not_after, created_at) VALUES (?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    let sql = format!("SELECT {COLUMNS} FROM service_certificates WHERE service = ? AND state = 'active'");
    sqlx::query(&sql).bind(service.as_str()).fetch_optional(db.c()).await?.map(from_row).transpose()
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
    let sql =
        format!("SELECT {COLUMNS} FROM service_certificates WHERE service = ? ORDER BY state = 'active' DESC, id DESC");
    sqlx::query(&sql).bind(service.as_str()).fetch_all(db.c()).await?.into_iter().map(from_row).collect()
}

pub async fn retire(db: &mut Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE service_certificates SET state = 'retired', retired_at = ? WHERE id = ? AND state = 'active'")
        .bind(ts(now()))
        .bind(id)
        .execute(db.c())
        .await?;
    Ok(())
}

/// Parsed CAPF certificates of this cluster, current and retired: what makes an LSC "ours".
pub async fn capf_infos(db: &mut Db) -> Result<Vec<CertificateInfo>> {
    all(db, Service::Capf).await?.iter().map(|c| Ok(CertificateInfo::parse(&c.der)?)).collect()
}
