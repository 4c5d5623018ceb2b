//! `opencapf nodes`: the `serve` processes of the cluster (several on one PostgreSQL database),
//! where phones reach each, its version, when it started and last beat, and its state.

use opencapf_cluster::NodeStatus;

use super::Context;
use crate::output::{self, Table};

pub(crate) async fn run(ctx: &Context) -> anyhow::Result<()> {
    let cluster = ctx.cluster().await?;
    let nodes = cluster.nodes().await?;
    if ctx.json {
        return output::json(&nodes);
    }
    if nodes.is_empty() {
        outln!("No node has run yet: `opencapf serve` records itself when it starts.");
        return Ok(());
    }
    let mut t = Table::new(&["NAME", "STATE", "HOST", "PORTS", "VERSION", "STARTED", "LAST HEARTBEAT"]);
    for n in &nodes {
        t.row(vec![
            n.node.name.clone(),
            n.state.as_str().to_owned(),
            n.node.addresses.host.clone(),
            ports(n),
            n.node.version.clone(),
            n.node.started_at.clone(),
            n.node.heartbeat_at.clone(),
        ]);
    }
    t.print();
    Ok(())
}

/// Each service's port, named as the `serve` flags name them.
fn ports(n: &NodeStatus) -> String {
    let a = &n.node.addresses;
    let mut p = vec![
        format!("capf {}", a.capf_port),
        format!("sip {}/{}", a.sip_port, a.secured_sip_port),
        format!("sccp {}", a.sccp_port),
        format!("tvs {}", a.tvs_port),
    ];
    p.extend(a.http_port.map(|h| format!("http {h}")));
    p.extend(a.admin_port.map(|h| format!("admin {h}")));
    p.join(", ")
}
