//! The cluster's state and records: status, audit log (and its hash chain), registrations,
//! doctor, the nodes (`opencapf status|audit|audit verify|registrations|doctor|nodes`).

use axum::extract::State;
use opencapf_cluster::{NodeStatus, Status};
use opencapf_diagnostics::doctor::{self, DoctorOptions};
use opencapf_model::{AuditChain, AuditEntry, DeviceName, Registration};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::Params;
use super::json::Answer;
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(audit))
        .routes(routes!(audit_verify))
        .routes(routes!(registrations))
        .routes(routes!(doctor_report))
        .routes(routes!(nodes))
}

/// The nodes of the cluster with their state, as `opencapf nodes --json`.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "cluster",
    responses((status = 200, description = "every node, by name", body = Vec<NodeStatus>)))]
async fn nodes(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.nodes().await?)
}

/// The cluster at a glance, as `opencapf status --json`.
#[utoipa::path(get, path = "/api/v1/status", tag = "cluster",
    responses((status = 200, description = "the cluster's state", body = Status)))]
async fn status(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.status().await?)
}

/// The largest `limit` of a list (audit, registrations).
const MAX_LIMIT: i64 = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct Recent {
    /// How many records, newest first: 1 to 10000 (default 50).
    limit: Option<i64>,
    /// Only this device's (registrations).
    device: Option<String>,
}

impl Recent {
    fn limit(&self) -> Result<i64, Problem> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(Problem::bad_request(format!("parameter limit: {n}: use 1 to {MAX_LIMIT}"))),
        }
    }
}

/// The audit log, newest first, as `audit --json`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "cluster", params(("limit" = Option<i64>, Query, description = "1 to 10000, default 50")),
    responses((status = 200, description = "audit records, newest first", body = [AuditEntry])))]
async fn audit(State(state): State<AppState>, _caller: Caller, Params(r): Params<Recent>) -> Result<Answer, Problem> {
    if r.device.is_some() {
        return Err(Problem::bad_request("parameter device: the audit log takes only limit"));
    }
    Answer::ok(&state.cluster.audit(r.limit()?).await?)
}

/// Walks the audit log's hash chain, as `audit verify --json` (`intact: false` names the first
/// broken record).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "cluster",
    responses((status = 200, description = "the chain's state", body = AuditChain)))]
async fn audit_verify(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.verify_audit().await?)
}

/// Registrations to CallManager, newest first, as `registrations --json`.
#[utoipa::path(get, path = "/api/v1/registrations", tag = "cluster", params(Recent),
    responses((status = 200, description = "registration events, newest first", body = [Registration])))]
async fn registrations(
    State(state): State<AppState>,
    _caller: Caller,
    Params(r): Params<Recent>,
) -> Result<Answer, Problem> {
    let device: Option<DeviceName> = r
        .device
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: opencapf_model::ModelError| Problem::bad_request(format!("parameter device: {e}")))?;
    Answer::ok(&state.cluster.registrations(device.as_ref(), r.limit()?).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DoctorParams {
    /// Name the devices of each finding (default: their number).
    #[serde(default)]
    verbose: bool,
    /// Report what expires within this many days (default 30, at most 3650).
    expiry_days: Option<u32>,
}

/// What in the cluster's state will break, for how many phones, and the remedy, as
/// `doctor --json`.
#[utoipa::path(get, path = "/api/v1/doctor", tag = "cluster", params(DoctorParams),
    responses((status = 200, description = "the findings and their summary", body = Object)))]
async fn doctor_report(
    State(state): State<AppState>,
    _caller: Caller,
    Params(p): Params<DoctorParams>,
) -> Result<Answer, Problem> {
    let expiry_days = p.expiry_days.unwrap_or(30);
    if expiry_days > 3650 {
        return Err(Problem::bad_request("parameter expiry_days: use 0 to 3650"));
    }
    let opts = DoctorOptions { expiry_days, ..Default::default() };
    let report = doctor::run(&state.cluster, &opts).await.map_err(Problem::internal)?;
    Answer::ok(&if p.verbose { report } else { report.without_names() })
}
