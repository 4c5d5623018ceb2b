//! `POST /api/v1/diagnose/pcap|log`: a packet capture or a phone's console log, uploaded, read
//! as `diagnose pcap --json` and `diagnose log --json` read a file (the cluster's trust stores
//! included). A TLS key log is not taken here: the CLI reads it from a file.

use std::io::Cursor;

use axum::extract::State;
use axum::http::StatusCode;
use opencapf_diagnostics::{log, pcap, DiagnoseError};
use tokio::sync::Semaphore;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Upload, MAX_CAPTURE};
use super::json::Answer;
use crate::auth::Caller;
use crate::{AppState, Problem};

/// Analyses run on the blocking pool, two at a time: a 32 MiB capture keeps a core busy, and
/// the service shares the machine with the phones' servers.
static ANALYSES: Semaphore = Semaphore::const_new(2);

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(diagnose_pcap)).routes(routes!(diagnose_log))
}

fn problem(e: DiagnoseError) -> Problem {
    match e {
        DiagnoseError::NotACapture(_) | DiagnoseError::Pki(_) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, opencapf_model::printable(&e.to_string()))
        }
        DiagnoseError::Store(e) => e.into(),
        e => Problem::internal(e),
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Problem> {
    let _permit = ANALYSES.acquire().await.map_err(Problem::internal)?;
    tokio::task::spawn_blocking(work).await.map_err(Problem::internal)
}

/// Reads a capture (pcap or pcapng, at most 32 MiB): the CAPF, TLS, SIP and TFTP exchanges,
/// the certificates and what went wrong, as `diagnose pcap --json`.
#[utoipa::path(post, path = "/api/v1/diagnose/pcap", tag = "diagnose",
    request_body(content = Vec<u8>, content_type = "application/vnd.tcpdump.pcap", description = "a pcap or pcapng capture"),
    responses((status = 200, description = "the capture's report", body = Object)))]
async fn diagnose_pcap(
    State(state): State<AppState>,
    _caller: Caller,
    Upload(body): Upload<MAX_CAPTURE>,
) -> Result<Answer, Problem> {
    let opts = pcap::PcapOptions {
        cluster: Some(state.cluster.trust_snapshot().await?.as_ref().clone()),
        ..Default::default()
    };
    let report = blocking(move || pcap::analyze(Cursor::new(body), &opts)).await?.map_err(problem)?;
    Answer::ok(&report)
}

/// Reads a phone's console log (text, at most 32 MiB): the CAPF and TLS events and what went
/// wrong, as `diagnose log --json`.
#[utoipa::path(post, path = "/api/v1/diagnose/log", tag = "diagnose",
    request_body(content = String, content_type = "text/plain", description = "a console log"),
    responses((status = 200, description = "the log's report", body = Object)))]
async fn diagnose_log(_caller: Caller, Upload(body): Upload<MAX_CAPTURE>) -> Result<Answer, Problem> {
    let report = blocking(move || log::analyze(Cursor::new(body))).await?;
    Answer::ok(&report)
}
