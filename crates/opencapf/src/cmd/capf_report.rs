//! The CAPF report administrators ask CUCM for, as CSV (RFC 4180: CRLF line ends, fields quoted
//! when they hold a comma, a quote or a line break): one row per device with its LSC and its last
//! registration. Written by `device list --csv` and `doctor --csv`. Fields go through
//! [`printable`] like every table cell: a control character in a model name cannot reach the
//! terminal.

use std::collections::HashMap;

use opencapf_cluster::Cluster;
use std::io::Write as _;

use opencapf_model::{printable, Device, Registration};

const HEADER: [&str; 7] = ["name", "model", "lsc_issuer", "lsc_serial", "lsc_expires", "status", "last_registration"];

/// The report of `devices`; `extra` adds columns after the standard ones (name, then a value per
/// device, in order).
pub(crate) async fn write(
    store: &Cluster,
    devices: &[&Device],
    extra: Option<(&str, Vec<String>)>,
) -> anyhow::Result<()> {
    let last = last_registrations(store).await?;
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let mut header: Vec<&str> = HEADER.to_vec();
    if let Some((name, _)) = &extra {
        header.push(name);
    }
    w.write_record(&header)?;
    for (i, d) in devices.iter().enumerate() {
        let mut row = row(d, last.get(d.name.as_str()));
        if let Some((_, values)) = &extra {
            row.push(values.get(i).cloned().unwrap_or_default());
        }
        w.write_record(row.iter().map(|f| printable(f).into_owned()))?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("writing the CSV report: {e}"))?;
    std::io::stdout().lock().write_all(&bytes)?;
    Ok(())
}

fn row(d: &Device, last: Option<&Registration>) -> Vec<String> {
    let lsc = d.lsc.as_ref();
    vec![
        d.name.to_string(),
        d.model.clone(),
        lsc.map(|l| l.issuer_cn.clone().unwrap_or_else(|| l.issuer.clone())).unwrap_or_default(),
        lsc.map(|l| l.serial.clone()).unwrap_or_default(),
        lsc.map(|l| opencapf_model::ts(l.not_after)).unwrap_or_default(),
        d.capf.status.clone(),
        last.map(|r| format!("{} {}", r.at, r.result)).unwrap_or_default(),
    ]
}

/// Each device's newest registration event.
async fn last_registrations(store: &Cluster) -> anyhow::Result<HashMap<String, Registration>> {
    let newest = store.newest_registrations().await?;
    Ok(newest.into_iter().filter_map(|r| Some((r.device.clone()?, r))).collect())
}
