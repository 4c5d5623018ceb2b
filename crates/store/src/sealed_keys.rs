//! The `sealed_keys` table: the data folder's private keys and secrets, each sealed by the cluster
//! (this crate never sees them in clear), so that every node can restore a key another node made.

use crate::{ts, Db, Result};

/// The names of the sealed keys (file names in `keys/`).
pub async fn names(db: &mut Db) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM sealed_keys ORDER BY name").fetch_all(db.c()).await?)
}

/// The sealed bytes of one key.
pub async fn get(db: &mut Db, name: &str) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT sealed FROM sealed_keys WHERE name = $1").bind(name).fetch_optional(db.c()).await?)
}

/// Records a sealed key once: a key is never replaced (whoever sealed it first wins).
pub async fn put(db: &mut Db, name: &str, sealed: &[u8]) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO sealed_keys (name, sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(sealed)
    .bind(ts(crate::now()))
    .execute(db.c())
    .await?;
    Ok(done.rows_affected() == 1)
}
