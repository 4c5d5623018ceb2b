//! Find and List Phones `/phones`: a GET search form (the filters of `device list`), sortable
//! columns, paging, and a POST form that sets the CAPF operation of the ticked phones, or of every
//! phone the search matches (as BAT does), through `set_capf` like `device set`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use opencapf_cluster::{DeviceQuery, DeviceRow, DeviceSort, LscFilter, Selection, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use opencapf_model::{CertificateOperation, DeviceName};
use serde::Deserialize;

use super::capf_form::{self, CapfChoices, Choice, Pairs, ResultPage};
use super::{problem_page, render, url_encode, Nav};
use crate::auth::Caller;
use crate::{AppState, Problem};

/// The page sizes offered.
const PAGE_SIZES: [u64; 4] = [25, 50, 100, 250];

/// The search as the form and the links carry it: every field text, empty meaning "any".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Find {
    name: String,
    model: String,
    line: String,
    lsc: String,
    issuer: String,
    status: String,
    operation: String,
    sort: String,
    desc: String,
    offset: u64,
    limit: u64,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Find {
    /// The cluster's query; a filter that does not parse is refused with the CLI's words.
    fn query(&self) -> Result<DeviceQuery, Problem> {
        let bad = |e: &dyn std::fmt::Display| Problem::bad_request(e.to_string());
        Ok(DeviceQuery {
            name: opt(&self.name),
            model: opt(&self.model),
            line: opt(&self.line),
            lsc: opt(&self.lsc).map(|s| s.parse::<LscFilter>()).transpose().map_err(Problem::from)?,
            issuer: opt(&self.issuer),
            status: opt(&self.status),
            operation: opt(&self.operation)
                .map(|s| s.parse::<CertificateOperation>())
                .transpose()
                .map_err(|e| bad(&e))?,
            sort: opt(&self.sort)
                .map(|s| s.parse::<DeviceSort>())
                .transpose()
                .map_err(Problem::from)?
                .unwrap_or_default(),
            descending: !self.desc.is_empty(),
            offset: self.offset,
            limit: self.page_size(),
            ..DeviceQuery::default()
        })
    }

    fn page_size(&self) -> u64 {
        if self.limit == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            self.limit.min(MAX_PAGE_SIZE)
        }
    }

    /// The filters as a query string (no sort or paging), for links that keep the search.
    fn filters(&self) -> String {
        let pairs = [
            ("name", &self.name),
            ("model", &self.model),
            ("line", &self.line),
            ("lsc", &self.lsc),
            ("issuer", &self.issuer),
            ("status", &self.status),
            ("operation", &self.operation),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", url_encode(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A link to this search with another sort, page or page size.
    fn link(&self, sort: &str, desc: bool, offset: u64) -> String {
        let mut q = self.filters();
        for part in [
            (sort != "name").then(|| format!("sort={sort}")),
            desc.then(|| "desc=1".to_owned()),
            (offset > 0).then(|| format!("offset={offset}")),
            (self.limit != 0).then(|| format!("limit={}", self.page_size())),
        ]
        .into_iter()
        .flatten()
        {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&part);
        }
        if q.is_empty() {
            "/phones".into()
        } else {
            format!("/phones?{q}")
        }
    }
}

/// A sortable column's header.
pub(crate) struct Column {
    label: &'static str,
    href: String,
    /// `ascending` / `descending` on the sorted column (its `aria-sort`).
    sorted: Option<&'static str>,
    /// A visible mark of the sorted column and its direction.
    arrow: &'static str,
}

/// One phone as the list shows it.
pub(crate) struct Row {
    name: String,
    href: String,
    line: String,
    model: String,
    protocol: String,
    security: String,
    lsc: String,
    lsc_class: &'static str,
    issuer: String,
    expires: String,
    operation: String,
    status: String,
    last_registration: String,
}

impl Row {
    fn new(r: &DeviceRow) -> Row {
        let d = &r.device;
        let (lsc, lsc_class) = match (r.lsc_state, r.lsc_expiring) {
            (_, true) => ("expiring".to_owned(), "warn"),
            (s, _) => (
                match s {
                    opencapf_model::LscState::Valid => "this cluster".to_owned(),
                    opencapf_model::LscState::Foreign => "another cluster".to_owned(),
                    other => other.to_string(),
                },
                match s {
                    opencapf_model::LscState::Valid => "ok",
                    opencapf_model::LscState::Expired | opencapf_model::LscState::Foreign => "bad",
                    opencapf_model::LscState::None => "muted",
                },
            ),
        };
        Row {
            name: d.name.to_string(),
            href: format!("/phones/{}", d.name),
            line: d.lines.first().map(ToString::to_string).unwrap_or_default(),
            model: d.model.clone(),
            protocol: d.protocol.to_string(),
            security: d.security_mode.to_string(),
            lsc,
            lsc_class,
            issuer: d.lsc.as_ref().map(|l| l.issuer_cn.clone().unwrap_or_else(|| l.issuer.clone())).unwrap_or_default(),
            expires: d.lsc.as_ref().map(|l| capf_form::day(l.not_after)).unwrap_or_default(),
            operation: d.capf.operation.to_string(),
            status: d.capf.status.clone(),
            last_registration: r
                .last_registration
                .as_ref()
                .map(|l| format!("{} {}", l.result, opencapf_model::ts(l.at)))
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "phones.html")]
struct PhonesPage {
    nav: Nav,
    find: Find,
    lsc_filters: Vec<Choice>,
    choices: CapfChoices,
    page_sizes: [u64; 4],
    page_size: u64,
    columns: Vec<Column>,
    rows: Vec<Row>,
    total: u64,
    first: u64,
    last: u64,
    previous: Option<String>,
    next: Option<String>,
    first_page: String,
    /// Where the CAPF form posts: the search rides in the action, for "every matching phone".
    action: String,
    default_completes_by: String,
}

pub(crate) async fn list(State(state): State<AppState>, caller: Caller, Query(find): Query<Find>) -> Response {
    let q = match find.query() {
        Ok(q) => q,
        Err(p) => return problem_page(&caller, &p, "/phones"),
    };
    let c = &state.cluster;
    let (page, deadline) = match (c.search_devices(&q).await, c.default_completes_by().await) {
        (Ok(p), Ok(d)) => (p, d),
        (Err(e), _) | (_, Err(e)) => return problem_page(&caller, &e.into(), "/phones"),
    };
    let size = page.limit;
    let columns = [
        ("Device Name", DeviceSort::Name),
        ("Model", DeviceSort::Model),
        ("LSC Expires", DeviceSort::LscExpiry),
        ("Certificate Operation Status", DeviceSort::Status),
        ("Last Registration", DeviceSort::LastRegistration),
    ]
    .into_iter()
    .map(|(label, sort)| {
        let current = q.sort == sort;
        Column {
            label,
            // A click on the sorted column reverses it.
            href: find.link(sort.token(), current && !q.descending, 0),
            sorted: current.then_some(if q.descending { "descending" } else { "ascending" }),
            arrow: match (current, q.descending) {
                (false, _) => "",
                (true, false) => " ▲",
                (true, true) => " ▼",
            },
        }
    })
    .collect();
    let shown = page.devices.len() as u64;
    let sort = q.sort.token();
    let page_view = PhonesPage {
        nav: Nav::for_caller(&caller, "/phones"),
        lsc_filters: vec![
            Choice { value: "none".into(), label: "None".into() },
            Choice { value: "valid".into(), label: "This cluster".into() },
            Choice { value: "foreign".into(), label: "Another cluster".into() },
            Choice { value: "expiring".into(), label: "Expiring".into() },
            Choice { value: "expired".into(), label: "Expired".into() },
        ],
        choices: CapfChoices::new(),
        page_sizes: PAGE_SIZES,
        page_size: size,
        columns,
        rows: page.devices.iter().map(Row::new).collect(),
        total: page.total,
        first: if shown == 0 { 0 } else { q.offset.saturating_add(1) },
        last: q.offset.saturating_add(shown),
        previous: (q.offset > 0).then(|| find.link(sort, q.descending, q.offset.saturating_sub(size))),
        next: (q.offset.saturating_add(shown) < page.total)
            .then(|| find.link(sort, q.descending, q.offset.saturating_add(size))),
        first_page: find.link(sort, q.descending, 0),
        action: match find.filters() {
            f if f.is_empty() => "/phones/capf".into(),
            f => format!("/phones/capf?{f}"),
        },
        default_completes_by: capf_form::day(deadline),
        find,
    };
    render(&page_view)
}

/// Sets the CAPF operation of the ticked phones (`scope=selected`) or of every phone the search
/// in the action's query matches (`scope=matching`), in one transaction.
pub(crate) async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Query(find): Query<Find>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let back = match find.filters() {
        f if f.is_empty() => "/phones".to_owned(),
        f => format!("/phones?{f}"),
    };
    match set_selected(&state, &caller, &find, &pairs).await {
        Ok(page) => render(&ResultPage { back, ..page }),
        Err(p) => problem_page(&caller, &p, &back),
    }
}

async fn set_selected(state: &AppState, caller: &Caller, find: &Find, pairs: &Pairs) -> Result<ResultPage, Problem> {
    let settings = capf_form::settings(pairs)?;
    if settings.operation.is_none() {
        return Err(Problem::bad_request("choose the Certificate Operation to set"));
    }
    let selection = if capf_form::field(pairs, "scope") == Some("matching") {
        Selection::Query(find.query()?)
    } else {
        let names = capf_form::fields(pairs, "device")
            .map(|n| n.parse::<DeviceName>().map_err(|e| Problem::bad_request(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if names.is_empty() {
            return Err(Problem::bad_request("tick the phones to change first (or choose every matching phone)"));
        }
        Selection::Names(names)
    };
    let c = &state.cluster;
    let replaced = c.pending_replaced(&selection, &settings).await?;
    if replaced > 0 && !settings.replace_pending {
        return Err(Problem::new(
            axum::http::StatusCode::CONFLICT,
            format!(
                "this replaces the pending operation of {replaced} phone(s): tick \"Replace pending operations\" to \
                 replace them"
            ),
        ));
    }
    let deadline = capf_form::deadline(c, pairs).await?;
    let results = c.set_capf(&selection, &settings, deadline, &caller.actor, |_, _| {}).await?;
    let pending = settings.operation != Some(CertificateOperation::NoPendingOperation);
    Ok(ResultPage {
        nav: Nav::for_caller(caller, "/phones"),
        results,
        completes_by: pending.then(|| opencapf_model::ts(deadline)),
        replaced,
        back: String::new(),
    })
}
