//! The `trust_consumers`, `consumer_exports` and `consumer_export_certificates` tables: the systems
//! outside the cluster that trust its CAPF certificates (FreeRADIUS, ISE, an ASA), each export
//! written for them and whether it was confirmed applied. What a consumer "has" is the cluster's
//! rule (`opencapf-cluster`); these functions store and read.

use crate::{now, ts, Db, Result, StoreError};

/// One row of `trust_consumers`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsumerRow {
    pub name: String,
    /// `freeradius`, `ise`, `asa` or `other`.
    pub kind: String,
    pub created_at: String,
    pub created_by: String,
}

/// One export written for a consumer, with the fingerprints it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub id: i64,
    pub consumer: String,
    pub format: String,
    pub exported_at: String,
    pub exported_by: String,
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
    pub certificates: Vec<ExportedCertificate>,
}

/// A certificate an export held.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportedCertificate {
    pub fingerprint: String,
    pub subject: String,
    pub not_after: String,
}

#[derive(sqlx::FromRow)]
struct ExportHead {
    id: i64,
    consumer: String,
    format: String,
    exported_at: String,
    exported_by: String,
    confirmed_at: Option<String>,
    confirmed_by: Option<String>,
}

const EXPORT_COLUMNS: &str = "id, consumer, format, exported_at, exported_by, confirmed_at, confirmed_by";

/// Adds a consumer; `Conflict` when one of that name exists.
pub async fn add(db: &mut Db, name: &str, kind: &str, actor: &str) -> Result<ConsumerRow> {
    if get(db, name).await?.is_some() {
        return Err(StoreError::Conflict(format!("a consumer named {name} exists already")));
    }
    let row =
        ConsumerRow { name: name.to_owned(), kind: kind.to_owned(), created_at: ts(now()), created_by: actor.into() };
    sqlx::query("INSERT INTO trust_consumers (name, kind, created_at, created_by) VALUES ($1, $2, $3, $4)")
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.created_at)
        .bind(&row.created_by)
        .execute(db.c())
        .await?;
    Ok(row)
}

pub async fn get(db: &mut Db, name: &str) -> Result<Option<ConsumerRow>> {
    Ok(sqlx::query_as("SELECT name, kind, created_at, created_by FROM trust_consumers WHERE name = $1")
        .bind(name)
        .fetch_optional(db.c())
        .await?)
}

/// Every consumer, by name.
pub async fn list(db: &mut Db) -> Result<Vec<ConsumerRow>> {
    Ok(sqlx::query_as("SELECT name, kind, created_at, created_by FROM trust_consumers ORDER BY name")
        .fetch_all(db.c())
        .await?)
}

/// Removes a consumer and its exports; whether it existed.
pub async fn remove(db: &mut Db, name: &str) -> Result<bool> {
    // Explicitly, whatever the foreign keys of the connection cascade.
    sqlx::query(
        "DELETE FROM consumer_export_certificates WHERE export_id IN \
         (SELECT id FROM consumer_exports WHERE consumer = $1)",
    )
    .bind(name)
    .execute(db.c())
    .await?;
    sqlx::query("DELETE FROM consumer_exports WHERE consumer = $1").bind(name).execute(db.c()).await?;
    let done = sqlx::query("DELETE FROM trust_consumers WHERE name = $1").bind(name).execute(db.c()).await?;
    Ok(done.rows_affected() == 1)
}

/// Records an export to `consumer` holding `certificates`; its id.
pub async fn record_export(
    db: &mut Db,
    consumer: &str,
    format: &str,
    actor: &str,
    certificates: &[ExportedCertificate],
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO consumer_exports (consumer, format, exported_at, exported_by) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(consumer)
    .bind(format)
    .bind(ts(now()))
    .bind(actor)
    .fetch_one(db.c())
    .await?;
    for c in certificates {
        sqlx::query(
            "INSERT INTO consumer_export_certificates (export_id, fingerprint, subject, not_after) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&c.fingerprint)
        .bind(&c.subject)
        .bind(&c.not_after)
        .execute(db.c())
        .await?;
    }
    Ok(id)
}

/// Marks an export confirmed applied (by `actor`, now); whether it was not confirmed before.
pub async fn confirm(db: &mut Db, export_id: i64, actor: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE consumer_exports SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3 AND confirmed_at IS NULL",
    )
    .bind(ts(now()))
    .bind(actor)
    .bind(export_id)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The newest export of `consumer`, or its newest confirmed one (`confirmed_only`).
pub async fn latest_export(db: &mut Db, consumer: &str, confirmed_only: bool) -> Result<Option<ExportRow>> {
    let filter = if confirmed_only { " AND confirmed_at IS NOT NULL" } else { "" };
    let sql =
        format!("SELECT {EXPORT_COLUMNS} FROM consumer_exports WHERE consumer = $1{filter} ORDER BY id DESC LIMIT 1");
    let head: Option<ExportHead> = sqlx::query_as(&sql).bind(consumer).fetch_optional(db.c()).await?;
    let Some(h) = head else { return Ok(None) };
    let certificates = sqlx::query_as(
        "SELECT fingerprint, subject, not_after FROM consumer_export_certificates WHERE export_id = $1 \
         ORDER BY subject, fingerprint",
    )
    .bind(h.id)
    .fetch_all(db.c())
    .await?;
    Ok(Some(ExportRow {
        id: h.id,
        consumer: h.consumer,
        format: h.format,
        exported_at: h.exported_at,
        exported_by: h.exported_by,
        confirmed_at: h.confirmed_at,
        confirmed_by: h.confirmed_by,
        certificates,
    }))
}

/// How many exports `consumer` was given.
pub async fn export_count(db: &mut Db, consumer: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM consumer_exports WHERE consumer = $1")
        .bind(consumer)
        .fetch_one(db.c())
        .await?)
}
