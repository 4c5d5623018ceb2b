//! Cluster settings, an enterprise-signed CAPF certificate, the phone's console log and `--help`.

use crate::common::Cluster;

#[test]
fn help_names_the_environment_variables() {
    let c = Cluster::empty();
    let help = c.ok(&["--help"]);
    assert!(help.contains("RUST_LOG"), "{help}");
    assert!(help.contains("OPENCAPF_DATA_DIR"), "{help}");
}

#[test]
fn console_log_lines_end_with_a_newline_even_after_a_cut_log() {
    let c = Cluster::init(&[]);
    c.ok(&["mfg", "init"]);
    let dir = c.path("phone");
    c.ok(&["phone", "init", dir.to_str().unwrap(), "--name", "SEP000000000001", "--mic-key-type", "ec256"]);
    let log = dir.join("console.log");
    // A log cut short (copied mid-write, or edited): its last line has no newline.
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.trim_end_matches('\n')).unwrap();
    let before = text.lines().count();
    c.ok(&["phone", "update-trust-list", dir.to_str().unwrap()]);
    let after = std::fs::read_to_string(&log).unwrap();
    assert!(after.ends_with('\n'), "{after:?}");
    assert!(after.lines().count() > before, "{after}");
    for line in after.lines() {
        let entries = [" INF ", " WRN ", " ERR "].iter().map(|l| line.matches(l).count()).sum::<usize>();
        assert_eq!(entries, 1, "one entry per line: {line}");
    }
}
