//! CAPF regenerate as a guided page: the rollover plan (a new CAPF certificate in CallManager-trust
//! and CAPF-trust, the phones that will need re-keying, the old certificate kept until they are
//! done), the current rollover's steps (as `capf rollover status`: the stores, the ITL, each trust
//! consumer, the phones, where the old certificate may go), a confirm button, then the re-keying
//! phone by phone in a fragment the script refreshes.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use opencapf_model::KeyAlgorithm;
use serde::Deserialize;

use super::{problem_page, render, Nav};
use crate::auth::{Admin, Caller};
use crate::{AppState, Problem};

const BACK: &str = "/certificates/capf/regenerate";

/// A CAPF certificate as the plan names it.
pub(crate) struct CapfView {
    pub(crate) name: String,
    pub(crate) key: String,
    pub(crate) not_after: String,
    pub(crate) fingerprint: String,
}

impl From<&opencapf_model::ServiceCertificate> for CapfView {
    fn from(c: &opencapf_model::ServiceCertificate) -> CapfView {
        CapfView {
            name: c.common_name.clone(),
            key: c.key_algorithm.to_string(),
            not_after: c.not_after.chars().take(10).collect(),
            fingerprint: c.fingerprint.clone(),
        }
    }
}

/// A key type the form offers: its token and CUCM-style label.
pub(crate) struct KeyChoice {
    pub(crate) token: &'static str,
    pub(crate) label: String,
}

/// One step of the current rollover (`capf rollover status`), as the page lists it.
pub(crate) struct StepView {
    pub(crate) step: String,
    /// `done`, `pending`, `ready` or `blocked`.
    pub(crate) state: &'static str,
    pub(crate) detail: String,
    /// The command that does it; empty when none.
    pub(crate) command: String,
}

/// A trust consumer and the active CAPF certificate.
pub(crate) struct ConsumerView {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) exported: bool,
    pub(crate) confirmed: bool,
    pub(crate) exported_at: String,
    pub(crate) confirmed_at: String,
}

/// The current rollover, from the same use case as `capf rollover status`.
pub(crate) struct RolloverView {
    pub(crate) in_progress: bool,
    pub(crate) steps: Vec<StepView>,
    pub(crate) consumers: Vec<ConsumerView>,
    pub(crate) rekeyed: usize,
    pub(crate) still_on_old: Vec<String>,
}

impl From<opencapf_cluster::RolloverStatus> for RolloverView {
    fn from(s: opencapf_cluster::RolloverStatus) -> RolloverView {
        RolloverView {
            in_progress: s.phase == opencapf_cluster::RolloverPhase::InProgress,
            steps: s
                .steps
                .into_iter()
                .map(|st| StepView {
                    step: st.step,
                    state: st.state.as_str(),
                    detail: st.detail,
                    command: st.command.unwrap_or_default(),
                })
                .collect(),
            consumers: s
                .consumers
                .into_iter()
                .map(|c| ConsumerView {
                    name: c.name,
                    kind: c.kind.to_string(),
                    exported: c.exported,
                    confirmed: c.confirmed,
                    exported_at: c.exported_at.unwrap_or_else(|| "never".into()),
                    confirmed_at: c.confirmed_at.unwrap_or_else(|| "-".into()),
                })
                .collect(),
            rekeyed: s.rekeyed.len(),
            still_on_old: s.still_on_old,
        }
    }
}

#[derive(Template)]
#[template(path = "regenerate.html")]
struct PlanPage {
    nav: Nav,
    admin: bool,
    active: CapfView,
    retired: Vec<CapfView>,
    to_rekey: Vec<String>,
    next_steps: Vec<String>,
    keys: Vec<KeyChoice>,
    rollover: RolloverView,
}

pub(crate) async fn plan(State(state): State<AppState>, caller: Caller) -> Response {
    let built = async {
        let plan = state.cluster.capf_rollover_plan().await?;
        let rollover = RolloverView::from(state.cluster.rollover_status().await?);
        let keys = KeyAlgorithm::CAPF.iter().map(|k| KeyChoice { token: k.token(), label: k.to_string() }).collect();
        Ok::<_, Problem>(render(&PlanPage {
            nav: Nav::for_caller(&caller, "/certificates"),
            admin: caller.role.is_admin(),
            active: CapfView::from(&plan.active),
            retired: plan.retired.iter().map(CapfView::from).collect(),
            next_steps: opencapf_diagnostics::after_capf_regenerate(plan.to_rekey.len()),
            to_rekey: plan.to_rekey,
            keys,
            rollover,
        }))
    };
    built.await.unwrap_or_else(|p| problem_page(&caller, &p, "/certificates"))
}

#[derive(Deserialize)]
pub(crate) struct Confirm {
    /// Empty: the same key type as the current CAPF certificate.
    #[serde(default)]
    key: String,
}

/// `POST /certificates/capf/regenerate`: the confirm button.
pub(crate) async fn confirm(State(state): State<AppState>, Admin(caller): Admin, Form(f): Form<Confirm>) -> Response {
    let done = async {
        let key = match f.key.trim() {
            "" => None,
            k => Some(
                k.parse::<KeyAlgorithm>()
                    .map_err(|e| Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?,
            ),
        };
        let report = state.cluster.regenerate_capf(key, &caller.actor).await?;
        tracing::info!(account = %caller.name, new = %report.new.fingerprint, "CAPF regenerated from the web pages");
        Ok::<_, Problem>(Redirect::to("/certificates/capf/regenerate/progress").into_response())
    };
    done.await.unwrap_or_else(|p| problem_page(&caller, &p, BACK))
}

/// One phone's row in the progress table.
pub(crate) struct PhoneRow {
    pub(crate) name: String,
    pub(crate) rekeyed: bool,
    pub(crate) operation: String,
    pub(crate) status: String,
    pub(crate) completes_by: String,
}

/// The re-keying, as the page and its refreshed fragment show it.
pub(crate) struct Progress {
    pub(crate) active: CapfView,
    pub(crate) rekeyed: usize,
    pub(crate) pending: usize,
    pub(crate) phones: Vec<PhoneRow>,
}

async fn progress_of(state: &AppState) -> Result<Progress, Problem> {
    let p = state.cluster.rekey_progress().await?;
    Ok(Progress {
        active: CapfView::from(&p.active),
        rekeyed: p.rekeyed,
        pending: p.pending,
        phones: p
            .phones
            .into_iter()
            .map(|ph| PhoneRow {
                name: ph.name,
                rekeyed: ph.rekeyed,
                operation: ph.operation.to_string(),
                status: ph.status,
                completes_by: ph.completes_by.map(opencapf_model::ts).unwrap_or_else(|| "-".into()),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "regenerate_progress.html")]
struct ProgressPage {
    nav: Nav,
    progress: Progress,
}

#[derive(Template)]
#[template(path = "regenerate_rows.html")]
struct ProgressFragment {
    progress: Progress,
}

pub(crate) async fn progress(State(state): State<AppState>, caller: Caller) -> Response {
    match progress_of(&state).await {
        Ok(progress) => render(&ProgressPage { nav: Nav::for_caller(&caller, "/certificates"), progress }),
        Err(p) => problem_page(&caller, &p, "/certificates"),
    }
}

/// `GET /certificates/capf/regenerate/progress/fragment`: what the script swaps in.
pub(crate) async fn progress_fragment(State(state): State<AppState>, _caller: Caller) -> Response {
    match progress_of(&state).await {
        Ok(progress) => render(&ProgressFragment { progress }),
        Err(p) => p.into_response(),
    }
}

/// `POST /certificates/capf/reissue`: schedules Install/Upgrade By Existing Certificate for the
/// phones still on a retired CAPF certificate (`opencapf capf reissue`), to complete by the
/// cluster's default deadline. Helpdesk may: it schedules CAPF operations, it changes no trust.
pub(crate) async fn reissue(State(state): State<AppState>, caller: Caller) -> Response {
    let done = async {
        let deadline = state.cluster.default_completes_by().await?;
        let names = state.cluster.reissue(deadline, &caller.actor).await?;
        tracing::info!(account = %caller.name, phones = names.len(), "re-keying scheduled from the web pages");
        Ok::<_, Problem>(Redirect::to("/certificates/capf/regenerate/progress").into_response())
    };
    done.await.unwrap_or_else(|p| problem_page(&caller, &p, "/certificates/capf/regenerate/progress"))
}
