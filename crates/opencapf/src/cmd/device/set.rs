//! `opencapf device set`: the CAPF information block, for some devices or all of them.

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use opencapf_pki::DeviceName;
use opencapf_store::audit::{self, cli_actor};
use opencapf_store::devices::{self, CapfUpdate};
use opencapf_store::{cluster, AuthMode, CertificateOperation, KeyOrder};
use serde::Serialize;

use super::super::Context;
use crate::cli::DeviceSetArgs;
use crate::dates;
use crate::output::{self, Table};

/// Generated strings: 8 digits, inside CUCM's 4 to 10.
const GENERATED_AUTH_STRING_DIGITS: usize = 8;

fn check_auth_string(s: &str) -> anyhow::Result<()> {
    if !(4..=10).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
        bail!("the authentication string must be 4 to 10 digits");
    }
    Ok(())
}

#[derive(Serialize)]
struct SetResult {
    device: String,
    operation: String,
    auth_mode: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_string: Option<String>,
}

pub async fn run(ctx: &Context, a: DeviceSetArgs) -> anyhow::Result<()> {
    let operation: Option<CertificateOperation> = a.operation.as_deref().map(str::parse).transpose()?;
    let auth: Option<AuthMode> = a.auth.as_deref().map(str::parse).transpose()?;
    let key_order: Option<KeyOrder> = a.key_order.as_deref().map(str::parse).transpose()?;
    if let Some(bits) = a.rsa_bits {
        if !matches!(bits, 1024 | 2048 | 3072 | 4096) {
            bail!("--rsa-bits {bits}: use 1024, 2048, 3072 or 4096 (512 is too weak to carry a SHA-512 signature)");
        }
    }
    if let Some(bits) = a.ec_bits {
        if !matches!(bits, 256 | 384 | 521) {
            bail!("--ec-bits {bits}: use 256, 384 or 521");
        }
    }
    if let Some(s) = &a.auth_string {
        check_auth_string(s)?;
    }
    let wants_string = a.auth_string.is_some() || a.generate_auth_string;
    if wants_string && auth.is_some_and(|m| m != AuthMode::AuthenticationString) {
        bail!("--auth-string and --generate-auth-string go with --auth string");
    }
    let store = ctx.store().await?;
    let default_deadline = cluster::default_completes_by(&store).await?;
    let deadline = dates::completes_by(a.completes_by.as_deref(), a.expires_in_days, default_deadline)?;

    let mut tx = store.begin_write().await?;
    let names: Vec<DeviceName> = if a.all {
        devices::names(&mut tx).await?
    } else {
        a.names.iter().map(|n| n.parse()).collect::<Result<_, _>>()?
    };
    if names.is_empty() {
        bail!("the cluster has no devices");
    }
    let bar = ProgressBar::new(names.len() as u64)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} devices").expect("static template"));
    let mut results = Vec::new();
    for name in &names {
        let cur = devices::get(&mut tx, name).await?;
        let op = operation.unwrap_or(cur.capf.operation);
        let mode = auth.unwrap_or(if wants_string { AuthMode::AuthenticationString } else { cur.capf.auth_mode });
        let auth_string = if mode != AuthMode::AuthenticationString {
            None
        } else if a.generate_auth_string {
            Some(opencapf_pki::random_digits(GENERATED_AUTH_STRING_DIGITS))
        } else if let Some(s) = &a.auth_string {
            Some(s.clone())
        } else if cur.capf.auth_string.is_some() {
            cur.capf.auth_string.clone()
        } else {
            bail!("{name}: By Authentication String needs --auth-string DIGITS or --generate-auth-string");
        };
        let pending = op != CertificateOperation::NoPendingOperation;
        let update = CapfUpdate {
            operation: op,
            auth_mode: mode,
            auth_string: auth_string.clone(),
            key_order: key_order.unwrap_or(cur.capf.key_order),
            rsa_bits: a.rsa_bits.unwrap_or(cur.capf.rsa_bits),
            ec_bits: a.ec_bits.unwrap_or(cur.capf.ec_bits),
            completes_by: pending.then_some(deadline),
        };
        devices::set_capf(&mut tx, name, &update, "set by administrator").await?;
        let after = devices::get(&mut tx, name).await?;
        // The audit says a string was set, never which.
        let detail = format!(
            "{} / {} / {} RSA {} EC {}{}",
            op,
            mode,
            update.key_order,
            update.rsa_bits,
            update.ec_bits,
            if auth_string.is_some() { " / authentication string set" } else { "" }
        );
        audit::record(&mut tx, &cli_actor(), "device.set", name.as_str(), &detail).await?;
        results.push(SetResult {
            device: name.to_string(),
            operation: op.to_string(),
            auth_mode: mode.to_string(),
            status: after.capf.status,
            auth_string: if a.generate_auth_string { auth_string } else { None },
        });
        bar.inc(1);
    }
    tx.commit().await?;
    bar.finish_and_clear();
    if ctx.json {
        return output::json(&results);
    }
    let mut t = Table::new(&["DEVICE", "OPERATION", "AUTHENTICATION", "STATUS", "AUTH STRING"]);
    for r in results {
        t.row(vec![r.device, r.operation, r.auth_mode, r.status, r.auth_string.unwrap_or_else(|| "-".into())]);
    }
    t.print();
    if operation.is_some_and(|o| o != CertificateOperation::NoPendingOperation) {
        eprintln!("Operation Completes By: {}", opencapf_store::ts(deadline));
    }
    Ok(())
}
