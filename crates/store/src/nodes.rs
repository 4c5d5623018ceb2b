//! The nodes of the cluster: each `serve` claims its name at start ([`claim`]), beats
//! ([`heartbeat`]) and marks itself stopped on a clean stop ([`stop`]); [`list`] reads them all.

use opencapf_model::{Node, NodeAddresses, NodeState};
use time::OffsetDateTime;

use crate::{ts, Db, Result, StoreError};

const COLUMNS: &str = "name, host, capf_port, sip_port, secured_sip_port, sccp_port, tvs_port, http_port, \
                       admin_port, version, started_at, heartbeat_at, heartbeat_secs, stopped_at";

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    host: String,
    capf_port: i64,
    sip_port: i64,
    secured_sip_port: i64,
    sccp_port: i64,
    tvs_port: i64,
    http_port: Option<i64>,
    admin_port: Option<i64>,
    version: String,
    started_at: String,
    heartbeat_at: String,
    heartbeat_secs: i64,
    stopped_at: Option<String>,
}

fn port(p: i64) -> u16 {
    u16::try_from(p).unwrap_or(0)
}

impl From<Row> for Node {
    fn from(r: Row) -> Node {
        Node {
            name: r.name,
            addresses: NodeAddresses {
                host: r.host,
                capf_port: port(r.capf_port),
                sip_port: port(r.sip_port),
                secured_sip_port: port(r.secured_sip_port),
                sccp_port: port(r.sccp_port),
                tvs_port: port(r.tvs_port),
                http_port: r.http_port.map(port),
                admin_port: r.admin_port.map(port),
            },
            version: r.version,
            started_at: r.started_at,
            heartbeat_at: r.heartbeat_at,
            heartbeat_secs: u32::try_from(r.heartbeat_secs).unwrap_or(u32::MAX),
            stopped_at: r.stopped_at,
        }
    }
}

/// Every node, by name.
pub async fn list(db: &mut Db) -> Result<Vec<Node>> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM nodes ORDER BY name")).fetch_all(db.c()).await?;
    Ok(rows.into_iter().map(Node::from).collect())
}

/// Records `node` as started now (its `started_at` and `heartbeat_at` are set to `at`). When
/// `exclusive`, refused (`Conflict`) while another node of that name is running; a stopped or
/// dead one's row is taken over. Run it in a write transaction, so two nodes starting at once
/// cannot both take the name.
pub async fn claim(db: &mut Db, node: &Node, at: OffsetDateTime, exclusive: bool) -> Result<()> {
    let holder: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM nodes WHERE name = $1"))
        .bind(&node.name)
        .fetch_optional(db.c())
        .await?;
    if let Some(holder) = holder.map(Node::from).filter(|_| exclusive) {
        if holder.state(at) == NodeState::Running {
            return Err(StoreError::Conflict(format!(
                "a node named '{}' is running (at {}, last heartbeat {}): give this one another --node-name, or \
                 stop that one first (a node that stops beating is taken over after {} missed heartbeats)",
                holder.name,
                holder.addresses.host,
                holder.heartbeat_at,
                opencapf_model::MISSED_HEARTBEATS
            )));
        }
    }
    let a = &node.addresses;
    let at = ts(at);
    sqlx::query(
        "INSERT INTO nodes (name, host, capf_port, sip_port, secured_sip_port, sccp_port, tvs_port, http_port, \
         admin_port, version, started_at, heartbeat_at, heartbeat_secs, stopped_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, NULL) \
         ON CONFLICT (name) DO UPDATE SET host = excluded.host, capf_port = excluded.capf_port, \
         sip_port = excluded.sip_port, secured_sip_port = excluded.secured_sip_port, \
         sccp_port = excluded.sccp_port, tvs_port = excluded.tvs_port, http_port = excluded.http_port, \
         admin_port = excluded.admin_port, version = excluded.version, started_at = excluded.started_at, \
         heartbeat_at = excluded.heartbeat_at, heartbeat_secs = excluded.heartbeat_secs, stopped_at = NULL",
    )
    .bind(&node.name)
    .bind(&a.host)
    .bind(i64::from(a.capf_port))
    .bind(i64::from(a.sip_port))
    .bind(i64::from(a.secured_sip_port))
    .bind(i64::from(a.sccp_port))
    .bind(i64::from(a.tvs_port))
    .bind(a.http_port.map(i64::from))
    .bind(a.admin_port.map(i64::from))
    .bind(&node.version)
    .bind(&at)
    .bind(i64::from(node.heartbeat_secs.max(1)))
    .execute(db.c())
    .await?;
    Ok(())
}

/// The heartbeat of the node `name` that started at `started_at`. `false` when the row is no
/// longer this start's (another node took the name over after this one stopped beating).
pub async fn heartbeat(db: &mut Db, name: &str, started_at: &str, at: OffsetDateTime) -> Result<bool> {
    let done =
        sqlx::query("UPDATE nodes SET heartbeat_at = $1 WHERE name = $2 AND started_at = $3 AND stopped_at IS NULL")
            .bind(ts(at))
            .bind(name)
            .bind(started_at)
            .execute(db.c())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the node `name` that started at `started_at` stopped at `at`.
pub async fn stop(db: &mut Db, name: &str, started_at: &str, at: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE nodes SET stopped_at = $1 WHERE name = $2 AND started_at = $3")
        .bind(ts(at))
        .bind(name)
        .bind(started_at)
        .execute(db.c())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::each_backend;

    fn node(name: &str, host: &str) -> Node {
        Node {
            name: name.into(),
            addresses: NodeAddresses {
                host: host.into(),
                capf_port: 3804,
                sip_port: 5060,
                secured_sip_port: 5061,
                sccp_port: 2000,
                tvs_port: 2445,
                http_port: Some(6970),
                admin_port: None,
            },
            version: "1.0".into(),
            started_at: String::new(),
            heartbeat_at: String::new(),
            heartbeat_secs: 5,
            stopped_at: None,
        }
    }

    #[tokio::test]
    async fn a_running_name_is_refused_and_a_dead_or_stopped_one_is_taken_over() {
        for t in each_backend().await {
            let b = t.backend;
            let t0 = opencapf_model::parse_ts("2025-01-01T00:00:00Z").unwrap();
            let mut w = t.store.write().await.unwrap();
            claim(&mut w, &node("b", "10.0.0.2"), t0, true).await.unwrap();
            claim(&mut w, &node("a", "10.0.0.1"), t0, true).await.unwrap();
            w.commit().await.unwrap();

            let mut db = t.store.read().await.unwrap();
            let all = list(&mut db).await.unwrap();
            assert_eq!(all.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["a", "b"], "{b}");
            assert_eq!(all[0].addresses, node("a", "10.0.0.1").addresses, "{b}");
            assert_eq!(all[0].started_at, "2025-01-01T00:00:00Z", "{b}");

            // Alive: refused, and the row is unchanged.
            let later = t0 + time::Duration::seconds(10);
            let e = claim(&mut db, &node("a", "10.0.0.9"), later, true).await.unwrap_err();
            assert!(e.to_string().contains("a node named 'a' is running"), "{b}: {e}");
            assert!(heartbeat(&mut db, "a", "2025-01-01T00:00:00Z", later).await.unwrap(), "{b}");
            // Not exclusive (one SQLite file: a restart after a crash): taken over at once.
            claim(&mut db, &node("b", "10.0.0.2"), later, false).await.unwrap();
            assert!(!heartbeat(&mut db, "b", "2025-01-01T00:00:00Z", later).await.unwrap(), "{b}");
            stop(&mut db, "b", "2025-01-01T00:00:00Z", later).await.unwrap();
            assert_eq!(list(&mut db).await.unwrap()[1].state(later), NodeState::Running, "{b}");
            stop(&mut db, "b", &ts(later), later).await.unwrap();

            // Dead (no heartbeat for over 3 intervals): taken over; the old start's beats no longer land.
            let dead = later + time::Duration::seconds(30);
            claim(&mut db, &node("a", "10.0.0.9"), dead, true).await.unwrap();
            assert!(!heartbeat(&mut db, "a", "2025-01-01T00:00:00Z", dead).await.unwrap(), "{b}");
            let a = list(&mut db).await.unwrap().remove(0);
            assert_eq!((a.addresses.host.as_str(), a.state(dead)), ("10.0.0.9", NodeState::Running), "{b}");

            // Stopped: marked, and the name is free at once.
            let b_row = list(&mut db).await.unwrap().remove(1);
            assert_eq!(b_row.state(later), NodeState::Stopped, "{b}");
            claim(&mut db, &node("b", "10.0.0.2"), later, true).await.unwrap();
            assert_eq!(list(&mut db).await.unwrap()[1].state(later), NodeState::Running, "{b}");
        }
    }
}
