//! The web pages: server-rendered askama templates (compiled into the binary, in
//! `crates/api/templates`) over the same use cases as the CLI. Every page extends `base.html`
//! and gets a [`Nav`]; forms that change something carry the session's CSRF token.
//!
//! - `login`: log in, log out, change password.
//! - `certificates`: Certificate Management: own certificates, the trust stores, upload and the guarded delete.
//! - `regenerate`: CAPF regenerate as a guided page: the rollover plan, confirm, the re-keying phone by phone.
//! - `registrations`: registrations, live (a refreshed fragment).
//! - `doctor`: the doctor's findings with their remedies.
//! - `audit`: the audit log and its hash chain's verification.
//! - `diagnose`: upload a capture or a console log, read the report.
//! - `dashboard`: `/`, the LSC and registration charts; `chart` draws them as SVG.
//! - `phones`: Find and List Phones, and setting the CAPF operation of many.
//! - `phone`: one phone: its CAPF Information (editable), history, certificates, registrations.
//! - `capf_form`: the CAPF fields' choices and the posted form read as `set_capf`'s settings.
//! - `upload`: the upload forms' fields, each within its limit (413, the rest read and dropped).

mod audit;
mod capf_form;
mod certificates;
mod chart;
mod dashboard;
mod diagnose;
mod doctor;
mod login;
mod phone;
mod phones;
mod regenerate;
mod registrations;
mod upload;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/account/password", get(login::password_form).post(login::change_password))
        .route("/", get(dashboard::page))
        .route("/phones", get(phones::list))
        .route("/phones/capf", post(phones::set))
        .route("/phones/{name}", get(phone::show))
        .route("/phones/{name}/capf", post(phone::save))
        .route("/phones/{name}/certificates/{file}", get(phone::certificate))
        .route("/certificates", get(certificates::page))
        .route("/certificates/own/{fingerprint}/pem", get(certificates::own_pem))
        .route("/certificates/trust/upload", post(certificates::upload))
        .route("/certificates/trust/{store}/{fingerprint}/pem", get(certificates::trust_pem))
        .route("/certificates/trust/{store}/{fingerprint}/delete", post(certificates::delete))
        .route("/certificates/capf/regenerate", get(regenerate::plan).post(regenerate::confirm))
        .route("/certificates/capf/regenerate/progress", get(regenerate::progress))
        .route("/certificates/capf/regenerate/progress/fragment", get(regenerate::progress_fragment))
        .route("/certificates/capf/reissue", post(regenerate::reissue))
        .route("/registrations", get(registrations::page))
        .route("/registrations/fragment", get(registrations::fragment))
        .route("/doctor", get(doctor::page))
        .route("/audit", get(audit::page))
        .route("/diagnose", get(diagnose::form).post(diagnose::upload))
}

/// One entry of the main navigation.
pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// What the layout shows around every page: who is logged in and where they can go.
pub(crate) struct Nav {
    pub(crate) user: Option<String>,
    pub(crate) role: String,
    pub(crate) csrf: String,
    pub(crate) items: Vec<NavItem>,
}

/// The main navigation, in the order CUCM's menus put these pages.
const MENU: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/phones", "Phones"),
    ("/certificates", "Certificates"),
    ("/registrations", "Registrations"),
    ("/doctor", "Doctor"),
    ("/audit", "Audit"),
    ("/diagnose", "Diagnose"),
    ("/api/docs", "API"),
];

impl Nav {
    /// The navigation for a logged-in caller on the page at `current`.
    pub(crate) fn for_caller(caller: &Caller, current: &str) -> Nav {
        Nav {
            user: Some(caller.name.clone()),
            role: caller.role.to_string(),
            csrf: caller.csrf_token().to_owned(),
            items: MENU.iter().map(|(href, label)| NavItem { href, label, current: *href == current }).collect(),
        }
    }

    /// No navigation: the login page.
    pub(crate) fn anonymous() -> Nav {
        Nav { user: None, role: String::new(), csrf: String::new(), items: Vec::new() }
    }
}

/// Renders a template as an HTML response.
pub(crate) fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering a page failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; the server log says why")
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub(crate) nav: Nav,
    pub(crate) heading: &'a str,
    pub(crate) text: &'a str,
    pub(crate) error: bool,
    pub(crate) back: &'a str,
}

/// A refusal or failure shown as a page, with the same text the API and the CLI give.
pub(crate) fn problem_page(caller: &Caller, problem: &Problem, back: &str) -> Response {
    let page = MessagePage {
        nav: Nav::for_caller(caller, ""),
        heading: &problem.title,
        text: &problem.detail,
        error: true,
        back,
    };
    (problem.status(), render(&page)).into_response()
}

/// Percent-encodes a value for a URL's query.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
