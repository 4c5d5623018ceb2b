//! The families and the process-wide registry they are registered in, once.

use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::labels::{
    CapfOperation, CapfResult, CapfSessionLabels, ConnectionRefusalLabels, FileLabels, ListenerLabels, PhoneTransport,
    RefusalLabels, TransportLabels, TvsLabels,
};

/// Every family the events count.
pub(crate) struct Metrics {
    pub registry: Registry,
    pub capf_sessions: Family<CapfSessionLabels, Counter>,
    pub issuance: Histogram,
    pub registrations: Family<TransportLabels, Counter>,
    pub refusals: Family<RefusalLabels, Counter>,
    pub open_connections: Family<ListenerLabels, Gauge>,
    pub refused_connections: Family<ConnectionRefusalLabels, Counter>,
    pub file_requests: Family<FileLabels, Counter>,
    pub tvs_queries: Family<TvsLabels, Counter>,
}

pub(crate) static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// Issuance buckets: 1 ms to about 8 s, doubling. Signing an LSC takes milliseconds; seconds
/// mean a slow database or a starved blocking pool.
fn issuance_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 2.0, 14)
}

impl Metrics {
    fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::default(),
            capf_sessions: Family::default(),
            issuance: Histogram::new(issuance_buckets()),
            registrations: Family::default(),
            refusals: Family::default(),
            open_connections: Family::default(),
            refused_connections: Family::default(),
            file_requests: Family::default(),
            tvs_queries: Family::default(),
        };
        // Series a dashboard plots from the start: present at 0 before the first event, so that
        // rate() and increase() see the first one.
        for &transport in PhoneTransport::ALL {
            let _ = m.registrations.get_or_create(&TransportLabels { transport });
        }
        for &operation in &[CapfOperation::InstallUpgrade, CapfOperation::Delete, CapfOperation::Troubleshoot] {
            let _ = m.capf_sessions.get_or_create(&CapfSessionLabels { operation, result: CapfResult::Success });
        }
        m.register()
    }

    fn register(mut self) -> Metrics {
        let r = &mut self.registry;
        // Counter names without `_total`: the encoder adds it.
        r.register("opencapf_capf_sessions", "CAPF sessions by operation and result", self.capf_sessions.clone());
        r.register_with_unit(
            "opencapf_capf_issuance",
            "Time CAPF took to issue an LSC: from the phone's public key received to the LSC signed and recorded",
            Unit::Seconds,
            self.issuance.clone(),
        );
        r.register(
            "opencapf_registrations",
            "Phone registrations to CallManager by transport",
            self.registrations.clone(),
        );
        r.register(
            "opencapf_registration_refusals",
            "Registrations and TLS handshakes CallManager refused, by transport and reason",
            self.refusals.clone(),
        );
        r.register(
            "opencapf_open_connections",
            "TCP connections open now, per listener",
            self.open_connections.clone(),
        );
        r.register(
            "opencapf_refused_connections",
            "TCP connections a listener closed at once, over its limits",
            self.refused_connections.clone(),
        );
        r.register(
            "opencapf_file_requests",
            "Configuration file requests by protocol and result",
            self.file_requests.clone(),
        );
        r.register("opencapf_tvs_queries", "TVS certificate queries by answer", self.tvs_queries.clone());
        self
    }
}
