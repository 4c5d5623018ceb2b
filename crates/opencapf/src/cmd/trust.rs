//! `opencapf trust list|add|remove|export|export-itl`; `export --for` writes what a trust consumer
//! (FreeRADIUS, ISE, ASA) needs and records it for the consumer.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use opencapf_cluster::{cli_actor, ConsumerKind, ExportFile, ExportFormat, ExportOptions, TrustAddition};
use opencapf_model::TrustStore;
use serde::Serialize;

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
            if !removed.unconfirmed_consumers.is_empty() {
                errln!(
                    "warning: forced removal: {} consumer(s) are not confirmed to run with the active CAPF certificate ({}) (audited)",
                    removed.unconfirmed_consumers.len(),
                    removed.unconfirmed_consumers.join(", ")
                );
            }
            if !removed.stranded_devices.is_empty() {
                errln!(
                    "warning: forced removal: {} device(s) hold a certificate that chains to it and will fail in {kind} (audited)",
                    removed.stranded_devices.len()
                );
            }
            Ok(())
        }
        TrustCommand::ExportItl { out } => export_itl(ctx, &out).await,
        TrustCommand::Export { store, format, consumer, out, radius_cert, radius_key, radius_dir, crl_url } => {
            let opts = ExportOptions {
                radius_certificate: radius_cert,
                radius_key,
                radius_dir,
                crl_url,
                generated_at: opencapf_model::now(),
            };
            export(ctx, store, format, consumer.as_deref(), out.as_deref(), opts).await
        }
    }
}

/// What `trust export --for … --json` prints.
#[derive(Serialize)]
struct Exported<'a> {
    store: TrustStore,
    format: ExportFormat,
    files: Vec<String>,
    certificates: Vec<ExportedCertificate<'a>>,
    crls: &'a [opencapf_cluster::CrlSummary],
    /// The export as recorded for the consumer.
    recorded: Option<opencapf_cluster::ConsumerExport>,
}

#[derive(Serialize)]
struct ExportedCertificate<'a> {
    role: opencapf_cluster::BundleRole,
    subject: &'a str,
    fingerprint: &'a str,
    not_after: String,
}

/// `trust export`: a PEM bundle of the whole store (no --for, no --consumer, as before), or what
/// a consumer needs, recorded for it.
async fn export(
    ctx: &Context,
    kind: TrustStore,
    format: Option<ExportFormat>,
    consumer: Option<&str>,
    out: Option<&Path>,
    opts: ExportOptions,
) -> anyhow::Result<()> {
    let s = ctx.cluster().await?;
    let format = match (format, consumer) {
        (Some(f), _) => f,
        (None, Some(name)) => s.consumer(name).await?.kind.format(),
        (None, None) if ctx.json => {
            anyhow::bail!(
                "`opencapf trust export` has no JSON output without --for or --consumer: run it without --json"
            )
        }
        (None, None) => return export_store(&s, kind, out).await,
    };
    let bundle = s.trust_bundle(kind).await?;
    let files = opencapf_cluster::render_export(format, &bundle, &opts)?;
    // Checked before anything is written, so that a refused export leaves no files behind.
    if let Some(name) = consumer {
        let c = s.consumer(name).await?;
        if c.kind != ConsumerKind::Other && c.kind.format() != format {
            anyhow::bail!("{name} is a {} consumer: export it --for {} (or without --for)", c.kind, c.kind.format());
        }
    }
    let written = write_files(format, &files, out)?;
    let recorded = match consumer {
        Some(name) => Some(s.record_export(name, format, &bundle, &cli_actor()).await?),
        None => None,
    };
    for c in bundle.certificates.iter().filter(|c| c.role != opencapf_cluster::BundleRole::Issuer) {
        if bundle.crl_of(&c.info.fingerprint).is_none() {
            errln!(
                "warning: no CRL for {} (its key is not in the data folder): a consumer that checks CRLs refuses its LSCs",
                c.info.subject
            );
        }
    }
    if ctx.json {
        return output::json(&Exported {
            store: kind,
            format,
            files: written.iter().map(|p| p.display().to_string()).collect(),
            certificates: bundle
                .certificates
                .iter()
                .map(|c| ExportedCertificate {
                    role: c.role,
                    subject: &c.info.subject,
                    fingerprint: &c.info.fingerprint,
                    not_after: opencapf_model::ts(c.info.not_after),
                })
                .collect(),
            crls: &bundle.crls,
            recorded,
        });
    }
    errln!("{format} export of {kind}: {} certificate(s), {} CRL(s)", bundle.certificates.len(), bundle.crls.len());
    for c in &bundle.certificates {
        errln!("  {} ({})", c.info.subject, &c.info.fingerprint[..16]);
    }
    for p in &written {
        errln!("Wrote {}", p.display());
    }
    if let Some(e) = &recorded {
        let name = consumer.unwrap_or_default();
        errln!(
            "Recorded as export {} of {name}. Once applied there: `opencapf consumer confirm {name}`{}",
            e.id,
            if format == ExportFormat::Freeradius {
                format!(" (or `opencapf consumer check {name} --radius HOST:PORT --secret …`)")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// Writes the files of an export: into the folder `out` (made 0755 if missing) for the folder
/// formats, else to the file `out` or standard output.
fn write_files(format: ExportFormat, files: &[ExportFile], out: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    if format.is_folder() {
        let Some(dir) = out else {
            anyhow::bail!("--for {format} writes several files: name a folder with --out DIR");
        };
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!("--out {}: --for {format} writes a folder, and this is a file", dir.display());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut written = Vec::new();
        for f in files {
            let path = dir.join(&f.name);
            std::fs::write(&path, &f.contents).with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
        return Ok(written);
    }
    let f = &files[0];
    match out {
        Some(path) if path.is_dir() => {
            let path = path.join(&f.name);
            std::fs::write(&path, &f.contents).with_context(|| format!("writing {}", path.display()))?;
            Ok(vec![path])
        }
        Some(path) => {
            std::fs::write(path, &f.contents).with_context(|| format!("writing {}", path.display()))?;
            Ok(vec![path.to_path_buf()])
        }
        None => {
            std::io::stdout().write_all(&f.contents)?;
            Ok(Vec::new())
        }
    }
}

/// The whole store as one PEM bundle (`trust export STORE`).
async fn export_store(s: &opencapf_cluster::Cluster, kind: TrustStore, out: Option<&Path>) -> anyhow::Result<()> {
    let entries = s.trust_list(Some(kind)).await?;
    let bundle: String = entries.iter().map(|e| opencapf_pki::pem::encode("CERTIFICATE", &e.der)).collect();
    match out {
        Some(path) => {
            std::fs::write(path, &bundle).with_context(|| format!("writing {}", path.display()))?;
            errln!("Wrote {} certificates of {kind} to {}", entries.len(), path.display());
        }
        None => std::io::stdout().write_all(bundle.as_bytes())?,
    }
    Ok(())
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
