//! `opencapf device add|list|show|remove|revoke|record-cert`; `device import` lives in
//! [`import`], `device set` in [`set`],
//! `device line` in [`lines`], `device reset` in [`reset`].

use std::path::Path;

use anyhow::bail;
use opencapf_cluster::{cli_actor, new_device, parse_lines, DeviceUpdate, CREDENTIAL_SPENT};
use opencapf_cluster::{DeviceQuery, DeviceSort, LscFilter, MAX_PAGE_SIZE};
use opencapf_model::{parse_load_information, CertKind, CertificateOperation, Device, DeviceName};

use super::{read_certificates, Context};
use crate::cli::{DeviceAddArgs, DeviceCommand, DeviceFilterArgs, DeviceListArgs, LscChoice, SortChoice};
use crate::output::{self, short_date, Table};
use opencapf_cluster::parse_date;

mod certs;
mod import;
mod lines;
mod reset;
mod set;

pub(crate) async fn run(ctx: &Context, cmd: DeviceCommand) -> anyhow::Result<()> {
    match cmd {
        DeviceCommand::Add(args) => add(ctx, args).await,
        DeviceCommand::Import { file, skip_existing } => import::run(ctx, &file, skip_existing).await,
        DeviceCommand::List(args) => list(ctx, args).await,
        DeviceCommand::Show { name, reveal_auth_string } => show(ctx, &name, reveal_auth_string).await,
        DeviceCommand::Update { name, model, protocol, security, description, load, no_load } => {
            let name: DeviceName = name.parse()?;
            let store = ctx.cluster().await?;
            let (protocol, security) = (protocol.map(|p| p.token().to_owned()), security.map(|s| s.token().to_owned()));
            let load = if no_load { Some(None) } else { load.map(Some) };
            let update = DeviceUpdate { model, protocol, security, description, load };
            let d = store.update_device(&name, &update, &cli_actor()).await?;
            outln!(
                "Updated {name} ({} {} {}{})",
                d.model,
                d.protocol,
                d.security_mode,
                load_words(&d.load_information)
            );
            Ok(())
        }
        DeviceCommand::Remove { name } => {
            let name: DeviceName = name.parse()?;
            let store = ctx.cluster().await?;
            store.remove_device(&name, &cli_actor()).await?;
            outln!("Removed {name}");
            Ok(())
        }
        DeviceCommand::Set(args) => set::run(ctx, args).await,
        DeviceCommand::Certs { name, out } => certs::run(ctx, &name, out.as_deref()).await,
        DeviceCommand::Revoke { name, serial } => {
            let name: DeviceName = name.parse()?;
            let store = ctx.cluster().await?;
            let r = store.revoke(&name, serial.as_deref(), &cli_actor()).await?;
            if ctx.json {
                return output::json(&r);
            }
            outln!("Revoked LSC serial {} of {name} (was {})", r.serial, r.previous_state);
            if r.previous_state == "installed" {
                outln!("{name} has no LSC now: schedule Install/Upgrade to give it a new one");
            }
            outln!("CRLs signed again: {}", r.crls.len());
            Ok(())
        }
        DeviceCommand::RecordCert { name, file, r#as } => record_cert(ctx, &name, &file, r#as).await,
        DeviceCommand::Line(cmd) => lines::run(ctx, cmd).await,
        DeviceCommand::Reset(args) => reset::run(ctx, args).await,
    }
}

async fn add(ctx: &Context, a: DeviceAddArgs) -> anyhow::Result<()> {
    let mut d = new_device(&a.name, &a.model, a.protocol.token(), a.security.token(), &a.description)?;
    d.lines = parse_lines(&a.lines)?;
    d.load_information = a.load.as_deref().map(parse_load_information).transpose()?;
    let store = ctx.cluster().await?;
    store.add_device(&d, &cli_actor()).await?;
    outln!(
        "Added {} ({}, {}, {}{}){}",
        d.name,
        d.model,
        d.protocol,
        d.security_mode,
        load_words(&d.load_information),
        lines::on_buttons(&d.lines)
    );
    Ok(())
}

/// ", load sip88xx.…" when the device names a firmware load.
fn load_words(load: &Option<String>) -> String {
    load.as_deref().map(|l| format!(", load {l}")).unwrap_or_default()
}

/// `device list --unknown-requests`: CUCM's auto-registration list, as something to act on.
async fn list_unknown_requests(ctx: &Context) -> anyhow::Result<()> {
    let requests = ctx.cluster().await?.unknown_requests().await?;
    if ctx.json {
        return output::json(&requests);
    }
    let mut t = Table::new(&["NAME", "FIRST SEEN", "LAST SEEN", "COUNT", "LAST SOURCE", "LAST FILE"]);
    for r in &requests {
        t.row(vec![
            r.device.to_string(),
            r.first_at.clone(),
            r.last_at.clone(),
            r.count.to_string(),
            r.last_source.clone(),
            r.last_file.clone(),
        ]);
    }
    t.print();
    errln!("{} unknown device(s) asked for a configuration file", requests.len());
    if let Some(first) = requests.first() {
        errln!(
            "Add one with `opencapf device add {} --model CP-8861 --line DN` (its model and lines as they are)",
            first.device
        );
    }
    Ok(())
}

/// The search the filter flags describe (`device list`, `device set --match`), in name order, the
/// first page of the default size.
pub(super) fn query(f: &DeviceFilterArgs, operation: Option<CertificateOperation>) -> anyhow::Result<DeviceQuery> {
    Ok(DeviceQuery {
        name: f.name_part.clone(),
        model: f.model_is.clone(),
        line: f.line_part.clone(),
        lsc: f.lsc.map(|l| match l {
            LscChoice::None => LscFilter::None,
            LscChoice::Valid => LscFilter::ThisCluster,
            LscChoice::Expired => LscFilter::Expired,
            LscChoice::Foreign => LscFilter::OtherCluster,
            LscChoice::Expiring => LscFilter::Expiring,
        }),
        issuer: f.issuer.clone(),
        lsc_expires_before: f.lsc_expires_before.as_deref().map(parse_date).transpose()?,
        status: f.status.clone(),
        operation,
        ..DeviceQuery::default()
    })
}

async fn list(ctx: &Context, a: DeviceListArgs) -> anyhow::Result<()> {
    if a.unknown_requests {
        return list_unknown_requests(ctx).await;
    }
    let q = DeviceQuery {
        sort: match a.sort {
            SortChoice::Name => DeviceSort::Name,
            SortChoice::Model => DeviceSort::Model,
            SortChoice::Status => DeviceSort::Status,
            SortChoice::LscExpiry => DeviceSort::LscExpiry,
            SortChoice::LastRegistration => DeviceSort::LastRegistration,
        },
        descending: a.desc,
        offset: a.offset.unwrap_or(0),
        limit: a.limit.unwrap_or(MAX_PAGE_SIZE),
        ..query(&a.filter, a.operation)?
    };
    if a.limit.is_some_and(|n| !(1..=MAX_PAGE_SIZE).contains(&n)) {
        bail!("--limit {}: use 1 to {MAX_PAGE_SIZE}", a.limit.unwrap_or_default());
    }
    let store = ctx.cluster().await?;
    // Without --limit or --offset every match is listed, as before paging existed.
    let (selected, matched) = if a.limit.is_some() || a.offset.is_some() {
        let page = store.search_devices(&q).await?;
        (page.devices, page.total)
    } else {
        let all = store.matching_devices(&q).await?;
        let n = all.len() as u64;
        (all, n)
    };
    if a.csv {
        if ctx.json {
            anyhow::bail!("--csv and --json: pick one");
        }
        let devices: Vec<&Device> = selected.iter().map(|r| &r.device).collect();
        return super::capf_report::write(&store, &devices, None).await;
    }
    if ctx.json {
        return output::json(&selected);
    }
    let mut t =
        Table::new(&["NAME", "LINE 1", "MODEL", "PROTOCOL", "SECURITY", "LSC", "LSC ISSUER", "LSC EXPIRES", "STATUS"]);
    for r in &selected {
        let d = &r.device;
        t.row(vec![
            d.name.to_string(),
            d.lines.first().map(ToString::to_string).unwrap_or_else(|| "-".into()),
            d.model.clone(),
            d.protocol.to_string(),
            d.security_mode.to_string(),
            r.lsc_state.to_string(),
            d.lsc.as_ref().and_then(|x| x.issuer_cn.clone()).unwrap_or_else(|| "-".into()),
            d.lsc.as_ref().map(|x| short_date(x.not_after)).unwrap_or_else(|| "-".into()),
            d.capf.status.clone(),
        ]);
    }
    t.print();
    let total = store.device_count().await?;
    if selected.len() as u64 == matched {
        errln!("{matched} of {total} devices");
    } else {
        errln!("{} of the {matched} matching devices, from number {} ({total} devices)", selected.len(), q.offset + 1);
    }
    Ok(())
}

async fn show(ctx: &Context, name: &str, reveal: bool) -> anyhow::Result<()> {
    if reveal {
        bail!(
            "authentication strings are kept only as a keyed hash and cannot be shown; set a new one with \
             `opencapf device set {name} --auth-string DIGITS` or `--generate-auth-string`"
        );
    }
    let name: DeviceName = name.parse()?;
    let shown = ctx.cluster().await?.device_details(&name).await?;
    let d = &shown.device;
    let credential_spent = shown.credential_spent;
    if ctx.json {
        return output::json(&shown);
    }
    let c = &d.capf;
    let auth_string = if c.auth_string_set { "set, not yet used (shown only when set)" } else { "-" }.to_owned();
    let status = if credential_spent { format!("{} ({CREDENTIAL_SPENT})", c.status) } else { c.status.clone() };
    output::fields(&[
        ("Device", d.name.to_string()),
        ("Model", d.model.clone()),
        ("Protocol", d.protocol.to_string()),
        ("Device Security Mode", d.security_mode.to_string()),
        ("Lines", lines::listed(&d.lines)),
        ("Load", d.load_information.clone().unwrap_or_else(|| "-".into())),
        ("Certificate Operation", c.operation.to_string()),
        ("Authentication Mode", c.auth_mode.to_string()),
        ("Authentication String", auth_string),
        ("Key Order", c.key_order.to_string()),
        ("RSA Key Size (Bits)", c.rsa_bits.to_string()),
        ("EC Key Size (Bits)", c.ec_bits.to_string()),
        ("Operation Completes By", c.completes_by.map(opencapf_model::ts).unwrap_or_else(|| "-".into())),
        ("Certificate Operation Status", status),
        (
            "LSC",
            match &d.lsc {
                Some(l) => format!(
                    "{} (issuer {}, serial {}, expires {})",
                    shown.lsc_state,
                    l.issuer,
                    l.serial,
                    short_date(l.not_after)
                ),
                None => "none".into(),
            },
        ),
        (
            "MIC",
            shown
                .mic
                .as_ref()
                .map(|m| format!("{} (issuer {})", m.subject, m.issuer))
                .unwrap_or_else(|| "not seen yet".into()),
        ),
    ]);
    lines::print_table(&shown.line_registrations);
    if !shown.history.is_empty() {
        outln!("\nHistory (newest first):");
        let mut t = Table::new(&["AT", "OPERATION", "AUTHENTICATION", "STATUS", "DETAIL"]);
        for h in &shown.history {
            t.row(vec![h.at.clone(), h.operation.clone(), h.auth_mode.clone(), h.status.clone(), h.detail.clone()]);
        }
        t.print();
    }
    if !shown.registrations.is_empty() {
        outln!("\nLast registrations to CallManager:");
        super::registrations::print_table(&shown.registrations, false);
    }
    if !shown.issued_certificates.is_empty() {
        outln!("\nLSCs issued by this cluster:");
        let mut t = Table::new(&["SERIAL", "ISSUED", "EXPIRES", "STATE"]);
        for i in &shown.issued_certificates {
            t.row(vec![i.serial.clone(), i.issued_at.clone(), i.not_after.clone(), i.state.clone()]);
        }
        t.print();
    }
    Ok(())
}

async fn record_cert(ctx: &Context, name: &str, file: &Path, as_kind: Option<CertKind>) -> anyhow::Result<()> {
    let name: DeviceName = name.parse()?;
    let der = read_certificates(file)?.into_iter().next().expect("at least one certificate");
    let store = ctx.cluster().await?;
    let r = store.record_cert(&name, &der, as_kind, &cli_actor()).await?;
    outln!("Recorded the {} of {name}: {} (issuer {}, {})", r.kind, r.info.subject, r.info.issuer, r.classified);
    Ok(())
}
