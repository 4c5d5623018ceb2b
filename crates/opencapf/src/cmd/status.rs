//! `opencapf status` and `opencapf audit`.

use std::collections::BTreeMap;

use opencapf_pki::{CertificateInfo, TrustStore};
use opencapf_store::devices::{self, LscState};
use opencapf_store::model::status;
use opencapf_store::{audit, service, trust, Service};
use serde::Serialize;

use super::Context;
use crate::output::{self, days_left, short_date, Table};

#[derive(Serialize)]
struct Status {
    capf: CapfSummary,
    retired_capf_certificates: usize,
    callmanager_common_name: String,
    trust_stores: BTreeMap<String, i64>,
    devices: usize,
    devices_by_lsc: BTreeMap<String, usize>,
    pending_operations: usize,
    overdue_operations: usize,
}

#[derive(Serialize)]
struct CapfSummary {
    common_name: String,
    key: String,
    #[serde(with = "time::serde::rfc3339")]
    not_after: time::OffsetDateTime,
    days_left: i64,
}

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    let mut conn = store.pool().acquire().await?;
    let capf = service::require_active(&mut conn, Service::Capf).await?;
    let capf_info = CertificateInfo::parse(&capf.der)?;
    let all_capf = service::capf_infos(&mut conn).await?;
    let cm = service::require_active(&mut conn, Service::CallManager).await?;
    let mut stores = BTreeMap::new();
    for s in TrustStore::ALL {
        stores.insert(s.name().to_owned(), trust::count(&mut conn, s).await?);
    }
    let now = opencapf_store::now();
    let list = devices::list(&mut conn).await?;
    let mut by_lsc: BTreeMap<String, usize> = [LscState::None, LscState::Valid, LscState::Expired, LscState::Foreign]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let (mut pending, mut overdue) = (0, 0);
    for d in &list {
        *by_lsc.entry(devices::lsc_state(d, &all_capf, now).to_string()).or_default() += 1;
        if d.capf.status == status::PENDING {
            pending += 1;
            if d.capf.completes_by.is_some_and(|t| t < now) {
                overdue += 1;
            }
        }
    }
    let report = Status {
        capf: CapfSummary {
            common_name: capf.common_name.clone(),
            key: capf_info.key.clone(),
            not_after: capf_info.not_after,
            days_left: days_left(capf_info.not_after),
        },
        retired_capf_certificates: all_capf.len() - 1,
        callmanager_common_name: cm.common_name,
        trust_stores: stores,
        devices: list.len(),
        devices_by_lsc: by_lsc,
        pending_operations: pending,
        overdue_operations: overdue,
    };
    if ctx.json {
        return output::json(&report);
    }
    output::fields(&[
        ("Cluster", store.data_dir().display().to_string()),
        (
            "CAPF certificate",
            format!(
                "{} ({}, expires {}, {} days left)",
                report.capf.common_name,
                report.capf.key,
                short_date(report.capf.not_after),
                report.capf.days_left
            ),
        ),
        ("Retired CAPF certs", report.retired_capf_certificates.to_string()),
        ("CallManager cert", format!("CN={}", report.callmanager_common_name)),
        ("CallManager-trust", format!("{} certificates", report.trust_stores["CallManager-trust"])),
        ("CAPF-trust", format!("{} certificates", report.trust_stores["CAPF-trust"])),
        ("Devices", report.devices.to_string()),
        (
            "Devices by LSC",
            report.devices_by_lsc.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "),
        ),
        (
            "Pending operations",
            format!("{} ({} past Operation Completes By)", report.pending_operations, report.overdue_operations),
        ),
    ]);
    Ok(())
}

pub async fn audit(ctx: &Context, limit: i64) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    let mut conn = store.pool().acquire().await?;
    let entries = audit::list(&mut conn, limit.max(1)).await?;
    if ctx.json {
        return output::json(&entries);
    }
    let mut t = Table::new(&["AT", "ACTOR", "ACTION", "TARGET", "DETAIL"]);
    for e in entries {
        t.row(vec![e.at, e.actor, e.action, e.target, e.detail]);
    }
    t.print();
    Ok(())
}
