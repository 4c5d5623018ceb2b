//! The append-only audit log: who changed what, and when.

use sqlx::{Row, SqliteConnection};

use crate::{now, ts, AuditEntry, Result};

/// The actor recorded for command-line changes: the operating-system user.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(user_from_uid)
        .unwrap_or_else(|| "unknown".into());
    format!("cli:{user}")
}

/// The user name of this process's uid, from /proc and /etc/passwd (no libc call needed).
fn user_from_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == uid)
        .map(|f| f[0].to_owned())
        .or(Some(format!("uid{uid}")))
}

pub async fn record(conn: &mut SqliteConnection, actor: &str, action: &str, target: &str, detail: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(ts(now()))
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn list(conn: &mut SqliteConnection, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?")
        .bind(limit)
        .fetch_all(conn)
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
