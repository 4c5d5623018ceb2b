//! `--json` that scripts can trust (issue 12): command-line tokens beside CUCM's display names.

use crate::cli::common::Cluster;

#[test]
fn enum_fields_carry_the_token_the_command_line_takes() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP001122334455", "--protocol", "sccp", "--security", "encrypted"]);
    c.ok(&["device", "set", "SEP001122334455", "--operation", "install", "--auth", "lsc", "--key-order", "ec-rsa"]);
    let d = c.json(&["device", "show", "SEP001122334455"]);
    assert_eq!(d["protocol"], "SCCP");
    assert_eq!(d["protocol_token"], "sccp");
    assert_eq!(d["security_mode_token"], "encrypted");
    assert_eq!(d["capf"]["auth_mode"], "By Existing Certificate (Precedence to LSC)");
    assert_eq!(d["capf"]["auth_mode_token"], "lsc");
    assert_eq!(d["capf"]["operation_token"], "install");
    assert_eq!(d["capf"]["key_order_token"], "ec-rsa");
    let list = c.json(&["device", "list"]);
    assert_eq!(list[0]["protocol_token"], "sccp", "{list}");
    let trust = c.json(&["trust", "list"]);
    assert_eq!(trust[0]["store_token"], trust[0]["store"]);
}

#[test]
fn commands_without_json_output_refuse_json_as_a_usage_error() {
    let c = Cluster::init(&[]);
    for args in [
        &["device", "add", "SEP001122334455"][..],
        &["device", "remove", "SEP001122334455"],
        &["capf", "set", "--require-sudi", "on"],
    ] {
        let out = c.cmd().arg("--json").args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("`opencapf {}` has no JSON output", args[..2].join(" "))), "{stderr}");
    }
    // Nothing was done: the refusal comes before the command runs.
    assert!(c.json(&["device", "list"]).as_array().unwrap().is_empty());
    // Commands with JSON output still take it.
    c.ok(&["device", "add", "SEP001122334455"]);
    assert_eq!(c.json(&["device", "line", "add", "SEP001122334455", "2001"])["device"], "SEP001122334455");
}
