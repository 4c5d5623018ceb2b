//! The database behind the store, through sqlx's `Any` driver so that the repository modules have
//! one code path for both backends (placeholders `$1, $2…`, which SQLite reads too; integers are
//! 64-bit, booleans 0/1 integers, DER `BLOB`/`BYTEA`). What differs lives here: connecting, the
//! migrations (one folder per backend, the same version numbers), and how a write transaction
//! serialises against the other writers.

mod postgres;
mod sqlite;
mod writer;

use sqlx::{Any, AnyConnection, AnyPool};

pub(crate) use writer::{Turn, Writer};

use crate::{Database, Result};

/// The sqlx database type the repository modules run their queries on.
pub(crate) type Backend = Any;
/// One connection of [`Backend`].
pub(crate) type Connection = AnyConnection;

/// The connection pool of an open store, and which backend it talks to.
#[derive(Clone)]
pub(crate) struct Pool {
    pub(crate) any: AnyPool,
    postgres: bool,
}

/// Opens (with `create`, creates) the database and brings its schema up to date.
pub(crate) async fn connect(database: &Database, create: bool) -> Result<Pool> {
    sqlx::any::install_default_drivers();
    match database {
        Database::Sqlite(file) => Ok(Pool { any: sqlite::connect(file, create).await?, postgres: false }),
        Database::Postgres(url) => Ok(Pool { any: postgres::connect(url).await?, postgres: true }),
    }
}

/// Whether `database` holds a cluster's schema (`initialised`: and its settings).
pub(crate) async fn exists(database: &Database, initialised: bool) -> Result<bool> {
    sqlx::any::install_default_drivers();
    match database {
        Database::Sqlite(file) => Ok(file.is_file()),
        Database::Postgres(url) => postgres::has_schema(url, initialised).await,
    }
}

/// Begins the physical transaction group commit shares ([`writer`]), waiting for the other
/// writers of the cluster, so that a read-then-write use case sees no change between its read and
/// its write; then runs `then` (the first turn's savepoint) in it, in the same round trip where
/// the backend allows.
async fn begin_physical(pool: &Pool, conn: &mut AnyConnection, then: &str) -> Result<()> {
    if pool.postgres {
        postgres::begin_write(conn, then).await
    } else {
        sqlite::begin_write(conn, then).await
    }
}
