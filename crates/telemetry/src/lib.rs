//! OpenCAPF's metrics, in Prometheus' text format (OpenMetrics 1.0) for the admin service's
//! `/metrics`.
//!
//! | module | what it holds |
//! |---|---|
//! | `labels` | the label sets and their values, each a closed set: [`CapfOperation`], [`CapfResult`], [`PhoneTransport`], [`RefusalReason`], [`FileProtocol`], [`FileResult`], [`TvsResult`] |
//! | `metrics` | the families and the one process-wide registry they are registered in |
//! | `events` | what the protocol crates call: [`capf_session`], [`issuance_latency`], [`registration`], [`refusal`], [`file_request`], [`tvs_query`], [`Listener`] and its [`ConnectionGuard`] |
//! | `render` | [`render`] with the [`ClusterGauges`] read from the database at scrape time, and [`CONTENT_TYPE`] |
//! | `exposition` | a small reader of the text: [`check_exposition`] and [`sample_value`], for tests and health checks |
//!
//! The metrics:
//!
//! | name | type | labels | counted by |
//! |---|---|---|---|
//! | `opencapf_capf_sessions_total` | counter | `operation`, `result` | `capf`, at each session's end |
//! | `opencapf_capf_issuance_seconds` | histogram | | `capf`: public key received to LSC signed and recorded |
//! | `opencapf_registrations_total` | counter | `transport` | `callmanager`, new registrations (not refreshes) |
//! | `opencapf_registration_refusals_total` | counter | `transport`, `reason` | `callmanager`: rules and TLS handshakes |
//! | `opencapf_open_connections` | gauge | `listener` | `net`, every TCP listener |
//! | `opencapf_refused_connections_total` | counter | `listener`, `reason` | `net`, over the connection limits |
//! | `opencapf_file_requests_total` | counter | `protocol`, `result` | `tftp` (TFTP and HTTP) |
//! | `opencapf_tvs_queries_total` | counter | `result` | `tvs` |
//! | `opencapf_lsc_expiring_30d`, `opencapf_lsc_expired` | gauge | | [`ClusterGauges`], at scrape time |
//! | `opencapf_capf_certificate_expiry_timestamp_seconds` | gauge | | [`ClusterGauges`], at scrape time |
//!
//! Why one `static` registry rather than a handle passed around: the events happen deep inside
//! the listeners and sessions of six crates, and a process has one `/metrics`. Threading a
//! handle through every server's config would change every constructor for no gain (the same
//! choice as the `metrics` facade and Prometheus' own clients). Counting is an atomic add on a
//! series looked up under a read lock; connection gauges are looked up once per listener.
//!
//! Label values are never text from the wire or a device name: every label is one of the enums
//! of `labels` (or a listener's `&'static str` name), so the number of series stays bounded
//! whatever phones and scanners send.

mod events;
mod exposition;
mod labels;
mod metrics;
mod render;

pub use events::{
    capf_session, file_request, issuance_latency, refusal, registration, tvs_query, ConnectionGuard, Listener,
};
pub use exposition::{check_exposition, sample_value, ExpositionError};
pub use labels::{
    CapfOperation, CapfResult, ConnectionRefusal, FileProtocol, FileResult, PhoneTransport, RefusalReason, TvsResult,
};
pub use render::{render, ClusterGauges, CONTENT_TYPE};

#[cfg(test)]
mod tests;
