//! A node of the cluster: one `serve` process, what phones reach it at, and whether it is alive
//! (from its last heartbeat).

use serde::Serialize;
use time::OffsetDateTime;

use crate::parse_ts;

/// A node is dead once its last heartbeat is this many intervals old: its name may be taken.
pub const MISSED_HEARTBEATS: i64 = 3;

/// Where a node's services answer: the advertised host and each service's port. `http` and
/// `admin` are `None` when that listener is off.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeAddresses {
    /// The name or address phones and other nodes reach the node at (`--advertise`).
    pub host: String,
    pub capf_port: u16,
    pub sip_port: u16,
    pub secured_sip_port: u16,
    pub sccp_port: u16,
    pub tvs_port: u16,
    pub http_port: Option<u16>,
    pub admin_port: Option<u16>,
}

/// A node as recorded in the cluster database.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub name: String,
    #[serde(flatten)]
    pub addresses: NodeAddresses,
    /// The OpenCAPF version the node runs.
    pub version: String,
    pub started_at: String,
    pub heartbeat_at: String,
    /// Seconds between its heartbeats.
    pub heartbeat_secs: u32,
    /// Set when it stopped cleanly.
    pub stopped_at: Option<String>,
}

/// What a node's row says of it now.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    Running,
    Stopped,
    /// No heartbeat for [`MISSED_HEARTBEATS`] intervals: killed, hung or cut off.
    NotResponding,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Running => "running",
            NodeState::Stopped => "stopped",
            NodeState::NotResponding => "not responding",
        }
    }
}

impl Node {
    /// The node's state at `now`. An unreadable heartbeat time counts as not responding.
    pub fn state(&self, now: OffsetDateTime) -> NodeState {
        if self.stopped_at.is_some() {
            return NodeState::Stopped;
        }
        let Ok(beat) = parse_ts(&self.heartbeat_at) else { return NodeState::NotResponding };
        let limit = i64::from(self.heartbeat_secs.max(1)) * MISSED_HEARTBEATS;
        // Timestamps are whole seconds: one second of slack so a beat on time never reads late.
        if (now - beat).whole_seconds() > limit + 1 {
            NodeState::NotResponding
        } else {
            NodeState::Running
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(beat: &str, stopped: Option<&str>) -> Node {
        Node {
            name: "a".into(),
            addresses: NodeAddresses {
                host: "h".into(),
                capf_port: 3804,
                sip_port: 5060,
                secured_sip_port: 5061,
                sccp_port: 2000,
                tvs_port: 2445,
                http_port: Some(6970),
                admin_port: None,
            },
            version: "0".into(),
            started_at: beat.into(),
            heartbeat_at: beat.into(),
            heartbeat_secs: 5,
            stopped_at: stopped.map(Into::into),
        }
    }

    #[test]
    fn state_follows_the_heartbeat_age() {
        let t = parse_ts("2025-01-01T00:00:00Z").unwrap();
        let n = node("2025-01-01T00:00:00Z", None);
        assert_eq!(n.state(t + time::Duration::seconds(10)), NodeState::Running);
        assert_eq!(n.state(t + time::Duration::seconds(16)), NodeState::Running);
        assert_eq!(n.state(t + time::Duration::seconds(17)), NodeState::NotResponding);
        assert_eq!(node("2025-01-01T00:00:00Z", Some("2025-01-01T00:00:01Z")).state(t), NodeState::Stopped);
        assert_eq!(node("garbage", None).state(t), NodeState::NotResponding);
    }
}
