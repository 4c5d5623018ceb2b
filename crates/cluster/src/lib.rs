//! The use cases of an OpenCAPF cluster, over `opencapf-store`. Every change is one transaction
//! plus its audit record and returns a typed result that is also the `--json` shape, so that the
//! CLI, the servers and later a REST API share one copy of each rule.
//!
//! - [`Cluster`]: the handle ([`Cluster::open`]); its methods are spread over the modules below.
//! - [`init`]: creating a cluster ([`init()`], [`InitOptions`], [`InitReport`]).
//! - [`capf`]: CAPF regeneration and reissue, the lab manufacturer, signers and keys.
//! - [`credentials`]: authentication strings at rest (a keyed hash) and `capf.require_sudi`.
//! - [`trust`]: trust-store additions, the guarded removal, exports and anchors.
//! - [`devices`]: device add / import / update / remove / set (the CAPF settings and their
//!   key-size and authentication-string rules), record-cert, and the device reads.
//! - [`session`]: what the CAPF server records of each session (begin, failures with the
//!   lock-out, the issued LSC, install / delete / troubleshoot outcomes).
//! - [`reads`]: status, audit, registrations (and recording one), settings.
//! - [`lsc`]: whether an LSC is this cluster's, and its state.
//! - [`actor`]: who the audit records name for command-line changes.

pub mod actor;
pub mod capf;
pub mod credentials;
pub mod devices;
pub mod init;
pub mod lsc;
pub mod reads;
pub mod session;
pub mod trust;

use std::path::Path;

use opencapf_store::Store;

pub use actor::cli_actor;
pub use init::{init, InitOptions, InitReport};
pub use opencapf_store::StoreError as Error;
pub use opencapf_store::DB_FILE;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An open cluster. Cheap to clone (the database pool is shared).
#[derive(Clone)]
pub struct Cluster {
    store: Store,
    auth_key: credentials::AuthKey,
}

impl Cluster {
    /// Opens the cluster in `data_dir` (`Error::NoCluster` when there is none). Authentication
    /// strings an older version stored in clear are hashed now.
    pub async fn open(data_dir: &Path) -> Result<Cluster> {
        let store = Store::open(data_dir).await?;
        let auth_key = credentials::AuthKey::load(data_dir)?;
        auth_key.migrate(&store).await?;
        Ok(Cluster { store, auth_key })
    }

    pub fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}
