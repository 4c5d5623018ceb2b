//! The text files `diagnose` reads from a user: a phone's console log (`diagnose log`, the
//! console-log reader with its line joining) rendered as the report prints it, and a TLS key log
//! (`diagnose pcap --keylog`). Any bytes give a report, never a panic; the report never keeps
//! more lines than it read, and prints escaped.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_diagnostics::log;
use opencapf_diagnostics::pcap::KeyLog;

fuzz_target!(|data: &[u8]| {
    let report = log::analyze(data);
    assert!(report.lines_recognized + report.lines_skipped <= report.lines_read);
    assert!(report.events.len() + report.malformed.len() <= report.lines_read);
    // The report quotes the file's lines; the CLI prints it through `printable_text`, which must
    // leave no control character but line breaks (the web page escapes it as HTML).
    let text = report.render();
    let shown = opencapf_model::printable_text(&text);
    assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "escaped for a terminal: {shown:?}");

    let keys = KeyLog::parse(&String::from_utf8_lossy(data));
    assert!(keys.skipped_lines <= data.split(|b| *b == b'\n').count());
});
