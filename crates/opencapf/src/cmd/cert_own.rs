//! `opencapf cert own [NAME] [--out FILE]`: the cluster's own certificates, as CUCM's
//! `show cert own` lists them, and one of them in detail or as PEM.

use anyhow::Context as _;
use opencapf_model::Service;

use super::Context;
use crate::cli::OwnCertificate;
use crate::output::{self, short_date, Table};

impl OwnCertificate {
    fn service(self) -> Service {
        match self {
            OwnCertificate::CallManager => Service::CallManager,
            OwnCertificate::Capf => Service::Capf,
            OwnCertificate::ItlRecovery => Service::ItlRecovery,
            OwnCertificate::Tvs => Service::Tvs,
            OwnCertificate::Tomcat => Service::Tomcat,
        }
    }
}

pub(crate) async fn run(
    ctx: &Context,
    name: Option<OwnCertificate>,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let cluster = ctx.cluster().await?;
    let own = cluster.own_certificates_read().await?;
    let Some(name) = name else {
        return if ctx.json { output::json(&own) } else { print_table(&own) };
    };
    let shown = own
        .iter()
        .find(|o| o.name == name.service() && o.record.is_active())
        .context("the cluster has no such active certificate")?;
    let cert = &shown.record;
    if let Some(path) = out {
        // As the other exports (`trust export`, `mfg export`): the file is written, or replaced.
        let pem = opencapf_pki::pem::encode("CERTIFICATE", &cert.der);
        std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
        errln!("Wrote the {} certificate to {}", cert.service, path.display());
        if !ctx.json {
            return Ok(());
        }
    }
    if ctx.json {
        return output::json(shown);
    }
    let c = &shown.certificate;
    output::fields(&[
        ("Name", shown.name.to_string()),
        ("State", shown.state.clone()),
        ("Subject", c.subject.clone()),
        ("Issuer", c.issuer.clone()),
        ("Serial", c.serial.clone()),
        ("Valid", format!("{} to {}", short_date(c.not_before), short_date(c.not_after))),
        ("Key", c.key.clone()),
        ("Signature", c.signature_algorithm.clone()),
        ("Key usage", if c.key_usage.is_empty() { "-".into() } else { c.key_usage.join(", ") }),
        (
            "Extended key usage",
            if c.extended_key_usage.is_empty() { "-".into() } else { c.extended_key_usage.join(", ") },
        ),
        ("SHA-256", c.fingerprint.clone()),
        ("Key file", cert.key_file.clone()),
    ]);
    Ok(())
}

fn print_table(own: &[opencapf_cluster::OwnCertificate]) -> anyhow::Result<()> {
    let mut t = Table::new(&["NAME", "STATE", "SUBJECT", "SERIAL", "KEY", "VALID FROM", "VALID TO", "SHA-256"]);
    for o in own {
        let c = &o.certificate;
        t.row(vec![
            o.name.to_string(),
            o.state.clone(),
            c.subject.clone(),
            c.serial.clone(),
            c.key.clone(),
            short_date(c.not_before),
            short_date(c.not_after),
            c.fingerprint.clone(),
        ]);
    }
    t.print();
    if own.iter().any(|o| o.state != "active") {
        errln!("Retired CAPF certificates stay trusted while phones hold their LSCs (`opencapf capf show`)");
    }
    Ok(())
}
