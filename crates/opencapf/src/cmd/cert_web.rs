//! `opencapf cert regenerate|csr|import-signed tomcat`: the admin web service's certificate, as
//! CUCM's Certificate Management page handles `tomcat` (Regenerate, Generate CSR, Upload).

use std::path::Path;

use anyhow::Context as _;
use opencapf_cluster::cli_actor;
use serde::Serialize;

use super::capf_signed::read_signed;
use super::Context;
use crate::cli::WebCertificate;
use crate::output;

#[derive(Serialize)]
struct Request<'a> {
    name: &'static str,
    csr: &'a str,
}

pub(crate) async fn regenerate(ctx: &Context, name: WebCertificate) -> anyhow::Result<()> {
    let WebCertificate::Tomcat = name;
    let cert = ctx.cluster().await?.regenerate_web(&cli_actor()).await?;
    if ctx.json {
        return output::json(&cert);
    }
    outln!("tomcat certificate regenerated: {} (SHA-256 {})", cert.subject, cert.fingerprint);
    outln!("The admin HTTPS service presents it from its next start; the previous one is retired.");
    Ok(())
}

pub(crate) async fn csr(ctx: &Context, name: WebCertificate, out: Option<&Path>) -> anyhow::Result<()> {
    let WebCertificate::Tomcat = name;
    let pem = ctx.cluster().await?.web_csr().await?;
    if let Some(out) = out {
        std::fs::write(out, &pem).with_context(|| format!("writing {}", out.display()))?;
        errln!("Wrote the tomcat certificate signing request to {}", out.display());
        errln!("Have the enterprise CA sign it as a TLS server certificate, then");
        errln!("`opencapf cert import-signed tomcat FILE` with the signed certificate and its issuers.");
    }
    if ctx.json {
        return output::json(&Request { name: "tomcat", csr: &pem });
    }
    if out.is_none() {
        print!("{pem}");
    }
    Ok(())
}

pub(crate) async fn import(
    ctx: &Context,
    name: WebCertificate,
    file: &Path,
    chain: Option<&Path>,
) -> anyhow::Result<()> {
    let WebCertificate::Tomcat = name;
    let (signed, issuers) = read_signed(file, chain)?;
    let imported = ctx.cluster().await?.import_signed_web(&signed, &issuers, &cli_actor()).await?;
    if ctx.json {
        return output::json(&imported);
    }
    outln!("tomcat certificate {} is now signed by {}", imported.tomcat.subject, imported.issuer);
    for issuer in &imported.issuers {
        outln!("  presented after it: {issuer}");
    }
    outln!("The key is unchanged; the previous certificate is retired.");
    Ok(())
}
