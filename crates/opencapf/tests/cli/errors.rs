use crate::cli::common::Cluster;

#[test]
fn a_date_in_an_error_is_printed_as_a_date() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    let err = c.fail(&["device", "set", "SEP000000000001", "--operation", "install", "--completes-by", "2020-01-01"]);
    assert!(err.contains("(2020-01-01T23:59:59Z) is in the past"), "{err}");
}
