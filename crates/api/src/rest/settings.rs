//! `/api/v1/settings`: the settings an administrator changes by name (`opencapf settings
//! show|set`).

use axum::extract::State;
use opencapf_cluster::Setting;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{JsonBody, PathParam};
use super::json::Answer;
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(set))
}

/// Every setting with its value and what it does, as `settings show --json`.
#[utoipa::path(get, path = "/api/v1/settings", tag = "cluster",
    responses((status = 200, description = "the settings", body = [Setting])))]
async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.settings_list().await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewValue {
    value: String,
}

/// Sets one setting (admin), as `settings set KEY VALUE`.
#[utoipa::path(put, path = "/api/v1/settings/{key}", tag = "cluster",
    params(("key" = String, Path, description = "e.g. lsc.validity_days, capf.operation_expires_days, tls.min_version")),
    request_body = NewValue,
    responses((status = 200, description = "the setting after the change", body = Setting)))]
async fn set(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(key): PathParam<String>,
    JsonBody(b): JsonBody<NewValue>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    Answer::ok(&state.cluster.set_setting(&key, &b.value, &caller.actor).await?)
}
