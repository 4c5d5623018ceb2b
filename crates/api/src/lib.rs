//! The admin service of OpenCAPF (`serve --admin-listen`, default `127.0.0.1:8443`): HTTPS with the
//! cluster's web certificate (CUCM's `tomcat`), in front of three things that call the same use
//! cases as the CLI (`opencapf-cluster`): the REST API under `/api/v1`, the web pages, and
//! `/metrics`.
//!
//! | module | what it holds |
//! |---|---|
//! | `server` | [`AdminServer`]: the listener's [`opencapf_net::Service`]: TLS, HTTP/1.1 with timeouts and limits, one router |
//! | `router` | every route, and the layers all of them pass (security headers, body limit, CSRF) |
//! | `auth` | who is calling (`Caller`, from a bearer token or a session cookie), sessions, login rate limits, CSRF |
//! | `rest` | the REST API under `/api/v1` (one module per resource), its OpenAPI 3.1 document at `/api/openapi.json` and Swagger UI at `/api/docs` |
//! | `metrics` | `/metrics`: the counters of `opencapf-telemetry` and the cluster's expiry gauges |
//! | `problem` | [`Problem`]: RFC 9457 `application/problem+json` errors with the CLI's reason text |
//! | `assets` | the vendored stylesheet and script, compiled into the binary |
//! | `pages` | the web pages (askama templates in `templates/`): login, dashboard, phones, certificates and CAPF regenerate, registrations, doctor, audit, diagnose; the layout every page extends |
//!
//! Sessions and failed-login counts live in the cluster's database (`opencapf_cluster::WebSession`):
//! with several `serve` nodes behind one name, a login on one is valid on the others, a logout
//! or password change ends the session everywhere, and a guesser cannot spread attempts over
//! nodes. API scripts use tokens, which the cluster stores too.

mod assets;
mod auth;
mod metrics;
mod pages;
mod problem;
mod rest;
mod router;
mod server;
mod state;

pub use auth::SESSION_COOKIE;
pub use problem::Problem;
pub use router::router;
pub use server::{AdminConfig, AdminError, AdminServer};
pub use state::AppState;

/// The request parsers of the REST API, for the fuzz target only.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// A `GET /devices` query string and a `POST /capf/bulk` body, read as the handlers read them.
    pub fn parse_request(query: &str, body: &[u8]) {
        crate::rest::parse_request(query, body);
    }
}
