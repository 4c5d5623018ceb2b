//! `/metrics`: the process's counters (CAPF sessions, registrations, refusals, connections, file
//! requests) and the cluster's expiry gauges, in the Prometheus / OpenMetrics text format. It
//! needs a token or a session like the API: what it says (fleet size, refusal reasons) is not
//! for anyone who can reach the port. Prometheus sends the token with `authorization:
//! credentials_file`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use opencapf_telemetry::{render, ClusterGauges, CONTENT_TYPE};

use crate::auth::Caller;
use crate::AppState;

pub(crate) async fn metrics(State(state): State<AppState>, _caller: Caller) -> Response {
    // A database that cannot be read leaves the gauges out; the counters are still served.
    let g = match state.cluster.expiry_gauges().await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!("metrics: the expiry gauges could not be read: {e}");
            None
        }
    };
    let gauges = ClusterGauges {
        lsc_expiring_30d: g.as_ref().map(|g| g.lsc_expiring_30d),
        lsc_expired: g.as_ref().map(|g| g.lsc_expired),
        capf_not_after: g.and_then(|g| g.capf_not_after).map(|t| t.unix_timestamp()),
    };
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&gauges)).into_response()
}
