//! The `migrations` and `migration_confirmations` tables: phones moving from another cluster to
//! this one (`opencapf migrate`). A migration keeps the newest bundle read from the old cluster
//! (JSON, as the cluster crate reads it) and the old-cluster steps the administrator confirmed;
//! what each device has done is read from the devices' own records, not kept here.

use crate::{now, ts, Db, Result, StoreError};

/// One migration, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MigrationRow {
    pub id: i64,
    /// The old cluster's name (its CallManager host name), from the bundle.
    pub source: String,
    /// `trust-old-capf` or `delete-and-enrol`.
    pub remedy: String,
    /// The newest bundle (JSON).
    pub bundle: String,
    /// When the old cluster exported it.
    pub bundle_at: String,
    pub started_at: String,
    pub started_by: String,
    pub finished_at: Option<String>,
    pub finished_by: Option<String>,
    /// Finished with `--force` while devices had not arrived.
    pub forced: i64,
}

const COLUMNS: &str = "id, source, remedy, bundle, bundle_at, started_at, started_by, finished_at, finished_by, forced";

/// Records a new migration, in progress. Refused (conflict) while another is in progress: the
/// unique `in_progress` column decides, also between nodes.
pub async fn start(db: &mut Db, source: &str, remedy: &str, bundle: &str, bundle_at: &str, actor: &str) -> Result<i64> {
    if let Some(open) = in_progress(db).await? {
        return Err(StoreError::Conflict(format!(
            "a migration from {} is in progress (started {}): finish it first (`opencapf migrate finish`)",
            open.source, open.started_at
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO migrations (source, remedy, bundle, bundle_at, started_at, started_by, in_progress) \
         VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING id",
    )
    .bind(source)
    .bind(remedy)
    .bind(bundle)
    .bind(bundle_at)
    .bind(ts(now()))
    .bind(actor)
    .fetch_one(db.c())
    .await?;
    Ok(id)
}

/// The migration in progress, if any.
pub async fn in_progress(db: &mut Db) -> Result<Option<MigrationRow>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM migrations WHERE in_progress = 1"))
        .fetch_optional(db.c())
        .await?)
}

/// The newest migration, in progress or finished.
pub async fn latest(db: &mut Db) -> Result<Option<MigrationRow>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM migrations ORDER BY id DESC LIMIT 1"))
        .fetch_optional(db.c())
        .await?)
}

/// Replaces a migration's bundle with a newer export of the old cluster.
pub async fn set_bundle(db: &mut Db, id: i64, bundle: &str, bundle_at: &str) -> Result<()> {
    sqlx::query("UPDATE migrations SET bundle = $1, bundle_at = $2 WHERE id = $3")
        .bind(bundle)
        .bind(bundle_at)
        .bind(id)
        .execute(db.c())
        .await?;
    Ok(())
}

/// Records that the administrator did an old-cluster step (idempotent: the first confirmation
/// stays). Whether it was new.
pub async fn confirm(db: &mut Db, id: i64, step: &str, actor: &str) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO migration_confirmations (migration_id, step, confirmed_at, confirmed_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (migration_id, step) DO NOTHING",
    )
    .bind(id)
    .bind(step)
    .bind(ts(now()))
    .bind(actor)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The confirmed steps of a migration: (step, when, by whom).
pub async fn confirmations(db: &mut Db, id: i64) -> Result<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT step, confirmed_at, confirmed_by FROM migration_confirmations WHERE migration_id = $1 \
         ORDER BY confirmed_at, step",
    )
    .bind(id)
    .fetch_all(db.c())
    .await?)
}

/// Ends a migration.
pub async fn finish(db: &mut Db, id: i64, forced: bool, actor: &str) -> Result<()> {
    sqlx::query(
        "UPDATE migrations SET finished_at = $1, finished_by = $2, forced = $3, in_progress = NULL \
         WHERE id = $4 AND in_progress = 1",
    )
    .bind(ts(now()))
    .bind(actor)
    .bind(i64::from(forced))
    .bind(id)
    .execute(db.c())
    .await?;
    Ok(())
}
