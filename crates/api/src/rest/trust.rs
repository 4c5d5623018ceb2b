//! `/api/v1/trust`: the trust stores (`opencapf trust list|add|remove|export`). Reading is for
//! everyone; adding and removing need an administrator.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use opencapf_cluster::{Removal, TrustAddition};
use opencapf_model::{TrustEntry, TrustStore};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Params, PathParam, Upload, MAX_CERTIFICATE};
use super::json::Answer;
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(list_store, add))
        .routes(routes!(export))
        .routes(routes!(remove))
}

fn store(name: &str) -> Result<TrustStore, Problem> {
    name.parse::<TrustStore>().map_err(|e| Problem::new(StatusCode::NOT_FOUND, e.to_string()))
}

/// Every trust store's certificates, as `trust list --json`.
#[utoipa::path(get, path = "/api/v1/trust", tag = "trust",
    responses((status = 200, description = "every entry", body = [TrustEntry])))]
async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.trust_list(None).await?)
}

/// One store's certificates, as `trust list --store STORE --json`.
#[utoipa::path(get, path = "/api/v1/trust/{store}", tag = "trust",
    params(("store" = String, Path, description = "CallManager-trust, CAPF-trust or Phone-SAST-trust")),
    responses((status = 200, description = "the store's entries", body = [TrustEntry])))]
async fn list_store(
    State(state): State<AppState>,
    _caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.trust_list(Some(store(&name)?)).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AddParams {
    /// `true` lets this CA's SHA-1-signed certificates in (old MICs); `false` stops it.
    legacy_sha1: Option<bool>,
}

/// Adds certificates (a PEM bundle or one DER certificate, at most 256 KiB) to a store (admin),
/// as `trust add`. Adding one already there is not an error.
#[utoipa::path(post, path = "/api/v1/trust/{store}", tag = "trust", params(("store" = String, Path), AddParams),
    request_body(content = Vec<u8>, content_type = "application/x-pem-file", description = "PEM certificates, or one DER certificate (application/pkix-cert)"),
    responses((status = 200, description = "each certificate and whether it was added", body = [TrustAddition])))]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
    Params(p): Params<AddParams>,
    Upload(body): Upload<MAX_CERTIFICATE>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let kind = store(&name)?;
    let ders = opencapf_pki::pem::parse_certificates(&body).map_err(opencapf_cluster::Error::from)?;
    let added = state.cluster.add_trust(kind, &ders, p.legacy_sha1, &caller.actor).await?;
    Answer::ok(&added.iter().map(|(info, a)| TrustAddition::new(kind, info, *a)).collect::<Vec<_>>())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RemoveParams {
    /// Remove it even though devices depend on it (audited as forced).
    #[serde(default)]
    force: bool,
}

/// Removes a certificate from a store (admin), as `trust remove`. Refused (409) while a device's
/// current certificate chains to it, the problem's `devices` listing them, or while a trust
/// consumer is not confirmed to run with the active CAPF certificate (for a retired one), the
/// problem's `consumers` listing them.
#[utoipa::path(delete, path = "/api/v1/trust/{store}/{cert}", tag = "trust",
    params(("store" = String, Path), ("cert" = String, Path, description = "the fingerprint (or its start) or the common name"), RemoveParams),
    responses((status = 200, description = "what was removed", body = Removal)))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParam((name, cert)): PathParam<(String, String)>,
    Params(p): Params<RemoveParams>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let kind = store(&name)?;
    match state.cluster.remove_trust(kind, &cert, p.force, &caller.actor).await {
        Ok(removal) => Answer::ok(&removal),
        Err(e @ opencapf_cluster::Error::Refused(_)) => {
            let mut problem = Problem::from(e);
            problem.devices = state.cluster.trust_dependents(kind, &cert).await.unwrap_or_default();
            let consumers = state.cluster.trust_unconfirmed_consumers(kind, &cert).await.unwrap_or_default();
            problem.consumers = (!consumers.is_empty()).then(|| Box::new(consumers));
            Err(problem)
        }
        Err(e) => Err(e.into()),
    }
}

/// A store's certificates as one PEM bundle, as `trust export`.
#[utoipa::path(get, path = "/api/v1/trust/{store}/export", tag = "trust", params(("store" = String, Path)),
    responses((status = 200, description = "PEM certificates", content_type = "application/x-pem-file", body = String)))]
async fn export(
    State(state): State<AppState>,
    _caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Response, Problem> {
    let kind = store(&name)?;
    let entries = state.cluster.trust_list(Some(kind)).await?;
    let bundle: String = entries.iter().map(|e| opencapf_pki::pem::encode("CERTIFICATE", &e.der)).collect();
    Ok(pem(bundle, &format!("{kind}.pem")))
}

/// A PEM download.
pub(crate) fn pem(text: String, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, "application/x-pem-file".to_owned()), (header::CONTENT_DISPOSITION, disposition)], text)
        .into_response()
}
