//! The `web_sessions` and `login_failures` tables: the admin service's sessions and failed
//! logins, shared by every node on the database. Times are Unix milliseconds, chosen by the
//! caller (the cluster's clock; a test's fixed instants). What makes a session live and how many
//! failures make a login wait are the cluster's rules: these functions store and count.

use crate::{Db, Result};

/// A stored session. Its cookie's id is not here, only the SHA-256 the row is found by.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebSession {
    pub id_hash: String,
    pub account: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen: i64,
    /// When the session ends whatever its use (its absolute lifetime).
    pub expires_at: i64,
}

const COLUMNS: &str = "id_hash, account, csrf_token, created_at, last_seen, expires_at";

/// Stores a new session (its `last_seen` is its `created_at`). The account must exist: the
/// foreign key refuses a session of a removed account.
pub async fn insert(db: &mut Db, s: &WebSession) -> Result<()> {
    sqlx::query(&format!("INSERT INTO web_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
        .bind(&s.id_hash)
        .bind(&s.account)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.last_seen)
        .bind(s.expires_at)
        .execute(db.c())
        .await?;
    Ok(())
}

pub async fn get(db: &mut Db, id_hash: &str) -> Result<Option<WebSession>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM web_sessions WHERE id_hash = $1"))
        .bind(id_hash)
        .fetch_optional(db.c())
        .await?)
}

/// Records a request of the session at `at` (never moving `last_seen` back).
pub async fn touch(db: &mut Db, id_hash: &str, at: i64) -> Result<()> {
    sqlx::query("UPDATE web_sessions SET last_seen = $1 WHERE id_hash = $2 AND last_seen < $1")
        .bind(at)
        .bind(id_hash)
        .execute(db.c())
        .await?;
    Ok(())
}

/// Deletes a session; whether it existed.
pub async fn delete(db: &mut Db, id_hash: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(id_hash).execute(db.c()).await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes every session of `account` but the one hashed `keep`; how many went.
pub async fn delete_account(db: &mut Db, account: &str, keep: Option<&str>) -> Result<u64> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE account = $1 AND id_hash <> $2")
        .bind(account)
        .bind(keep.unwrap_or(""))
        .execute(db.c())
        .await?;
    Ok(done.rows_affected())
}

pub async fn count(db: &mut Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions").fetch_one(db.c()).await?)
}

/// Deletes the `n` least recently used sessions (the table's bound); how many went.
pub async fn delete_least_recent(db: &mut Db, n: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM web_sessions WHERE id_hash IN \
         (SELECT id_hash FROM web_sessions ORDER BY last_seen, id_hash LIMIT $1)",
    )
    .bind(n)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected())
}

/// Deletes at most `limit` sessions that ended: past `now` or not seen since `idle_before`.
pub async fn purge(db: &mut Db, now: i64, idle_before: i64, limit: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM web_sessions WHERE id_hash IN (SELECT id_hash FROM web_sessions \
         WHERE expires_at <= $1 OR last_seen <= $2 LIMIT $3)",
    )
    .bind(now)
    .bind(idle_before)
    .bind(limit)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected())
}

/// Records a failed login under `key` (`account:NAME` or `source:ADDRESS`).
pub async fn record_failure(db: &mut Db, key: &str, at: i64) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(key).bind(at).execute(db.c()).await?;
    Ok(())
}

/// The failures under `key` after `since`: how many, and when the oldest of them was.
pub async fn failures_since(db: &mut Db, key: &str, since: i64) -> Result<(i64, Option<i64>)> {
    Ok(sqlx::query_as("SELECT COUNT(*), MIN(at) FROM login_failures WHERE key = $1 AND at > $2")
        .bind(key)
        .bind(since)
        .fetch_one(db.c())
        .await?)
}

/// Forgets the failures under `key` (a successful login to that account).
pub async fn clear_failures(db: &mut Db, key: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(db.c()).await?;
    Ok(done.rows_affected())
}

/// Deletes at most `limit` failures from before `before`; how many went.
pub async fn purge_failures(db: &mut Db, before: i64, limit: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures WHERE at <= $1 ORDER BY at LIMIT $2)",
    )
    .bind(before)
    .bind(limit)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use opencapf_model::AccountRole;

    use super::*;
    use crate::accounts;

    fn session(id: &str, account: &str, at: i64) -> WebSession {
        WebSession {
            id_hash: id.into(),
            account: account.into(),
            csrf_token: format!("csrf-{id}"),
            created_at: at,
            last_seen: at,
            expires_at: at + 1000,
        }
    }

    #[tokio::test]
    async fn sessions_are_stored_touched_and_end_with_their_account() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.write().await.unwrap();
            for name in ["jane", "bob"] {
                accounts::insert(&mut db, name, AccountRole::Admin, "hash", false, "t").await.unwrap();
            }
            for (id, account) in [("a", "jane"), ("b", "jane"), ("c", "bob")] {
                insert(&mut db, &session(id, account, 100)).await.unwrap();
            }
            db.commit().await.unwrap();
            // A failed statement ends a PostgreSQL transaction: this one is dropped (rolled back).
            let mut db = t.store.write().await.unwrap();
            assert!(insert(&mut db, &session("x", "nobody", 100)).await.is_err(), "{}: no such account", t.backend);
            drop(db);

            let mut db = t.store.write().await.unwrap();
            touch(&mut db, "a", 150).await.unwrap();
            touch(&mut db, "a", 120).await.unwrap();
            assert_eq!(get(&mut db, "a").await.unwrap().unwrap().last_seen, 150, "{}", t.backend);
            assert_eq!(get(&mut db, "c").await.unwrap(), Some(session("c", "bob", 100)));
            assert_eq!(delete_account(&mut db, "jane", Some("a")).await.unwrap(), 1);
            assert!(get(&mut db, "b").await.unwrap().is_none());
            assert!(delete(&mut db, "a").await.unwrap());
            assert!(!delete(&mut db, "a").await.unwrap());
            accounts::delete(&mut db, "bob").await.unwrap();
            assert!(get(&mut db, "c").await.unwrap().is_none(), "{}: gone with its account", t.backend);
            db.commit().await.unwrap();
        }
    }

    #[tokio::test]
    async fn ended_sessions_are_purged_a_bounded_number_at_a_time() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.write().await.unwrap();
            accounts::insert(&mut db, "jane", AccountRole::Admin, "hash", false, "t").await.unwrap();
            for i in 0..5 {
                insert(&mut db, &session(&format!("old{i}"), "jane", 0)).await.unwrap();
            }
            insert(&mut db, &session("idle", "jane", 500)).await.unwrap();
            insert(&mut db, &session("live", "jane", 900)).await.unwrap();
            // At 1200: the `old` ones expired (1000), `idle` was last seen before 600.
            assert_eq!(purge(&mut db, 1200, 600, 4).await.unwrap(), 4, "{}", t.backend);
            assert_eq!(purge(&mut db, 1200, 600, 4).await.unwrap(), 2);
            assert_eq!(count(&mut db).await.unwrap(), 1);
            assert!(get(&mut db, "live").await.unwrap().is_some());

            insert(&mut db, &session("later", "jane", 950)).await.unwrap();
            assert_eq!(delete_least_recent(&mut db, 1).await.unwrap(), 1);
            assert!(get(&mut db, "live").await.unwrap().is_none(), "{}: the least recent went", t.backend);
            db.commit().await.unwrap();
        }
    }

    #[tokio::test]
    async fn failures_are_counted_per_key_within_a_window() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.write().await.unwrap();
            assert_eq!(failures_since(&mut db, "account:jane", 0).await.unwrap(), (0, None), "{}", t.backend);
            for at in [10, 20, 30] {
                record_failure(&mut db, "account:jane", at).await.unwrap();
            }
            record_failure(&mut db, "source:192.0.2.1", 25).await.unwrap();
            assert_eq!(failures_since(&mut db, "account:jane", 15).await.unwrap(), (2, Some(20)), "{}", t.backend);
            assert_eq!(purge_failures(&mut db, 20, 1).await.unwrap(), 1, "bounded");
            assert_eq!(purge_failures(&mut db, 20, 10).await.unwrap(), 1);
            assert_eq!(failures_since(&mut db, "account:jane", 0).await.unwrap(), (1, Some(30)));
            assert_eq!(clear_failures(&mut db, "account:jane").await.unwrap(), 1);
            assert_eq!(failures_since(&mut db, "source:192.0.2.1", 0).await.unwrap(), (1, Some(25)));
            db.commit().await.unwrap();
        }
    }
}
