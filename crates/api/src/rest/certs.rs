//! The cluster's own certificates (`opencapf cert own|regenerate tomcat`) and `cert inspect` of
//! an uploaded certificate.

use axum::extract::State;
use axum::response::Response;
use opencapf_cluster::{Inspection, OwnCertificate};
use opencapf_model::{Service, ServiceCertificate, TrustStore};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Params, PathParam, Upload, MAX_CERTIFICATE};
use super::json::Answer;
use super::trust::pem;
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(one_pem))
        .routes(routes!(regenerate_tomcat))
        .routes(routes!(inspect))
}

/// The active certificate of `name` (CallManager, CAPF, ITLRecovery, TVS, tomcat).
async fn active(state: &AppState, name: &str) -> Result<OwnCertificate, Problem> {
    let service: Service = name
        .parse()
        .map_err(|e: opencapf_model::ModelError| Problem::new(axum::http::StatusCode::NOT_FOUND, e.to_string()))?;
    let own = state.cluster.own_certificates_read().await?;
    own.into_iter().find(|o| o.name == service && o.record.is_active()).ok_or_else(|| {
        Problem::new(axum::http::StatusCode::NOT_FOUND, format!("the cluster has no active {service} certificate"))
    })
}

/// The cluster's own certificates, as `cert own --json`: the active ones, then retired CAPF
/// certificates.
#[utoipa::path(get, path = "/api/v1/certificates", tag = "certificates",
    responses((status = 200, description = "the own certificates", body = [OwnCertificate])))]
async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.own_certificates_read().await?)
}

/// One active own certificate, as `cert own NAME --json`.
#[utoipa::path(get, path = "/api/v1/certificates/{name}", tag = "certificates",
    params(("name" = String, Path, description = "CallManager, CAPF, ITLRecovery, TVS or tomcat")),
    responses((status = 200, description = "the certificate", body = OwnCertificate)))]
async fn one(
    State(state): State<AppState>,
    _caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Answer, Problem> {
    Answer::ok(&active(&state, &name).await?)
}

/// One active own certificate as PEM, as `cert own NAME --out FILE`.
#[utoipa::path(get, path = "/api/v1/certificates/{name}/pem", tag = "certificates", params(("name" = String, Path)),
    responses((status = 200, description = "the certificate", content_type = "application/x-pem-file", body = String)))]
async fn one_pem(
    State(state): State<AppState>,
    _caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Response, Problem> {
    let own = active(&state, &name).await?;
    Ok(pem(opencapf_pki::pem::encode("CERTIFICATE", &own.record.der), &format!("{}.pem", own.name)))
}

/// Regenerates the admin web service's certificate (admin), as `cert regenerate tomcat`: the
/// service presents it from its next start.
#[utoipa::path(post, path = "/api/v1/certificates/tomcat/regenerate", tag = "certificates",
    responses((status = 200, description = "the new tomcat certificate", body = ServiceCertificate)))]
async fn regenerate_tomcat(State(state): State<AppState>, caller: Caller) -> Result<Answer, Problem> {
    caller.require_admin()?;
    Answer::ok(&state.cluster.regenerate_web(&caller.actor).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct InspectParams {
    /// Check only this store (CallManager-trust or CAPF-trust).
    store: Option<String>,
}

/// What a certificate is, the device it names, and whether each store trusts it, as
/// `cert inspect --json`. The body: a PEM chain (leaf first) or one DER certificate, at most
/// 256 KiB.
#[utoipa::path(post, path = "/api/v1/cert/inspect", tag = "certificates", params(InspectParams),
    request_body(content = Vec<u8>, content_type = "application/x-pem-file", description = "PEM certificates (leaf first) or one DER certificate"),
    responses((status = 200, description = "the inspection: certificate, kind, device, verification per store", body = Object)))]
async fn inspect(
    State(state): State<AppState>,
    _caller: Caller,
    Params(p): Params<InspectParams>,
    Upload(body): Upload<MAX_CERTIFICATE>,
) -> Result<Answer, Problem> {
    let only = p
        .store
        .as_deref()
        .map(str::parse::<TrustStore>)
        .transpose()
        .map_err(|e| Problem::bad_request(format!("parameter store: {e}")))?;
    let chain = opencapf_pki::pem::parse_certificates(&body).map_err(opencapf_cluster::Error::from)?;
    let report: Inspection = state.cluster.inspect_certificate(&chain, only).await?;
    Answer::ok(&report)
}
