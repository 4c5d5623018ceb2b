//! `opencapf device certs NAME [--out DIR]`: what a phone uploaded with Troubleshoot, and the LSC
//! and MIC recorded for it; `--out` writes each one as a PEM file.

use std::path::Path;

use anyhow::Context as _;
use opencapf_pki::{CertificateInfo, DeviceName};

use serde::Serialize;

use super::super::Context;
use crate::output::{self, short_date, Table};

#[derive(Serialize)]
struct Listed {
    /// "recorded" (the device's LSC or MIC as the cluster knows it) or "uploaded".
    source: &'static str,
    /// LSC or MIC.
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uploaded_at: Option<String>,
    subject: String,
    issuer: String,
    serial: String,
    #[serde(with = "time::serde::rfc3339")]
    not_after: time::OffsetDateTime,
    fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    pem: String,
    #[serde(skip)]
    upload_id: Option<i64>,
}

impl Listed {
    fn new(source: &'static str, kind: &str, uploaded_at: Option<String>, der: &[u8]) -> anyhow::Result<Self> {
        let info = CertificateInfo::parse(der)?;
        Ok(Self {
            source,
            kind: kind.to_owned(),
            uploaded_at,
            subject: info.subject,
            issuer: info.issuer,
            serial: info.serial,
            not_after: info.not_after,
            fingerprint: info.fingerprint,
            file: None,
            pem: opencapf_pki::pem::encode("CERTIFICATE", der),
            upload_id: None,
        })
    }
}

pub(super) async fn run(ctx: &Context, name: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let name: DeviceName = name.parse()?;
    let store = ctx.cluster().await?;
    let device = store.device(&name).await?;
    let mut listed = Vec::new();
    if let Some(lsc) = &device.lsc {
        listed.push(Listed::new("recorded", "LSC", None, &lsc.der)?);
    }
    if let Some(mic) = &device.mic_der {
        listed.push(Listed::new("recorded", "MIC", None, mic)?);
    }
    for u in store.uploaded(&name).await? {
        let mut l = Listed::new("uploaded", u.kind.as_str(), Some(u.uploaded_at.clone()), &u.der)?;
        l.upload_id = Some(u.id);
        listed.push(l);
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for l in &mut listed {
            let path = dir.join(file_name(&name, l));
            std::fs::write(&path, &l.pem).with_context(|| format!("writing {}", path.display()))?;
            l.file = Some(path.display().to_string());
        }
    }
    if ctx.json {
        return output::json(&listed);
    }
    if listed.is_empty() {
        outln!(
            "{name} has no recorded or uploaded certificate. To get them from the phone: \
             `opencapf device set {name} --operation troubleshoot`, then reset the phone and wait for \
             \"Troubleshoot Success\"."
        );
        return Ok(());
    }
    let mut header = vec!["SOURCE", "KIND", "UPLOADED", "SUBJECT", "ISSUER", "SERIAL", "EXPIRES"];
    if out.is_some() {
        header.push("FILE");
    }
    let mut t = Table::new(&header);
    for l in &listed {
        let mut row = vec![
            l.source.to_owned(),
            l.kind.clone(),
            l.uploaded_at.clone().unwrap_or_else(|| "-".into()),
            l.subject.clone(),
            l.issuer.clone(),
            l.serial.clone(),
            short_date(l.not_after),
        ];
        if let Some(f) = &l.file {
            row.push(f.clone());
        }
        t.row(row);
    }
    t.print();
    if let Some(dir) = out {
        errln!("Wrote {} PEM file(s) to {}", listed.len(), dir.display());
    }
    Ok(())
}

/// `SEP…-lsc.pem`, `SEP…-mic.pem` for the recorded ones; `SEP…-upload-<id>-lsc.pem` for uploads.
fn file_name(name: &DeviceName, l: &Listed) -> String {
    let kind = l.kind.to_ascii_lowercase();
    match l.upload_id {
        Some(id) => format!("{name}-upload-{id}-{kind}.pem"),
        None => format!("{name}-{kind}.pem"),
    }
}
