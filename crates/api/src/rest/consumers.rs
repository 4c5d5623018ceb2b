//! `/api/v1/consumers`: the systems outside the cluster that trust its CAPF certificates
//! (`opencapf consumer list|show|add|remove|confirm`), and `/api/v1/capf/rollover` (`capf
//! rollover status --json`). Reading is for everyone; changes need an administrator. Exports
//! are written by the CLI (`trust export --for … --consumer …`), which records them.

use axum::extract::State;
use opencapf_cluster::{Consumer, ConsumerExport, ConsumerKind, RolloverStatus};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{JsonBody, PathParam};
use super::json::{no_content, Answer};
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(show, remove))
        .routes(routes!(confirm))
        .routes(routes!(rollover))
}

/// Every consumer, with its last export and its last confirmed one, as `consumer list --json`.
#[utoipa::path(get, path = "/api/v1/consumers", tag = "trust",
    responses((status = 200, description = "the consumers", body = [Consumer])))]
async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.consumers().await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewConsumer {
    /// 1 to 64 letters, digits, `.`, `_` or `-`.
    name: String,
    /// `freeradius`, `ise`, `asa` or `other`.
    kind: String,
}

/// Records a consumer (admin), as `consumer add NAME --kind KIND`.
#[utoipa::path(post, path = "/api/v1/consumers", tag = "trust", request_body = NewConsumer,
    responses((status = 201, description = "the consumer", body = Consumer)))]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<NewConsumer>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let kind: ConsumerKind = b.kind.parse()?;
    Answer::created(&state.cluster.add_consumer(&b.name, kind, &caller.actor).await?)
}

/// One consumer, as `consumer show NAME --json`.
#[utoipa::path(get, path = "/api/v1/consumers/{name}", tag = "trust", params(("name" = String, Path)),
    responses((status = 200, description = "the consumer", body = Consumer)))]
async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.consumer(&name).await?)
}

/// Forgets a consumer and its exports (admin), as `consumer remove NAME`.
#[utoipa::path(delete, path = "/api/v1/consumers/{name}", tag = "trust", params(("name" = String, Path)),
    responses((status = 204, description = "removed")))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<axum::http::StatusCode, Problem> {
    caller.require_admin()?;
    state.cluster.remove_consumer(&name, &caller.actor).await?;
    Ok(no_content())
}

/// Records that the consumer's last export was applied (admin), as `consumer confirm NAME`.
#[utoipa::path(post, path = "/api/v1/consumers/{name}/confirm", tag = "trust", params(("name" = String, Path)),
    responses((status = 200, description = "the export now confirmed", body = ConsumerExport)))]
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    Answer::ok(&state.cluster.confirm_consumer(&name, "confirmed by the administrator", &caller.actor).await?)
}

/// Every step of the CAPF rollover and its state, as `capf rollover status --json`.
#[utoipa::path(get, path = "/api/v1/capf/rollover", tag = "capf",
    responses((status = 200, description = "the rollover", body = RolloverStatus)))]
async fn rollover(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.rollover_status().await?)
}
