//! SQLite: one file (`cluster.db` in the data folder by default), WAL journal, full sync, foreign
//! keys, and write transactions that take the write lock at once.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor};

use crate::{Result, StoreError};

/// Set on every connection: the `Any` driver takes only a URL, so the settings the SQLite
/// driver's options would carry are pragmas here. `secure_delete`: deleted content (such as a
/// clear string an older version stored) is overwritten. `temp_store = MEMORY`: the journals of
/// the savepoints group commit nests ([`super::writer`]) stay in memory instead of a temporary
/// file written at every first change of a page.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;";

/// Opens (or, with `create`, creates) the database file and brings its schema up to date.
pub(super) async fn connect(file: &Path, create: bool) -> Result<AnyPool> {
    let options = AnyConnectOptions::from_url(&url(file, create)?)?;
    let pool = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        // A connection to a local file does not go stale: no ping (a round trip to the
        // connection's worker thread) before every use.
        .test_before_acquire(false)
        .after_connect(|conn, _| Box::pin(async move { conn.execute(PRAGMAS).await.map(|_| ()) }))
        .connect_with(options)
        .await?;
    // The path is relative to the crate's manifest; build.rs rebuilds when a migration changes.
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// `sqlite:///absolute/path?mode=rw[c]`, the path percent-encoded (the driver decodes it).
fn url(file: &Path, create: bool) -> Result<url::Url> {
    let absolute = std::path::absolute(file).map_err(StoreError::io(format!("resolving {}", file.display())))?;
    let path = absolute
        .to_str()
        .ok_or_else(|| StoreError::Invalid(format!("{}: the database path is not UTF-8", absolute.display())))?;
    let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>().replace("%2F", "/");
    let mode = if create { "rwc" } else { "rw" };
    url::Url::parse(&format!("sqlite://{encoded}?mode={mode}"))
        .map_err(|e| StoreError::Invalid(format!("{}: {e}", absolute.display())))
}

/// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`), then `then`,
/// in one round trip. A deferred one that reads and then writes fails at once with "database is
/// locked", instead of waiting, when another writer (a command of the CLI while `serve` runs) got
/// in between.
pub(super) async fn begin_write(conn: &mut AnyConnection, then: &str) -> Result<()> {
    if let Err(e) = conn.execute(&*format!("BEGIN IMMEDIATE; {then}")).await {
        // BEGIN may have succeeded and `then` not.
        let _ = conn.execute("ROLLBACK").await;
        return Err(e.into());
    }
    Ok(())
}
