//! The append-only audit log: who changed what, and when.
//!
//! Triggers refuse to change or remove a record, but whoever can write the file can drop them.
//! So each record also carries a hash: the SHA-256 of the previous record's hash (a genesis value
//! for the first) and its own fields. [`verify`] walks the chain and names the first record that
//! does not follow. (Whoever can write the file could also rebuild the whole chain: this catches
//! an edit, not a forger with time.)

use sqlx::Row;

use opencapf_model::{AuditBreak, AuditChain, AuditEntry};

use crate::{now, ts, Db, Result, Store};

/// The "previous hash" of the first record.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How often [`record`] retries when another connection appended in between (only possible when
/// it runs outside a write transaction).
const APPEND_ATTEMPTS: usize = 20;

/// One record's fields, as hashed.
struct Fields<'a> {
    id: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    detail: &'a str,
}

/// SHA-256 (hex) of the previous hash and the fields, each length-prefixed so that no two
/// different records encode alike.
fn row_hash(prev: &str, f: &Fields<'_>) -> String {
    let id = f.id.to_string();
    let mut buf = Vec::new();
    for part in [prev, &id, f.at, f.actor, f.action, f.target, f.detail] {
        buf.extend_from_slice(format!("{}:", part.len()).as_bytes());
        buf.extend_from_slice(part.as_bytes());
        buf.push(b'\n');
    }
    opencapf_pki::fingerprint(&buf)
}

/// The id and hash of the last record (0 and the genesis value for an empty log).
async fn last(db: &mut Db) -> Result<(i64, String)> {
    let row = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(db.c()).await?;
    Ok(match row {
        Some(r) => (r.get(0), r.get::<Option<String>, _>(1).unwrap_or_else(|| GENESIS.into())),
        None => (0, GENESIS.into()),
    })
}

/// Appends a record, chained to the last one. The record takes the next id explicitly, so that
/// two connections appending at once cannot both chain to the same record: the second one's
/// insert does nothing and it tries again on the new last record.
pub async fn record(db: &mut Db, actor: &str, action: &str, target: &str, detail: &str) -> Result<()> {
    let at = ts(now());
    for _ in 0..APPEND_ATTEMPTS {
        let kept = db.audit_tail().and_then(|tail| tail.take());
        let (last_id, prev) = match kept {
            Some(tail) => tail,
            None => last(db).await?,
        };
        let fields = Fields { id: last_id + 1, at: &at, actor, action, target, detail };
        let hash = row_hash(&prev, &fields);
        let inserted = sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, target, detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT(id) DO NOTHING",
        )
        .bind(fields.id)
        .bind(&at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .bind(&hash)
        .execute(db.c())
        .await?
        .rows_affected();
        if inserted == 1 {
            if let Some(tail) = db.audit_tail() {
                *tail = Some((fields.id, hash));
            }
            return Ok(());
        }
    }
    Err(crate::StoreError::Conflict("the audit log kept changing while a record was appended".into()))
}

pub async fn list(db: &mut Db, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1")
        .bind(limit.max(0))
        .fetch_all(db.c())
        .await?;
    Ok(rows.into_iter().map(entry).collect())
}

fn entry(r: sqlx::any::AnyRow) -> AuditEntry {
    AuditEntry { id: r.get(0), at: r.get(1), actor: r.get(2), action: r.get(3), target: r.get(4), detail: r.get(5) }
}

/// Records read per query while walking the chain.
const PAGE: i64 = 5000;

/// Walks the chain from the first record and stops at the first one that does not follow.
pub async fn verify(db: &mut Db) -> Result<AuditChain> {
    let (mut prev_id, mut prev_hash, mut records) = (0i64, GENESIS.to_owned(), 0u64);
    loop {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(prev_id)
        .bind(PAGE)
        .fetch_all(db.c())
        .await?;
        if rows.is_empty() {
            return Ok(AuditChain { records, intact: true, broken: None });
        }
        for r in rows {
            let hash: Option<String> = r.get(6);
            let e = entry(r);
            records += 1;
            if let Some(problem) = check(&e, hash.as_deref(), prev_id, &prev_hash) {
                let broken = AuditBreak { id: e.id, at: e.at, actor: e.actor, action: e.action, problem };
                return Ok(AuditChain { records, intact: false, broken: Some(broken) });
            }
            prev_id = e.id;
            prev_hash = hash.unwrap_or_default();
        }
    }
}

/// What is wrong with record `e` after record `prev_id`, if anything.
fn check(e: &AuditEntry, hash: Option<&str>, prev_id: i64, prev_hash: &str) -> Option<String> {
    if e.id != prev_id + 1 {
        return Some(match prev_id {
            0 => format!("the records before it (from 1 to {}) were removed", e.id - 1),
            p => format!("it follows record {p}: the records between were removed"),
        });
    }
    let Some(hash) = hash else {
        return Some("it has no chain hash (added or changed by hand)".into());
    };
    let fields =
        Fields { id: e.id, at: &e.at, actor: &e.actor, action: &e.action, target: &e.target, detail: &e.detail };
    if row_hash(prev_hash, &fields) != hash {
        return Some(
            "its fields do not match its hash: it was changed after it was written (or the hash of the record \
             before it was)"
                .into(),
        );
    }
    None
}

/// Chains the records written before the log had a hash chain (a cluster made by an older
/// version), on the first open after the migration. Only records before the first chained one
/// are chained: a hash removed later is a break for [`verify`] to report, not to paper over.
pub(crate) async fn chain_earlier_records(store: &Store) -> Result<()> {
    let mut db = store.read().await?;
    let unchained: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE hash IS NULL \
         AND id < COALESCE((SELECT MIN(id) FROM audit_log WHERE hash IS NOT NULL), 9223372036854775807)",
    )
    .fetch_one(db.c())
    .await?;
    drop(db);
    if unchained == 0 {
        return Ok(());
    }
    let mut db = store.write().await?;
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail FROM audit_log WHERE hash IS NULL \
         AND id < COALESCE((SELECT MIN(id) FROM audit_log WHERE hash IS NOT NULL), 9223372036854775807) ORDER BY id",
    )
    .fetch_all(db.c())
    .await?;
    let mut prev = GENESIS.to_owned();
    for e in rows.into_iter().map(entry) {
        let fields =
            Fields { id: e.id, at: &e.at, actor: &e.actor, action: &e.action, target: &e.target, detail: &e.detail };
        prev = row_hash(&prev, &fields);
        sqlx::query("UPDATE audit_log SET hash = $1 WHERE id = $2").bind(&prev).bind(e.id).execute(db.c()).await?;
    }
    db.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_audit_log_is_append_only() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.read().await.unwrap();
            record(&mut db, "init", "cluster.init", "t", "d").await.unwrap();
            record(&mut db, "test", "x.y", "t", "d").await.unwrap();
            let upd = db.execute_raw("UPDATE audit_log SET actor = 'mallory'").await;
            assert!(upd.unwrap_err().to_string().contains("append-only"), "{}", t.backend);
            let del = db.execute_raw("DELETE FROM audit_log").await;
            assert!(del.unwrap_err().to_string().contains("append-only"), "{}", t.backend);
            assert_eq!(list(&mut db, 10).await.unwrap().len(), 2, "{}", t.backend);
        }
    }
}
