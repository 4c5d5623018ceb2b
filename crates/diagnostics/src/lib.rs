//! Diagnostics: the answers a TAC engineer gives, from what an administrator has.
//!
//! - [`pcap`]: a packet capture (pcap or pcapng) read as a stream with bounded memory: every TLS
//!   connection with its endpoints, service, version, cipher, server and **client** certificates,
//!   their kind (LSC of this cluster, LSC of another cluster, MIC, other), alerts and outcome; with
//!   a cluster, the verdict of CallManager-trust and CAPF-trust on each client certificate.
//! - [`log`]: a phone console log (`PXY_NO_LSC`, `PXY_CERT_CIPHER`, `STATE_SSL3_ALERT`, `SECUREAPP`
//!   lines, trust list and TVS lines) turned into findings with the seed's remedies.
//! - [`doctor`]: one run over the cluster's own state: what will break, for how many phones, and
//!   the remedy.
//! - [`synth`]: builders for captures made byte by byte (pcap, pcapng, link layers, IP, TCP, TLS
//!   handshake messages), used by the tests, the benchmark and the fuzz target.
//!
//! Every finding carries a [`Severity`], the number of devices it concerns and the remedy.
//!
//! Private modules, re-exported here: `cluster` ([`ClusterView`], what a diagnosis knows of the
//! cluster), `finding` ([`Finding`], [`Severity`]) and `remedies` (the seed's remedy texts).
//! [`pcap`], [`log`], [`doctor`] and [`synth`] stay public modules: each is a diagnosis (or, for
//! `synth`, a capture builder) with its own options, report and entry point, and those names
//! collide across them (`pcap::analyze` and `log::analyze`, `pcap::analyze_file` and
//! `log::analyze_file`), so they read right only beside the module's name.

mod cluster;
pub mod doctor;
mod finding;
pub mod log;
pub mod pcap;
mod remedies;
pub mod synth;

pub use cluster::ClusterView;
pub use finding::{Finding, Severity};
pub use remedies::after_capf_regenerate;

/// Errors that stop a diagnosis before it can say anything. Damaged or truncated input is not an
/// error: the report says what could be read and where reading stopped. Each message is whole
/// (context and cause's text); no variant exposes a `source()`, so the CLI prints each cause once.
#[derive(Debug, thiserror::Error)]
pub enum DiagnoseError {
    #[error("{context}: {cause}")]
    Io { context: String, cause: std::io::Error },
    #[error("{0}")]
    NotACapture(String),
    #[error("key log file: {0}")]
    KeyLog(String),
    #[error(transparent)]
    Store(#[from] opencapf_cluster::Error),
    #[error(transparent)]
    Pki(#[from] opencapf_pki::PkiError),
}

impl DiagnoseError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DiagnoseError {
        let context = context.into();
        move |cause| DiagnoseError::Io { context, cause }
    }
}

/// `YYYY-MM-DD` of a time, UTC.
pub(crate) fn date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}
