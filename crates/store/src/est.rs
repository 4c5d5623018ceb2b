//! EST enrolment (RFC 7030): a device's one-time enrolment code (its keyed hash: the hashing is
//! the cluster's, which holds the key), the wrong codes since it was made, and an administrator's
//! approval under `est.approval = manual`. One row per device, removed with the device.

use opencapf_model::DeviceName;
use sqlx::Row;

use crate::{now, ts, Db, Result};

/// What the cluster keeps about a device's EST enrolment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrolment {
    /// The keyed hash of the current code; `None`: no code (never made, used, or locked out).
    pub code_hash: Option<String>,
    pub code_set_at: Option<String>,
    /// Wrong codes since the current one was made.
    pub code_failures: u32,
    /// One enrolment is allowed under manual approval.
    pub approved: bool,
    /// Since when a request waits for an approval, and what it was.
    pub waiting_since: Option<String>,
    pub waiting_detail: Option<String>,
}

/// The device's row (the default when it has none).
pub async fn get(db: &mut Db, device: &DeviceName) -> Result<Enrolment> {
    let row = sqlx::query(
        "SELECT code_hash, code_set_at, code_failures, approved, waiting_since, waiting_detail \
         FROM est_enrolment WHERE device = $1",
    )
    .bind(device.as_str())
    .fetch_optional(db.c())
    .await?;
    Ok(row
        .map(|r| Enrolment {
            code_hash: r.get(0),
            code_set_at: r.get(1),
            code_failures: u32::try_from(r.get::<i64, _>(2)).unwrap_or(u32::MAX),
            approved: r.get::<i64, _>(3) != 0,
            waiting_since: r.get(4),
            waiting_detail: r.get(5),
        })
        .unwrap_or_default())
}

/// Makes sure the device has a row, so that the updates below find one.
async fn ensure(db: &mut Db, device: &DeviceName) -> Result<()> {
    sqlx::query("INSERT INTO est_enrolment (device) VALUES ($1) ON CONFLICT (device) DO NOTHING")
        .bind(device.as_str())
        .execute(db.c())
        .await?;
    Ok(())
}

/// A new code replaces any earlier one; its failure count starts at zero.
pub async fn set_code(db: &mut Db, device: &DeviceName, hash: &str) -> Result<()> {
    ensure(db, device).await?;
    sqlx::query("UPDATE est_enrolment SET code_hash = $1, code_set_at = $2, code_failures = 0 WHERE device = $3")
        .bind(hash)
        .bind(ts(now()))
        .bind(device.as_str())
        .execute(db.c())
        .await?;
    Ok(())
}

/// Counts one wrong code; with `clear` (the lock-out) the code is gone. Returns the count.
pub async fn count_failure(db: &mut Db, device: &DeviceName, clear: bool) -> Result<u32> {
    ensure(db, device).await?;
    let sql = if clear {
        "UPDATE est_enrolment SET code_failures = code_failures + 1, code_hash = NULL WHERE device = $1"
    } else {
        "UPDATE est_enrolment SET code_failures = code_failures + 1 WHERE device = $1"
    };
    sqlx::query(sql).bind(device.as_str()).execute(db.c()).await?;
    Ok(get(db, device).await?.code_failures)
}

/// An issued certificate spends the code and the approval, and ends any wait.
pub async fn spend(db: &mut Db, device: &DeviceName) -> Result<()> {
    sqlx::query(
        "UPDATE est_enrolment SET code_hash = NULL, approved = 0, waiting_since = NULL, waiting_detail = NULL \
         WHERE device = $1",
    )
    .bind(device.as_str())
    .execute(db.c())
    .await?;
    Ok(())
}

/// `est approve`: one enrolment allowed.
pub async fn approve(db: &mut Db, device: &DeviceName) -> Result<()> {
    ensure(db, device).await?;
    sqlx::query("UPDATE est_enrolment SET approved = 1 WHERE device = $1")
        .bind(device.as_str())
        .execute(db.c())
        .await?;
    Ok(())
}

/// Records a request waiting for an approval (the first one's time is kept); returns whether it
/// is the first.
pub async fn wait(db: &mut Db, device: &DeviceName, detail: &str) -> Result<bool> {
    ensure(db, device).await?;
    let first = get(db, device).await?.waiting_since.is_none();
    sqlx::query(
        "UPDATE est_enrolment SET waiting_since = COALESCE(waiting_since, $1), waiting_detail = $2 WHERE device = $3",
    )
    .bind(ts(now()))
    .bind(detail)
    .bind(device.as_str())
    .execute(db.c())
    .await?;
    Ok(first)
}

/// Devices whose request waits for an approval: `(device, since, detail)`, oldest first.
pub async fn waiting(db: &mut Db) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT device, waiting_since, COALESCE(waiting_detail, '') FROM est_enrolment \
         WHERE waiting_since IS NOT NULL ORDER BY waiting_since, device",
    )
    .fetch_all(db.c())
    .await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}
