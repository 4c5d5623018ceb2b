//! `settings set device.*` (issue 12): the key a new device's CAPF settings start with.

use crate::cli::common::Cluster;

#[test]
fn new_devices_take_the_key_defaults_of_the_settings() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP001122334455"]);
    c.ok(&["settings", "set", "device.key_order", "ec-rsa"]);
    c.ok(&["settings", "set", "device.ec_bits", "384"]);
    let set = c.json(&["settings", "set", "device.rsa_bits", "3072"]);
    assert_eq!(set[0]["key"], "device.rsa_bits");
    assert_eq!(set[0]["value"], "3072");
    c.ok(&["device", "add", "SEP001122334466"]);
    let d = c.json(&["device", "show", "SEP001122334466"]);
    assert_eq!(d["capf"]["key_order_token"], "ec-rsa", "{d}");
    assert_eq!(d["capf"]["rsa_bits"], 3072);
    assert_eq!(d["capf"]["ec_bits"], 384);
    // Devices added before keep theirs.
    let old = c.json(&["device", "show", "SEP001122334455"]);
    assert_eq!(old["capf"]["key_order"], "RSA Only");
    assert_eq!(old["capf"]["rsa_bits"], 2048);
    let shown = c.json(&["settings", "show"]);
    let value = |k: &str| shown.as_array().unwrap().iter().find(|s| s["key"] == k).unwrap()["value"].clone();
    assert_eq!(value("device.key_order"), "ec-rsa");
    assert_eq!(value("device.ec_bits"), "384");
    assert!(c.fail(&["settings", "set", "device.rsa_bits", "512"]).contains("use 1024, 2048, 3072, 4096"));
    assert!(c.fail(&["settings", "set", "device.key_order", "dsa"]).contains("not a valid KeyOrder"));
}
