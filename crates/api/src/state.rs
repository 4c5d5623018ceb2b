//! What every handler reaches: the cluster and the service's own memory.

use std::sync::Arc;

use opencapf_cluster::Cluster;

use crate::auth::{LoginLimiter, Sessions};

/// Shared by every connection; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub cluster: Cluster,
    pub sessions: Sessions,
    pub(crate) limiter: Arc<LoginLimiter>,
}

impl AppState {
    pub fn new(cluster: Cluster) -> AppState {
        AppState { cluster, sessions: Sessions::default(), limiter: Arc::default() }
    }
}
