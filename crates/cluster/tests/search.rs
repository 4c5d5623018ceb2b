//! Issue 14: Find and List Phones (filters, sort, paging), `device set` for a search (BAT), and
//! the dashboard's reads.

use opencapf_cluster::{
    CapfSettings, Cluster, DeviceQuery, DeviceSort, ExpiryCount, LscFilter, Selection, MAX_PAGE_SIZE,
};
use opencapf_model::{
    now, AuthMode, CapfUpdate, CertKind, CertificateOperation, KeyAlgorithm, KeyOrder, NewRegistration, Protocol,
    RefusalCount, RegistrationResult, Service, SubjectFields, Transport,
};
use opencapf_testkit::{add_device, lsc, new_device, phone_key, Ca, TestCluster};
use time::Duration;

const OURS: &str = "SEP000000000001";
const SHORT: &str = "SEP000000000002";
const FOREIGN: &str = "SEP000000000003";
const NONE: &str = "SEP000000000004";
const OLD: &str = "SEP0000000000AA";

/// Five devices: OURS (LSC of this cluster, a year), SHORT (this cluster's, 10 days, a CP-7841
/// with lines 2222 and 3333), FOREIGN (another CAPF's LSC), NONE (no LSC, Install/Upgrade
/// pending), OLD (this cluster's LSC, ended).
async fn fleet() -> TestCluster {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    for name in [OURS, SHORT, FOREIGN, NONE, OLD] {
        let mut d = new_device(name);
        if name == SHORT {
            d.model = "CP-7841".into();
            d.lines = vec!["2222".parse().unwrap(), "3333".parse().unwrap()];
        }
        if name == NONE {
            d.lines = vec!["4222".parse().unwrap()];
        }
        add_device(c, d).await;
    }
    let ours = c.signer(Service::Capf).await.unwrap();
    let other = Ca::capf(KeyAlgorithm::Ec256, &SubjectFields::default(), 365, now()).signer();
    let key = phone_key();
    let record = |name: &'static str, der: Vec<u8>| async move {
        c.record_cert(&name.parse().unwrap(), &der, Some(CertKind::Lsc), "test").await.unwrap();
    };
    record(OURS, lsc(&ours, OURS, key.public_key_der(), 365, now()).der).await;
    record(SHORT, lsc(&ours, SHORT, key.public_key_der(), 10, now()).der).await;
    record(FOREIGN, lsc(&other, FOREIGN, key.public_key_der(), 200, now()).der).await;
    record(OLD, lsc(&ours, OLD, key.public_key_der(), 30, now() - Duration::days(400)).der).await;
    let pending = CapfUpdate {
        operation: CertificateOperation::InstallUpgrade,
        auth_mode: AuthMode::NullString,
        auth_string: None,
        key_order: KeyOrder::RsaOnly,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: Some(now() + Duration::days(5)),
    };
    c.save_capf(&NONE.parse().unwrap(), &pending, "test", "test").await.unwrap();
    t
}

async fn names(c: &Cluster, q: DeviceQuery) -> Vec<String> {
    let page = c.search_devices(&q).await.unwrap();
    assert_eq!(page.total as usize, page.devices.len(), "one page here: {q:?}");
    page.devices.into_iter().map(|r| r.device.name.to_string()).collect()
}

#[tokio::test]
async fn each_filter_keeps_only_the_matching_devices() {
    let t = fleet().await;
    let c = &t.cluster;
    let q = DeviceQuery::default;
    assert_eq!(names(c, q()).await, [OURS, SHORT, FOREIGN, NONE, OLD]);
    assert_eq!(names(c, DeviceQuery { name: Some("0aa".into()), ..q() }).await, [OLD]);
    assert_eq!(names(c, DeviceQuery { model: Some("cp-7841".into()), ..q() }).await, [SHORT]);
    assert!(names(c, DeviceQuery { model: Some("CP-78".into()), ..q() }).await.is_empty(), "a model is whole");
    assert_eq!(names(c, DeviceQuery { line: Some("222".into()), ..q() }).await, [SHORT, NONE]);
    assert_eq!(names(c, DeviceQuery { line: Some("333".into()), ..q() }).await, [SHORT]);
    let lsc = |f| DeviceQuery { lsc: Some(f), ..q() };
    assert_eq!(names(c, lsc(LscFilter::None)).await, [NONE]);
    assert_eq!(names(c, lsc(LscFilter::ThisCluster)).await, [OURS, SHORT]);
    assert_eq!(names(c, lsc(LscFilter::OtherCluster)).await, [FOREIGN]);
    assert_eq!(names(c, lsc(LscFilter::Expiring)).await, [SHORT]);
    assert_eq!(names(c, lsc(LscFilter::Expired)).await, [OLD]);

    let our_cn = c.require_certificate(Service::Capf).await.unwrap().common_name;
    let issuer = |s: &str| DeviceQuery { issuer: Some(s.into()), ..q() };
    assert_eq!(names(c, issuer(&our_cn.to_lowercase())).await, [OURS, SHORT, OLD]);
    assert_eq!(names(c, issuer("O=Lab")).await, [OURS, SHORT, OLD], "the issuer's subject too");
    let before = DeviceQuery { lsc_expires_before: Some(now() + Duration::days(30)), ..q() };
    assert_eq!(names(c, before).await, [SHORT, OLD]);
    assert_eq!(names(c, DeviceQuery { status: Some("pending".into()), ..q() }).await, [NONE]);
    let install = DeviceQuery { operation: Some(CertificateOperation::InstallUpgrade), ..q() };
    assert_eq!(names(c, install).await, [NONE]);
    let both = DeviceQuery { lsc: Some(LscFilter::ThisCluster), line: Some("2222".into()), ..q() };
    assert_eq!(names(c, both).await, [SHORT], "every filter must match");
}

#[tokio::test]
async fn rows_carry_the_list_page_columns_in_the_device_list_shape() {
    let t = fleet().await;
    let c = &t.cluster;
    register(c, SHORT, RegistrationResult::Registered).await;
    let page = c.search_devices(&DeviceQuery { name: Some(SHORT.into()), ..Default::default() }).await.unwrap();
    let json = serde_json::to_value(&page).unwrap();
    assert_eq!((json["total"].as_u64(), json["offset"].as_u64(), json["limit"].as_u64()), (Some(1), Some(0), Some(50)));
    let row = &json["devices"][0];
    assert_eq!(row["name"], SHORT);
    assert_eq!(row["model"], "CP-7841");
    assert_eq!(row["lines"], serde_json::json!(["2222", "3333"]));
    assert_eq!(row["capf"]["operation"], "No Pending Operation");
    assert_eq!(row["lsc_state"], "valid");
    assert_eq!(row["lsc_expiring"], true);
    assert!(row["lsc"]["issuer_cn"].as_str().unwrap().starts_with("CAPF-"), "{row}");
    assert!(time::OffsetDateTime::parse(
        row["lsc"]["not_after"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    assert_eq!(row["last_registration"]["result"], "registered");
    assert!(row["last_registration"]["at"].as_str().unwrap().ends_with('Z'), "{row}");
    let none = c.search_devices(&DeviceQuery { name: Some(NONE.into()), ..Default::default() }).await.unwrap();
    assert!(serde_json::to_value(&none).unwrap()["devices"][0]["last_registration"].is_null());
}

#[tokio::test]
async fn sorts_with_ties_by_name_and_missing_values_last() {
    let t = fleet().await;
    let c = &t.cluster;
    let sorted = |sort, descending| DeviceQuery { sort, descending, ..Default::default() };
    assert_eq!(names(c, sorted(DeviceSort::Name, true)).await, [OLD, NONE, FOREIGN, SHORT, OURS]);
    assert_eq!(names(c, sorted(DeviceSort::Model, false)).await, [SHORT, OURS, FOREIGN, NONE, OLD]);
    assert_eq!(names(c, sorted(DeviceSort::Model, true)).await, [OURS, FOREIGN, NONE, OLD, SHORT]);
    assert_eq!(names(c, sorted(DeviceSort::LscExpiry, false)).await, [OLD, SHORT, FOREIGN, OURS, NONE]);
    assert_eq!(names(c, sorted(DeviceSort::LscExpiry, true)).await, [OURS, FOREIGN, SHORT, OLD, NONE]);
    // "None" < "Operation Pending".
    assert_eq!(names(c, sorted(DeviceSort::Status, true)).await, [NONE, OURS, SHORT, FOREIGN, OLD]);
    register(c, OURS, RegistrationResult::Registered).await;
    // Timestamps are to the second; a tie would put OURS first (by name).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    register(c, FOREIGN, RegistrationResult::Unregistered).await;
    let by_registration = names(c, sorted(DeviceSort::LastRegistration, true)).await;
    assert_eq!(by_registration, [FOREIGN, OURS, SHORT, NONE, OLD]);
    let oldest_first = names(c, sorted(DeviceSort::LastRegistration, false)).await;
    assert_eq!(oldest_first, [OURS, FOREIGN, SHORT, NONE, OLD]);
}

#[tokio::test]
async fn pages_count_every_match_and_the_size_is_bounded() {
    let t = fleet().await;
    let c = &t.cluster;
    let page = |offset, limit| DeviceQuery { offset, limit, ..Default::default() };
    let p = c.search_devices(&page(2, 2)).await.unwrap();
    let got: Vec<String> = p.devices.iter().map(|r| r.device.name.to_string()).collect();
    assert_eq!((p.total, p.offset, p.limit, got), (5, 2, 2, vec![FOREIGN.to_owned(), NONE.to_owned()]));
    let last = c.search_devices(&page(4, 2)).await.unwrap();
    assert_eq!((last.total, last.devices.len()), (5, 1));
    let past = c.search_devices(&page(99, 2)).await.unwrap();
    assert_eq!((past.total, past.devices.len()), (5, 0));
    assert_eq!(c.search_devices(&page(0, 0)).await.unwrap().limit, 1);
    assert_eq!(c.search_devices(&page(0, u64::MAX)).await.unwrap().limit, MAX_PAGE_SIZE);
    let filtered = DeviceQuery { lsc: Some(LscFilter::ThisCluster), limit: 1, ..Default::default() };
    let p = c.search_devices(&filtered).await.unwrap();
    assert_eq!((p.total, p.devices.len()), (2, 1), "total counts the matches, not the devices");
}

#[tokio::test]
async fn tokens_parse_as_the_command_line_and_the_api_take_them() {
    for (word, f) in [
        ("none", LscFilter::None),
        ("valid", LscFilter::ThisCluster),
        ("This", LscFilter::ThisCluster),
        ("foreign", LscFilter::OtherCluster),
        ("other", LscFilter::OtherCluster),
        ("expiring", LscFilter::Expiring),
        ("expired", LscFilter::Expired),
    ] {
        assert_eq!(word.parse::<LscFilter>().unwrap(), f);
    }
    assert!("stale".parse::<LscFilter>().unwrap_err().to_string().contains("expiring"));
    assert_eq!("lsc-expiry".parse::<DeviceSort>().unwrap(), DeviceSort::LscExpiry);
    assert_eq!("last_registration".parse::<DeviceSort>().unwrap(), DeviceSort::LastRegistration);
    assert!("age".parse::<DeviceSort>().is_err());
}

#[tokio::test]
async fn set_for_a_search_changes_only_the_matching_devices_audited() {
    let t = fleet().await;
    let c = &t.cluster;
    let install = CapfSettings {
        operation: Some(CertificateOperation::InstallUpgrade),
        auth_mode: Some(AuthMode::ExistingCertificateLsc),
        ..Default::default()
    };
    let ours = Selection::Query(DeviceQuery { lsc: Some(LscFilter::ThisCluster), limit: 1, ..Default::default() });
    let deadline = now() + Duration::days(3);
    assert_eq!(c.pending_replaced(&ours, &install).await.unwrap(), 0);
    let done = c.set_capf(&ours, &install, deadline, "alice", |_, _| {}).await.unwrap();
    let changed: Vec<&str> = done.iter().map(|r| r.device.as_str()).collect();
    assert_eq!(changed, [OURS, SHORT], "every match, not one page");
    for name in [OURS, SHORT] {
        let d = c.device(&name.parse().unwrap()).await.unwrap();
        assert_eq!(d.capf.operation, CertificateOperation::InstallUpgrade, "{name}");
    }
    for name in [FOREIGN, OLD] {
        let d = c.device(&name.parse().unwrap()).await.unwrap();
        assert_eq!(d.capf.operation, CertificateOperation::NoPendingOperation, "{name} untouched");
    }
    let audit = c.audit(20).await.unwrap();
    let sets: Vec<(&str, &str)> =
        audit.iter().filter(|e| e.action == "device.set").map(|e| (e.actor.as_str(), e.target.as_str())).collect();
    assert_eq!(sets[..2], [("alice", SHORT), ("alice", OURS)]);
    assert_eq!(sets.iter().filter(|(a, _)| *a == "alice").count(), 2);

    // The pending-replacement rule holds for a search as for names.
    let pending = Selection::Query(DeviceQuery { status: Some("pending".into()), ..Default::default() });
    assert_eq!(c.pending_replaced(&pending, &install).await.unwrap(), 3);
    let err = c.set_capf(&pending, &install, deadline, "alice", |_, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("--replace"), "{err}");
    let nothing = Selection::Query(DeviceQuery { model: Some("CP-9999".into()), ..Default::default() });
    let err = c.set_capf(&nothing, &install, deadline, "alice", |_, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("no device matches"), "{err}");
}

#[tokio::test]
async fn lsc_overview_counts_by_issuer_and_month_of_expiry() {
    let t = fleet().await;
    let c = &t.cluster;
    let o = c.lsc_overview().await.unwrap();
    assert_eq!((o.total, o.expiring), (4, 1));
    let our_cn = c.require_certificate(Service::Capf).await.unwrap().common_name;
    assert_eq!(o.by_issuer.len(), 2);
    assert_eq!(
        (o.by_issuer[0].issuer.as_str(), o.by_issuer[0].this_cluster, o.by_issuer[0].count),
        (our_cn.as_str(), true, 3)
    );
    assert_eq!((o.by_issuer[1].this_cluster, o.by_issuer[1].count), (false, 1));
    assert_eq!(o.by_expiry.len(), 26, "expired, 24 months, later");
    assert_eq!(o.by_expiry[0], ExpiryCount { month: "expired".into(), count: 1 });
    let month = |d: time::OffsetDateTime| format!("{:04}-{:02}", d.year(), u8::from(d.month()));
    assert_eq!(o.by_expiry[1].month, month(now()));
    assert_eq!(o.by_expiry[25].month, "later");
    let count = |m: String| o.by_expiry.iter().find(|e| e.month == m).map(|e| e.count);
    for days in [10, 200, 365] {
        assert_eq!(count(month(now() + Duration::days(days))), Some(1), "the LSC ending in {days} days");
    }
    assert_eq!(o.by_expiry.iter().map(|e| e.count).sum::<u64>(), 4);
}

#[tokio::test]
async fn the_timeline_counts_registrations_and_refusals_by_reason_per_bucket() {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    // Three hourly buckets, the last one holding now.
    let start = now() - Duration::minutes(150);
    register(c, OURS, RegistrationResult::Registered).await;
    register(c, OURS, RegistrationResult::Unregistered).await;
    let refused = |reason: &str, count, at| RefusalCount {
        event: NewRegistration { result: RegistrationResult::Refused, reason: reason.into(), ..event(FOREIGN) },
        count,
        first: at,
        last: at,
    };
    let earlier = now() - Duration::minutes(140);
    c.record_refusals(&[
        refused("unknown CA", 40, earlier),
        refused("no device", 2, now()),
        refused("unknown CA", 1, now()),
    ])
    .await
    .unwrap();
    let buckets = c.registration_timeline(start, Duration::hours(1)).await.unwrap();
    assert_eq!(buckets.len(), 3);
    assert_eq!(buckets[0].start, start);
    assert_eq!(buckets[0].end, start + Duration::hours(1));
    assert_eq!((buckets[0].registered, buckets[0].refused), (0, 40));
    assert_eq!(buckets[0].refused_by_reason.get("unknown CA"), Some(&40));
    assert_eq!(buckets[1].refused, 0);
    let last = &buckets[2];
    assert_eq!((last.registered, last.unregistered, last.refused), (1, 1, 3));
    assert_eq!((last.refused_by_reason["no device"], last.refused_by_reason["unknown CA"]), (2, 1));

    assert!(c.registration_timeline(now() + Duration::hours(1), Duration::hours(1)).await.unwrap().is_empty());
    assert!(c.registration_timeline(start, Duration::seconds(10)).await.is_err(), "buckets of a minute or more");
    assert!(c.registration_timeline(now() - Duration::days(365), Duration::minutes(1)).await.is_err(), "bounded");
}

fn event(device: &str) -> NewRegistration {
    NewRegistration {
        device: Some(device.into()),
        peer: "192.0.2.7:51234".into(),
        protocol: Protocol::Sip,
        transport: Transport::Tcp,
        tls_version: None,
        cipher: None,
        engine: None,
        cert_kind: None,
        cert_subject: None,
        issuer_cn: None,
        serial: None,
        result: RegistrationResult::Registered,
        reason: String::new(),
        lines: Vec::new(),
    }
}

async fn register(c: &Cluster, device: &str, result: RegistrationResult) {
    let e = NewRegistration { result, ..event(device) };
    c.record_registration(&e, "callmanager", "registration", device, "").await.unwrap();
}
