//! `opencapf cert inspect`.

use opencapf_cluster::{Cluster, Error as StoreError};
use opencapf_pki::{classify, device_named_by, CertificateInfo, CertificateKind, DeviceName, TrustStore, Verification};
use serde::Serialize;

use super::{read_certificates, Context};
use crate::cli::CertCommand;
use crate::output::{self, short_date};

#[derive(Serialize)]
struct Inspection {
    certificate: CertificateInfo,
    kind: CertificateKind,
    /// The device the CN names (`SEP…`, `CP-8861-SEP…`), by pki's one rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<DeviceName>,
    intermediates: usize,
    verification: Vec<StoreVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Serialize)]
struct StoreVerdict {
    store: TrustStore,
    #[serde(flatten)]
    result: Verification,
}

pub(crate) async fn run(ctx: &Context, cmd: CertCommand) -> anyhow::Result<()> {
    let CertCommand::Inspect { file, store } = cmd;
    let only = store;
    let chain = read_certificates(&file)?;
    let info = CertificateInfo::parse(&chain[0])?;
    // Without a cluster the certificate can still be read; only the stores are missing.
    let (kind, verification, note) = match Cluster::open(&ctx.data_dir).await {
        Ok(s) => {
            let trust = s.trust_snapshot().await?;
            let mut verdicts = Vec::new();
            for st in TrustStore::ALL.into_iter().filter(|st| only.is_none_or(|o| o == *st)) {
                verdicts.push(StoreVerdict { store: st, result: trust.verify(st, &chain, opencapf_model::now())? });
            }
            (trust.classify(&info), verdicts, None)
        }
        // With no cluster an LSC cannot be told ours or theirs: `lsc`, as `diagnose pcap` says.
        Err(StoreError::NoCluster(dir)) => (
            classify(&info, None),
            Vec::new(),
            Some(format!("no cluster in {}: trust stores not checked", dir.display())),
        ),
        Err(e) => return Err(e.into()),
    };
    let device = device_named_by(&info);
    let report = Inspection { certificate: info, kind, device, intermediates: chain.len() - 1, verification, note };
    if ctx.json {
        return output::json(&report);
    }
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
        outln!("{:<18} {}", format!("{}:", v.store), v.result);
    }
    if let Some(n) = &report.note {
        outln!("{n}");
    }
    Ok(())
}
