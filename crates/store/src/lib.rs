//! The cluster database of OpenCAPF.
//!
//! One database (a SQLite file, `cluster.db`, in the data folder by default; or a PostgreSQL
//! database that several nodes share, see [`Database`]) holds the cluster settings, the
//! certificates of its own services (CAPF, CallManager, ITLRecovery, TVS, tomcat), the trust stores, the devices and their CAPF information, every LSC
//! ever issued, the status history of CAPF operations and an append-only audit log. Private keys
//! live beside it in `keys/`, one file each, mode 0600.
//!
//! Persistence only: the use cases (each one transaction plus its audit record) live in
//! `opencapf-cluster`. Repository functions take a [`Db`], an opaque connection or transaction
//! from [`Store::read`] or [`Store::write`], so that a use case can run several of them in one
//! transaction; no database type crosses this crate's API.
//!
//! - [`accounts`]: who may use the admin pages and the REST API (accounts, API tokens).
//! - [`audit`]: the append-only audit log and its hash chain.
//! - [`consumers`]: the systems outside the cluster that trust its CAPF certificates (802.1X
//!   servers, VPN head-ends), the exports written for them and their confirmation.
//! - [`credentials`]: authentication strings at rest (keyed hashes) and the claim a CAPF session
//!   holds on a device's pending operation.
//! - [`devices`]: devices, their CAPF information, LSC, MIC and operation history.
//! - [`est`]: EST enrolment codes (keyed hashes) and approvals.
//! - [`issued`]: every LSC ever issued and its state.
//! - [`uploads`]: certificates phones uploaded with Troubleshoot.
//! - [`web_sessions`]: the admin service's sessions and failed logins, shared by every node.
//! - [`unknown_requests`]: configuration-file requests from devices the cluster does not know.
//! - [`migrations`]: phones moving from another cluster (`opencapf migrate`): the old cluster's
//!   bundle and the old-cluster steps confirmed.
//! - [`nodes`]: the `serve` processes of the cluster, their addresses and heartbeats.
//! - [`trust`], [`service`], [`settings`], [`registrations`]: the tables of those names.
//! - [`keyfile`]: private key files beside the database; [`sealed_keys`]: the same keys sealed
//!   by the cluster, in the database, for the other nodes.
//! - [`Changes`] (private module `changes`): the change feed, [`Store::changes`] and [`Topic`].
//! - [`Database`]: where the database is (`--database URL`).
//! - `backend`: the database itself, through sqlx's `Any` driver: one code path for SQLite
//!   (`backend/sqlite.rs`) and PostgreSQL (`backend/postgres.rs`), each with its own migrations
//!   (`migrations/sqlite`, `migrations/postgres`, the same version numbers). Rows are read into
//!   private `#[derive(sqlx::FromRow)]` structs, converted to the model's records in the module
//!   that queries them.
//!
//! The data folder is 0700 and the database files 0600 (private module `files`).
//!
//! The table modules stay public: each is a namespace of repository functions named for what they
//! do to that table (`devices::get`, `trust::list`, `audit::record`, `issued::count_in_state`...),
//! and the same verbs recur from table to table, so flattening them into the crate root would need
//! a prefix on every name. Only the backend (`backend`, `db`, `files`) is private.

pub mod accounts;
pub mod audit;
pub mod consumers;
pub mod credentials;
pub mod devices;
pub mod est;
pub mod issued;
pub mod keyfile;
pub mod migrations;
pub mod nodes;
pub mod registrations;
pub mod sealed_keys;
pub mod service;
pub mod settings;
pub mod trust;
pub mod unknown_requests;
pub mod uploads;
pub mod web_sessions;

#[doc(hidden)]
pub mod testing;

mod backend;
mod changes;
mod database;
mod db;
mod files;

use std::path::{Path, PathBuf};

use std::sync::Arc;

use backend::{Pool, Writer};

pub use changes::{Changes, Topic};
pub use database::Database;
pub use db::{BackendError, Db};
pub(crate) use opencapf_model::{now, ts};

pub const DB_FILE: &str = "cluster.db";

/// Why a store operation failed. Each message is whole (its context and the text of its cause)
/// and no variant exposes a `source()`: the text is recorded and logged as it is, and the CLI
/// prints a chain of contexts without repeating a cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no cluster in {0}: create one with `opencapf init` (or pass --data-dir or --database)")]
    NoCluster(String),
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
    #[error(transparent)]
    Model(#[from] opencapf_model::ModelError),
    #[error("database: {0}")]
    Db(BackendError),
    #[error("database migration: {0}")]
    Migrate(BackendError),
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(BackendError::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(BackendError::new(e))
    }
}

impl StoreError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |cause| StoreError::Io { context, cause }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// See [`Store::commit_counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitCounts {
    pub transactions: u64,
    pub durable_commits: u64,
}

/// An open cluster: the database pool, the data folder (key files) and where the database is.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    writer: Arc<Writer>,
    data_dir: PathBuf,
    database: Database,
    feed: changes::Feed,
}

impl Store {
    /// Opens the cluster in `data_dir` with its database there (`cluster.db`).
    pub async fn open(data_dir: &Path) -> Result<Store> {
        Self::open_with(data_dir, &Database::in_folder(data_dir)).await
    }

    /// Opens the cluster whose key files are in `data_dir` and whose database is `database`.
    pub async fn open_with(data_dir: &Path, database: &Database) -> Result<Store> {
        if !backend::exists(database, false).await? {
            return Err(StoreError::NoCluster(match database {
                Database::Sqlite(_) => data_dir.display().to_string(),
                Database::Postgres(_) => database.to_string(),
            }));
        }
        Self::connect(data_dir, database, false).await
    }

    /// Creates an empty database (schema only) in `data_dir`.
    /// The folder is made 0700 and the database files 0600.
    pub async fn create(data_dir: &Path) -> Result<Store> {
        Self::create_with(data_dir, &Database::in_folder(data_dir)).await
    }

    /// Creates the schema in `database` (which must hold no cluster yet), key files going to
    /// `data_dir` (made 0700).
    pub async fn create_with(data_dir: &Path, database: &Database) -> Result<Store> {
        if database.is_postgres() && backend::exists(database, true).await? {
            return Err(StoreError::Refused(format!("{database} already holds a cluster; refusing to overwrite it")));
        }
        files::prepare_folder(data_dir)?;
        if let Database::Sqlite(file) = database {
            files::prepare_file(file)?;
        }
        Self::connect(data_dir, database, true).await
    }

    async fn connect(data_dir: &Path, database: &Database, create: bool) -> Result<Store> {
        let pool = backend::connect(database, create).await?;
        files::tighten(data_dir, database);
        let writer = Writer::new(pool.clone());
        let store = Store {
            pool,
            writer,
            data_dir: data_dir.to_path_buf(),
            database: database.clone(),
            feed: Default::default(),
        };
        audit::chain_earlier_records(&store).await?;
        Ok(store)
    }

    /// A connection for reads (and single-statement writes).
    pub async fn read(&self) -> Result<Db> {
        Ok(Db::read(self.pool.any.acquire().await?))
    }

    /// A write transaction that waits for every other writer of the cluster from its start, so
    /// that a read-then-write use case waits instead of failing or acting on a stale read
    /// (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: one advisory lock). Nothing is kept unless
    /// [`Db::commit`] is called, which returns once the change is durable; concurrent writers
    /// share one durable commit (group commit, `backend/writer.rs`).
    pub async fn write(&self) -> Result<Db> {
        Ok(Db::write(self.writer.begin().await?))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Write transactions waiting for their turn now (tests of group commit).
    #[doc(hidden)]
    pub fn writers_waiting(&self) -> usize {
        self.writer.waiting()
    }

    /// Write transactions committed and the durable commits they took since the store was
    /// opened: with group commit, concurrent transactions share one ([`Store::write`]).
    pub fn commit_counts(&self) -> CommitCounts {
        self.writer.counts()
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    pub async fn close(self) {
        self.writer.close().await;
        self.pool.any.close().await;
    }
}
