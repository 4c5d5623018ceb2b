//! The REST API under `/api/v1`: the CLI's commands as resources, JSON in and out, errors as
//! problem details. Scripts authenticate with an API token; the web pages' script with the
//! session cookie and the CSRF header.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use opencapf_cluster::Status;

use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/status", get(status))
}

/// The cluster's state, as `opencapf status --json`.
async fn status(State(state): State<AppState>, _caller: Caller) -> Result<Json<Status>, Problem> {
    Ok(Json(state.cluster.status().await?))
}
