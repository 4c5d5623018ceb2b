//! What every handler reaches: the cluster, which also keeps the web sessions and the failed
//! logins (in its database, shared by every node).

use opencapf_cluster::Cluster;

/// Shared by every connection; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub cluster: Cluster,
}

impl AppState {
    pub fn new(cluster: Cluster) -> AppState {
        AppState { cluster }
    }
}
