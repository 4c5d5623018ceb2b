//! The devices file of `bench capf --target`: one device name per line; blank lines and `#`
//! comments (whole-line or after a name) skipped.

use std::path::Path;

use anyhow::{bail, Context as _};
use opencapf_model::printable;
use opencapf_pki::DeviceName;

/// Lines longer than this are not a device name (a binary file given by mistake).
const MAX_LINE: usize = 256;
/// A devices file is a list for one process's phones, not a database dump.
const MAX_DEVICES: usize = 1_000_000;

/// The device names of `file`, in order; the first bad line is an error naming its number.
pub(super) fn read(file: &Path) -> anyhow::Result<Vec<DeviceName>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    parse(&text).with_context(|| format!("{}", file.display()))
}

fn parse(text: &str) -> anyhow::Result<Vec<DeviceName>> {
    let mut names = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let name = line.split_once('#').map_or(line, |(before, _)| before).trim();
        if name.is_empty() {
            continue;
        }
        if name.len() > MAX_LINE {
            bail!("line {number}: not a device name ({} characters)", name.len());
        }
        let parsed: DeviceName = name.parse().map_err(|_| {
            anyhow::anyhow!("line {number}: '{}' is not a device name: expected {}", printable(name), DeviceName::RULE)
        })?;
        if names.len() == MAX_DEVICES {
            bail!("line {number}: more than {MAX_DEVICES} devices");
        }
        names.push(parsed);
    }
    if names.is_empty() {
        bail!("no device name in the file (one per line)");
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_comments_and_blank_lines() {
        let names = parse("# lab phones\n\nsep00000000b001\r\n  SEP00000000B002  # desk 2\n").unwrap();
        let shown: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["SEP00000000B001", "SEP00000000B002"]);
    }

    #[test]
    fn a_bad_name_is_reported_with_its_line_number() {
        let e = parse("SEP00000000B001\n\nSEPXYZ\n").unwrap_err().to_string();
        assert!(e.starts_with("line 3: 'SEPXYZ' is not a device name"), "{e}");
        let e = parse("SEP00000000B001\nSEP\u{1b}[31m\n").unwrap_err().to_string();
        assert!(e.starts_with("line 2:") && !e.contains('\u{1b}'), "{e}");
        assert!(parse("# only a comment\n\n").is_err());
    }
}
