//! `opencapf est code|approve|waiting|enroll`: EST (RFC 7030), the second way in for devices that
//! do not speak CAPF. `code` and `approve` are an administrator's; `enroll` is the phone
//! simulator acting as such a device.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use opencapf_cluster::{cli_actor, KeyChoice};
use opencapf_est::{ClientError, EstClient};
use opencapf_phone::Phone;
use opencapf_pki::{device_csr, CertificateInfo, DeviceName, KeyAlgorithm, PrivateKey};
use serde::Serialize;

use super::Context;
use crate::output::{self, Table};

#[derive(Subcommand)]
pub(crate) enum EstCommand {
    /// Make a one-time enrolment code for a device: it enrols once with HTTP Basic, user = the
    /// device name, password = the code. Printed only now and stored as a keyed hash; a new code
    /// replaces the old; wrong codes count towards the lock-out (`serve --max-auth-failures`)
    Code {
        /// Device name (SEP + 12 hex digits, or another CUCM device name)
        name: String,
    },
    /// Allow one enrolment of a device under `est.approval = manual` (an enrolment with its
    /// maker's certificate waits for this: the device is told 202 Retry-After meanwhile)
    Approve { name: String },
    /// Devices whose EST enrolment waits for `est approve`
    Waiting,
    /// The phone simulator as a non-Cisco device: make a key of the kind csrattrs asks for and a
    /// request (CN = the device name, with the TLS channel binding as proof of possession), enrol
    /// with an enrolment code (--code) or with the phone's certificate (its LSC, else its MIC),
    /// and store the certificate as the phone's LSC, which `phone register` then presents
    Enroll(EnrollArgs),
}

#[derive(Args)]
pub(crate) struct EnrollArgs {
    /// The phone folder
    pub dir: PathBuf,
    /// The EST server, HOST:PORT (`serve --est-listen`, 8444 by default)
    #[arg(long, value_name = "HOST:PORT")]
    pub server: String,
    /// The server's certificate, or its CA (PEM or DER): the explicit trust anchor of RFC 7030
    /// §4.1.1, e.g. from `opencapf cert own tomcat --out FILE`
    #[arg(long, value_name = "FILE")]
    pub server_cert: PathBuf,
    /// Enrol with this one-time code (HTTP Basic) instead of a client certificate
    #[arg(long, value_name = "CODE", conflicts_with = "reenroll")]
    pub code: Option<String>,
    /// Renew the phone's LSC (simplereenroll), authenticating with it
    #[arg(long)]
    pub reenroll: bool,
    /// The CA label in the path (/.well-known/est/LABEL/…)
    #[arg(long)]
    pub label: Option<String>,
    /// Seconds for the connection and each answer
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

pub(crate) async fn run(ctx: &Context, command: EstCommand) -> anyhow::Result<()> {
    match command {
        EstCommand::Code { name } => {
            let name: DeviceName = name.parse()?;
            let code = ctx.cluster().await?.est_code(&name, &cli_actor()).await?;
            if ctx.json {
                return output::json(&code);
            }
            outln!("Enrolment code for {}: {}", code.device, code.code);
            outln!("Shown only now. The device enrols once with HTTP Basic: user {}, password the code.", code.device);
            Ok(())
        }
        EstCommand::Approve { name } => {
            let name: DeviceName = name.parse()?;
            ctx.cluster().await?.est_approve(&name, &cli_actor()).await?;
            outln!("{name} may enrol once over EST");
            Ok(())
        }
        EstCommand::Waiting => {
            let waiting = ctx.cluster().await?.est_waiting().await?;
            if ctx.json {
                return output::json(&waiting);
            }
            if waiting.is_empty() {
                outln!("No EST enrolment waits for an approval");
                return Ok(());
            }
            let mut table = Table::new(&["DEVICE", "SINCE", "REQUEST"]);
            for w in waiting {
                table.row(vec![w.device, w.since, w.detail]);
            }
            table.print();
            Ok(())
        }
        EstCommand::Enroll(args) => enroll(ctx, args).await,
    }
}

/// What `est enroll` did.
#[derive(Serialize)]
struct Enrolled {
    device: String,
    operation: &'static str,
    authenticated_with: String,
    key: String,
    serial: String,
    subject: String,
    issuer: String,
    not_after: String,
}

fn algorithm(choice: KeyChoice) -> Option<KeyAlgorithm> {
    Some(match choice {
        KeyChoice::Rsa { bits: 1024 } => KeyAlgorithm::Rsa1024,
        KeyChoice::Rsa { bits: 2048 } => KeyAlgorithm::Rsa2048,
        KeyChoice::Rsa { bits: 3072 } => KeyAlgorithm::Rsa3072,
        KeyChoice::Rsa { bits: 4096 } => KeyAlgorithm::Rsa4096,
        KeyChoice::Ec { bits: 256 } => KeyAlgorithm::Ec256,
        KeyChoice::Ec { bits: 384 } => KeyAlgorithm::Ec384,
        KeyChoice::Ec { bits: 521 } => KeyAlgorithm::Ec521,
        _ => return None,
    })
}

async fn enroll(ctx: &Context, args: EnrollArgs) -> anyhow::Result<()> {
    let phone = Phone::open(&args.dir)?;
    let device = phone.config().device_name.clone();
    let trust = super::read_certificates(&args.server_cert)?;
    let (identity, authenticated_with) = match (&args.code, args.reenroll) {
        (Some(_), _) => (None, "enrolment code".to_owned()),
        (None, true) => {
            let Some(lsc) = phone.lsc()? else { bail!("{device} has no LSC to renew: enrol first") };
            (Some((vec![lsc.der], lsc.key)), format!("LSC serial {}", lsc.info.serial))
        }
        (None, false) => {
            let cert = phone.select_certificate("EST", false)?;
            let what = format!("{} serial {}", cert.kind, cert.info.serial);
            (Some((vec![cert.der], cert.key)), what)
        }
    };
    let client = EstClient {
        server: args.server.clone(),
        trust,
        identity,
        timeout: Duration::from_secs(args.timeout),
        label: args.label.clone(),
    };
    let log = phone.console();
    let mut conn = client.connect().await.inspect_err(|e| {
        log.error(&format!("EST: -{e}"));
    })?;
    let user = args.code.as_ref().map(|_| device.as_str());
    let attrs = conn.csrattrs(user).await.inspect_err(|e| {
        log.error(&format!("EST: -csrattrs: {e}"));
    })?;
    let Some(key_algorithm) = attrs.keys.iter().find_map(|k| algorithm(*k)) else {
        bail!("the EST server asks for no key this device can make: {:?}", attrs.keys);
    };
    let key = tokio::task::spawn_blocking(move || PrivateKey::generate(key_algorithm)).await??;
    // The channel binding goes in every request: the proof of possession the server may require.
    let csr = device_csr(&key, device.as_str(), Some(&conn.channel_binding))?;
    let credentials = args.code.as_deref().map(|c| (device.as_str(), c));
    let operation = if args.reenroll { "simplereenroll" } else { "simpleenroll" };
    let der = match conn.enroll(&csr, args.reenroll, credentials).await {
        Ok(der) => der,
        Err(e) => {
            log.error(&format!("EST: -{operation} refused: {e}"));
            return Err(match e {
                ClientError::Waiting { .. } => anyhow::Error::new(e).context("not enrolled yet"),
                other => anyhow::Error::new(other).context(format!("{operation} failed")),
            });
        }
    };
    let info: CertificateInfo = phone.install_lsc(&der, &key).context("storing the certificate")?;
    log.info(&format!(
        "EST: -{operation}: LSC serial {} issuer {} stored ({key_algorithm}, authenticated with {authenticated_with})",
        info.serial, info.issuer
    ));
    let report = Enrolled {
        device: device.to_string(),
        operation,
        authenticated_with,
        key: key_algorithm.to_string(),
        serial: info.serial.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        not_after: opencapf_model::ts(info.not_after),
    };
    if ctx.json {
        return output::json(&report);
    }
    outln!("{device}: {operation} over EST, LSC serial {} issued by {}", report.serial, report.issuer);
    outln!("  subject {}, key {}, valid until {}", report.subject, report.key, report.not_after);
    outln!("  authenticated with {}", report.authenticated_with);
    Ok(())
}
