//! PostgreSQL: one database shared by every node of the cluster. Write transactions take one
//! transaction-scoped advisory lock, so that they serialise cluster-wide the way SQLite's
//! `BEGIN IMMEDIATE` does on one machine: a device's operation is claimed by one session and the
//! audit chain grows one record at a time, whichever node writes.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

use crate::{Result, StoreError};

/// The advisory lock every write transaction holds (any constant; "OCAP" in ASCII).
const WRITE_LOCK: i64 = 0x4F43_4150;

/// Connects and brings the schema up to date (whether a cluster is there is the caller's check:
/// [`has_schema`]).
pub(super) async fn connect(url: &str) -> Result<AnyPool> {
    let options = AnyConnectOptions::from_url(&parse(url)?)?;
    let pool =
        AnyPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(30)).connect_with(options).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// Whether the cluster's schema was made in the database at `url` (`initialised`: and `init`
/// committed its settings; a schema alone is what an interrupted `init` leaves, which a new
/// `init` may complete).
pub(super) async fn has_schema(url: &str, initialised: bool) -> Result<bool> {
    // One connection, no pool: a server that is down is said at once, not after retries.
    let mut conn = AnyConnectOptions::from_url(&parse(url)?)?.connect().await?;
    let made = schema_made(&mut conn, initialised).await;
    let _ = conn.close().await;
    made
}

async fn schema_made(conn: &mut AnyConnection, initialised: bool) -> Result<bool> {
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'settings'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if tables == 0 || !initialised {
        return Ok(tables > 0);
    }
    let settings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings").fetch_one(&mut *conn).await?;
    Ok(settings > 0)
}

fn parse(url: &str) -> Result<url::Url> {
    url::Url::parse(url).map_err(|e| StoreError::Invalid(format!("the PostgreSQL URL does not parse: {e}")))
}

pub(super) async fn begin_write(conn: &mut AnyConnection, then: &str) -> Result<()> {
    conn.execute("BEGIN").await?;
    let locked = sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *conn).await;
    let begun = match locked {
        Ok(_) => conn.execute(then).await,
        Err(e) => Err(e),
    };
    if let Err(e) = begun {
        let _ = conn.execute("ROLLBACK").await;
        return Err(e.into());
    }
    Ok(())
}
