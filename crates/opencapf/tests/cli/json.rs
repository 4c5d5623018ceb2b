//! `--json` that scripts can trust (issue 12): command-line tokens beside CUCM's display names.

use crate::common::Cluster;

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
