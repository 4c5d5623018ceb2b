//! `opencapf status`.

use super::Context;
use crate::output::{self, short_date};

pub(crate) async fn run(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    let report = store.status().await?;
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
        ("Require SUDI (CAPF)", if report.require_sudi { "on" } else { "off" }.to_owned()),
    ]);
    Ok(())
}
