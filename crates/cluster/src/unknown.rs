//! Configuration-file requests from devices the cluster does not know, kept so that an
//! administrator can add them (CUCM's auto-registration list; `device list --unknown-requests`).

use std::net::IpAddr;

use opencapf_model::{now, DeviceName, UnknownRequest};
use opencapf_store::unknown_requests;

use crate::{Cluster, Result};

impl Cluster {
    /// Records that `source` asked for `file` on behalf of `device`, which is not a device of the
    /// cluster. No audit record: the audit log is for administrators' and CAPF's actions, not
    /// strangers' requests. The list is bounded ([`unknown_requests::MAX_ROWS`]).
    pub async fn record_unknown_request(&self, device: &DeviceName, file: &str, source: IpAddr) -> Result<()> {
        let mut db = self.store.write().await?;
        unknown_requests::record(&mut db, device, file, &source.to_string(), now()).await?;
        db.commit().await
    }

    /// The devices that asked for a configuration file and are still not devices of the
    /// cluster, the most recent first.
    pub async fn unknown_requests(&self) -> Result<Vec<UnknownRequest>> {
        unknown_requests::list(&mut self.store.read().await?).await
    }
}
