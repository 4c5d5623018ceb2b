//! The opaque handle every repository function takes: a pooled connection or a write
//! transaction. The backend's types stay inside this crate.

use std::fmt;

use sqlx::pool::PoolConnection;

use crate::backend::{Backend, Connection, Turn};
use crate::Result;

/// A database connection for reads ([`crate::Store::read`]) or a write transaction
/// ([`crate::Store::write`]). A write transaction dropped without [`Db::commit`] is rolled back.
pub struct Db {
    inner: Inner,
}

enum Inner {
    Read(PoolConnection<Backend>),
    Write(Turn),
}

impl Db {
    pub(crate) fn read(conn: PoolConnection<Backend>) -> Self {
        Self { inner: Inner::Read(conn) }
    }

    pub(crate) fn write(turn: Turn) -> Self {
        Self { inner: Inner::Write(turn) }
    }

    /// The connection the queries run on.
    pub(crate) fn c(&mut self) -> &mut Connection {
        match &mut self.inner {
            Inner::Read(c) => c,
            Inner::Write(t) => t.conn(),
        }
    }

    /// Where a write transaction keeps the audit log's last record (`None` for a read connection).
    pub(crate) fn audit_tail(&mut self) -> Option<&mut Option<(i64, String)>> {
        match &mut self.inner {
            Inner::Read(_) => None,
            Inner::Write(t) => Some(t.audit_tail()),
        }
    }

    /// Keeps what a write transaction did (nothing to do for a read connection).
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            Inner::Read(_) => Ok(()),
            Inner::Write(t) => t.commit().await,
        }
    }

    /// Keeps what a write transaction did without waiting for it to be durable (see
    /// `backend/writer.rs`): for what a crash may lose without harm, such as a session's claim on
    /// a device's operation, which recovery frees anyway.
    pub fn commit_lazily(self) {
        if let Inner::Write(t) = self.inner {
            t.commit_lazily();
        }
    }

    /// Runs one raw statement: only for tests of the database's own guarantees.
    #[doc(hidden)]
    pub async fn execute_raw(&mut self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(sql).execute(self.c()).await?.rows_affected())
    }
}

/// An error of the database backend, kept opaque so that its types stay inside the store.
pub struct BackendError(Box<dyn std::error::Error + Send + Sync>);

impl BackendError {
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
