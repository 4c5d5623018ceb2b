//! Certificate Management (CUCM's OS Administration → Security → Certificate Management): the
//! cluster's own certificates and the three trust stores, each downloadable as PEM; upload to a
//! store and the guarded delete for administrators only. A delete the guard refuses shows the
//! refusal and every device that depends on the entry.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opencapf_cluster::Error;
use opencapf_model::{TrustAdded, TrustStore};

use super::{problem_page, render, upload, Nav};
use crate::auth::{Admin, Caller};
use crate::{AppState, Problem};

/// The largest certificate file accepted by the upload (a bundle of a few CAs).
const MAX_CERT_FILE: usize = 1024 * 1024;

/// One of the cluster's own certificates, as `cert own` lists it.
pub(crate) struct OwnRow {
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) subject: String,
    pub(crate) key: String,
    pub(crate) not_after: String,
    pub(crate) fingerprint: String,
}

/// One entry of a trust store.
pub(crate) struct TrustRow {
    pub(crate) name: String,
    pub(crate) subject: String,
    pub(crate) fingerprint: String,
    pub(crate) not_after: String,
    pub(crate) legacy_sha1: bool,
    pub(crate) added_by: String,
}

/// A trust store with its entries; `slug` is its name in URLs and element ids.
pub(crate) struct StoreView {
    pub(crate) name: &'static str,
    pub(crate) slug: String,
    pub(crate) entries: Vec<TrustRow>,
}

/// What the guard said when it refused a delete, and who depends on the entry.
pub(crate) struct Refusal {
    pub(crate) text: String,
    pub(crate) devices: Vec<String>,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct CertificatesPage {
    nav: Nav,
    admin: bool,
    own: Vec<OwnRow>,
    stores: Vec<StoreView>,
    notices: Vec<String>,
    refusal: Option<Refusal>,
}

fn slug(kind: TrustStore) -> String {
    kind.name().to_ascii_lowercase()
}

/// The page, with what the last action said.
async fn page_with(
    state: &AppState,
    caller: &Caller,
    notices: Vec<String>,
    refusal: Option<Refusal>,
) -> Result<Response, Problem> {
    let own = state
        .cluster
        .own_certificates()
        .await?
        .into_iter()
        .map(|c| OwnRow {
            key: c.key_algorithm.to_string(),
            name: c.service.to_string(),
            state: c.state,
            subject: c.subject,
            not_after: c.not_after.chars().take(10).collect(),
            fingerprint: c.fingerprint,
        })
        .collect();
    let mut stores = Vec::new();
    for kind in TrustStore::ALL {
        let entries = state
            .cluster
            .trust_list(Some(kind))
            .await?
            .into_iter()
            .map(|e| TrustRow {
                name: e.common_name.unwrap_or_else(|| e.subject.clone()),
                subject: e.subject,
                fingerprint: e.fingerprint,
                not_after: e.not_after.chars().take(10).collect(),
                legacy_sha1: e.legacy_sha1,
                added_by: e.added_by,
            })
            .collect();
        stores.push(StoreView { name: kind.name(), slug: slug(kind), entries });
    }
    let status = if refusal.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let page = CertificatesPage {
        nav: Nav::for_caller(caller, "/certificates"),
        admin: caller.role.is_admin(),
        own,
        stores,
        notices,
        refusal,
    };
    Ok((status, render(&page)).into_response())
}

fn or_problem(caller: &Caller, r: Result<Response, Problem>) -> Response {
    r.unwrap_or_else(|p| problem_page(caller, &p, "/certificates"))
}

pub(crate) async fn page(State(state): State<AppState>, caller: Caller) -> Response {
    or_problem(&caller, page_with(&state, &caller, Vec::new(), None).await)
}

/// A certificate as a PEM file download.
fn pem_download(file_name: &str, der: &[u8]) -> Response {
    let pem = opencapf_pki::pem::encode("CERTIFICATE", der);
    let mut r = pem.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
    // The name is built from a service or store name and hex digits only: nothing to quote.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn not_found(what: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, format!("no {what} with that fingerprint"))
}

/// `GET /certificates/own/{fingerprint}/pem`
pub(crate) async fn own_pem(State(state): State<AppState>, caller: Caller, Path(fp): Path<String>) -> Response {
    let found = async {
        let own = state.cluster.own_certificates().await?;
        let c = own.into_iter().find(|c| c.fingerprint == fp).ok_or_else(|| not_found("own certificate"))?;
        Ok::<_, Problem>(pem_download(&format!("{}-{}.pem", c.service, &c.fingerprint[..12]), &c.der))
    };
    or_problem(&caller, found.await)
}

fn store_of(s: &str) -> Result<TrustStore, Problem> {
    s.parse().map_err(|_| Problem::new(StatusCode::NOT_FOUND, "no such trust store"))
}

/// `GET /certificates/trust/{store}/{fingerprint}/pem`
pub(crate) async fn trust_pem(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, fp)): Path<(String, String)>,
) -> Response {
    let found = async {
        let kind = store_of(&store)?;
        let entries = state.cluster.trust_list(Some(kind)).await?;
        let e = entries.into_iter().find(|e| e.fingerprint == fp).ok_or_else(|| not_found("trust entry"))?;
        Ok::<_, Problem>(pem_download(&format!("{}-{}.pem", kind.name(), &e.fingerprint[..12]), &e.der))
    };
    or_problem(&caller, found.await)
}

/// The upload form's fields: the store and the certificate file (PEM, a PEM bundle, or DER).
async fn upload_fields(form: Multipart) -> Result<(TrustStore, Vec<u8>), Problem> {
    let limit_of = |name: &str| if name == "file" { MAX_CERT_FILE } else { 64 };
    let (mut store, mut file) = (None, None);
    for field in upload::fields(form, limit_of).await? {
        match field.name.as_str() {
            "store" => {
                store = Some(store_of(&String::from_utf8_lossy(&field.bytes)).map_err(|_| {
                    Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "choose CallManager-trust, CAPF-trust or Phone-SAST-trust",
                    )
                })?)
            }
            "file" => file = Some(field.bytes),
            _ => {}
        }
    }
    let store = store.ok_or_else(|| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "choose a trust store"))?;
    let file = file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "choose a certificate file to upload"))?;
    Ok((store, file))
}

/// `POST /certificates/trust/upload` (multipart; the CSRF token rides in the action's query).
pub(crate) async fn upload(State(state): State<AppState>, Admin(caller): Admin, form: Multipart) -> Response {
    let done = async {
        let (kind, file) = upload_fields(form).await?;
        let certs = opencapf_pki::pem::parse_certificates(&file).map_err(|e| {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("not a certificate file (PEM or DER): {e}"))
        })?;
        let added = state.cluster.add_trust(kind, &certs, None, &caller.actor).await?;
        let notices = added
            .iter()
            .map(|(info, a)| match a {
                TrustAdded::Added => format!("Added to {kind}: {} ({})", info.subject, &info.fingerprint[..16]),
                _ => format!("Already in {kind}: {} ({})", info.subject, &info.fingerprint[..16]),
            })
            .collect();
        page_with(&state, &caller, notices, None).await
    };
    or_problem(&caller, done.await)
}

/// `POST /certificates/trust/{store}/{fingerprint}/delete`: the guarded removal, never forced
/// from the page (the CLI's `--force` stays a deliberate act on the server).
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((store, fp)): Path<(String, String)>,
) -> Response {
    let done = async {
        caller.require_admin()?;
        let kind = store_of(&store)?;
        match state.cluster.remove_trust(kind, &fp, false, &caller.actor).await {
            Ok(removed) => {
                let name = removed.common_name.unwrap_or_else(|| removed.fingerprint[..16].to_owned());
                page_with(&state, &caller, vec![format!("Removed from {kind}: {name}")], None).await
            }
            Err(Error::Refused(text)) => {
                let devices = state.cluster.trust_dependents(kind, &fp).await?;
                page_with(&state, &caller, Vec::new(), Some(Refusal { text, devices })).await
            }
            Err(e) => Err(e.into()),
        }
    };
    or_problem(&caller, done.await)
}
