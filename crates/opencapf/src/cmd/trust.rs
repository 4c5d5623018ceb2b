//! `opencapf trust list|add|remove|export`.

use std::io::Write;

use anyhow::Context as _;
use opencapf_cluster::cli_actor;
use opencapf_model::{TrustAdded as Added, TrustStore};

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
            for (info, added) in s.add_trust(kind, &certs, legacy, &cli_actor()).await? {
                match added {
                    Added::Added => outln!("Added to {kind}: {} ({})", info.subject, &info.fingerprint[..16]),
                    Added::AlreadyPresent => {
                        outln!("Already in {kind}: {} ({})", info.subject, &info.fingerprint[..16])
                    }
                }
                if !info.is_ca {
                    errln!("note: {} is not a CA certificate; it can only trust itself", info.subject);
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
                    "warning: forced removal: {} device(s) hold an LSC issued by it and will fail in {kind} (audited)",
                    removed.stranded_devices.len()
                );
            }
            Ok(())
        }
        TrustCommand::ExportPhone { out } => super::phone::export_trust_list(ctx, out.as_deref()).await,
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
