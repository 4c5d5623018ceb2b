//! The append-only audit log: who changed what, and when.

use sqlx::Row;

use opencapf_model::AuditEntry;

use crate::{now, ts, Db, Result};

pub async fn record(db: &mut Db, actor: &str, action: &str, target: &str, detail: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(ts(now()))
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(db.c())
        .await?;
    Ok(())
}

pub async fn list(db: &mut Db, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?")
        .bind(limit)
        .fetch_all(db.c())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            actor: r.get(2),
            action: r.get(3),
            target: r.get(4),
            detail: r.get(5),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[tokio::test]
    async fn the_audit_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).await.unwrap();
        let mut db = store.read().await.unwrap();
        record(&mut db, "init", "cluster.init", "t", "d").await.unwrap();
        record(&mut db, "test", "x.y", "t", "d").await.unwrap();
        let upd = db.execute_raw("UPDATE audit_log SET actor = 'mallory'").await;
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        let del = db.execute_raw("DELETE FROM audit_log").await;
        assert!(del.unwrap_err().to_string().contains("append-only"));
        assert_eq!(list(&mut db, 10).await.unwrap().len(), 2);
    }
}
