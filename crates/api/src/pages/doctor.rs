//! Doctor (`opencapf doctor --verbose`): what in the cluster's own state will break, for how many
//! phones, and the remedy, in order.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use opencapf_diagnostics::doctor::{self, DoctorOptions, DoctorReport};
use serde::Deserialize;

use super::{problem_page, render, Nav};
use crate::auth::Caller;
use crate::{AppState, Problem};

#[derive(Deserialize)]
pub(crate) struct Options {
    expiry_days: Option<u32>,
}

#[derive(Template)]
#[template(path = "doctor.html")]
struct Page {
    nav: Nav,
    report: DoctorReport,
}

pub(crate) async fn page(State(state): State<AppState>, caller: Caller, Query(o): Query<Options>) -> Response {
    // The same bound the CLI's flag would meet in practice: ten years is "everything".
    let expiry_days = o.expiry_days.unwrap_or(30).min(3650);
    let opts = DoctorOptions { expiry_days, ..Default::default() };
    match doctor::run(&state.cluster, &opts).await {
        Ok(report) => render(&Page { nav: Nav::for_caller(&caller, "/doctor"), report }),
        Err(e) => {
            let p = match e {
                opencapf_diagnostics::DiagnoseError::Store(e) => Problem::from(e),
                e => {
                    tracing::error!("doctor failed: {}", opencapf_model::printable(&e.to_string()));
                    Problem::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "the server failed; its log says why")
                }
            };
            problem_page(&caller, &p, "/doctor")
        }
    }
}
