//! Certificates phones uploaded with Troubleshoot.

use opencapf_model::{CertKind, DeviceName, UploadedCertificate};
use opencapf_pki::CertificateInfo;

use crate::{now, ts, Db, Result};

/// One row of `uploaded_certificates`.
#[derive(sqlx::FromRow)]
struct UploadRow {
    id: i64,
    device: String,
    kind: String,
    der: Vec<u8>,
    fingerprint: String,
    subject: String,
    issuer: String,
    serial: String,
    not_after: String,
    uploaded_at: String,
}

impl UploadRow {
    fn into_upload(self) -> Result<UploadedCertificate> {
        Ok(UploadedCertificate {
            id: self.id,
            device: self.device,
            kind: self.kind.parse()?,
            der: self.der,
            fingerprint: self.fingerprint,
            subject: self.subject,
            issuer: self.issuer,
            serial: self.serial,
            not_after: self.not_after,
            uploaded_at: self.uploaded_at,
        })
    }
}

/// Stores one uploaded certificate.
pub async fn insert(
    db: &mut Db,
    device: &DeviceName,
    kind: CertKind,
    der: &[u8],
    info: &CertificateInfo,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO uploaded_certificates (device, kind, der, fingerprint, subject, issuer, serial, not_after, \
         uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(device.as_str())
    .bind(kind.as_str())
    .bind(der)
    .bind(&info.fingerprint)
    .bind(&info.subject)
    .bind(&info.issuer)
    .bind(&info.serial)
    .bind(ts(info.not_after))
    .bind(ts(now()))
    .execute(db.c())
    .await?;
    Ok(())
}

/// The certificates a device uploaded, newest first.
pub async fn list(db: &mut Db, name: &DeviceName) -> Result<Vec<UploadedCertificate>> {
    let rows = sqlx::query_as::<_, UploadRow>(
        "SELECT id, device, kind, der, fingerprint, subject, issuer, serial, not_after, uploaded_at \
         FROM uploaded_certificates WHERE device = $1 ORDER BY id DESC",
    )
    .bind(name.as_str())
    .fetch_all(db.c())
    .await?;
    rows.into_iter().map(UploadRow::into_upload).collect()
}
