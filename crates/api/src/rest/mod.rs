//! The REST API under `/api/v1`: the CLI's commands as resources, JSON in and out (the CLI's
//! `--json` shapes), errors as problem details. Scripts authenticate with an API token; the web
//! pages' script with the session cookie and the CSRF header. Each handler parses, calls one
//! use case of `opencapf-cluster` (or `opencapf-diagnostics`) and maps the result to JSON.
//!
//! | module | what it holds |
//! |---|---|
//! | `doc` | the OpenAPI 3.1 document (`/api/openapi.json`, generated from the handlers) and Swagger UI (`/api/docs`) |
//! | `reads` | status, audit, audit verify, registrations, doctor, nodes |
//! | `devices` | Find and List Phones, one device, add, update, remove, CSV import, lines |
//! | `capf` | CAPF Information of one device or of a filter's devices (bulk), the CAPF certificates |
//! | `trust` | the trust stores: list, add, guarded remove, export |
//! | `consumers` | trust consumers (FreeRADIUS, ISE, ASA): list, one, add, remove, confirm; the CAPF rollover's status |
//! | `certs` | the cluster's own certificates (list, one, PEM, regenerate tomcat) and `cert inspect` |
//! | `settings` | the named settings: list, set |
//! | `accounts` | accounts and API tokens (administrators only) |
//! | `diagnose` | an uploaded capture or console log, read as `diagnose pcap|log --json` |
//! | `query` | the device filter of a query string or a JSON body, into the cluster's `DeviceQuery` |
//! | `extract` | bodies and parameters whose rejections are problems, with per-route size limits |
//! | `json` | answers with the CLI's `<field>_token` siblings |

mod accounts;
mod capf;
mod certs;
mod consumers;
mod devices;
mod diagnose;
mod doc;
mod extract;
mod json;
mod query;
mod reads;
mod settings;
mod trust;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// What a form past its limit may send before its 413 (the pages' forms share the REST rule).
pub(crate) use extract::DRAIN_PAST;

pub(crate) fn routes() -> Router<AppState> {
    let (router, api) = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .merge(reads::routes())
        .merge(devices::routes())
        .merge(capf::routes())
        .merge(trust::routes())
        .merge(consumers::routes())
        .merge(certs::routes())
        .merge(settings::routes())
        .merge(accounts::routes())
        .merge(diagnose::routes())
        .split_for_parts();
    router.merge(doc::serve(doc::finish(api)))
}

/// What the fuzz target drives: the query and body parsers, as the handlers call them.
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_request(query: &str, body: &[u8]) {
    if let Ok(uri) = format!("/api/v1/devices?{query}").parse::<axum::http::Uri>() {
        if let Ok(axum::extract::Query(search)) = axum::extract::Query::<query::DeviceSearch>::try_from_uri(&uri) {
            let _ = search.query();
        }
    }
    capf::parse_bulk(body);
}
