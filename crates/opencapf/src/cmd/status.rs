//! `opencapf status`.

use opencapf_model::TlsSettings;

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
        ("TLS", tls_line(&report.tls)),
    ]);
    if let Some(what) = &report.legacy_phones_allowed {
        outln!(
            "Warning: legacy phones allowed: {what} (`opencapf registrations` marks the phones that use it; \
             `settings set tls.min_version 1.2` and `tls.cbc off` end it)"
        );
    }
    Ok(())
}

/// The `tls.*` settings on one line.
fn tls_line(t: &TlsSettings) -> String {
    let on = |b: bool| if b { "on" } else { "off" };
    format!(
        "minimum {}, CBC suites {}, NULL-SHA for Authenticated devices {}, empty fragments {}",
        t.min_version.token(),
        on(t.cbc),
        on(t.null_sha),
        on(t.empty_fragments)
    )
}
