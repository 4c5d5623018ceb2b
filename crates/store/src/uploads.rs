//! Certificates phones uploaded with Troubleshoot.

use opencapf_model::{CertKind, DeviceName, UploadedCertificate};
use opencapf_pki::CertificateInfo;
use sqlx::Row;

use crate::{now, ts, Db, Result};

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
         uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    let rows = sqlx::query(
        "SELECT id, device, kind, der, fingerprint, subject, issuer, serial, not_after, uploaded_at \
         FROM uploaded_certificates WHERE device = ? ORDER BY id DESC",
    )
    .bind(name.as_str())
    .fetch_all(db.c())
    .await?;
    rows.into_iter()
        .map(|r| {
            let kind: String = r.get(2);
            Ok(UploadedCertificate {
                id: r.get(0),
                device: r.get(1),
                kind: kind.parse()?,
                der: r.get(3),
                fingerprint: r.get(4),
                subject: r.get(5),
                issuer: r.get(6),
                serial: r.get(7),
                not_after: r.get(8),
                uploaded_at: r.get(9),
            })
        })
        .collect()
}
