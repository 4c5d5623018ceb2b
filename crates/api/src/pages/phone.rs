//! The Phone page `/phones/{name}`: CUCM's CAPF Information section (editable by admin and
//! helpdesk, saved through `set_capf` as `device set NAME` does), the operation history, the
//! certificates (MIC, LSC, those uploaded by Troubleshoot) with PEM downloads, the LSCs this
//! cluster issued, and the last registrations: the reads of `device show` and `device certs`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use opencapf_cluster::{lsc_state, Selection, CREDENTIAL_SPENT};
use opencapf_model::{CertificateOperation, Device, DeviceName, HistoryEntry, IssuedCertificateRecord, Registration};
use opencapf_pki::CertificateInfo;

use super::capf_form::{self, CapfChoices, Pairs, ResultPage};
use super::{problem_page, render, Nav};
use crate::auth::Caller;
use crate::{AppState, Problem};

/// History rows and registrations shown (`device show` shows 20 and 10).
const HISTORY: i64 = 50;
const REGISTRATIONS: i64 = 20;

/// One certificate of the phone, with the link to its PEM.
pub(crate) struct Cert {
    kind: String,
    source: &'static str,
    subject: String,
    issuer: String,
    serial: String,
    not_after: String,
    fingerprint: String,
    href: String,
}

impl Cert {
    fn new(kind: &str, source: &'static str, der: &[u8], href: String) -> Option<Cert> {
        // A certificate the cluster stored always parses; one that does not is left out, not a 500.
        let info = CertificateInfo::parse(der).ok()?;
        Some(Cert {
            kind: kind.to_owned(),
            source,
            subject: info.subject,
            issuer: info.issuer,
            serial: info.serial,
            not_after: opencapf_model::ts(info.not_after),
            fingerprint: info.fingerprint,
            href,
        })
    }
}

#[derive(Template)]
#[template(path = "phone.html")]
struct PhonePage {
    nav: Nav,
    d: Device,
    lsc_state: String,
    status: String,
    completes_by: String,
    completes_by_day: String,
    choices: CapfChoices,
    history: Vec<HistoryEntry>,
    certs: Vec<Cert>,
    issued: Vec<IssuedCertificateRecord>,
    registrations: Vec<Registration>,
}

impl PhonePage {
    fn lines(&self) -> String {
        self.d.lines.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

fn device_name(name: &str) -> Result<DeviceName, Problem> {
    name.parse().map_err(|e: opencapf_model::ModelError| Problem::new(axum::http::StatusCode::NOT_FOUND, e.to_string()))
}

pub(crate) async fn show(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Response {
    match read(&state, &caller, &name).await {
        Ok(page) => render(&page),
        Err(p) => problem_page(&caller, &p, "/phones"),
    }
}

async fn read(state: &AppState, caller: &Caller, name: &str) -> Result<PhonePage, Problem> {
    let c = &state.cluster;
    let name = device_name(name)?;
    let d = c.device(&name).await?;
    let capfs = c.capf_infos().await?;
    let history = c.history(&name, HISTORY).await?;
    // As `device show`: the LSC was sent but not stored, so a retry needs a new schedule.
    let spent = d.capf.operation == CertificateOperation::NoPendingOperation
        && history.first().is_some_and(|h| h.detail.contains(CREDENTIAL_SPENT));
    let base = format!("/phones/{name}/certificates");
    let mut certs = Vec::new();
    certs.extend(d.lsc.as_ref().and_then(|l| Cert::new("LSC", "recorded", &l.der, format!("{base}/lsc.pem"))));
    certs.extend(d.mic_der.as_deref().and_then(|m| Cert::new("MIC", "recorded", m, format!("{base}/mic.pem"))));
    for u in c.uploaded(&name).await? {
        certs.extend(Cert::new(u.kind.as_str(), "uploaded by Troubleshoot", &u.der, format!("{base}/{}.pem", u.id)));
    }
    Ok(PhonePage {
        nav: Nav::for_caller(caller, "/phones"),
        lsc_state: lsc_state(&d, &capfs, opencapf_model::now()).to_string(),
        status: if spent { format!("{} ({CREDENTIAL_SPENT})", d.capf.status) } else { d.capf.status.clone() },
        completes_by: d.capf.completes_by.map(opencapf_model::ts).unwrap_or_default(),
        completes_by_day: match d.capf.completes_by {
            Some(t) if t > opencapf_model::now() => capf_form::day(t),
            _ => capf_form::day(c.default_completes_by().await?),
        },
        choices: CapfChoices::new(),
        history,
        certs,
        issued: c.issued_for(&name).await?,
        registrations: c.registrations(Some(&name), REGISTRATIONS).await?,
        d,
    })
}

/// Saves the CAPF Information section. The form shows the current values, so saving it
/// replaces a pending operation knowingly (no separate confirmation, as on CUCM's page).
pub(crate) async fn save(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let back = format!("/phones/{}", super::url_encode(&name));
    let saved = async {
        let device = device_name(&name)?;
        let mut settings = capf_form::settings(&pairs)?;
        settings.replace_pending = true;
        let c = &state.cluster;
        let deadline = capf_form::deadline(c, &pairs).await?;
        let results =
            c.set_capf(&Selection::Names(vec![device]), &settings, deadline, &caller.actor, |_, _| {}).await?;
        Ok::<_, Problem>((results, deadline, settings.operation))
    };
    match saved.await {
        // A generated string is shown once, on a page of its own.
        Ok((results, deadline, op)) if results.iter().any(|r| r.auth_string.is_some()) => render(&ResultPage {
            nav: Nav::for_caller(&caller, "/phones"),
            results,
            completes_by: (op != Some(CertificateOperation::NoPendingOperation)).then(|| opencapf_model::ts(deadline)),
            replaced: 0,
            back,
        }),
        Ok(_) => Redirect::to(&back).into_response(),
        Err(p) => problem_page(&caller, &p, &back),
    }
}

/// A certificate of the phone as PEM: `lsc.pem`, `mic.pem` or `{id}.pem` (an upload).
pub(crate) async fn certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, file)): Path<(String, String)>,
) -> Response {
    let found = async {
        let device = device_name(&name)?;
        let c = &state.cluster;
        let missing = || Problem::new(axum::http::StatusCode::NOT_FOUND, format!("{device} has no certificate {file}"));
        let der = match file.as_str() {
            "lsc.pem" => c.device(&device).await?.lsc.map(|l| l.der),
            "mic.pem" => c.device(&device).await?.mic_der,
            other => {
                let id: i64 = other.strip_suffix(".pem").and_then(|s| s.parse().ok()).ok_or_else(missing)?;
                c.uploaded(&device).await?.into_iter().find(|u| u.id == id).map(|u| u.der)
            }
        };
        let der = der.ok_or_else(missing)?;
        Ok::<_, Problem>((format!("{device}-{file}"), opencapf_pki::pem::encode("CERTIFICATE", &der)))
    };
    match found.await {
        Ok((file_name, pem)) => (
            [
                (header::CONTENT_TYPE, "application/x-pem-file".to_owned()),
                // The device name is checked (letters and digits), so the file name needs no quoting rules.
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            ],
            pem,
        )
            .into_response(),
        Err(p) => problem_page(&caller, &p, &format!("/phones/{}", super::url_encode(&name))),
    }
}
