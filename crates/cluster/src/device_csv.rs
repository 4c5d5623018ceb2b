//! Devices from a CSV file (`device import`, `POST /api/v1/devices/import`): OpenCAPF's own
//! columns (name,model,protocol,security,description,lines) or a CUCM BAT phone export,
//! recognised by its `DEVICE NAME` column.
//!
//! In OpenCAPF's CSV an unknown column is an error (a misspelled `securty` must not import phones
//! as Non Secure); a BAT export has many columns OpenCAPF has no use for, so only its known ones
//! are read.

use std::io::Read;

use opencapf_model::{model_from_device_type, printable, NewDevice};

use crate::{new_device, parse_lines, Error, Result};

/// The devices of a CSV, and every problem of its lines ("line 3: ..."), to pass to
/// [`crate::Cluster::import_devices`], which refuses the whole file if there is any. A header
/// that cannot be read is an error at once.
pub fn parse_device_csv(input: impl Read) -> Result<(Vec<NewDevice>, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Invalid(format!("line 1: {}", printable(&e.to_string()))))?
        .iter()
        .map(str::to_owned)
        .collect();
    let columns = Columns::from_header(&header)?;
    let mut parsed: Vec<NewDevice> = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let device =
            record.map_err(|e| Error::Invalid(printable(&e.to_string()).into_owned())).and_then(|r| columns.device(&r));
        match device {
            Ok(d) if parsed.iter().any(|p| p.name == d.name) => {
                problems.push(format!("line {line}: {} appears twice in the file", d.name))
            }
            Ok(d) => parsed.push(d),
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
    }
    Ok((parsed, problems))
}

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
    fn from_header(header: &[String]) -> Result<Columns> {
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
                return Err(Error::Invalid(format!(
                    "line 1, column {}: unknown column '{}': the columns are {} (or a CUCM BAT phone export)",
                    i + 1,
                    printable(h),
                    COLUMNS.join(", ")
                )));
            }
        }
        Ok(Columns {
            name: find("name")
                .ok_or_else(|| Error::Invalid("the CSV needs a header line with at least a 'name' column".into()))?,
            model: find("model"),
            protocol: find("protocol"),
            security: find("security"),
            description: find("description"),
            lines: find("lines").into_iter().collect(),
            bat: false,
        })
    }

    fn device(&self, record: &csv::StringRecord) -> Result<NewDevice> {
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
fn security_from_profile(profile: &str) -> Result<String> {
    let p = profile.to_ascii_lowercase().replace('-', " ");
    let mode = if p.is_empty() || p.contains("non secure") {
        "non-secure"
    } else if p.contains("encrypted") {
        "encrypted"
    } else if p.contains("authenticated") {
        "authenticated"
    } else {
        return Err(Error::Invalid(format!(
            "security profile '{}' names no security mode (Non Secure, Authenticated, Encrypted)",
            printable(profile)
        )));
    };
    Ok(mode.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_line_is_a_problem_and_a_bat_export_is_read_by_its_columns() {
        let (devices, problems) = parse_device_csv(
            &b"name,model,lines\nSEP000000000001,CP-8861,1001\nSEPXYZ,CP-8861,\nSEP000000000001,,\n"[..],
        )
        .unwrap();
        assert_eq!(devices.len(), 1);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 3:") && problems[1].contains("appears twice"), "{problems:?}");

        let bat = b"DEVICE NAME,DEVICE TYPE,DEVICE SECURITY PROFILE,DIRECTORY NUMBER 2,DIRECTORY NUMBER 1\n\
                    SEP000000000002,Cisco 8845,Cisco 8845 - Standard SIP Secure Profile Encrypted,2002,2001\n";
        let (devices, problems) = parse_device_csv(&bat[..]).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let lines: Vec<&str> = devices[0].lines.iter().map(|l| l.as_str()).collect();
        assert_eq!((devices[0].model.as_str(), lines), ("CP-8845", vec!["2001", "2002"]));
        assert_eq!(devices[0].security_mode, opencapf_model::SecurityMode::Encrypted);

        let e = parse_device_csv(&b"name,securty\n"[..]).unwrap_err().to_string();
        assert!(e.contains("unknown column 'securty'"), "{e}");
    }
}
