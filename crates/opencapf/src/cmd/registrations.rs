//! `opencapf registrations [--device NAME] [--limit N]`: what CallManager recorded of phone
//! registrations (registered, refused with its reason, unregistered), newest first.

use clap::Args;
use opencapf_model::Registration;
use opencapf_pki::DeviceName;

use super::Context;
use crate::output::{self, Table};

#[derive(Args)]
pub(crate) struct RegistrationsArgs {
    /// Only this device (SEP + 12 hex digits)
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// How many entries
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

pub(crate) async fn run(ctx: &Context, args: RegistrationsArgs) -> anyhow::Result<()> {
    let device: Option<DeviceName> = args.device.as_deref().map(str::parse).transpose()?;
    let store = ctx.cluster().await?;
    let list = store.registrations(device.as_ref(), args.limit.max(1)).await?;
    if ctx.json {
        return output::json(&list);
    }
    if list.is_empty() {
        match &device {
            Some(d) => outln!("No registration recorded for {d}."),
            None => outln!("No registration recorded yet."),
        }
        return Ok(());
    }
    print_table(&list, device.is_none());
    Ok(())
}

/// The registrations as a table; `with_device` adds the DEVICE column (off for `device show`,
/// which is about one device).
pub(crate) fn print_table(list: &[Registration], with_device: bool) {
    let mut header = vec!["AT"];
    if with_device {
        header.push("DEVICE");
    }
    header.extend(["RESULT", "VIA", "TLS", "CERTIFICATE", "PEER", "REASON"]);
    let mut t = Table::new(&header);
    for r in list {
        let mut row = vec![r.at.clone()];
        if with_device {
            row.push(r.device.clone().unwrap_or_else(|| "-".into()));
        }
        row.extend([
            r.result.to_string(),
            format!("{}/{}", r.protocol, r.transport),
            r.tls_summary(),
            r.certificate_summary(),
            r.peer.clone(),
            r.reason_summary(),
        ]);
        t.row(row);
    }
    t.print();
}
