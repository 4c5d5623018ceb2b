//! `opencapf trust list|add|remove|export|export-itl`.

use std::io::Write;

use anyhow::Context as _;
use opencapf_cluster::{cli_actor, TrustAddition};
use opencapf_model::TrustStore;

use super::{read_certificates, Context};
use crate::cli::{Switch, TrustCommand};
use crate::output::{self, Table};

pub(crate) async fn run(ctx: &Context, cmd: TrustCommand) -> anyhow::Result<()> {
    match cmd {
        TrustCommand::List { store } => list(ctx, store).await,
        TrustCommand::Add { store: kind, file, legacy_sha1 } => {
            let legacy = legacy_sha1.map(Switch::is_on);
            let certs = read_certificates(&file)?;
            let s = ctx.cluster().await?;
            let added = s.add_trust(kind, &certs, legacy, &cli_actor()).await?;
            let report: Vec<TrustAddition> =
                added.iter().map(|(info, added)| TrustAddition::new(kind, info, *added)).collect();
            if ctx.json {
                return output::json(&report);
            }
            for a in &report {
                let shown = &a.fingerprint[..16];
                match a.added {
                    "added" => outln!("Added to {kind}: {} ({shown})", a.subject),
                    _ => outln!("Already in {kind}: {} ({shown})", a.subject),
                }
            }
            for a in &report {
                if let Some(w) = &a.warning {
                    errln!("warning: {w}");
                }
                if let Some(n) = &a.note {
                    errln!("note: {n}");
                }
            }
            Ok(())
        }
        TrustCommand::Remove { store: kind, cert, force } => {
            let s = ctx.cluster().await?;
            let removed = s.remove_trust(kind, &cert, force, &cli_actor()).await?;
            outln!(
                "Removed from {kind}: {} ({})",
                removed.common_name.as_deref().unwrap_or("?"),
                &removed.fingerprint[..16]
            );
            if !removed.stranded_devices.is_empty() {
                errln!(
                    "warning: forced removal: {} device(s) hold a certificate that chains to it and will fail in {kind} (audited)",
                    removed.stranded_devices.len()
                );
            }
            Ok(())
        }
        TrustCommand::ExportItl { out } => export_itl(ctx, &out).await,
        TrustCommand::Export { store: kind, out } => {
            let s = ctx.cluster().await?;
            let entries = s.trust_list(Some(kind)).await?;
            let bundle: String = entries.iter().map(|e| opencapf_pki::pem::encode("CERTIFICATE", &e.der)).collect();
            match out {
                Some(path) => {
                    std::fs::write(&path, &bundle).with_context(|| format!("writing {}", path.display()))?;
                    errln!("Wrote {} certificates of {kind} to {}", entries.len(), path.display());
                }
                None => std::io::stdout().write_all(bundle.as_bytes())?,
            }
            Ok(())
        }
    }
}

/// `opencapf trust export-itl`: the bytes `serve` sends as ITLFile.tlv, and what they hold.
async fn export_itl(ctx: &Context, out: &std::path::Path) -> anyhow::Result<()> {
    let s = ctx.cluster().await?;
    let itl = s.itl_file().await;
    s.close().await;
    let itl = itl?;
    std::fs::write(out, &itl).with_context(|| format!("writing {}", out.display()))?;
    let records = opencapf_pki::Itl::parse(&itl).map(|i| i.records).unwrap_or_default();
    errln!("Wrote the ITL (ITLFile.tlv, {} bytes, {} records) to {}", itl.len(), records.len(), out.display());
    for r in &records {
        errln!("  {}", r.summary());
    }
    Ok(())
}

async fn list(ctx: &Context, kind: Option<TrustStore>) -> anyhow::Result<()> {
    let s = ctx.cluster().await?;
    let entries = s.trust_list(kind).await?;
    if ctx.json {
        return output::json(&entries);
    }
    let mut t = Table::new(&["STORE", "COMMON NAME", "FINGERPRINT (SHA-256)", "EXPIRES", "SHA-1", "ADDED BY"]);
    for e in &entries {
        t.row(vec![
            e.store.to_string(),
            e.common_name.clone().unwrap_or_else(|| e.subject.clone()),
            e.fingerprint[..16].to_owned(),
            e.not_after[..10].to_owned(),
            if e.legacy_sha1 { "allowed" } else { "-" }.to_owned(),
            e.added_by.clone(),
        ]);
    }
    t.print();
    Ok(())
}
