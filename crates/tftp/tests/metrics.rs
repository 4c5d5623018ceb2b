//! Issue 14: every file request is counted by protocol and result, as `/metrics` shows it.

mod support;

use std::time::Duration;

use opencapf_telemetry::{check_exposition, render, sample_value, ClusterGauges};
use opencapf_tftp::{http_get, tftp_get, TftpOptions};
use support::Lab;

fn requests(protocol: &str, result: &str) -> f64 {
    let text = render(&ClusterGauges::default());
    check_exposition(&text).unwrap();
    let labels = [("protocol", protocol), ("result", result)];
    sample_value(&text, "opencapf_file_requests_total", &labels).unwrap_or(0.0)
}

#[test]
fn file_requests_count_by_protocol_and_result() {
    let lab = Lab::start();
    let (http, tftp) = (lab.http_addr.to_string(), lab.tftp_addr.to_string());
    let t = Duration::from_secs(10);
    let opts = TftpOptions::default();
    lab.rt.block_on(async {
        let _ = http_get(&http, "ITLFile.tlv", t).await;
        let _ = http_get(&http, "nothing.xml", t).await;
        // A CTL outside mixed mode: 503, which the phone takes as "not here".
        let _ = http_get(&http, "CTLSEP001122334455.tlv", t).await;
        let _ = http_get(&http, "big.bin", t).await;
        let _ = tftp_get(&tftp, "ITLFile.tlv", &opts).await;
        let _ = tftp_get(&tftp, "nothing.xml", &opts).await;
        let _ = tftp_get(&tftp, "big.bin", &opts).await;
    });
    assert_eq!(requests("http", "found"), 1.0);
    assert_eq!(requests("http", "not_found"), 2.0);
    assert_eq!(requests("http", "error"), 1.0);
    assert_eq!(requests("tftp", "found"), 1.0);
    assert_eq!(requests("tftp", "not_found"), 1.0);
    assert_eq!(requests("tftp", "error"), 1.0);
}
