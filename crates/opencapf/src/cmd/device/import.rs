//! `opencapf device import`: the file read by [`opencapf_cluster::parse_device_csv`] (OpenCAPF's
//! own CSV or a CUCM BAT phone export), then imported whole or not at all.

use std::path::Path;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use opencapf_cluster::{cli_actor, parse_device_csv};
use opencapf_model::{is_known_model, NewDevice, KNOWN_MODELS};

use super::Context;

/// Reads the whole CSV first and refuses it with every bad line listed, so a bad file adds nothing.
pub(super) async fn run(ctx: &Context, file: &Path, skip_existing: bool) -> anyhow::Result<()> {
    let reader = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    let (parsed, problems) = parse_device_csv(std::io::BufReader::new(reader))?;
    warn_unknown_models(&parsed);
    let store = ctx.cluster().await?;
    let bar = ProgressBar::new(0)
        .with_style(ProgressStyle::with_template("{bar:40} {pos}/{len} devices {msg}").expect("static template"));
    let source = file.display().to_string();
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let imported = store.import_devices(&source, parsed, problems, skip_existing, &cli_actor(), progress).await?;
    bar.finish_and_clear();
    outln!("Imported {} devices from {} ({} already present, skipped)", imported.added, source, imported.skipped);
    Ok(())
}

/// A model outside the list may be new or misspelled: imported, with a warning naming it.
fn warn_unknown_models(parsed: &[NewDevice]) {
    let mut unknown: Vec<&str> = parsed.iter().map(|d| d.model.as_str()).filter(|m| !is_known_model(m)).collect();
    unknown.sort_unstable();
    unknown.dedup();
    if !unknown.is_empty() {
        errln!(
            "warning: unknown model(s) {}, imported as written; known models include {} ({} in all)",
            unknown.join(", "),
            ["CP-7841", "CP-8811", "CP-8851", "CP-8861", "CP-9861"].join(", "),
            KNOWN_MODELS.len()
        );
    }
}
