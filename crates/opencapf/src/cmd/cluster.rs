//! `opencapf cluster export-bundle`: what another cluster needs to take this one's phones.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub(crate) enum ClusterCommand {
    /// Write the cluster bundle another cluster reads with `opencapf migrate plan|start --from FILE`:
    /// the CAPF certificates (active and retired), CallManager, ITLRecovery and TVS certificates,
    /// CallManager-trust and CAPF-trust, and every device (name, model, protocol, security profile,
    /// lines, key order, its LSC with issuer, serial and expiry, its MIC when known). One JSON file
    /// with the certificates as PEM; never a private key
    #[command(
        after_long_help = "Run it on the cluster the phones leave; copy the file to the cluster they move to and \
                                 run `opencapf migrate plan --from FILE` there. Export it again after the old cluster \
                                 changed (e.g. deleted the LSCs) and give it to `opencapf migrate refresh --from FILE`."
    )]
    ExportBundle {
        /// File to write (replaced whole, or not at all)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub(crate) async fn run(ctx: &Context, cmd: ClusterCommand) -> anyhow::Result<()> {
    match cmd {
        ClusterCommand::ExportBundle { out } => {
            let s = ctx.cluster().await?;
            let bundle = s.export_bundle().await?;
            s.close().await;
            write_whole(&out, bundle.to_json().as_bytes())?;
            let capfs = bundle.capf_certificates().len();
            let with_lsc = bundle.devices.iter().filter(|d| d.lsc.is_some()).count();
            errln!(
                "Wrote the bundle of {} to {}: {capfs} CAPF certificate(s), {} certificate(s) in all, {} trust entries, \
                 {} device(s) ({with_lsc} with an LSC); no private key",
                bundle.cluster,
                out.display(),
                bundle.certificates.len(),
                bundle.trust.len(),
                bundle.devices.len()
            );
            Ok(())
        }
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, renamed into place: a reader
/// never sees half a file.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().with_context(|| format!("{} names no file", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.with_context(|| format!("writing {}", path.display()))
}
