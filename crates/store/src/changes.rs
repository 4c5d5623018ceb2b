//! The change feed: which parts of the cluster changed, whichever node or process changed them,
//! so that the servers can keep what they read per connection (the trust stores, the service
//! identities, the issued LSCs, the settings) until it changes.
//!
//! [`Store::changes`] gives a [`Changes`] subscription: one generation number per [`Topic`],
//! raised when that topic may have changed. A reader notes the generation before it reads and
//! reads again once it moved; a missed notification is never possible, only a spare reload.
//!
//! - **PostgreSQL**: statement triggers (migration 0016) `pg_notify('opencapf_changes', topic)`
//!   at commit; one `LISTEN` connection per process. After a lost connection it reconnects and
//!   reports every topic, since notifications sent meanwhile were lost.
//! - **SQLite**: a dedicated connection reads, every 250 ms, the per-topic counters the tables'
//!   triggers raise (migration 0022), whichever connection commits (the CLI's while `serve`
//!   runs), and reports the topics whose counter moved, so that a CAPF session's commit does not
//!   make every server read the trust stores again. [`Changes::catch_up`] reads them at once (one
//!   statement), so that the CLI's change applies to the very next connection, as it did when
//!   every connection read the tables; callers that arrive while a reading is under way share it.
//!
//! Either way, [`Store::report`] raises topics at once for writes this process made (the feed
//! would see them within its period; the next connection should not wait for it).

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{watch, OnceCell};
use tokio::task::JoinHandle;

use crate::{Database, Result, Store};

/// The channel the PostgreSQL triggers notify (migration 0016).
const CHANNEL: &str = "opencapf_changes";
/// How often SQLite's change counters are read.
const SQLITE_PERIOD: Duration = Duration::from_millis(250);
/// The wait before connecting again after the feed's connection failed.
const RETRY: Duration = Duration::from_secs(1);

/// What changed, by the tables behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `trust_entries`: CallManager-trust, CAPF-trust, Phone-SAST-trust, EST-trust.
    Trust,
    /// `service_certificates` and their issuers: CAPF, CallManager, TVS, tomcat...
    Identities,
    /// `issued_certificates`: LSCs issued, installed, superseded, revoked.
    Issued,
    /// `settings`.
    Settings,
}

impl Topic {
    pub const ALL: [Topic; 4] = [Topic::Trust, Topic::Identities, Topic::Issued, Topic::Settings];

    /// The payload the triggers send.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Trust => "trust",
            Topic::Identities => "identities",
            Topic::Issued => "issued",
            Topic::Settings => "settings",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl FromStr for Topic {
    type Err = ();

    fn from_str(s: &str) -> Result<Topic, ()> {
        Topic::ALL.into_iter().find(|t| t.name() == s).ok_or(())
    }
}

/// One generation per topic, in [`Topic::ALL`]'s order.
type Generations = [u64; Topic::ALL.len()];

/// A subscription to the change feed. Cheap to clone; every clone sees the same generations.
#[derive(Clone)]
pub struct Changes {
    rx: watch::Receiver<Generations>,
    sqlite: Option<Arc<SqliteCounters>>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes").field("generations", &*self.rx.borrow()).finish()
    }
}

impl Changes {
    /// Brings the generations up to date with the database now where the backend allows it:
    /// SQLite reads the change counters (one statement); PostgreSQL's notifications arrive by themselves.
    pub async fn catch_up(&self) {
        if let Some(sqlite) = &self.sqlite {
            sqlite.check().await;
        }
    }

    /// The generation of `topic` now: read it before reading what it covers.
    pub fn generation(&self, topic: Topic) -> u64 {
        self.rx.borrow()[topic.index()]
    }

    /// Waits until `topic` has moved past `seen`; its new generation, or `None` once the store
    /// is closed.
    pub async fn changed_since(&mut self, topic: Topic, seen: u64) -> Option<u64> {
        let moved = self.rx.wait_for(|g| g[topic.index()] > seen).await.ok()?;
        Some(moved[topic.index()])
    }
}

/// The feed of one open store, shared by its clones; started by the first subscription.
#[derive(Clone, Default)]
pub(crate) struct Feed(Arc<FeedInner>);

struct FeedInner {
    sender: Arc<watch::Sender<Generations>>,
    /// The task that follows the database, once started; ended with the last clone.
    follower: OnceCell<Follower>,
}

impl Default for FeedInner {
    fn default() -> Self {
        FeedInner { sender: Arc::new(watch::Sender::new([0; Topic::ALL.len()])), follower: OnceCell::new() }
    }
}

struct Follower {
    task: JoinHandle<()>,
    sqlite: Option<Arc<SqliteCounters>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    fn bump(sender: &watch::Sender<Generations>, topics: &[Topic]) {
        sender.send_modify(|g| topics.iter().for_each(|t| g[t.index()] += 1));
    }
}

impl Store {
    /// A subscription to what changes in the cluster, from any node or process. The first call
    /// connects the feed (PostgreSQL: `LISTEN`, SQLite: the counters' poll) and returns once
    /// it follows the database, so a change committed after it returns is reported.
    pub async fn changes(&self) -> Result<Changes> {
        let inner = &self.feed.0;
        let follower = inner.follower.get_or_try_init(|| start(&self.database, Arc::downgrade(&inner.sender))).await?;
        Ok(Changes { rx: inner.sender.subscribe(), sqlite: follower.sqlite.clone() })
    }

    /// Reports that this process committed changes to `topics`, without waiting for the feed.
    pub fn report(&self, topics: &[Topic]) {
        Feed::bump(&self.feed.0.sender, topics);
    }
}

async fn start(database: &Database, sender: Weak<watch::Sender<Generations>>) -> Result<Follower> {
    match database {
        Database::Postgres(url) => {
            let listener = listen(url).await?;
            Ok(Follower { task: tokio::spawn(follow_postgres(url.clone(), listener, sender)), sqlite: None })
        }
        Database::Sqlite(file) => {
            let sqlite = Arc::new(SqliteCounters::open(file, sender).await?);
            Ok(Follower { task: tokio::spawn(follow_sqlite(sqlite.clone())), sqlite: Some(sqlite) })
        }
    }
}

/// Raises `topics`; false once the store is gone (the follower ends).
fn bump(sender: &Weak<watch::Sender<Generations>>, topics: &[Topic]) -> bool {
    let Some(sender) = sender.upgrade() else { return false };
    Feed::bump(&sender, topics);
    true
}

async fn listen(url: &str) -> Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn follow_postgres(url: String, mut listener: PgListener, sender: Weak<watch::Sender<Generations>>) {
    loop {
        let reported = match listener.try_recv().await {
            Ok(Some(n)) => match n.payload().parse::<Topic>() {
                Ok(topic) => bump(&sender, &[topic]),
                // A payload of a later version: reload everything rather than miss it.
                Err(()) => bump(&sender, &Topic::ALL),
            },
            // Lost and connected again (sqlx listens again): what was sent meanwhile is lost.
            Ok(None) => bump(&sender, &Topic::ALL),
            Err(_) => {
                listener = loop {
                    tokio::time::sleep(RETRY).await;
                    if sender.strong_count() == 0 {
                        return;
                    }
                    if let Ok(l) = listen(&url).await {
                        break l;
                    }
                };
                bump(&sender, &Topic::ALL)
            }
        };
        if !reported {
            return;
        }
    }
}

async fn sqlite_connect(file: &std::path::Path) -> Result<SqliteConnection> {
    Ok(SqliteConnectOptions::new().filename(file).create_if_missing(false).connect().await?)
}

/// The per-topic counters, in [`Topic::ALL`]'s order (a topic the table lacks reads 0).
async fn counters(conn: &mut SqliteConnection) -> Result<Counters> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT topic, version FROM change_counters").fetch_all(conn).await?;
    let mut counters = [0; Topic::ALL.len()];
    for (topic, version) in rows {
        if let Ok(t) = topic.parse::<Topic>() {
            counters[t.index()] = version;
        }
    }
    Ok(counters)
}

type Counters = [i64; Topic::ALL.len()];

/// SQLite's topic counters on a connection of their own, read by the poll and by
/// [`Changes::catch_up`].
struct SqliteCounters {
    file: std::path::PathBuf,
    state: tokio::sync::Mutex<Seen>,
    /// Readings begun so far: a caller that finds one begun after it arrived shares its result.
    readings: AtomicU64,
    sender: Weak<watch::Sender<Generations>>,
}

/// The connection (none after an error, until made again) and what it last read.
struct Seen {
    conn: Option<SqliteConnection>,
    counters: Counters,
}

impl SqliteCounters {
    async fn open(file: &std::path::Path, sender: Weak<watch::Sender<Generations>>) -> Result<SqliteCounters> {
        let mut conn = sqlite_connect(file).await?;
        let counters = counters(&mut conn).await?;
        let state = tokio::sync::Mutex::new(Seen { conn: Some(conn), counters });
        Ok(SqliteCounters { file: file.to_owned(), state, readings: AtomicU64::new(0), sender })
    }

    /// Reports the topics whose counter moved since the last reading.
    /// False once the store is gone.
    async fn check(&self) -> bool {
        let arrived = self.readings.load(Ordering::Acquire);
        let mut seen = self.state.lock().await;
        if self.readings.load(Ordering::Acquire) > arrived {
            // A reading begun after this caller arrived has ended: it saw at least as much.
            return self.sender.strong_count() > 0;
        }
        self.readings.fetch_add(1, Ordering::AcqRel);
        let topics = read(&mut seen, &self.file).await;
        if topics.is_empty() {
            return self.sender.strong_count() > 0;
        }
        bump(&self.sender, &topics)
    }
}

/// Reads the counters: the topics that moved. Empty when the database cannot be read now (the
/// next reading tries again).
async fn read(seen: &mut Seen, file: &std::path::Path) -> Vec<Topic> {
    moved_topics(seen, file).await.unwrap_or_default()
}

/// One statement (the counters), not `data_version` first: at load every reading follows a
/// commit of this process's writer, which moves `data_version` too, so the pragma only added a
/// round trip to the connection's thread.
async fn moved_topics(seen: &mut Seen, file: &std::path::Path) -> Option<Vec<Topic>> {
    let now = match seen.conn.as_mut() {
        Some(c) => counters(c).await.ok(),
        None => None,
    };
    let now = match now {
        Some(now) => now,
        None => {
            if let Some(c) = seen.conn.take() {
                let _ = c.close().await;
            }
            let mut c = sqlite_connect(file).await.ok()?;
            let now = counters(&mut c).await.ok()?;
            seen.conn = Some(c);
            now
        }
    };
    let moved = Topic::ALL.into_iter().filter(|t| now[t.index()] != seen.counters[t.index()]).collect();
    seen.counters = now;
    Some(moved)
}

async fn follow_sqlite(sqlite: Arc<SqliteCounters>) {
    let mut tick = tokio::time::interval(SQLITE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !sqlite.check().await {
            break;
        }
    }
}
