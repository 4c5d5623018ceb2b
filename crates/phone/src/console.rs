//! The phone's console log, in the format of a Cisco phone's console:
//!
//! ```text
//! 4878 WRN 15:47:34.756063 SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC
//! ```
//!
//! A sequence number that goes on from the last line of the file, the level (`INF`, `WRN`, `ERR`),
//! the time of day (UTC) with microseconds, then the message, which starts with the process that
//! logs it (`SECD: -…`, `SECUREAPP-…`, `CAPF: -…`). Helpers write the lines of the seed and of
//! Cisco's documents exactly ([`ConsoleLog::no_lsc`], [`ConsoleLog::cert_cipher`],
//! [`ConsoleLog::ssl3_alert`]), for CAPF now and for the TLS registration to CallManager later.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use time::macros::format_description;

use crate::{CertKind, PhoneError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn tag(self) -> &'static str {
        match self {
            Level::Info => "INF",
            Level::Warn => "WRN",
            Level::Error => "ERR",
        }
    }

    fn from_tag(s: &str) -> Option<Level> {
        match s {
            "INF" => Some(Level::Info),
            "WRN" => Some(Level::Warn),
            "ERR" => Some(Level::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// One line read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLine {
    pub seq: u64,
    pub level: Level,
    /// `HH:MM:SS.ffffff`
    pub time: String,
    pub message: String,
}

impl ConsoleLine {
    /// Parses a line of the format above; `None` for anything else.
    pub fn parse(line: &str) -> Option<ConsoleLine> {
        let mut parts = line.splitn(4, ' ');
        let seq = parts.next()?.parse().ok()?;
        let level = Level::from_tag(parts.next()?)?;
        let time = parts.next()?;
        let ok_time = time.len() == 15
            && time.char_indices().all(|(i, c)| match i {
                2 | 5 => c == ':',
                8 => c == '.',
                _ => c.is_ascii_digit(),
            });
        if !ok_time {
            return None;
        }
        Some(ConsoleLine { seq, level, time: time.to_string(), message: parts.next()?.to_string() })
    }
}

impl fmt::Display for ConsoleLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.seq, self.level, self.time, self.message)
    }
}

/// Appends lines to a console log file. Writing never fails the caller: a log line that cannot
/// be written is dropped (a phone does not stop for its console).
#[derive(Debug)]
pub struct ConsoleLog {
    path: PathBuf,
    next_seq: Mutex<u64>,
}

impl ConsoleLog {
    /// Opens (or prepares to create) the log at `path`, continuing its numbering.
    pub fn open(path: impl Into<PathBuf>) -> Result<ConsoleLog> {
        let path = path.into();
        let last = last_seq(&path)?;
        Ok(ConsoleLog { path, next_seq: Mutex::new(last.map_or(1, |s| s + 1)) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line and returns it.
    pub fn log(&self, level: Level, message: &str) -> ConsoleLine {
        let mut next = self.next_seq.lock().unwrap_or_else(|e| e.into_inner());
        let now = time::OffsetDateTime::now_utc();
        let time = now
            .format(format_description!("[hour]:[minute]:[second].[subsecond digits:6]"))
            .unwrap_or_else(|_| "00:00:00.000000".into());
        // One line, whatever the message held.
        let message = message.replace(['\n', '\r'], " ");
        let line = ConsoleLine { seq: *next, level, time, message };
        *next += 1;
        // A log left without its final newline (edited, or cut short) would glue this line to its last.
        let sep = if ends_unterminated(&self.path) { "\n" } else { "" };
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(format!("{sep}{line}\n").as_bytes()));
        drop(written);
        line
    }

    pub fn info(&self, message: &str) -> ConsoleLine {
        self.log(Level::Info, message)
    }

    pub fn warn(&self, message: &str) -> ConsoleLine {
        self.log(Level::Warn, message)
    }

    pub fn error(&self, message: &str) -> ConsoleLine {
        self.log(Level::Error, message)
    }

    /// `WRN … SECD: -PXY_NO_LSC: No LSC for [SCCP], will try MIC` (seed rule 1).
    pub fn no_lsc(&self, purpose: &str) -> ConsoleLine {
        self.warn(&format!("SECD: -PXY_NO_LSC: No LSC for [{purpose}], will try MIC"))
    }

    /// `INF … SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]`
    /// (seed rule 1): the certificate the phone presented in TLS and the cipher.
    pub fn cert_cipher(&self, purpose: &str, tls_version: &str, cert: CertKind, cipher: &str) -> ConsoleLine {
        self.info(&format!("SECD: -PXY_CERT_CIPHER: [{purpose}], [{tls_version}], cert [{cert}], cipher [{cipher}]"))
    }

    /// `ERR … SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]` (seed rule 2).
    /// `direction` is `read` (the server sent it) or `write` (the phone sent it); `description`
    /// is OpenSSL's long name (`opencapf_tls::alert_name`).
    pub fn ssl3_alert(&self, direction: &str, description: &str) -> ConsoleLine {
        self.error(&format!("SECD: -STATE_SSL3_ALERT: SSL3 alert [{direction}]:[fatal]:[{description}]"))
    }

    /// Every well-formed line of the log, oldest first.
    pub fn lines(&self) -> Result<Vec<ConsoleLine>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(PhoneError::Io { context: format!("reading {}", self.path.display()), cause: e }),
        };
        Ok(text.lines().filter_map(ConsoleLine::parse).collect())
    }
}

/// The sequence number of the last well-formed line, reading only the end of the file.
fn last_seq(path: &Path) -> Result<Option<u64>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PhoneError::Io { context: format!("reading {}", path.display()), cause: e }),
    };
    let read_tail = (|| {
        let len = f.seek(SeekFrom::End(0))?;
        f.seek(SeekFrom::Start(len.saturating_sub(8192)))?;
        let mut tail = Vec::new();
        f.read_to_end(&mut tail)?;
        Ok::<_, std::io::Error>(tail)
    })();
    let tail = read_tail.map_err(PhoneError::io(format!("reading {}", path.display())))?;
    let text = String::from_utf8_lossy(&tail);
    Ok(text.lines().rev().find_map(ConsoleLine::parse).map(|l| l.seq))
}

/// The file exists, is not empty and its last byte is not a newline.
fn ends_unterminated(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

/// A certificate name in OpenSSL's one-line form, as phones log it: `/CN=CAPF-1a2b3c4d/O=Example`.
pub(crate) fn slash_name(name: &str) -> String {
    name.split(", ").map(|part| format!("/{part}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_back_and_odd_lines_are_skipped() {
        let l =
            ConsoleLine::parse("4878 WRN 15:47:34.756063 SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC").unwrap();
        assert_eq!(l.seq, 4878);
        assert_eq!(l.level, Level::Warn);
        assert_eq!(l.message, "SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC");
        assert_eq!(l.to_string(), "4878 WRN 15:47:34.756063 SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC");
        for bad in
            ["", "x WRN 15:47:34.756063 m", "1 DBG 15:47:34.756063 m", "1 INF 15:47:34 m", "1 INF 15:47:34.756063"]
        {
            assert!(ConsoleLine::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn slash_names() {
        assert_eq!(slash_name("CN=CAPF-1a2b3c4d, O=Example"), "/CN=CAPF-1a2b3c4d/O=Example");
    }
}
