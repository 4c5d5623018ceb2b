//! The admin service's web sessions and login limits, kept in the database so that every node
//! of the cluster shares them: a login on one node is valid on the others, a logout or a
//! password change on one ends the session on all, and failed logins count wherever they were
//! tried. The cookie's id is 256 random bits; the database keeps its SHA-256 only.

use std::net::IpAddr;
use std::time::Duration;

use opencapf_store::web_sessions::{self as store, WebSession as Row};

use crate::accounts::{random_bytes, token_hash};
use crate::{Cluster, Result};

/// A session ends after this long without a request...
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// ...and after this long in any case (a working day).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// "Last seen" is written at most this often per session, so that a page view is a read. A
/// session may thus end up to this much before [`SESSION_IDLE`] of real idleness.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Sessions kept at once: past it, the least recently used goes.
const MAX_SESSIONS: i64 = 10_000;
/// Ended sessions and old failures deleted per login at most: bounded work per call.
const PURGE_BATCH: i64 = 100;
/// Failed logins count for this long.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Failures against one account within the window, from anywhere, before its logins wait.
pub const LOGIN_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window, on any names, before its logins wait.
pub const LOGIN_FAILURES_PER_SOURCE: i64 = 10;
/// The longest cookie id looked up (ours are 64 hex digits).
const MAX_ID_LEN: usize = 128;

/// A live session: whose it is and the token its forms carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// The cookie's value.
    pub id: String,
    pub account: String,
    pub csrf_token: String,
}

fn now_ms() -> i64 {
    i64::try_from(opencapf_model::now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn live(s: &Row, now: i64) -> bool {
    now < s.expires_at && now - s.last_seen < ms(SESSION_IDLE)
}

fn account_key(account: &str) -> String {
    // Invented names are cut short: they still count, in bounded rows.
    format!("account:{}", account.chars().take(64).collect::<String>())
}

fn source_key(source: IpAddr) -> String {
    format!("source:{}", source.to_canonical())
}

impl Cluster {
    /// Opens a session for `account` after a successful login, whose earlier failed logins are
    /// forgotten. Sessions that ended are purged (a bounded number).
    pub async fn open_web_session(&self, account: &str) -> Result<WebSession> {
        let id = hex::encode(random_bytes::<32>());
        let now = now_ms();
        let row = Row {
            id_hash: token_hash(&id),
            account: account.to_owned(),
            csrf_token: hex::encode(random_bytes::<32>()),
            created_at: now,
            last_seen: now,
            expires_at: now.saturating_add(ms(SESSION_LIFETIME)),
        };
        let mut db = self.store.write().await?;
        store::purge(&mut db, now, now - ms(SESSION_IDLE), PURGE_BATCH).await?;
        store::purge_failures(&mut db, now - ms(LOGIN_WINDOW), PURGE_BATCH).await?;
        let over = store::count(&mut db).await? - MAX_SESSIONS + 1;
        if over > 0 {
            store::delete_least_recent(&mut db, over).await?;
        }
        store::insert(&mut db, &row).await?;
        store::clear_failures(&mut db, &account_key(account)).await?;
        db.commit().await?;
        Ok(WebSession { id, account: row.account, csrf_token: row.csrf_token })
    }

    /// The live session whose cookie carries `id`, or `None`. A request renews its idle time
    /// (written at most once a minute); a session found ended is deleted.
    pub async fn web_session(&self, id: &str) -> Result<Option<WebSession>> {
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Ok(None);
        }
        let hash = token_hash(id);
        let Some(row) = store::get(&mut self.store.read().await?, &hash).await? else { return Ok(None) };
        let now = now_ms();
        if !live(&row, now) {
            let mut db = self.store.write().await?;
            store::delete(&mut db, &hash).await?;
            db.commit().await?;
            return Ok(None);
        }
        if now - row.last_seen >= ms(TOUCH_EVERY) {
            let mut db = self.store.write().await?;
            store::touch(&mut db, &hash, now).await?;
            db.commit().await?;
        }
        Ok(Some(WebSession { id: id.to_owned(), account: row.account, csrf_token: row.csrf_token }))
    }

    /// Ends a session (logout), on every node.
    pub async fn close_web_session(&self, id: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        store::delete(&mut db, &token_hash(id)).await?;
        db.commit().await
    }

    /// How long before a login from `source` to `account` may be tried, if it must wait. A
    /// correct password does not bypass the wait, or the limit would only slow guessing down.
    pub async fn login_wait(&self, source: IpAddr, account: &str) -> Result<Option<Duration>> {
        let now = now_ms();
        let since = now - ms(LOGIN_WINDOW);
        let mut db = self.store.read().await?;
        let by_source = store::failures_since(&mut db, &source_key(source), since).await?;
        let by_account = store::failures_since(&mut db, &account_key(account), since).await?;
        let wait = |(n, oldest): (i64, Option<i64>), limit: i64| {
            let oldest = oldest.filter(|_| n >= limit)?;
            let left = u64::try_from(oldest + ms(LOGIN_WINDOW) - now).unwrap_or(0);
            Some(Duration::from_millis(left).max(Duration::from_secs(1)))
        };
        Ok(wait(by_source, LOGIN_FAILURES_PER_SOURCE).max(wait(by_account, LOGIN_FAILURES_PER_ACCOUNT)))
    }

    /// Counts a failed login (or a wrong current password) from `source` to `account`.
    pub async fn login_failed(&self, source: IpAddr, account: &str) -> Result<()> {
        let now = now_ms();
        let mut db = self.store.write().await?;
        store::purge_failures(&mut db, now - ms(LOGIN_WINDOW), PURGE_BATCH).await?;
        store::record_failure(&mut db, &source_key(source), now).await?;
        store::record_failure(&mut db, &account_key(account), now).await?;
        db.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_idle_or_its_lifetime() {
        let row = |created: i64, seen: i64| Row {
            id_hash: String::new(),
            account: String::new(),
            csrf_token: String::new(),
            created_at: created,
            last_seen: seen,
            expires_at: created + ms(SESSION_LIFETIME),
        };
        let min = 60_000;
        assert!(live(&row(0, 0), 29 * min));
        assert!(!live(&row(0, 0), 30 * min), "idle for 30 minutes");
        assert!(live(&row(0, 11 * 60 * min), 11 * 60 * min + 1));
        assert!(!live(&row(0, 12 * 60 * min - 1), 12 * 60 * min), "12 hours after the login, in any case");
        assert_eq!(account_key(&"x".repeat(100)).len(), "account:".len() + 64);
        assert_eq!(source_key("::ffff:192.0.2.1".parse().unwrap()), "source:192.0.2.1");
    }
}
