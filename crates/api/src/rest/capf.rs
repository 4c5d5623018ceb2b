//! CAPF: a device's CAPF Information (`PUT /devices/{name}/capf`, `device set NAME`), the same
//! for every device a filter matches (`POST /capf/bulk`, `device set --match`, like BAT), and the
//! CAPF certificates (`capf show|regenerate|reissue`). Scheduling operations is the help desk's
//! job; changing the CAPF certificate needs an administrator.

use axum::extract::State;
use opencapf_cluster::{CapfCertificate, CapfSettings, RegenerateReport, Selection, SetResult};
use opencapf_model::{AuthMode, CertificateOperation, DeviceName, KeyAlgorithm, KeyOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{JsonBody, PathParam};
use super::json::Answer;
use super::query::DeviceFilter;
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_one))
        .routes(routes!(set_bulk))
        .routes(routes!(show))
        .routes(routes!(regenerate))
        .routes(routes!(reissue))
}

/// The CAPF Information to set; an absent field keeps each device's value. Values are the CLI's
/// tokens (`install`, `lsc`, `ec`) or CUCM's names.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CapfChange {
    /// `none`, `install`, `delete` or `troubleshoot`.
    operation: Option<String>,
    /// `string`, `null-string`, `lsc`, `mic`...
    auth_mode: Option<String>,
    /// 4 to 10 digits.
    auth_string: Option<String>,
    /// Generate an 8-digit string (shown once in the answer).
    #[serde(default)]
    generate_auth_string: bool,
    /// `rsa`, `ec` or `ec-rsa`.
    key_order: Option<String>,
    rsa_bits: Option<u32>,
    ec_bits: Option<u32>,
    /// Replace operations already pending (otherwise 409).
    #[serde(default)]
    replace: bool,
    /// Operation Completes By: `YYYY-MM-DD` (end of that day) or RFC 3339.
    completes_by: Option<String>,
    /// Or: days from now. Default: the cluster's "CAPF Operation Expires in".
    expires_in_days: Option<u32>,
}

fn parsed<T: std::str::FromStr<Err = opencapf_model::ModelError>>(v: &Option<String>) -> Result<Option<T>, Problem> {
    Ok(v.as_deref().map(str::parse).transpose().map_err(opencapf_cluster::Error::from)?)
}

impl CapfChange {
    fn settings(&self) -> Result<CapfSettings, Problem> {
        Ok(CapfSettings {
            operation: parsed::<CertificateOperation>(&self.operation)?,
            auth_mode: parsed::<AuthMode>(&self.auth_mode)?,
            auth_string: self.auth_string.clone(),
            generate_auth_string: self.generate_auth_string,
            key_order: parsed::<KeyOrder>(&self.key_order)?,
            rsa_bits: self.rsa_bits,
            ec_bits: self.ec_bits,
            replace_pending: self.replace,
        })
    }
}

async fn apply(state: &AppState, caller: &Caller, selection: Selection, c: &CapfChange) -> Result<Answer, Problem> {
    let settings = c.settings()?;
    settings.validate()?;
    let deadline = state.cluster.operation_deadline(c.completes_by.as_deref(), c.expires_in_days).await?;
    let results = state.cluster.set_capf(&selection, &settings, deadline, &caller.actor, |_, _| {}).await?;
    Answer::ok(&results)
}

/// Sets one device's CAPF Information (helpdesk or admin), as `device set NAME`.
#[utoipa::path(put, path = "/api/v1/devices/{name}/capf", tag = "capf", params(("name" = String, Path)), request_body = CapfChange,
    responses((status = 200, description = "the device after the change", body = [SetResult])))]
async fn set_one(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
    JsonBody(c): JsonBody<CapfChange>,
) -> Result<Answer, Problem> {
    let name: DeviceName = name.parse().map_err(opencapf_cluster::Error::from)?;
    apply(&state, &caller, Selection::Names(vec![name]), &c).await
}

/// Which devices a bulk change selects, and the change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkCapf {
    /// The devices: every one this filter matches (all pages).
    #[serde(default)]
    filter: DeviceFilter,
    /// Every device instead of a filter.
    #[serde(default)]
    all: bool,
    capf: CapfChange,
}

/// Sets the CAPF Information of every device a filter matches, in one transaction (helpdesk or
/// admin), as `device set --match` or BAT.
#[utoipa::path(post, path = "/api/v1/capf/bulk", tag = "capf", request_body = BulkCapf,
    responses((status = 200, description = "each changed device", body = [SetResult])))]
async fn set_bulk(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<BulkCapf>,
) -> Result<Answer, Problem> {
    let query = b.filter.query()?;
    let selection = match (b.all, !b.filter.is_empty()) {
        (true, false) => Selection::All,
        (false, true) => Selection::Query(query),
        (true, true) => {
            return Err(Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "give a filter or all, not both"))
        }
        (false, false) => return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "give a filter (name, model, line, lsc, issuer, status, operation...); for every device use \"all\": true",
        )),
    };
    apply(&state, &caller, selection, &b.capf).await
}

/// The CAPF certificates, active first, as `capf show --json`.
#[utoipa::path(get, path = "/api/v1/capf", tag = "capf",
    responses((status = 200, description = "the CAPF certificates", body = [CapfCertificate])))]
async fn show(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.capf_certificates().await?)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Regenerate {
    /// The new key: `rsa2048` (default: the current one's), `ec256`...
    key: Option<String>,
}

/// `capf regenerate --json`: the report, and what happens next for the phones.
#[derive(Serialize, ToSchema)]
pub(crate) struct Regenerated {
    #[serde(flatten)]
    report: RegenerateReport,
    still_on_old_capf: usize,
    next_steps: Vec<String>,
}

/// Regenerates the CAPF certificate (admin), as `capf regenerate`.
#[utoipa::path(post, path = "/api/v1/capf/regenerate", tag = "capf", request_body = Regenerate,
    responses((status = 200, description = "the new and the retired certificate", body = Regenerated)))]
async fn regenerate(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<Regenerate>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let key = b.key.as_deref().map(str::parse::<KeyAlgorithm>).transpose().map_err(opencapf_cluster::Error::from)?;
    let report = state.cluster.regenerate_capf(key, &caller.actor).await?;
    let still_on_old_capf = report.devices_on_retired.len();
    let next_steps = opencapf_diagnostics::after_capf_regenerate(still_on_old_capf);
    Answer::ok(&Regenerated { report, still_on_old_capf, next_steps })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reissue {
    /// `YYYY-MM-DD` (end of that day) or RFC 3339.
    completes_by: Option<String>,
    expires_in_days: Option<u32>,
}

/// Schedules new LSCs for the devices holding one from a retired CAPF certificate (admin), as
/// `capf reissue`: the names scheduled.
#[utoipa::path(post, path = "/api/v1/capf/reissue", tag = "capf", request_body = Reissue,
    responses((status = 200, description = "the devices scheduled", body = [String])))]
async fn reissue(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<Reissue>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let deadline = state.cluster.operation_deadline(b.completes_by.as_deref(), b.expires_in_days).await?;
    Answer::ok(&state.cluster.reissue(deadline, &caller.actor).await?)
}

/// A bulk body read and turned into the query and settings, as `set_bulk` does (fuzzing).
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_bulk(body: &[u8]) {
    if let Ok(b) = serde_json::from_slice::<BulkCapf>(body) {
        let _ = b.filter.query();
        if let Ok(s) = b.capf.settings() {
            let _ = s.validate();
        }
        let _ = opencapf_cluster::completes_by(
            b.capf.completes_by.as_deref(),
            b.capf.expires_in_days,
            time::OffsetDateTime::now_utc(),
        );
    }
}
