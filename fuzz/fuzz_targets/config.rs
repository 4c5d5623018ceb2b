//! `opencapf.toml` as `--config FILE` reads it: TOML parsed, then every key checked against the
//! command line's flags (unknown keys, tables, wrong values named with their line). Any text
//! gives settings or one error naming the file and a line, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The file is read as UTF-8 (a file that is not is refused before parsing).
    let Ok(text) = std::str::from_utf8(data) else { return };
    match opencapf::fuzzing::parse_config(text) {
        Ok(settings) => assert!(settings <= text.len()),
        Err(message) => {
            assert!(message.starts_with("configuration file opencapf.toml"), "{message}");
            let lines = text.split('\n').count();
            if let Some(line) = message.split(" line ").nth(1).and_then(|r| r.split([':', ',']).next()) {
                let line: usize = line.parse().expect("the error names a line number");
                assert!((1..=lines).contains(&line), "line {line} of {lines}");
            }
        }
    }
});
