//! `opencapf cert inspect`; `cert own` lives in `cert_own`, `cert regenerate|csr|import-signed`
//! in `cert_web`.

use opencapf_cluster::{Cluster, Error as StoreError, Inspection, StoreVerdict};
use opencapf_pki::{TrustStore, Verdict, Verification};

use super::{read_certificates, Context};
use crate::cli::CertCommand;
use crate::output::{self, short_date};

pub(crate) async fn run(ctx: &Context, cmd: CertCommand) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Own { name, out } => super::cert_own::run(ctx, name, out).await,
        CertCommand::Inspect { file, store } => inspect(ctx, &file, store).await,
        CertCommand::Regenerate { name } => super::cert_web::regenerate(ctx, name).await,
        CertCommand::Csr { name, out } => super::cert_web::csr(ctx, name, out.as_deref()).await,
        CertCommand::ImportSigned { name, file, chain } => {
            super::cert_web::import(ctx, name, &file, chain.as_deref()).await
        }
    }
}

async fn inspect(ctx: &Context, file: &std::path::Path, only: Option<TrustStore>) -> anyhow::Result<()> {
    let chain = read_certificates(file)?;
    // Without a cluster the certificate can still be read; only the stores are missing.
    let report = match Cluster::open(&ctx.data_dir).await {
        Ok(s) => s.inspect_certificate(&chain, only).await?,
        Err(StoreError::NoCluster(dir)) => {
            Inspection::unchecked(&chain, format!("no cluster in {dir}: trust stores not checked"))?
        }
        Err(e) => return Err(e.into()),
    };
    if ctx.json {
        output::json(&report)?;
    } else {
        print_report(&report);
    }
    // Exit 1 when the certificate is of no use where it was checked, like `doctor` on an error.
    if report.untrusted_everywhere() {
        let stores: Vec<String> = report.verification.iter().map(|v| v.store.to_string()).collect();
        let who = match stores.as_slice() {
            [one] => format!("{one} does not trust"),
            _ => format!("neither {} trusts", stores.join(" nor ")),
        };
        anyhow::bail!("untrusted: {who} this certificate (see the reasons above)");
    }
    Ok(())
}

fn print_report(report: &Inspection) {
    let c = &report.certificate;
    let mut fields = vec![("Subject", c.subject.clone())];
    fields.extend(report.device.as_ref().map(|d| ("Device", d.to_string())));
    fields.extend([
        ("Issuer", c.issuer.clone()),
        ("Serial", c.serial.clone()),
        ("Valid", format!("{} to {}", short_date(c.not_before), short_date(c.not_after))),
        ("Key", c.key.clone()),
        ("Signature", c.signature_algorithm.clone()),
        ("SHA-256", c.fingerprint.clone()),
        ("Kind", report.kind.to_string()),
    ]);
    output::fields(&fields);
    for v in &report.verification {
        print_verdict(v);
    }
    if let Some(n) = &report.note {
        outln!("{n}");
    }
}

/// One store's verdict: "trusted", or "untrusted" and every reason, most fundamental first.
fn print_verdict(v: &StoreVerdict) {
    let label = format!("{}:", v.store);
    let Verdict { outcome, reasons, self_signed } = &v.result;
    if outcome.is_trusted() {
        outln!("{label:<18} {outcome}");
        return;
    }
    for (i, r) in reasons.iter().enumerate() {
        let first = if i == 0 { label.as_str() } else { "" };
        let own = if *self_signed && matches!(r, Verification::UnknownCa { .. }) { " (self-signed)" } else { "" };
        outln!("{first:<18} {}{r}{own}", if i == 0 { "untrusted: " } else { "           " });
    }
}
