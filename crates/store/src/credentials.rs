//! Authentication strings at rest (a keyed hash, never the digits) and the claim a CAPF session
//! holds on a device's pending operation. The hashing itself is the cluster's (it holds the key).

use opencapf_model::DeviceName;
use opencapf_pki::CertificateInfo;
use sqlx::Row;

use crate::devices::{bind_lsc, end_operation};
use crate::{ts, Db, Result};

/// The keyed hash of the device's authentication string, if one is set.
pub async fn auth_string_hash(db: &mut Db, name: &DeviceName) -> Result<Option<String>> {
    let row = sqlx::query("SELECT auth_string_hash FROM devices WHERE name = $1")
        .bind(name.as_str())
        .fetch_optional(db.c())
        .await?;
    Ok(row.and_then(|r| r.get(0)))
}

/// Strings an older version stored in clear: `(device, digits)`, to be hashed by the cluster.
pub async fn clear_strings(db: &mut Db) -> Result<Vec<(String, String)>> {
    let rows =
        sqlx::query("SELECT name, auth_string FROM devices WHERE auth_string IS NOT NULL").fetch_all(db.c()).await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Replaces a clear string with its keyed hash.
pub async fn replace_clear_string(db: &mut Db, name: &str, hash: &str) -> Result<()> {
    sqlx::query("UPDATE devices SET auth_string = NULL, auth_string_hash = $1 WHERE name = $2")
        .bind(hash)
        .bind(name)
        .execute(db.c())
        .await?;
    Ok(())
}

/// Who holds a device's pending operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Taken,
    /// Another session holds it until `expires` (Unix milliseconds).
    HeldBy {
        session: String,
        expires: i64,
    },
}

/// Claims a device's pending operation for `session` until `expires` (Unix milliseconds), unless
/// another session holds an unexpired claim. Run it in a write transaction.
pub async fn claim(db: &mut Db, name: &DeviceName, session: &str, now: i64, expires: i64) -> Result<Claim> {
    // One statement when the operation is free (the usual case); the holder is read only when not.
    let taken = sqlx::query(
        "UPDATE devices SET claim_session = $1, claim_expires = $2 WHERE name = $3 \
         AND (claim_session IS NULL OR claim_expires IS NULL OR claim_expires <= $4 OR claim_session = $1)",
    )
    .bind(session)
    .bind(expires)
    .bind(name.as_str())
    .bind(now)
    .execute(db.c())
    .await?
    .rows_affected();
    if taken > 0 {
        return Ok(Claim::Taken);
    }
    let row = sqlx::query("SELECT claim_session, claim_expires FROM devices WHERE name = $1")
        .bind(name.as_str())
        .fetch_optional(db.c())
        .await?;
    match row.map(|r| (r.get::<Option<String>, _>(0), r.get::<Option<i64>, _>(1))) {
        Some((Some(session), Some(expires))) => Ok(Claim::HeldBy { session, expires }),
        // No such device: nothing to claim, as before.
        _ => Ok(Claim::Taken),
    }
}

/// Whether `session` still holds an unexpired claim on the device.
pub async fn holds(db: &mut Db, name: &DeviceName, session: &str, now: i64) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM devices WHERE name = $1 AND claim_session = $2 AND claim_expires > $3")
        .bind(name.as_str())
        .bind(session)
        .bind(now)
        .fetch_optional(db.c())
        .await?;
    Ok(row.is_some())
}

/// What the record that ends a session does to the device's operation.
#[derive(Debug, Clone, Copy)]
pub enum Release<'a> {
    /// The operation stays pending (a failure the phone may retry).
    Keep,
    /// The operation ends, as [`spend_held`] ends it.
    End,
    /// The operation ends and the LSC the phone stored becomes the device's (as
    /// [`devices::set_lsc`](crate::devices::set_lsc) sets it).
    Install { der: &'a [u8], info: &'a CertificateInfo },
}

/// The record that ends a session, in one statement: the device's status and `session`'s claim
/// released (with what `release` says of the operation), if `session` still holds it unexpired.
/// Whether it did: when not, nothing was written, and the caller drops its transaction (a late
/// session never overwrites a finished operation).
pub async fn release_with_status(
    db: &mut Db,
    name: &DeviceName,
    session: &str,
    now: i64,
    status: &str,
    release: Release<'_>,
) -> Result<bool> {
    let sql = match release {
        Release::Keep => {
            "UPDATE devices SET status = $1, status_at = $2, claim_session = NULL, claim_expires = NULL \
             WHERE name = $3 AND claim_session = $4 AND claim_expires > $5"
        }
        Release::End => concat!(
            "UPDATE devices SET status = $1, status_at = $2, ",
            end_operation!(),
            ", claim_session = NULL, claim_expires = NULL WHERE name = $3 AND claim_session = $4 AND claim_expires > $5"
        ),
        Release::Install { .. } => concat!(
            "UPDATE devices SET status = $1, status_at = $2, ",
            end_operation!(),
            ", claim_session = NULL, claim_expires = NULL, lsc_der = $6, lsc_serial = $7, lsc_issuer = $8, \
             lsc_issuer_cn = $9, lsc_issuer_dn = $10, lsc_aki = $11, lsc_not_after = $12 \
             WHERE name = $3 AND claim_session = $4 AND claim_expires > $5"
        ),
    };
    let query = sqlx::query(sql).bind(status).bind(ts(crate::now())).bind(name.as_str()).bind(session).bind(now);
    let query = match release {
        Release::Install { der, info } => bind_lsc(query, Some(der), Some(info)),
        Release::Keep | Release::End => query,
    };
    Ok(query.execute(db.c()).await?.rows_affected() > 0)
}

/// Spends the credential of the pending operation, if `session` still holds it unexpired: the
/// string is gone and the operation ended ("No Pending Operation", no deadline; the status is
/// left to the caller). Whether it did.
pub async fn spend_held(db: &mut Db, name: &DeviceName, session: &str, now: i64) -> Result<bool> {
    let spent = sqlx::query(concat!(
        "UPDATE devices SET ",
        end_operation!(),
        " WHERE name = $1 AND claim_session = $2 AND claim_expires > $3"
    ))
    .bind(name.as_str())
    .bind(session)
    .bind(now)
    .execute(db.c())
    .await?
    .rows_affected();
    Ok(spent > 0)
}

/// Releases `session`'s claim (nothing if it holds none).
pub async fn release(db: &mut Db, name: &DeviceName, session: &str) -> Result<()> {
    sqlx::query("UPDATE devices SET claim_session = NULL, claim_expires = NULL WHERE name = $1 AND claim_session = $2")
        .bind(name.as_str())
        .bind(session)
        .execute(db.c())
        .await?;
    Ok(())
}

/// Every claim held on a device's operation, expired or not: `(device, session, expires)`.
pub async fn claims(db: &mut Db) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as::<_, (String, String, i64)>(
        "SELECT name, claim_session, claim_expires FROM devices \
         WHERE claim_session IS NOT NULL AND claim_expires IS NOT NULL",
    )
    .fetch_all(db.c())
    .await?)
}
