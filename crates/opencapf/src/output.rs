//! Printing results: aligned tables for people, JSON for scripts.
//!
//! Everything people read passes [`opencapf_model::printable`] (table cells, fields, reports,
//! `outln!` / `errln!` lines), so that text from outside (certificate subjects, phones'
//! answers, captures, logs) cannot drive the terminal. JSON stays exact.

use opencapf_model::{printable, printable_text};
use serde::Serialize;

/// `println!` for lines that may carry outside text: control characters are escaped.
macro_rules! outln {
    () => { println!() };
    ($($arg:tt)*) => { println!("{}", opencapf_model::printable_text(&format!($($arg)*))) };
}

/// `eprintln!` for lines that may carry outside text: control characters are escaped.
macro_rules! errln {
    ($($arg:tt)*) => { eprintln!("{}", opencapf_model::printable_text(&format!($($arg)*))) };
}

/// Prints a multi-line report (pcap, log, doctor), control characters escaped, line breaks kept.
pub(crate) fn text(report: &str) {
    print!("{}", printable_text(report));
}

/// Prints `value` as pretty JSON on standard output.
/// Enum fields gain their command-line token beside CUCM's display name ([`opencapf_model::add_tokens`]).
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(value)?;
    opencapf_model::add_tokens(&mut value);
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// A plain text table with a header row; columns sized to their widest cell.
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Self {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.into_iter().map(|c| printable(&c).into_owned()).collect());
    }

    pub(crate) fn print(&self) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{:<w$}  ", c, w = widths[i]));
                }
            }
            println!("{}", s.trim_end());
        };
        line(&self.header);
        for r in &self.rows {
            line(r);
        }
    }
}

/// Whole days from now until `t` (negative once past).
pub(crate) fn days_left(t: time::OffsetDateTime) -> i64 {
    (t - time::OffsetDateTime::now_utc()).whole_days()
}

pub(crate) fn short_date(t: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A key/value list, label column aligned.
pub(crate) fn fields(pairs: &[(&str, String)]) {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        println!("{:<w$}  {}", format!("{k}:"), printable(v), w = w + 1);
    }
}
