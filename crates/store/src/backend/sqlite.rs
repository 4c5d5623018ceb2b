//! SQLite: one file (`cluster.db`) in the data folder, WAL journal, full sync, foreign keys, and
//! write transactions that take the write lock at once.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::Result;

/// The sqlx database type the repository modules run their queries on.
pub(crate) type Backend = Sqlite;
/// One connection of [`Backend`].
pub(crate) type Connection = SqliteConnection;
/// The connection pool of an open store.
pub(crate) type Pool = SqlitePool;

/// Opens (or, with `create`, creates) the database file and brings its schema up to date.
pub(crate) async fn connect(file: &Path, create: bool) -> Result<Pool> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(file)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Deleted content (such as a clear string an older version stored) is overwritten.
        .pragma("secure_delete", "ON");
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    // The path is relative to the crate's manifest; build.rs rebuilds when a migration changes.
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`). A deferred
/// one that reads and then writes fails at once with "database is locked", instead of waiting,
/// when another writer (the CAPF server, hundreds of phones) got in between.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Transaction<'static, Backend>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}
