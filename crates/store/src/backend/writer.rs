//! Group commit: the write transactions of concurrent use cases share one durable commit.
//!
//! A use case's write transaction ([`Turn`]) is a savepoint inside one physical transaction
//! (SQLite `BEGIN IMMEDIATE`, PostgreSQL `BEGIN` + the write lock) held by one connection. Writers
//! take turns on that connection in arrival order (a fair mutex), exactly as they took turns on
//! the database's write lock before. A turn that commits releases its savepoint and waits; the
//! physical transaction is committed, once, by the last turn of the queue (no other writer
//! waiting), and every waiting turn learns the outcome of that one commit. Writers that arrive
//! while the commit is syncing form the next batch. So a hundred sessions finishing together pay
//! one fsync instead of a hundred, and each still returns only once its change is durable
//! (SQLite stays at `synchronous=FULL`).
//!
//! Every statement is a round trip to the connection's thread, so the writer saves them: a
//! committed turn's savepoint is released by the batch's next statement (the next turn's
//! savepoint or the commit, in one round trip), and the connection is kept from batch to batch
//! (its page cache stays valid: it made the last commit).
//!
//! A turn dropped without commit is rolled back to its savepoint: the other turns of the batch
//! keep their changes. If the physical commit fails, every turn of the batch gets the error:
//! nothing of the batch was kept, and each use case says so.
//!
//! Ending a turn (release, rollback, the physical commit) runs on a task of its own, so that a
//! caller cancelled mid-commit (a session timeout) cannot leave the batch half done.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection as _, Executor};
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

use super::Pool;
use crate::{BackendError, CommitCounts, Result, StoreError};

/// A batch is committed once this many turns wait for it, even while more writers queue: under
/// steady load no commit is put off by more than this many turns.
const MAX_BATCH: usize = 64;

const SAVEPOINT: &str = "SAVEPOINT opencapf_turn";
/// A committed turn's savepoint is released by the statement that follows it, in one round trip
/// to the database: the next turn's savepoint or the batch's commit.
const RELEASE_THEN_SAVEPOINT: &str = "RELEASE SAVEPOINT opencapf_turn; SAVEPOINT opencapf_turn";
const RELEASE_THEN_COMMIT: &str = "RELEASE SAVEPOINT opencapf_turn; COMMIT";
const UNDO_TURN: &str = "ROLLBACK TO SAVEPOINT opencapf_turn; RELEASE SAVEPOINT opencapf_turn";

/// The one writer of a store.
pub(crate) struct Writer {
    pool: Pool,
    state: Arc<Mutex<Batch>>,
    /// Writers waiting for their turn: while any wait, a finished turn leaves the commit to them.
    queued: AtomicUsize,
    /// Turns committed and physical commits made, for benchmarks (turns per durable commit).
    turns: AtomicU64,
    commits: AtomicU64,
}

/// The physical transaction and the turns waiting for its commit.
#[derive(Default)]
pub(crate) struct Batch {
    conn: Option<PoolConnection<Any>>,
    /// The physical transaction was begun.
    open: bool,
    /// A turn ended without commit and could not be rolled back yet (dropped outside a runtime).
    dirty: bool,
    /// Turns that committed into the physical transaction.
    released: usize,
    /// The last of them still has its savepoint: the next statement releases it.
    unreleased: bool,
    /// Those of them waiting for the physical commit.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// The audit log's last record (id, hash) as this transaction left it: no other writer can
    /// append while it is open, so the next record chains to it without reading it again.
    /// Forgotten whenever a turn's changes are rolled back and when the transaction ends.
    audit_tail: Option<(i64, String)>,
}

/// One use case's write transaction.
pub(crate) struct Turn {
    batch: Option<OwnedMutexGuard<Batch>>,
    writer: Arc<Writer>,
}

impl Writer {
    pub(crate) fn new(pool: Pool) -> Arc<Writer> {
        Arc::new(Writer {
            pool,
            state: Arc::default(),
            queued: AtomicUsize::new(0),
            turns: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        })
    }

    /// Writers waiting for their turn now.
    pub(crate) fn waiting(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Turns committed and durable commits made since the store was opened.
    pub(crate) fn counts(&self) -> CommitCounts {
        CommitCounts {
            transactions: self.turns.load(Ordering::Relaxed),
            durable_commits: self.commits.load(Ordering::Relaxed),
        }
    }

    /// Waits for this writer's turn and opens its savepoint (and the physical transaction, when
    /// none is open: that waits for the database's write lock).
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<Turn> {
        let ticket = Queued::new(self);
        let batch = self.state.clone().lock_owned().await;
        ticket.served();
        let mut turn = Turn { batch: Some(batch), writer: self.clone() };
        turn.open().await?;
        Ok(turn)
    }

    /// Gives the kept connection back to the pool (which waits for it when it closes), once no
    /// turn is under way.
    pub(crate) async fn close(&self) {
        let mut batch = self.state.lock().await;
        self.end_batch(&mut batch).await;
        batch.conn = None;
    }

    /// Ends a turn: rolls back what a dropped turn left, then commits the batch unless other
    /// writers are queued (the last of them will).
    async fn end_turn(self: Arc<Self>, mut batch: OwnedMutexGuard<Batch>) {
        if let Err(e) = undo_dropped_turn(&mut batch).await {
            abort(&mut batch, &e).await;
        }
        if self.queued.load(Ordering::SeqCst) > 0 && batch.released < MAX_BATCH {
            return;
        }
        self.end_batch(&mut batch).await;
    }

    async fn end_batch(&self, batch: &mut Batch) {
        if !batch.open {
            return;
        }
        if batch.released == 0 {
            abort(batch, "").await;
            return;
        }
        let commit = if std::mem::take(&mut batch.unreleased) { RELEASE_THEN_COMMIT } else { "COMMIT" };
        match exec(batch, commit).await {
            Ok(()) => {
                // The connection is kept for the next batch: its page cache is the database as
                // this commit left it, where another connection's would be dropped and read again.
                batch.open = false;
                batch.audit_tail = None;
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.turns.fetch_add(batch.released as u64, Ordering::Relaxed);
                batch.released = 0;
                for w in batch.waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => abort(batch, &format!("the commit failed: {e}")).await,
        }
    }
}

impl Turn {
    async fn open(&mut self) -> Result<()> {
        let writer = self.writer.clone();
        let batch = self.batch.as_mut().expect("a turn holds its batch until it ends");
        let opened = async {
            undo_dropped_turn(batch).await?;
            if !batch.open {
                if batch.conn.is_none() {
                    batch.conn = Some(writer.pool.any.acquire().await.map_err(|e| e.to_string())?);
                }
                let conn = batch.conn.as_mut().expect("acquired");
                super::begin_physical(&writer.pool, conn, SAVEPOINT).await.map_err(|e| e.to_string())?;
                batch.open = true;
                return Ok(());
            }
            let savepoint = if std::mem::take(&mut batch.unreleased) { RELEASE_THEN_SAVEPOINT } else { SAVEPOINT };
            exec(batch, savepoint).await
        };
        match opened.await {
            Ok(()) => Ok(()),
            Err(e) => {
                let mut batch = self.batch.take().expect("held");
                let why = e.clone();
                tokio::spawn(async move {
                    abort(&mut batch, &why).await;
                    writer.end_turn(batch).await;
                });
                Err(turn_error(e))
            }
        }
    }

    /// The connection the turn's statements run on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        self.batch.as_mut().and_then(|b| b.conn.as_mut()).expect("an open turn has its connection")
    }

    /// The audit log's last record as the open transaction left it, when known.
    pub(crate) fn audit_tail(&mut self) -> &mut Option<(i64, String)> {
        &mut self.batch.as_mut().expect("an open turn holds its batch").audit_tail
    }

    /// Keeps the turn's changes: returns once the batch they joined is durable.
    pub(crate) async fn commit(self) -> Result<()> {
        let rx = self.release();
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(turn_error(e)),
            Err(_) => Err(turn_error("the commit was interrupted".into())),
        }
    }
}

impl Turn {
    /// Keeps the turn's changes without waiting for them to be durable: they are visible to every
    /// later writer at once and become durable with the batch (or are lost with it, as if the
    /// turn had not happened). For what a crash may lose, such as a session's claim on a device.
    pub(crate) fn commit_lazily(self) {
        drop(self.release());
    }

    /// Joins the turn's changes to the batch (its savepoint is released by the next statement)
    /// and ends the turn on a task of its own.
    fn release(mut self) -> oneshot::Receiver<Result<(), String>> {
        let mut batch = self.batch.take().expect("a turn holds its batch until it ends");
        let writer = self.writer.clone();
        let (tx, rx) = oneshot::channel();
        batch.released += 1;
        batch.unreleased = true;
        batch.waiters.push(tx);
        tokio::spawn(writer.end_turn(batch));
        rx
    }
}

impl Drop for Turn {
    /// Not committed: the turn's changes are rolled back, the batch's others kept.
    fn drop(&mut self) {
        if let Some(mut batch) = self.batch.take() {
            batch.dirty = true;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let writer = self.writer.clone();
                runtime.spawn(writer.end_turn(batch));
            }
        }
    }
}

/// Counts a writer waiting for its turn; one that gives up (its task cancelled) settles the
/// batch in case it was the one expected to commit it.
struct Queued<'a> {
    writer: &'a Arc<Writer>,
    served: bool,
}

impl<'a> Queued<'a> {
    fn new(writer: &'a Arc<Writer>) -> Self {
        writer.queued.fetch_add(1, Ordering::SeqCst);
        Queued { writer, served: false }
    }

    fn served(mut self) {
        self.served = true;
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.writer.queued.fetch_sub(1, Ordering::SeqCst);
        if !self.served {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let writer = self.writer.clone();
                runtime.spawn(async move {
                    let batch = writer.state.clone().lock_owned().await;
                    writer.end_turn(batch).await;
                });
            }
        }
    }
}

/// Rolls back to its savepoint what a turn ended without commit left (nothing when none did).
async fn undo_dropped_turn(batch: &mut Batch) -> Result<(), String> {
    if !batch.dirty {
        return Ok(());
    }
    batch.dirty = false;
    batch.audit_tail = None;
    exec(batch, UNDO_TURN).await
}

/// Rolls the physical transaction back; every waiting turn gets `why` (nothing of theirs was
/// kept). A connection that cannot even roll back is closed rather than reused.
async fn abort(batch: &mut Batch, why: &str) {
    if batch.open {
        if exec(batch, "ROLLBACK").await.is_err() {
            if let Some(conn) = batch.conn.take() {
                let _ = conn.detach().close_hard().await;
            }
        }
        batch.open = false;
    }
    batch.conn = None;
    batch.audit_tail = None;
    batch.released = 0;
    batch.unreleased = false;
    for w in batch.waiters.drain(..) {
        let _ = w.send(Err(format!("{why}; nothing of this change was kept")));
    }
}

async fn exec(batch: &mut Batch, sql: &str) -> Result<(), String> {
    let conn = batch.conn.as_mut().ok_or("no connection")?;
    conn.execute(sql).await.map(drop).map_err(|e| e.to_string())
}

fn turn_error(e: String) -> StoreError {
    StoreError::Db(BackendError::new(TurnError(e)))
}

/// An error ending or opening a turn, as text (it may be shared by every turn of a batch).
#[derive(Debug)]
struct TurnError(String);

impl std::fmt::Display for TurnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TurnError {}
