//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` and the bodies'
//! schemas, and Swagger UI over it (its files compiled in: no CDN).
//!
//! Both are public, like the routes they describe: the document holds shapes, never data, and
//! a script (or Swagger UI's "Authorize") needs it before it has a token. Every call it
//! documents still needs a token or a session.

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{OpenApi, PartialSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::{AppState, Problem, SESSION_COOKIE};

pub(crate) const DOCUMENT: &str = "/api/openapi.json";
pub(crate) const DOCS: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OpenCAPF admin API",
        description = "The CLI's commands as resources: devices and their CAPF Information, trust stores, the \
                       cluster's certificates, audit, registrations, diagnosis. Errors are RFC 9457 problem details \
                       whose `detail` is the CLI's text.",
    ),
    components(schemas(Problem)),
    tags(
        (name = "cluster", description = "status, audit, registrations, doctor"),
        (name = "devices", description = "Find and List Phones, add, update, remove, import, lines"),
        (name = "capf", description = "CAPF Information (help desk) and the CAPF certificates (admin)"),
        (name = "trust", description = "CallManager-trust, CAPF-trust, Phone-SAST-trust"),
        (name = "certificates", description = "the cluster's own certificates; inspecting a certificate"),
        (name = "accounts", description = "accounts and API tokens (administrators only)"),
        (name = "diagnose", description = "a capture or console log, read"),
    )
)]
pub(crate) struct ApiDoc;

/// The problem statuses every operation may answer, and those of operations with a body.
const PROBLEMS: [(&str, &str); 7] = [
    ("400", "a parameter is malformed or unknown"),
    ("401", "no valid API token or session"),
    ("403", "the caller's role may not do this, or a session request lacks its CSRF token"),
    ("404", "no such device, store, certificate or account"),
    ("409", "refused: the state forbids it (the detail says why and what to do)"),
    ("422", "a value is invalid"),
    ("500", "the server failed; its log says why"),
];
const BODY_PROBLEMS: [(&str, &str); 2] = [
    ("413", "the body is larger than this route accepts"),
    ("415", "the body's Content-Type is not one this route takes"),
];

fn problem_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    ResponseBuilder::new().description(description).content("application/problem+json", content).build().into()
}

/// The document's shared parts: security schemes (a token, or a session with its CSRF header),
/// each operation's problem responses, and its security requirement.
pub(crate) fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "token",
        SecurityScheme::Http({
            let mut h = Http::new(HttpAuthScheme::Bearer);
            h.description = Some("an API token from `opencapf admin token create` or POST /api/v1/tokens".into());
            h
        }),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "the web pages' session, after logging in at /login",
        ))),
    );
    components.add_security_scheme(
        "csrf",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "with a session, every request that changes something carries the session's CSRF token",
        ))),
    );
    components.schemas.insert("Problem".into(), Problem::schema());
    let security = vec![
        SecurityRequirement::new("token", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()).add("csrf", Vec::<String>::new()),
    ];
    for item in api.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            let with_body = op.request_body.is_some();
            let extra = if with_body { &BODY_PROBLEMS[..] } else { &[] };
            for (status, description) in PROBLEMS.iter().chain(extra) {
                op.responses.responses.entry((*status).to_owned()).or_insert_with(|| problem_response(description));
            }
            op.security = Some(security.clone());
        }
    }
    api
}

/// `/api/openapi.json` and Swagger UI at `/api/docs`.
pub(crate) fn serve(api: utoipa::openapi::OpenApi) -> axum::Router<AppState> {
    SwaggerUi::new(DOCS).url(DOCUMENT, api).into()
}
