//! The `/metrics` text: the event families, then the cluster's gauges read at scrape time.

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::metrics::METRICS;

/// The content type of [`render`]'s text (OpenMetrics 1.0, which Prometheus asks for first).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the database says at scrape time. A value the scrape could not read is `None` and its
/// metric is left out, rather than shown as a misleading 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterGauges {
    /// Installed LSCs of this cluster's CAPF that expire within 30 days (not yet expired).
    pub lsc_expiring_30d: Option<u64>,
    /// Installed LSCs of this cluster's CAPF already expired.
    pub lsc_expired: Option<u64>,
    /// The active CAPF certificate's notAfter, in seconds since the Unix epoch.
    pub capf_not_after: Option<i64>,
}

/// The whole exposition: every event family, the cluster's gauges, `# EOF`.
pub fn render(cluster: &ClusterGauges) -> String {
    let gauges = cluster_registry(cluster);
    let mut out = String::with_capacity(8 * 1024);
    // Writing to a String cannot fail, and every name and label here is the code's own.
    let _ = encode_registry(&mut out, &METRICS.registry)
        .and_then(|()| encode_registry(&mut out, &gauges))
        .and_then(|()| encode_eof(&mut out));
    out
}

/// A registry of this scrape's cluster gauges: built per scrape, so that an unread value is
/// absent rather than left at the previous scrape's.
fn cluster_registry(cluster: &ClusterGauges) -> Registry {
    let mut r = Registry::default();
    let gauge = |v: i64| {
        let g: Gauge = Gauge::default();
        g.set(v);
        g
    };
    if let Some(n) = cluster.lsc_expiring_30d {
        let help = "Installed LSCs of this cluster that expire within 30 days";
        r.register("opencapf_lsc_expiring_30d", help, gauge(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    if let Some(n) = cluster.lsc_expired {
        let help = "Installed LSCs of this cluster that have expired";
        r.register("opencapf_lsc_expired", help, gauge(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    if let Some(t) = cluster.capf_not_after {
        let help = "When the active CAPF certificate expires (notAfter, Unix time)";
        r.register_with_unit("opencapf_capf_certificate_expiry_timestamp", help, Unit::Seconds, gauge(t));
    }
    r
}
