//! The nodes of the cluster: a `serve` joins ([`Cluster::join`]) under its name, beats while it
//! runs ([`Membership::beat`]) and leaves on a clean stop ([`Membership::leave`]); `opencapf
//! nodes` reads them ([`Cluster::nodes`]); phones are told about the running ones
//! ([`Cluster::call_manager_group`]).

use std::time::Duration;

use opencapf_model::{now, ts, Node, NodeAddresses, NodeState};
use opencapf_store::nodes;
use serde::Serialize;

use crate::{Cluster, Endpoints, Result};

/// The default seconds between a node's heartbeats.
pub const HEARTBEAT_SECS: u32 = 5;

/// A node and its state now, as `opencapf nodes` and `GET /api/v1/nodes` show it.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    #[serde(flatten)]
    pub node: Node,
    pub state: NodeState,
}

/// What a starting node says of itself.
#[derive(Debug, Clone)]
pub struct Joining {
    pub name: String,
    pub addresses: NodeAddresses,
    pub version: String,
    pub heartbeat: Duration,
}

/// This process's place in the cluster, from [`Cluster::join`].
#[derive(Clone)]
pub struct Membership {
    cluster: Cluster,
    name: String,
    started_at: String,
    heartbeat: Duration,
}

impl Cluster {
    /// Records this node as running. On PostgreSQL (several nodes share the database) refused
    /// while another node of that name is running; on SQLite the data folder allows one `serve`
    /// (its control socket says so), so a row left by a killed process is taken over at once.
    pub async fn join(&self, joining: Joining) -> Result<Membership> {
        let at = now();
        let secs = u32::try_from(joining.heartbeat.as_secs()).unwrap_or(u32::MAX).max(1);
        let node = Node {
            name: joining.name,
            addresses: joining.addresses,
            version: joining.version,
            started_at: ts(at),
            heartbeat_at: ts(at),
            heartbeat_secs: secs,
            stopped_at: None,
        };
        let mut db = self.store.write().await?;
        nodes::claim(&mut db, &node, at, self.store.database().is_postgres()).await?;
        db.commit().await?;
        Ok(Membership {
            cluster: self.clone(),
            name: node.name,
            started_at: node.started_at,
            heartbeat: Duration::from_secs(u64::from(secs)),
        })
    }

    /// Every node the cluster has seen, by name, with its state now.
    pub async fn nodes(&self) -> Result<Vec<NodeStatus>> {
        let all = nodes::list(&mut self.store.read().await?).await?;
        let t = now();
        Ok(all.into_iter().map(|node| NodeStatus { state: node.state(t), node }).collect())
    }

    /// The CallManager group phones are given: every running node, by name (a stable order, the
    /// same in every phone's file). Empty when no node is running (a command run beside no
    /// `serve`).
    pub async fn call_manager_group(&self) -> Result<Vec<Endpoints>> {
        Ok(self
            .nodes()
            .await?
            .into_iter()
            .filter(|n| n.state == NodeState::Running)
            .map(|n| Endpoints::from(&n.node.addresses))
            .collect())
    }
}

impl Membership {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interval between heartbeats.
    pub fn interval(&self) -> Duration {
        self.heartbeat
    }

    /// One heartbeat. `false` when the name was taken over by another node (this one was
    /// silent for too long): it is no longer in the cluster's list.
    pub async fn beat(&self) -> Result<bool> {
        let mut db = self.cluster.store.read().await?;
        nodes::heartbeat(&mut db, &self.name, &self.started_at, now()).await
    }

    /// Marks this node stopped (a clean stop).
    pub async fn leave(self) -> Result<()> {
        let mut db = self.cluster.store.read().await?;
        nodes::stop(&mut db, &self.name, &self.started_at, now()).await
    }
}

/// The machine's host name (`localhost` when it has none): the default name of a node, and of
/// the cluster's hostname at `init`.
pub fn system_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
