//! `opencapf device import`: OpenCAPF's own CSV (name,model,protocol,security,description,lines)
//! or a CUCM BAT phone export, recognised by its `DEVICE NAME` column.
//!
//! In OpenCAPF's CSV an unknown column is an error (a misspelled `securty` must not import phones
//! as Non Secure); a BAT export has many columns OpenCAPF has no use for, so only its known ones
//! are read.

use std::path::Path;

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};
use opencapf_cluster::{cli_actor, new_device, parse_lines};
use opencapf_model::{is_known_model, model_from_device_type, NewDevice, KNOWN_MODELS};

use super::Context;

const COLUMNS: [&str; 6] = ["name", "model", "protocol", "security", "description", "lines"];

/// Where each field is read from, in one file's header.
struct Columns {
    name: usize,
    model: Option<usize>,
    protocol: Option<usize>,
    security: Option<usize>,
    description: Option<usize>,
    /// Line 1 first; one column in OpenCAPF's CSV, `DIRECTORY NUMBER n` columns in BAT.
    lines: Vec<usize>,
    bat: bool,
}

impl Columns {
    fn from_header(header: &[String]) -> anyhow::Result<Columns> {
        let find = |n: &str| header.iter().position(|h| h.eq_ignore_ascii_case(n));
        if let Some(name) = find("device name") {
            let mut numbered: Vec<(u32, usize)> = header
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    let n = h.to_ascii_uppercase().strip_prefix("DIRECTORY NUMBER")?.trim().parse().ok()?;
                    Some((n, i))
                })
                .collect();
            numbered.sort();
            return Ok(Columns {
                name,
                model: find("device type").or_else(|| find("model")),
                protocol: find("device protocol"),
                security: find("device security profile"),
                description: find("description"),
                lines: numbered.into_iter().map(|(_, i)| i).collect(),
                bat: true,
            });
        }
        for (i, h) in header.iter().enumerate() {
            if !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(h)) {
                bail!(
                    "line 1, column {}: unknown column '{h}': the columns are {} (or a CUCM BAT phone export)",
                    i + 1,
                    COLUMNS.join(", ")
                );
            }
        }
        Ok(Columns {
            name: find("name").context("the CSV needs a header line with at least a 'name' column")?,
            model: find("model"),
            protocol: find("protocol"),
            security: find("security"),
            description: find("description"),
            lines: find("lines").into_iter().collect(),
            bat: false,
        })
    }

    fn device(&self, record: &csv::StringRecord) -> anyhow::Result<NewDevice> {
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_owned();
        let or = |v: String, default: &str| if v.is_empty() { default.to_owned() } else { v };
        let (model, security) = if self.bat {
            (model_from_device_type(&get(self.model)), security_from_profile(&get(self.security))?)
        } else {
            (get(self.model), get(self.security))
        };
        let mut d = new_device(
            &get(Some(self.name)),
            &or(model, "CP-8861"),
            &or(get(self.protocol), "sip"),
            &or(security, "non-secure"),
            &get(self.description),
        )?;
        let lines: Vec<String> = self.lines.iter().map(|&c| get(Some(c))).collect();
        d.lines = parse_lines(&lines)?;
        Ok(d)
    }
}

/// The Device Security Mode of a BAT export's security profile, by its name.
/// [U] CUCM's default profile names say "Non Secure" (or "Non-Secure"), "Authenticated" or
/// "Encrypted"; a custom name that says none of them is refused rather than guessed.
fn security_from_profile(profile: &str) -> anyhow::Result<String> {
    let p = profile.to_ascii_lowercase().replace('-', " ");
    let mode = if p.is_empty() || p.contains("non secure") {
        "non-secure"
    } else if p.contains("encrypted") {
        "encrypted"
    } else if p.contains("authenticated") {
        "authenticated"
    } else {
        bail!("security profile '{profile}' names no security mode (Non Secure, Authenticated, Encrypted)")
    };
    Ok(mode.to_owned())
}

/// Reads the whole CSV first and refuses it with every bad line listed, so a bad file adds nothing.
pub(super) async fn run(ctx: &Context, file: &Path, skip_existing: bool) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let columns = Columns::from_header(&header)?;
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        match record.map_err(anyhow::Error::from).and_then(|r| columns.device(&r)) {
            Ok(d) if parsed.iter().any(|p: &NewDevice| p.name == d.name) => {
                problems.push(format!("line {line}: {} appears twice in the file", d.name))
            }
            Ok(d) => parsed.push(d),
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
    }
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
