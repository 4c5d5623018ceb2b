//! Test support (hidden from the docs): the store test suite runs on both backends, and tests of
//! other crates (two nodes on one PostgreSQL database) need a database of their own.
//!
//! PostgreSQL tests use the server at `OPENCAPF_TEST_POSTGRES_URL` (an account that may create
//! databases; `.ci/run` starts one). Without it they fail with instructions, unless
//! `OPENCAPF_SKIP_POSTGRES=1` says to skip them on a developer's machine.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::any::AnyPoolOptions;
use sqlx::ConnectOptions;

use crate::{Database, Store};

pub const SERVER_ENV: &str = "OPENCAPF_TEST_POSTGRES_URL";
pub const SKIP_ENV: &str = "OPENCAPF_SKIP_POSTGRES";

/// The server URL, or `None` when PostgreSQL tests are skipped. Panics when neither is set.
pub fn postgres_server() -> Option<String> {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("PostgreSQL tests skipped ({SKIP_ENV}=1)");
        return None;
    }
    match std::env::var(SERVER_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => panic!(
            "the PostgreSQL tests need a server: set {SERVER_ENV}=postgres://USER:PASSWORD@127.0.0.1/postgres \
             (an account that may create databases), or {SKIP_ENV}=1 to skip them"
        ),
    }
}

/// A PostgreSQL database made for one test, dropped (with its connections) when this is dropped.
pub struct ScratchPostgres {
    pub database: Database,
    server: String,
    name: String,
}

impl ScratchPostgres {
    /// `None` when PostgreSQL tests are skipped.
    pub async fn new() -> Option<ScratchPostgres> {
        let server = postgres_server()?;
        let name = format!("opencapf_test_{}_{}", std::process::id(), next());
        admin(&server, &format!("CREATE DATABASE {name}")).await;
        let mut url = url::Url::parse(&server).expect("the server URL parses");
        url.set_path(&name);
        Some(ScratchPostgres { database: Database::Postgres(url.to_string()), server, name })
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        let (server, sql) = (self.server.clone(), format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        // Drop may run inside a runtime, which cannot block on another: a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(admin(&server, &sql));
        })
        .join();
    }
}

async fn admin(server: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let options = sqlx::any::AnyConnectOptions::from_url(&url::Url::parse(server).expect("the server URL parses"))
        .expect("options");
    let pool =
        AnyPoolOptions::new().max_connections(1).connect_with(options).await.expect("the PostgreSQL server answers");
    sqlx::query(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
}

fn next() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A new, empty store on one backend, its folder (and database) removed when dropped.
pub struct TestStore {
    pub store: Store,
    /// `sqlite` or `postgres`, for messages.
    pub backend: &'static str,
    dir: PathBuf,
    _postgres: Option<ScratchPostgres>,
}

impl TestStore {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The statement that drops `trigger` of `table` (the syntax differs): tests of what the
    /// audit chain detects once someone with write access removed the guard.
    pub fn drop_trigger(&self, trigger: &str, table: &str) -> String {
        match self._postgres {
            Some(_) => format!("DROP TRIGGER {trigger} ON {table}"),
            None => format!("DROP TRIGGER {trigger}"),
        }
    }

    /// Closes and reopens the store (what the next start of the cluster does).
    pub async fn reopen(&mut self) {
        let database = self.store.database().clone();
        self.store.clone().close().await;
        self.store = Store::open_with(&self.dir, &database).await.expect("the store reopens");
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new store on SQLite, then one on PostgreSQL (unless skipped): run the same test on each.
pub async fn each_backend() -> Vec<TestStore> {
    let mut stores = vec![new_store(None).await];
    if let Some(pg) = ScratchPostgres::new().await {
        stores.push(new_store(Some(pg)).await);
    }
    stores
}

async fn new_store(postgres: Option<ScratchPostgres>) -> TestStore {
    let dir = std::env::temp_dir().join(format!("opencapf-store-test-{}-{}", std::process::id(), next()));
    let database = match &postgres {
        Some(pg) => pg.database.clone(),
        None => Database::in_folder(&dir),
    };
    let store = Store::create_with(&dir, &database).await.expect("a new store");
    let backend = if postgres.is_some() { "postgres" } else { "sqlite" };
    TestStore { store, backend, dir, _postgres: postgres }
}
