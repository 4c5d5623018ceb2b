//! The exposition as a scraper reads it. The registry is the process's: each test counts on
//! series no other test touches, and asserts the change it made.

use std::time::Duration;

use crate::*;

fn scrape() -> String {
    let text = render(&ClusterGauges::default());
    check_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    text
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample_value(text, name, labels).unwrap_or(0.0)
}

#[test]
fn every_family_is_declared_with_its_type() {
    // A family shows once it has a series; series no other test counts on.
    capf_session(CapfOperation::Troubleshoot, CapfResult::Stopped);
    refusal(PhoneTransport::SipTcp, RefusalReason::Unavailable);
    file_request(FileProtocol::Http, FileResult::Error);
    tvs_query(TvsResult::Error);
    let listener = Listener::new("families test");
    listener.refused(ConnectionRefusal::Full);
    let _open = listener.opened();
    let text = scrape();
    for (family, kind) in [
        ("opencapf_capf_sessions", "counter"),
        ("opencapf_capf_issuance_seconds", "histogram"),
        ("opencapf_registrations", "counter"),
        ("opencapf_registration_refusals", "counter"),
        ("opencapf_open_connections", "gauge"),
        ("opencapf_refused_connections", "counter"),
        ("opencapf_file_requests", "counter"),
        ("opencapf_tvs_queries", "counter"),
    ] {
        assert!(text.contains(&format!("# TYPE {family} {kind}\n")), "{family} {kind}:\n{text}");
    }
    assert!(text.contains("# UNIT opencapf_capf_issuance_seconds seconds\n"));
    assert!(text.ends_with("# EOF\n"));
    // Present at 0 before any registration, so that the first one is seen as an increase.
    assert!(sample_value(&text, "opencapf_registrations_total", &[("transport", "sccp-tcp")]).is_some());
}

#[test]
fn a_capf_session_counts_under_its_operation_and_result() {
    let labels = [("operation", "delete"), ("result", "invalid_mic")];
    let before = value(&scrape(), "opencapf_capf_sessions_total", &labels);
    capf_session(CapfOperation::Delete, CapfResult::from(opencapf_model::Failure::InvalidMic));
    assert_eq!(value(&scrape(), "opencapf_capf_sessions_total", &labels), before + 1.0);
}

#[test]
fn issuance_latency_lands_in_its_bucket() {
    let before = scrape();
    issuance_latency(Duration::from_millis(3));
    let after = scrape();
    let count = |t: &str| value(t, "opencapf_capf_issuance_seconds_count", &[]);
    assert_eq!(count(&after), count(&before) + 1.0);
    // 3 ms: above the 2 ms bucket, within the 4 ms one.
    let bucket = |t: &str, le: &str| value(t, "opencapf_capf_issuance_seconds_bucket", &[("le", le)]);
    assert_eq!(bucket(&after, "0.004"), bucket(&before, "0.004") + 1.0);
    assert_eq!(bucket(&after, "0.002"), bucket(&before, "0.002"));
    assert_eq!(bucket(&after, "+Inf"), count(&after));
}

#[test]
fn registrations_and_refusals_count_by_transport_and_reason() {
    let text = scrape();
    let reg = [("transport", "sip-udp")];
    let refused = [("transport", "sccp-tls"), ("reason", "certificate_not_for_device")];
    let (reg0, ref0) = (
        value(&text, "opencapf_registrations_total", &reg),
        value(&text, "opencapf_registration_refusals_total", &refused),
    );
    registration(PhoneTransport::new(opencapf_model::Protocol::Sip, opencapf_model::Transport::Udp));
    refusal(PhoneTransport::SccpTls, RefusalReason::CertificateNotForDevice);
    refusal(PhoneTransport::SccpTls, RefusalReason::CertificateNotForDevice);
    let text = scrape();
    assert_eq!(value(&text, "opencapf_registrations_total", &reg), reg0 + 1.0);
    assert_eq!(value(&text, "opencapf_registration_refusals_total", &refused), ref0 + 2.0);
}

#[test]
fn a_connection_counts_open_until_its_guard_drops() {
    let listener = Listener::new("test listener");
    let labels = [("listener", "test listener")];
    let first = listener.opened();
    let second = listener.opened();
    assert_eq!(value(&scrape(), "opencapf_open_connections", &labels), 2.0);
    drop(first);
    assert_eq!(value(&scrape(), "opencapf_open_connections", &labels), 1.0);
    drop(second);
    assert_eq!(sample_value(&scrape(), "opencapf_open_connections", &labels), Some(0.0));

    listener.refused(ConnectionRefusal::SourceFull);
    let refused = [("listener", "test listener"), ("reason", "source_full")];
    assert_eq!(value(&scrape(), "opencapf_refused_connections_total", &refused), 1.0);
}

#[test]
fn file_requests_and_tvs_queries_count() {
    let labels = [("protocol", "tftp"), ("result", "refused")];
    let before = value(&scrape(), "opencapf_file_requests_total", &labels);
    file_request(FileProtocol::Tftp, FileResult::Refused);
    assert_eq!(value(&scrape(), "opencapf_file_requests_total", &labels), before + 1.0);

    let before = value(&scrape(), "opencapf_tvs_queries_total", &[("result", "not_trusted")]);
    tvs_query(TvsResult::NotTrusted);
    assert_eq!(value(&scrape(), "opencapf_tvs_queries_total", &[("result", "not_trusted")]), before + 1.0);
}

#[test]
fn cluster_gauges_are_shown_when_read_and_left_out_when_not() {
    let unread = scrape();
    assert!(!unread.contains("opencapf_lsc_expiring_30d"));
    assert!(!unread.contains("opencapf_capf_certificate_expiry_timestamp_seconds"));

    let gauges = ClusterGauges { lsc_expiring_30d: Some(3), lsc_expired: Some(1), capf_not_after: Some(1_900_000_000) };
    let text = render(&gauges);
    check_exposition(&text).unwrap();
    assert!(text.contains("# TYPE opencapf_lsc_expiring_30d gauge\n"));
    assert!(text.contains("# TYPE opencapf_capf_certificate_expiry_timestamp_seconds gauge\n"));
    assert_eq!(sample_value(&text, "opencapf_lsc_expiring_30d", &[]), Some(3.0));
    assert_eq!(sample_value(&text, "opencapf_lsc_expired", &[]), Some(1.0));
    assert_eq!(sample_value(&text, "opencapf_capf_certificate_expiry_timestamp_seconds", &[]), Some(1.9e9));
}

#[test]
fn label_values_are_plain_words() {
    let all: Vec<&str> = [
        CapfOperation::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        CapfResult::ALL.iter().map(|v| v.as_str()).collect(),
        PhoneTransport::ALL.iter().map(|v| v.as_str()).collect(),
        RefusalReason::ALL.iter().map(|v| v.as_str()).collect(),
        ConnectionRefusal::ALL.iter().map(|v| v.as_str()).collect(),
        FileProtocol::ALL.iter().map(|v| v.as_str()).collect(),
        FileResult::ALL.iter().map(|v| v.as_str()).collect(),
        TvsResult::ALL.iter().map(|v| v.as_str()).collect(),
    ]
    .concat();
    for v in all {
        assert!(!v.is_empty() && v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-'), "{v}");
    }
}

#[test]
fn the_checker_refuses_what_a_scraper_would() {
    let ok = "# TYPE a counter\na_total{x=\"1\"} 2\n# EOF\n";
    assert_eq!(check_exposition(ok), Ok(()));
    for bad in [
        "# TYPE a counter\na_total 2\n",
        "# TYPE a counter\nb_total 2\n# EOF\n",
        "# TYPE a counter\na 2\n# EOF\n",
        "# TYPE a counter\na_total{x=1} 2\n# EOF\n",
        "# TYPE a counter\na_total{x=\"1} 2\n# EOF\n",
        "# TYPE a counter\na_total two\n# EOF\n",
        "# TYPE a counter\n# TYPE a gauge\n# EOF\n",
        "# TYPE a widget\n# EOF\n",
        "# TYPE a counter\na_total -1\n# EOF\n",
    ] {
        assert!(check_exposition(bad).is_err(), "accepted: {bad:?}");
    }
    assert_eq!(sample_value(ok, "a_total", &[("x", "1")]), Some(2.0));
    assert_eq!(sample_value(ok, "a_total", &[]), None);
    assert_eq!(sample_value("g{k=\"a\\\"b\"} 1.5\n", "g", &[("k", "a\"b")]), Some(1.5));
}
