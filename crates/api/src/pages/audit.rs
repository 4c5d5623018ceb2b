//! Audit (`opencapf audit`, `opencapf audit verify`): who changed what, newest first, and whether
//! the log's hash chain is intact.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use opencapf_model::{AuditChain, AuditEntry};
use serde::Deserialize;

use super::{problem_page, render, Nav};
use crate::auth::Caller;
use crate::{AppState, Problem};

const DEFAULT_LIMIT: i64 = 200;
const MAX_LIMIT: i64 = 5000;

#[derive(Deserialize)]
pub(crate) struct Options {
    limit: Option<i64>,
    /// Any value: walk the hash chain too (it reads the whole log, so only on request).
    verify: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct Page {
    nav: Nav,
    entries: Vec<AuditEntry>,
    limit: i64,
    chain: Option<AuditChain>,
}

pub(crate) async fn page(State(state): State<AppState>, caller: Caller, Query(o): Query<Options>) -> Response {
    let limit = o.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let built = async {
        let entries = state.cluster.audit(limit).await?;
        let chain = match o.verify {
            Some(_) => Some(state.cluster.verify_audit().await?),
            None => None,
        };
        Ok::<_, Problem>(Page { nav: Nav::for_caller(&caller, "/audit"), entries, limit, chain })
    };
    match built.await {
        Ok(page) => render(&page),
        Err(p) => problem_page(&caller, &p, "/audit"),
    }
}
