//! Registrations (`opencapf registrations`): what CallManager recorded of phone registrations,
//! newest first, in a fragment the script refreshes so the page stays live.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use opencapf_model::{DeviceName, ModelError, Registration, RegistrationResult};
use serde::Deserialize;

use super::{problem_page, render, url_encode, Nav};
use crate::auth::Caller;
use crate::{AppState, Problem};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize, Default)]
pub(crate) struct Filter {
    #[serde(default)]
    device: String,
    limit: Option<i64>,
}

/// One registration event as the table shows it.
pub(crate) struct Row {
    pub(crate) at: String,
    pub(crate) device: String,
    pub(crate) result: String,
    pub(crate) refused: bool,
    pub(crate) via: String,
    pub(crate) tls: String,
    pub(crate) certificate: String,
    pub(crate) peer: String,
    pub(crate) reason: String,
}

impl From<&Registration> for Row {
    fn from(r: &Registration) -> Row {
        let result = r.result.to_string();
        Row {
            at: r.at.clone(),
            device: r.device.clone().unwrap_or_default(),
            refused: r.result == RegistrationResult::Refused,
            result,
            via: format!("{}/{}", r.protocol, r.transport),
            tls: r.tls_summary(),
            certificate: r.certificate_summary(),
            peer: r.peer.clone(),
            reason: r.reason_summary(),
        }
    }
}

/// The table the page embeds and the fragment answers with.
pub(crate) struct Table {
    pub(crate) rows: Vec<Row>,
    pub(crate) device: String,
}

async fn table(state: &AppState, f: &Filter) -> Result<Table, Problem> {
    let device: Option<DeviceName> = match f.device.trim() {
        "" => None,
        d => Some(
            d.parse()
                .map_err(|e: ModelError| Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?,
        ),
    };
    let limit = f.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let list = state.cluster.registrations(device.as_ref(), limit).await?;
    Ok(Table { rows: list.iter().map(Row::from).collect(), device: f.device.trim().to_owned() })
}

#[derive(Template)]
#[template(path = "registrations.html")]
struct Page {
    nav: Nav,
    table: Table,
    limit: i64,
    fragment_url: String,
}

#[derive(Template)]
#[template(path = "registrations_rows.html")]
struct Fragment {
    table: Table,
}

pub(crate) async fn page(State(state): State<AppState>, caller: Caller, Query(f): Query<Filter>) -> Response {
    match table(&state, &f).await {
        Ok(table) => {
            let limit = f.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
            let fragment_url = format!("/registrations/fragment?device={}&limit={limit}", url_encode(&table.device));
            render(&Page { nav: Nav::for_caller(&caller, "/registrations"), table, limit, fragment_url })
        }
        Err(p) => problem_page(&caller, &p, "/registrations"),
    }
}

/// `GET /registrations/fragment`: the table alone, for the script's refresh.
pub(crate) async fn fragment(State(state): State<AppState>, _caller: Caller, Query(f): Query<Filter>) -> Response {
    match table(&state, &f).await {
        Ok(table) => render(&Fragment { table }),
        Err(p) => p.into_response(),
    }
}
