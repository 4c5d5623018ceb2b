//! Every LSC this cluster issued, with its state: `issued` (sent, not yet stored by the phone),
//! `installed` (the device's LSC), `superseded`, `failed` or `deleted`.

use opencapf_model::DeviceName;
use opencapf_pki::IssuedCertificate;

use crate::{now, ts, Db, Result};

/// Writes an LSC about to be sent, state `issued`. Returns false when its serial was already
/// recorded (nothing is written then).
pub async fn insert(
    db: &mut Db,
    device: &DeviceName,
    issuer_fingerprint: &str,
    lsc: &IssuedCertificate,
) -> Result<bool> {
    let at = ts(now());
    let inserted = sqlx::query(
        "INSERT INTO issued_certificates (serial, device, issuer_fingerprint, subject, der, not_before, not_after, state, \
         issued_at, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?) ON CONFLICT (serial) DO NOTHING",
    )
    .bind(&lsc.info.serial)
    .bind(device.as_str())
    .bind(issuer_fingerprint)
    .bind(&lsc.info.subject)
    .bind(&lsc.der)
    .bind(ts(lsc.info.not_before))
    .bind(ts(lsc.info.not_after))
    .bind(&at)
    .bind(&at)
    .execute(db.c())
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The DER and state of an LSC issued to `device`.
pub async fn find(db: &mut Db, device: &DeviceName, serial: &str) -> Result<Option<(Vec<u8>, String)>> {
    let row = sqlx::query_as::<_, (Vec<u8>, String)>(
        "SELECT der, state FROM issued_certificates WHERE serial = ? AND device = ?",
    )
    .bind(serial)
    .bind(device.as_str())
    .fetch_optional(db.c())
    .await?;
    Ok(row)
}

/// Moves one LSC to `to`, when it is in state `from` (any state when `None`).
pub async fn set_state(db: &mut Db, serial: &str, from: Option<&str>, to: &str) -> Result<()> {
    sqlx::query("UPDATE issued_certificates SET state = ?, state_at = ? WHERE serial = ? AND (? IS NULL OR state = ?)")
        .bind(to)
        .bind(ts(now()))
        .bind(serial)
        .bind(from)
        .bind(from)
        .execute(db.c())
        .await?;
    Ok(())
}

/// Moves the device's `installed` LSC (if any) to `to` (`superseded`, `deleted`).
pub async fn end_installed(db: &mut Db, device: &DeviceName, to: &str) -> Result<()> {
    sqlx::query("UPDATE issued_certificates SET state = ?, state_at = ? WHERE device = ? AND state = 'installed'")
        .bind(to)
        .bind(ts(now()))
        .bind(device.as_str())
        .execute(db.c())
        .await?;
    Ok(())
}

/// How many LSCs are in `state`.
pub async fn count_in_state(db: &mut Db, state: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM issued_certificates WHERE state = ?")
        .bind(state)
        .fetch_one(db.c())
        .await?)
}
