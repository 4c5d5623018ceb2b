//! The dashboard `/`: the cluster's LSCs by issuer and by month of expiry, and the last day's
//! registrations and refusals by hour, as charts with their numbers as tables. The counts come
//! from the same cluster reads as the API's (`lsc_overview`, `registration_timeline`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use opencapf_cluster::{LscOverview, TimelineBucket};
use time::{Duration, OffsetDateTime};

use super::chart::{BarChart, Group, Series};
use super::{render, Nav};
use crate::auth::Caller;
use crate::AppState;

/// Hourly buckets of the timeline: the current hour and the 23 before it.
const HOURS: i64 = 24;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    devices: u64,
    lsc: LscOverview,
    charts: Vec<BarChart>,
    refused_by_reason: Vec<(String, u64)>,
}

pub(crate) async fn page(State(state): State<AppState>, caller: Caller) -> Response {
    let c = &state.cluster;
    let since = start_of_hour(opencapf_model::now()) - Duration::hours(HOURS - 1);
    let read = async {
        let devices = c.device_count().await?;
        let lsc = c.lsc_overview().await?;
        let timeline = c.registration_timeline(since, Duration::hours(1)).await?;
        Ok::<_, opencapf_cluster::Error>((devices, lsc, timeline))
    };
    let (devices, lsc, timeline) = match read.await {
        Ok(r) => r,
        Err(e) => return super::problem_page(&caller, &e.into(), "/"),
    };
    let charts = vec![by_issuer(&lsc), by_expiry(&lsc), registrations(&timeline)];
    let mut reasons = std::collections::BTreeMap::<String, u64>::new();
    for b in &timeline {
        for (reason, n) in &b.refused_by_reason {
            *reasons.entry(reason.clone()).or_default() += n;
        }
    }
    let mut refused_by_reason: Vec<(String, u64)> = reasons.into_iter().collect();
    refused_by_reason.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    render(&DashboardPage { nav: Nav::for_caller(&caller, "/"), devices, lsc, charts, refused_by_reason })
}

fn start_of_hour(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_minute(0).and_then(|t| t.replace_second(0)).and_then(|t| t.replace_nanosecond(0)).unwrap_or(t)
}

fn by_issuer(lsc: &LscOverview) -> BarChart {
    BarChart {
        title: "LSCs by issuer".into(),
        series: vec![Series { name: "LSCs", class: "s1" }],
        groups: lsc
            .by_issuer
            .iter()
            .map(|i| Group {
                label: if i.this_cluster { i.issuer.clone() } else { format!("{} (other cluster)", i.issuer) },
                values: vec![i.count],
            })
            .collect(),
    }
}

fn by_expiry(lsc: &LscOverview) -> BarChart {
    BarChart {
        title: "LSCs by month of expiry".into(),
        series: vec![Series { name: "LSCs", class: "s1" }],
        groups: lsc.by_expiry.iter().map(|e| Group { label: e.month.clone(), values: vec![e.count] }).collect(),
    }
}

fn registrations(timeline: &[TimelineBucket]) -> BarChart {
    BarChart {
        title: "Registrations and refusals over the last day (UTC, by hour)".into(),
        series: vec![Series { name: "Registered", class: "s1" }, Series { name: "Refused", class: "s2" }],
        groups: timeline
            .iter()
            .map(|b| Group { label: format!("{:02}:00", b.start.hour()), values: vec![b.registered, b.refused] })
            .collect(),
    }
}
