//! Findings: what is wrong (or worth knowing), how bad, for which devices, and what to do.

use std::fmt;

use serde::Serialize;

/// How bad a finding is. `Error` means something fails now or will fail (doctor exits 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding, written for the administrator who will act on it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier for scripts, e.g. `lsc-issuer-not-in-callmanager-trust`.
    pub code: String,
    /// One line: what is wrong.
    pub title: String,
    /// Why it matters, the evidence.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// What to do, in order.
    pub remedy: Vec<String>,
    pub devices_affected: usize,
    /// The devices' names (doctor: only with `--verbose`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
}

impl Finding {
    pub fn new(severity: Severity, code: &str, title: impl Into<String>) -> Finding {
        Finding {
            severity,
            code: code.to_owned(),
            title: title.into(),
            detail: String::new(),
            remedy: Vec::new(),
            devices_affected: 0,
            devices: Vec::new(),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Finding {
        self.detail = detail.into();
        self
    }

    pub fn remedy(mut self, step: impl Into<String>) -> Finding {
        self.remedy.push(step.into());
        self
    }

    /// Adds the steps, in order, after those already there.
    pub fn remedies<S: Into<String>>(mut self, steps: impl IntoIterator<Item = S>) -> Finding {
        self.remedy.extend(steps.into_iter().map(Into::into));
        self
    }

    pub fn devices(mut self, devices: Vec<String>) -> Finding {
        self.devices_affected = devices.len();
        self.devices = devices;
        self
    }

    /// Plain text, indented, for people.
    pub fn render(&self, out: &mut String, show_devices: bool) {
        use std::fmt::Write as _;
        let label = match self.severity {
            Severity::Error => "ERROR  ",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO   ",
        };
        let _ = writeln!(out, "{label} {}", self.title);
        if !self.detail.is_empty() {
            for line in wrap(&self.detail, 100) {
                let _ = writeln!(out, "        {line}");
            }
        }
        if self.devices_affected > 0 {
            if show_devices && !self.devices.is_empty() {
                let _ = writeln!(out, "        devices ({}):", self.devices_affected);
                for device in &self.devices {
                    let _ = writeln!(out, "          {device}");
                }
            } else {
                let _ = writeln!(out, "        devices affected: {}", self.devices_affected);
            }
        }
        for (i, step) in self.remedy.iter().enumerate() {
            let prefix = if self.remedy.len() == 1 { "remedy: ".to_owned() } else { format!("remedy {}: ", i + 1) };
            let mut first = true;
            for line in wrap(step, 100 - prefix.len()) {
                if first {
                    let _ = writeln!(out, "        {prefix}{line}");
                    first = false;
                } else {
                    let _ = writeln!(out, "        {}{line}", " ".repeat(prefix.len()));
                }
            }
        }
    }
}

/// Greedy word wrap.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }
}
