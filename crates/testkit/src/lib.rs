//! Fixtures shared by the workspace's tests, so that each one is written once. A dev-dependency
//! only: nothing here is fit for production (keys are thrown away, every error panics).
//!
//! - [`cluster`](TestCluster): a cluster initialised with test defaults in a temporary folder
//!   ([`init_options`], [`init_cluster`]), devices with defaults ([`new_device`],
//!   [`add_device`]), and the lab manufacturer with its signer ([`lab_manufacturer`]).
//! - [`Ca`]: a CAPF or lab-manufacturer certificate made without a cluster, and the LSCs and
//!   MICs it signs ([`lsc`], [`mic`]); an ITLRecovery ([`Ca::itl_recovery`]) and the ITL it signs
//!   ([`itl`]).
//! - [`cisco_ca`]: Cisco's real CA certificates, read in place from `shared/data/cisco-ca`.
//! - [`Peer`]: a real peer program (openssl, baresip, tshark) whose output is collected.
//! - [`now`] and [`runtime`]: the clock and a current-thread runtime for synchronous tests.
//!
//! The `opencapf` command itself is driven from `crates/opencapf/tests`: `assert_cmd` finds the
//! binary only from that crate's own tests.

mod certs;
mod cluster;
mod data;
mod itl;
mod peer;

pub use certs::{lsc, mic, phone_key, Ca};
pub use cluster::{add_device, init_cluster, init_options, lab_manufacturer, new_device, TestCluster};
pub use data::{cisco_ca, cisco_manufacturer_cas, CISCO_CA};
pub use itl::itl;
pub use peer::Peer;

use time::OffsetDateTime;

/// The current time, as the certificates of a test are made.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A current-thread runtime, for synchronous tests that call the async cluster API.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}
