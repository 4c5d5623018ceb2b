//! `opencapf capf csr` and `opencapf capf import-signed`: a CAPF certificate signed by an
//! enterprise CA, the CAPF key kept; [`read_signed`] reads what every `import-signed` takes.

use std::path::Path;

use anyhow::Context as _;
use opencapf_cluster::{cli_actor, Cluster};

use super::{read_certificates, Context};
use crate::output;

pub(crate) async fn csr(store: &Cluster, out: &Path) -> anyhow::Result<()> {
    let pem = store.capf_csr().await?;
    std::fs::write(out, pem).with_context(|| format!("writing {}", out.display()))?;
    outln!("Wrote the CAPF certificate signing request to {}", out.display());
    outln!("Have the enterprise CA sign it as a CA certificate (CA:TRUE, pathlen 0, keyCertSign), then");
    outln!("`opencapf capf import-signed FILE` with the signed certificate and its issuers.");
    Ok(())
}

/// The signed certificate (first of `file`) and its issuers (the rest of `file`, then `chain`):
/// what every `import-signed` reads.
pub(crate) fn read_signed(file: &Path, chain: Option<&Path>) -> anyhow::Result<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut certs = read_certificates(file)?;
    if certs.is_empty() {
        anyhow::bail!("{}: no certificate", file.display());
    }
    let signed = certs.remove(0);
    if let Some(chain) = chain {
        certs.extend(read_certificates(chain)?);
    }
    Ok((signed, certs))
}

pub(crate) async fn import(ctx: &Context, store: &Cluster, file: &Path, chain: Option<&Path>) -> anyhow::Result<()> {
    let (signed, certs) = read_signed(file, chain)?;
    let imported = store.import_signed_capf(&signed, &certs, &cli_actor()).await?;
    if ctx.json {
        return output::json(&imported);
    }
    outln!("CAPF certificate {} is now signed by {}", imported.capf.common_name, imported.issuer);
    for issuer in &imported.issuers {
        outln!("  added to both trust stores: {issuer}");
    }
    outln!("The CAPF key is unchanged; the previous certificate is retired and stays trusted.");
    Ok(())
}
