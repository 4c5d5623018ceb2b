//! Diagnose (`opencapf diagnose pcap|log`): upload a packet capture or a phone console log and
//! read the report a TAC engineer would give. Captures are checked against the cluster's trust
//! stores, as the CLI does when it finds a cluster.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use opencapf_diagnostics::{log, pcap, DiagnoseError, Finding};
use tokio::sync::Semaphore;

use super::{problem_page, render, upload, Nav};
use crate::auth::Caller;
use crate::router::MAX_BODY;
use crate::{AppState, Problem};

/// Connections listed in the page's table (the text report below it has the same limit).
const SHOWN_CONNECTIONS: usize = 200;
/// Diagnoses running at once: each reads up to 32 MiB on a blocking thread; more wait their turn.
static RUNNING: Semaphore = Semaphore::const_new(2);

/// What the uploaded file is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Capture,
    ConsoleLog,
}

/// pcap (either byte order, micro- or nanoseconds) and pcapng start with these.
fn looks_like_capture(bytes: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    bytes.get(..4).is_some_and(|m| MAGICS.iter().any(|x| x == m))
}

/// One TLS connection of a capture, as the table shows it.
pub(crate) struct ConnectionRow {
    pub(crate) index: usize,
    pub(crate) client: String,
    pub(crate) server: String,
    pub(crate) tls: String,
    pub(crate) client_certificate: String,
    pub(crate) device: String,
    pub(crate) trust: String,
    pub(crate) untrusted: bool,
    pub(crate) outcome: String,
}

impl From<&pcap::TlsConnection> for ConnectionRow {
    fn from(c: &pcap::TlsConnection) -> ConnectionRow {
        let tls = [c.version.as_deref(), c.cipher.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let client_certificate = match (c.client_certificate_kind, c.client_certificates.first()) {
            (Some(kind), Some(cert)) => {
                format!("{kind}: {}", cert.subject_cn.clone().unwrap_or_else(|| cert.subject.clone()))
            }
            _ => match c.client_certificate {
                pcap::ClientCertificate::Presented => "presented",
                pcap::ClientCertificate::Empty => "none (empty Certificate message)",
                pcap::ClientCertificate::NotRequested => "not requested",
                pcap::ClientCertificate::HiddenByTls13 => "hidden by TLS 1.3",
                pcap::ClientCertificate::NotSeen => "not seen",
            }
            .to_owned(),
        };
        let trust: Vec<String> = c
            .trust
            .iter()
            .map(|v| format!("{}: {}", v.store, if v.trusted { "trusted".to_owned() } else { v.message.clone() }))
            .collect();
        ConnectionRow {
            index: c.index,
            client: c.client.clone(),
            server: format!("{} ({})", c.server, c.service_name),
            tls: if tls.is_empty() { "-".into() } else { tls },
            client_certificate,
            device: c.device.clone().unwrap_or_default(),
            untrusted: c.trust.iter().any(|v| !v.trusted),
            trust: if trust.is_empty() { "-".into() } else { trust.join("; ") },
            outcome: c.outcome.text.clone(),
        }
    }
}

/// A finished diagnosis, either kind.
pub(crate) struct Report {
    pub(crate) title: String,
    pub(crate) file_name: String,
    pub(crate) facts: String,
    pub(crate) errors: usize,
    pub(crate) warnings: usize,
    pub(crate) infos: usize,
    pub(crate) findings: Vec<Finding>,
    pub(crate) connections: Vec<ConnectionRow>,
    pub(crate) more_connections: usize,
    pub(crate) text: String,
}

#[derive(Template)]
#[template(path = "diagnose.html")]
struct Page {
    nav: Nav,
    report: Option<Report>,
}

pub(crate) async fn form(caller: Caller) -> Response {
    render(&Page { nav: Nav::for_caller(&caller, "/diagnose"), report: None })
}

/// The form's fields: what the file is (`auto`, `pcap`, `log`), its name and its bytes.
async fn fields(form: Multipart) -> Result<(Kind, String, Vec<u8>), Problem> {
    let limit_of = |name: &str| if name == "file" { MAX_BODY } else { 16 };
    let (mut kind, mut name, mut file) = (String::from("auto"), String::new(), None);
    for field in upload::fields(form, limit_of).await? {
        match field.name.as_str() {
            "kind" => kind = String::from_utf8_lossy(&field.bytes).into_owned(),
            "file" => {
                name = field.file_name.unwrap_or_default();
                file = Some(field.bytes);
            }
            _ => {}
        }
    }
    let file = file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "choose a capture or a console log to upload"))?;
    let kind = match kind.as_str() {
        "pcap" => Kind::Capture,
        "log" => Kind::ConsoleLog,
        "auto" if looks_like_capture(&file) => Kind::Capture,
        "auto" => Kind::ConsoleLog,
        _ => return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "the file kind must be auto, pcap or log")),
    };
    Ok((kind, name, file))
}

fn failed(e: DiagnoseError) -> Problem {
    match e {
        DiagnoseError::Store(e) => e.into(),
        // Damaged input is the uploader's to fix: say what the reader found (escaped by the page).
        e => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

async fn diagnose(state: &AppState, kind: Kind, file_name: String, bytes: Vec<u8>) -> Result<Report, Problem> {
    let _turn = RUNNING.acquire().await.map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
    match kind {
        Kind::Capture => {
            let opts = pcap::PcapOptions {
                cluster: Some(state.cluster.trust_snapshot().await?.as_ref().clone()),
                ..Default::default()
            };
            let r = tokio::task::spawn_blocking(move || pcap::analyze(std::io::Cursor::new(bytes), &opts))
                .await
                .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the capture reader stopped"))?
                .map_err(failed)?;
            Ok(Report {
                title: "Packet capture".into(),
                facts: format!(
                    "{} frames, {} TLS connection(s), checked against this cluster's trust stores",
                    r.stats.frames,
                    r.connections.len() as u64 + r.connections_not_listed
                ),
                errors: r.summary.errors,
                warnings: r.summary.warnings,
                infos: r.summary.infos,
                connections: r.connections.iter().take(SHOWN_CONNECTIONS).map(ConnectionRow::from).collect(),
                more_connections: r.connections.len().saturating_sub(SHOWN_CONNECTIONS),
                text: r.render(SHOWN_CONNECTIONS),
                findings: r.findings,
                file_name,
            })
        }
        Kind::ConsoleLog => {
            let r = tokio::task::spawn_blocking(move || log::analyze(std::io::Cursor::new(bytes)))
                .await
                .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the log reader stopped"))?;
            Ok(Report {
                title: "Phone console log".into(),
                facts: format!(
                    "{} lines read, {} recognized, {} malformed",
                    r.lines_read,
                    r.lines_recognized,
                    r.malformed.len()
                ),
                errors: r.summary.errors,
                warnings: r.summary.warnings,
                infos: r.summary.infos,
                connections: Vec::new(),
                more_connections: 0,
                text: r.render(),
                findings: r.findings,
                file_name,
            })
        }
    }
}

/// `POST /diagnose` (multipart; the CSRF token rides in the action's query).
pub(crate) async fn upload(State(state): State<AppState>, caller: Caller, form: Multipart) -> Response {
    let done = async {
        let (kind, name, bytes) = fields(form).await?;
        diagnose(&state, kind, name, bytes).await
    };
    match done.await {
        Ok(report) => render(&Page { nav: Nav::for_caller(&caller, "/diagnose"), report: Some(report) }),
        Err(p) => problem_page(&caller, &p, "/diagnose"),
    }
    .into_response()
}
