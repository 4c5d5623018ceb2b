//! The cluster database of OpenCAPF.
//!
//! One SQLite file (`cluster.db`) in the data folder holds the cluster settings, the CAPF and
//! CallManager certificates, both trust stores, the devices and their CAPF information, every LSC
//! ever issued, the status history of CAPF operations and an append-only audit log. Private keys
//! live beside it in `keys/`, one file each, mode 0600.
//!
//! Repository functions take a `&mut SqliteConnection`, so that a caller can run several of them
//! in one transaction; [`cluster`] holds the multi-step changes (init, CAPF regeneration, reissue,
//! guarded trust removal) that must be all-or-nothing.

pub mod audit;
pub mod cluster;
pub mod devices;
pub mod keyfile;
pub mod model;
pub mod operations;
pub mod registrations;
pub mod service;
pub mod settings;
pub mod trust;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use model::*;
pub use sqlx::SqliteConnection;

pub const DB_FILE: &str = "cluster.db";

/// Why a store operation failed. Each message is whole (its context and the text of its cause)
/// and no variant exposes a `source()`: the text is recorded and logged as it is, and the CLI
/// prints a chain of contexts without repeating a cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no cluster in {0}: create one with `opencapf init` (or pass --data-dir)")]
    NoCluster(PathBuf),
    #[error("a cluster already exists in {0}; refusing to overwrite it")]
    ClusterExists(PathBuf),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Pki(#[from] opencapf_pki::PkiError),
    #[error("{context}: {cause}")]
    Io { context: String, cause: std::io::Error },
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

impl StoreError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |cause| StoreError::Io { context, cause }
    }
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open cluster: the database pool and the data folder it lives in.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    data_dir: PathBuf,
}

impl Store {
    /// Opens the cluster in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        if !data_dir.join(DB_FILE).is_file() {
            return Err(StoreError::NoCluster(data_dir.to_path_buf()));
        }
        Self::connect(data_dir, false).await
    }

    /// Creates an empty database (schema only) in `data_dir`.
    pub(crate) async fn create(data_dir: &Path) -> Result<Store> {
        Self::connect(data_dir, true).await
    }

    async fn connect(data_dir: &Path, create: bool) -> Result<Store> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(data_dir.join(DB_FILE))
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, data_dir: data_dir.to_path_buf() })
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`). A deferred
    /// one that reads and then writes fails at once with "database is locked", instead of
    /// waiting, when another writer (the CAPF server, hundreds of phones) got in between.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Timestamps are stored as RFC 3339 UTC text, whole seconds, so that they sort as text.
pub fn ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("0 ns is valid");
    t.format(&Rfc3339).expect("RFC 3339 formats any UTC date")
}

pub fn parse_ts(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Invalid(format!("bad timestamp '{s}': {e}")))
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
