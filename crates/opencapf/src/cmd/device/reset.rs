//! `opencapf device reset NAME…|--all [--restart|--apply-config]`: CUCM's Reset, Restart and
//! Apply Config buttons. The running `opencapf serve` sends each registered SIP phone a NOTIFY
//! `service-control` on its registration connection (see `cmd::control` for how the command
//! reaches it); the phone answers 200 and acts.

use anyhow::bail;
use opencapf_model::DeviceName;

use super::super::control::{self, Request};
use super::super::Context;
use crate::cli::DeviceResetArgs;
use crate::output::{self, Table};

pub(super) async fn run(ctx: &Context, a: DeviceResetArgs) -> anyhow::Result<()> {
    let action = match (a.restart, a.apply_config) {
        (true, _) => "restart",
        (_, true) => "apply-config",
        _ => "reset",
    };
    let devices = if a.all {
        None
    } else {
        let names = a.names.iter().map(|n| n.parse()).collect::<Result<Vec<DeviceName>, _>>()?;
        // Known devices only: a typo is an error, not "not registered".
        let store = ctx.cluster().await?;
        for n in &names {
            store.device(n).await?;
        }
        Some(names)
    };
    let answer = control::ask(&ctx.data_dir, &Request::ServiceControl { action: action.into(), devices }).await?;
    let reached: Vec<DeviceName> = answer.reached.iter().map(|r| r.device.clone()).collect();
    ctx.cluster().await?.record_device_control(action, &reached, &opencapf_cluster::cli_actor()).await?;
    if ctx.json {
        output::json(&answer)?;
    } else {
        if !answer.reached.is_empty() {
            let mut t = Table::new(&["DEVICE", "CONNECTION FROM", "ANSWER"]);
            for r in &answer.reached {
                let said = r.answer.map(|c| c.to_string()).unwrap_or_else(|| "none in 5 s".into());
                t.row(vec![r.device.to_string(), r.peer.clone(), said]);
            }
            t.print();
        }
        for d in &answer.not_registered {
            outln!("{d}: not registered over SIP now, not reached");
        }
        outln!("{action}: {} device(s) reached", answer.reached.len());
    }
    if answer.reached.is_empty() && !answer.not_registered.is_empty() {
        bail!("no device was reached");
    }
    Ok(())
}
