//! What the protocol crates call when something happens: each an atomic add on one series.

use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;

use crate::labels::{
    CapfOperation, CapfResult, CapfSessionLabels, ConnectionRefusal, ConnectionRefusalLabels, FileLabels, FileProtocol,
    FileResult, ListenerLabels, PhoneTransport, RefusalLabels, RefusalReason, TransportLabels, TvsLabels, TvsResult,
};
use crate::metrics::METRICS;

/// A CAPF session ended.
pub fn capf_session(operation: CapfOperation, result: CapfResult) {
    METRICS.capf_sessions.get_or_create(&CapfSessionLabels { operation, result }).inc();
}

/// CAPF issued an LSC in `took`.
pub fn issuance_latency(took: Duration) {
    METRICS.issuance.observe(took.as_secs_f64());
}

/// A phone registered (a refresh of the same registration is not counted again).
pub fn registration(transport: PhoneTransport) {
    METRICS.registrations.get_or_create(&TransportLabels { transport }).inc();
}

/// CallManager refused a registration or a phone's TLS handshake.
pub fn refusal(transport: PhoneTransport, reason: RefusalReason) {
    METRICS.refusals.get_or_create(&RefusalLabels { transport, reason }).inc();
}

/// A configuration file was asked for.
pub fn file_request(protocol: FileProtocol, result: FileResult) {
    METRICS.file_requests.get_or_create(&FileLabels { protocol, result }).inc();
}

/// TVS answered a query.
pub fn tvs_query(result: TvsResult) {
    METRICS.tvs_queries.get_or_create(&TvsLabels { result }).inc();
}

/// One listener's connection metrics, looked up once when it binds.
#[derive(Debug, Clone)]
pub struct Listener {
    name: &'static str,
    open: Gauge,
}

impl Listener {
    /// The metrics of the listener named `name` (its service's name, `CAPF`, `SIP over TLS`).
    pub fn new(name: &'static str) -> Listener {
        let open = METRICS.open_connections.get_or_create_owned(&ListenerLabels { listener: name });
        Listener { name, open }
    }

    /// A connection was admitted: counted open until the guard is dropped.
    pub fn opened(&self) -> ConnectionGuard {
        self.open.inc();
        ConnectionGuard { open: self.open.clone() }
    }

    /// A connection was closed at once, over a limit.
    pub fn refused(&self, reason: ConnectionRefusal) {
        METRICS.refused_connections.get_or_create(&ConnectionRefusalLabels { listener: self.name, reason }).inc();
    }
}

/// An open connection of a [`Listener`]; dropping it counts the connection closed.
#[derive(Debug)]
#[must_use = "the connection counts as closed when the guard is dropped"]
pub struct ConnectionGuard {
    open: Gauge,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.open.dec();
    }
}
