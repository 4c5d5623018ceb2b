//! `/api/v1/accounts` and `/api/v1/tokens` (`opencapf admin account|token ...`): who may use
//! the admin pages and the API. Administrators only, reading included: the list of accounts is
//! who to attack.

use axum::extract::State;
use axum::http::StatusCode;
use opencapf_model::{Account, AccountRole, ApiToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{JsonBody, PathParam};
use super::json::{no_content, Answer};
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts, add_account))
        .routes(routes!(remove_account))
        .routes(routes!(set_role))
        .routes(routes!(tokens, create_token))
        .routes(routes!(revoke_token))
}

fn role(s: &str) -> Result<AccountRole, Problem> {
    Ok(s.parse::<AccountRole>().map_err(opencapf_cluster::Error::from)?)
}

/// The accounts (admin), as `admin account list --json`.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, description = "the accounts", body = [Account])))]
async fn accounts(State(state): State<AppState>, caller: Caller) -> Result<Answer, Problem> {
    caller.require_admin()?;
    Answer::ok(&state.cluster.accounts().await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAccount {
    name: String,
    /// `admin` or `helpdesk`.
    role: String,
    /// Its password (the same length rules as `admin account add`).
    password: String,
}

/// Adds an account (admin), as `admin account add`.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, description = "the account", body = Account)))]
async fn add_account(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<NewAccount>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let a = state.cluster.add_account(&b.name, role(&b.role)?, &b.password, &caller.actor).await?;
    Answer::created(&a)
}

/// Removes an account (admin), as `admin account remove`.
#[utoipa::path(delete, path = "/api/v1/accounts/{name}", tag = "accounts", params(("name" = String, Path)),
    responses((status = 204, description = "removed")))]
async fn remove_account(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<StatusCode, Problem> {
    caller.require_admin()?;
    state.cluster.remove_account(&name, &caller.actor).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRole {
    /// `admin` or `helpdesk`.
    role: String,
}

/// Changes an account's role (admin), as `admin account role`.
#[utoipa::path(put, path = "/api/v1/accounts/{name}/role", tag = "accounts", params(("name" = String, Path)), request_body = NewRole,
    responses((status = 200, description = "the account", body = Account)))]
async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
    JsonBody(b): JsonBody<NewRole>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    Answer::ok(&state.cluster.set_account_role(&name, role(&b.role)?, &caller.actor).await?)
}

/// The API tokens (admin), as `admin token list --json`; never their secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, description = "the tokens", body = [ApiToken])))]
async fn tokens(State(state): State<AppState>, caller: Caller) -> Result<Answer, Problem> {
    caller.require_admin()?;
    Answer::ok(&state.cluster.api_tokens().await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: String,
    /// `admin` or `helpdesk`.
    role: String,
}

/// A new token and its secret, shown once, as `admin token create --json`.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    token: ApiToken,
    /// `Authorization: Bearer SECRET`; stored hashed, never shown again.
    secret: String,
}

/// Creates an API token (admin), as `admin token create`.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, description = "the token and its secret, shown once", body = CreatedToken)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<NewToken>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let (token, secret) = state.cluster.create_token(&b.name, role(&b.role)?, &caller.actor).await?;
    Answer::created(&CreatedToken { token, secret })
}

/// Revokes an API token at once (admin), as `admin token revoke`.
#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "accounts", params(("name" = String, Path)),
    responses((status = 204, description = "revoked")))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<StatusCode, Problem> {
    caller.require_admin()?;
    state.cluster.revoke_token(&name, &caller.actor).await?;
    Ok(no_content())
}
