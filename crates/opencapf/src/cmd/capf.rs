//! `opencapf capf show|regenerate|reissue|crl|set` (`csr` and `import-signed` in `capf_signed`,
//! `rollover` in `capf_rollover`).

use opencapf_cluster::{cli_actor, RegenerateReport, REQUIRE_SUDI};
use opencapf_diagnostics::after_capf_regenerate;
use opencapf_pki::CertificateInfo;
use serde::Serialize;

use super::Context;
use crate::cli::CapfCommand;
use crate::output::{self, short_date, Table};

/// `capf regenerate --json`: the report, and what happens next for the phones.
#[derive(Serialize)]
struct Regenerated<'a> {
    #[serde(flatten)]
    report: &'a RegenerateReport,
    still_on_old_capf: usize,
    next_steps: Vec<String>,
}

pub(crate) async fn run(ctx: &Context, cmd: CapfCommand) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    match cmd {
        CapfCommand::Show => {
            let rows = store.capf_certificates().await?;
            if ctx.json {
                return output::json(&rows);
            }
            let mut t = Table::new(&[
                "STATE",
                "COMMON NAME",
                "KEY",
                "NOT AFTER",
                "FINGERPRINT (SHA-256)",
                "DEVICES WITH ITS LSC",
            ]);
            for r in &rows {
                t.row(vec![
                    r.cert.state.clone(),
                    r.cert.common_name.clone(),
                    r.key.clone(),
                    r.cert.not_after[..10].to_owned(),
                    r.cert.fingerprint[..16].to_owned(),
                    r.devices_with_lsc.to_string(),
                ]);
            }
            t.print();
            if let Some(active) = rows.first() {
                outln!("\nSubject: {}", active.cert.subject);
            }
            Ok(())
        }
        CapfCommand::Regenerate { capf_key } => {
            let key = capf_key;
            let report = store.regenerate_capf(key, &cli_actor()).await?;
            super::init::warn_ec_capf(report.new.key_algorithm);
            let next_steps = after_capf_regenerate(report.devices_on_retired.len());
            if ctx.json {
                return output::json(&Regenerated {
                    report: &report,
                    still_on_old_capf: report.devices_on_retired.len(),
                    next_steps,
                });
            }
            let info = CertificateInfo::parse(&report.new.der)?;
            outln!(
                "New CAPF certificate: {} ({}, until {}), added to CallManager-trust and CAPF-trust",
                info.subject,
                info.key,
                short_date(info.not_after)
            );
            outln!("Retired: {} (kept in both stores)", report.retired.common_name);
            outln!(
                "{} device(s) still hold an LSC from a retired CAPF certificate. Give them new LSCs \
                 (`opencapf capf reissue`) before removing the old certificate from CallManager-trust, CAPF-trust, \
                 802.1x servers and VPN head-ends.",
                report.devices_on_retired.len()
            );
            outln!("\nWhat happens next for the phones:");
            for (i, step) in next_steps.iter().enumerate() {
                outln!("  {}. {step}", i + 1);
            }
            Ok(())
        }
        CapfCommand::Reissue { completes_by, expires_in_days } => {
            let deadline = store.operation_deadline(completes_by.as_deref(), expires_in_days).await?;
            let names = store.reissue(deadline, &cli_actor()).await?;
            if ctx.json {
                return output::json(&names);
            }
            outln!(
                "Scheduled Install/Upgrade, By Existing Certificate (Precedence to LSC), for {} device(s), to complete by {}",
                names.len(),
                opencapf_model::ts(deadline)
            );
            for n in names.iter().take(20) {
                outln!("  {n}");
            }
            if names.len() > 20 {
                outln!("  … and {} more", names.len() - 20);
            }
            Ok(())
        }
        CapfCommand::Crl { out, pem: _, der, capf } => crl(ctx, &store, &out, der, capf.as_deref()).await,
        CapfCommand::Rollover(c) => super::capf_rollover::run(ctx, &store, c).await,
        CapfCommand::Set { require_sudi } => {
            let on = require_sudi.is_on();
            store.set_require_sudi(on, &cli_actor()).await?;
            outln!("{REQUIRE_SUDI} is {}", if on { "on" } else { "off" });
            Ok(())
        }
        CapfCommand::Csr { out } => super::capf_signed::csr(&store, &out).await,
        CapfCommand::ImportSigned { file, chain } => {
            super::capf_signed::import(ctx, &store, &file, chain.as_deref()).await
        }
    }
}

/// `capf crl`: every CAPF certificate's CRL, signed again now (next CRL number) so that the file
/// written is valid its full 7 days even when nothing changed for a while; active CAPF first.
async fn crl(
    ctx: &Context,
    store: &opencapf_cluster::Cluster,
    out: &std::path::Path,
    der: bool,
    capf: Option<&str>,
) -> anyhow::Result<()> {
    let mut crls = store.capf_crls(true).await?;
    crls.sort_by_key(|c| !c.active);
    if let Some(prefix) = capf {
        let prefix = prefix.to_ascii_lowercase().replace(':', "");
        crls.retain(|c| c.capf_fingerprint.starts_with(&prefix));
        if crls.is_empty() {
            anyhow::bail!("no CAPF certificate has a fingerprint starting with {prefix} (see `opencapf capf show`)");
        }
    }
    if crls.is_empty() {
        anyhow::bail!("no CRL: no CAPF certificate has its key in the data folder");
    }
    let bytes = if der {
        if crls.len() > 1 {
            anyhow::bail!(
                "{} CAPF certificates: a DER file holds one CRL, pick one with --capf FINGERPRINT",
                crls.len()
            );
        }
        crls[0].der.clone()
    } else {
        crls.iter().map(|c| opencapf_pki::pem::encode("X509 CRL", &c.der)).collect::<String>().into_bytes()
    };
    std::fs::write(out, bytes).map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))?;
    if ctx.json {
        return output::json(&crls);
    }
    for c in &crls {
        let state = if c.active { "active" } else { "retired" };
        outln!(
            "CRL number {} of {} ({state}, {}): {} serial(s)",
            c.number,
            c.capf_subject,
            &c.capf_fingerprint[..16],
            c.revoked
        );
    }
    outln!("Written to {}", out.display());
    Ok(())
}
