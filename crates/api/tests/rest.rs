//! Issue 14: what the REST API does, as a script sees it: the CLI's use cases, the CLI's
//! refusals as problems, the help desk's limits.

use crate::support;

use serde_json::json;
use support::{Admin, PHONES};

#[tokio::test]
async fn bulk_capf_by_filter_changes_only_the_matching_devices_and_is_audited() {
    let admin = Admin::start().await;
    admin.with_phones().await;
    let c = admin.client("desk");
    let body =
        json!({"filter": {"model": "CP-8861", "lsc": "none"}, "capf": {"operation": "install", "auth_mode": "null"}});
    let a = c.json("POST", "/api/v1/capf/bulk", &admin.helpdesk_token, &body).await;
    assert_eq!(a.status, 200, "the help desk schedules operations: {}", a.body);
    let changed: Vec<String> =
        a.json().as_array().unwrap().iter().map(|r| r["device"].as_str().unwrap().to_owned()).collect();
    assert_eq!(changed, [PHONES[0].0, PHONES[2].0], "the two CP-8861, not the CP-8845");
    assert_eq!(a.json()[0]["operation_token"], "install", "the CLI's token beside CUCM's name");

    let a = c.get_with("/api/v1/devices?operation=install", &admin.helpdesk_token).await;
    assert_eq!(a.json()["total"], 2);
    let other = c.get_with(&format!("/api/v1/devices/{}", PHONES[1].0), &admin.helpdesk_token).await;
    assert_eq!(other.json()["capf"]["operation"], "No Pending Operation");
    let audit = admin.cluster.audit(10).await.unwrap();
    let ours: Vec<_> = audit.iter().filter(|e| e.actor == "api:desk-script").collect();
    assert_eq!(ours.len(), 2, "{audit:#?}");

    let again = c.json("POST", "/api/v1/capf/bulk", &admin.helpdesk_token, &body).await;
    assert_eq!(again.status, 409, "pending operations are not replaced without replace: {}", again.body);
    assert!(again.json()["detail"].as_str().unwrap().contains("replaces the pending operation of 2 device(s)"));
    let mut replace = body.clone();
    replace["capf"]["replace"] = json!(true);
    assert_eq!(c.json("POST", "/api/v1/capf/bulk", &admin.helpdesk_token, &replace).await.status, 200);

    let none = json!({"capf": {"operation": "install"}});
    let a = c.json("POST", "/api/v1/capf/bulk", &admin.helpdesk_token, &none).await;
    assert_eq!(a.status, 422, "no filter is not every device: {}", a.body);
    let typo = json!({"filter": {"modle": "CP-8861"}, "capf": {"operation": "install"}});
    let a = c.json("POST", "/api/v1/capf/bulk", &admin.helpdesk_token, &typo).await;
    assert_eq!(a.status, 422, "a misspelled filter selects nothing: {}", a.body);
    assert!(a.json()["detail"].as_str().unwrap().contains("modle"));
}

#[tokio::test]
async fn removing_a_trust_entry_phones_depend_on_is_409_naming_them() {
    let admin = Admin::start().await;
    let lab = admin.with_phones().await;
    let c = admin.client("script");
    let path = format!("/api/v1/trust/CAPF-trust/{lab}");
    let a = c.call("DELETE", &path, Some(&admin.admin_token), None).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.header("content-type").as_deref(), Some("application/problem+json"));
    let p = a.json();
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.starts_with("refusing to remove") && detail.contains("--force"), "the CLI's text: {detail}");
    assert_eq!(p["devices"], json!([PHONES[2].0]));

    let a = c.call("DELETE", &format!("{path}?force=true"), Some(&admin.admin_token), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["stranded_devices"], json!([PHONES[2].0]));
    let audit = admin.cluster.audit(1).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].actor.as_str()), ("trust.remove.forced", "api:admin-script"));
}

#[tokio::test]
async fn devices_are_paged_sorted_and_a_bad_parameter_is_named() {
    let admin = Admin::start().await;
    admin.with_phones().await;
    let c = admin.client("script");
    let a = c.get_with("/api/v1/devices?sort=name&desc=true&offset=1&limit=1", &admin.helpdesk_token).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let page = a.json();
    assert_eq!((page["total"].as_u64(), page["offset"].as_u64(), page["limit"].as_u64()), (Some(3), Some(1), Some(1)));
    assert_eq!(page["devices"][0]["name"], PHONES[1].0);
    assert_eq!(page["devices"][0]["lsc_state"], "none");

    let a = c.get_with("/api/v1/devices?lsc=sometimes", &admin.helpdesk_token).await;
    assert_eq!(a.status, 400);
    let detail = a.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.starts_with("parameter lsc:") && detail.contains("none, valid"), "{detail}");
    let a = c.get_with("/api/v1/devices?limit=5000", &admin.helpdesk_token).await;
    assert_eq!((a.status, a.json()["detail"].as_str().unwrap()), (400, "parameter limit: 5000: use 1 to 1000"));
    assert_eq!(c.get_with("/api/v1/devices?colour=red", &admin.helpdesk_token).await.status, 400);
}

#[tokio::test]
async fn bad_bodies_are_problems_never_panics() {
    let admin = Admin::start().await;
    let c = admin.client("script");
    let t = Some(admin.admin_token.as_str());
    let cases: [(&str, &[u8], u16); 5] = [
        ("text/plain", b"{\"name\": \"SEP000000000001\"}", 415),
        ("application/json", b"{\"name\": ", 400),
        ("application/json", b"{\"name\": \"SEP000000000001\", \"colour\": 1}", 422),
        ("application/json", b"{\"name\": \"not a device\"}", 422),
        ("application/json", b"[1, 2]", 422),
    ];
    for (content_type, body, status) in cases {
        let a = c.call("POST", "/api/v1/devices", t, Some((content_type, body))).await;
        assert_eq!(a.status, status, "{content_type} {}: {}", String::from_utf8_lossy(body), a.body);
        assert_eq!(a.header("content-type").as_deref(), Some("application/problem+json"));
    }
    // Announced as too large: refused before the body is sent (curl waits for 100 Continue); or,
    // sent at once without asking as most scripts do, read and dropped first, so the client reads
    // the 413 rather than a connection reset under its upload.
    let bearer = format!("Authorization: Bearer {}", admin.admin_token);
    let big = |content_type: &str, size: usize, expect: &str| {
        let file = admin.dir.path().join(format!("big-{size}"));
        std::fs::write(&file, vec![b'A'; size]).unwrap();
        let header = format!("Content-Type: {content_type}");
        ["-H", &bearer, "-H", expect, "-H", &header, "--data-binary"]
            .map(str::to_owned)
            .into_iter()
            .chain([format!("@{}", file.display())])
            .collect::<Vec<_>>()
    };
    let cases = [
        ("/api/v1/devices", "application/json", 100 * 1024, "a JSON body is limited to 64 KiB"),
        ("/api/v1/cert/inspect", "application/x-pem-file", 300 * 1024, "a certificate upload is limited to 256 KiB"),
    ];
    for (path, content_type, size, why) in cases {
        for expect in ["Expect: 100-continue", "Expect:"] {
            let args = big(content_type, size, expect);
            let a = c.curl(path, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
            assert_eq!(a.status, 413, "{why} ({expect}): {}", a.body);
        }
    }
    let a = c.call("POST", "/api/v1/cert/inspect", t, Some(("application/x-pem-file", b"not a certificate"))).await;
    assert_eq!(a.status, 422, "{}", a.body);
}

#[tokio::test]
async fn csv_import_is_all_or_nothing_as_the_cli() {
    let admin = Admin::start().await;
    let c = admin.client("script");
    let t = Some(admin.admin_token.as_str());
    let bad = b"name,model,lines\nSEP0000000000B1,CP-8861,2001\nSEP00000000ZZ,CP-8861,2002\n";
    let a = c.call("POST", "/api/v1/devices/import", t, Some(("text/csv", bad))).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.json()["detail"].as_str().unwrap().contains("line 3"), "{}", a.body);
    assert_eq!(admin.cluster.device_count().await.unwrap(), 0, "nothing imported");
    let good = b"name,model,lines\nSEP0000000000B1,CP-8861,2001\nSEP0000000000B2,CP-8845,2002 2003\n";
    let a = c.call("POST", "/api/v1/devices/import", t, Some(("text/csv", good))).await;
    assert_eq!((a.status, a.json()["added"].as_u64()), (200, Some(2)), "{}", a.body);
    let shown = c.get_with("/api/v1/devices/SEP0000000000B2", &admin.admin_token).await.json();
    assert_eq!(shown["lines"], json!(["2002", "2003"]));
}

#[tokio::test]
async fn a_capture_and_a_console_log_are_diagnosed_against_the_cluster() {
    let admin = Admin::start().await;
    let c = admin.client("desk");
    let t = Some(admin.helpdesk_token.as_str());
    let a =
        c.call("POST", "/api/v1/diagnose/pcap", t, Some(("application/vnd.tcpdump.pcap", &support::capture()))).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = a.json();
    assert_eq!(r["cluster_checked"], true, "the cluster's stores were used");
    let conn = &r["connections"][0];
    assert_eq!(conn["service"], "sip", "{conn}");
    let trust = conn["trust"].as_array().unwrap();
    assert!(!trust.is_empty() && trust.iter().all(|v| v["trusted"] == false), "a self-signed phone: {trust:?}");

    let a = c.call("POST", "/api/v1/diagnose/log", t, Some(("text/plain", &support::console_log()))).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let codes: Vec<String> =
        a.json()["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect();
    assert!(codes.contains(&"unknown-ca".to_owned()), "{codes:?}");

    let a = c.call("POST", "/api/v1/diagnose/pcap", t, Some(("application/vnd.tcpdump.pcap", b"not a capture"))).await;
    assert_eq!(a.status, 422, "{}", a.body);
}

#[tokio::test]
async fn cert_inspect_gives_each_stores_verdict() {
    let admin = Admin::start().await;
    let c = admin.client("desk");
    let capf = c.get_with("/api/v1/certificates/CAPF/pem", &admin.helpdesk_token).await;
    assert_eq!(capf.status, 200);
    assert!(capf.body.starts_with("-----BEGIN CERTIFICATE-----"));
    let t = Some(admin.helpdesk_token.as_str());
    let a = c.call("POST", "/api/v1/cert/inspect", t, Some(("application/x-pem-file", capf.body.as_bytes()))).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = a.json();
    let stores: Vec<(&str, &str)> = r["verification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["store"].as_str().unwrap(), v["outcome"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(stores.len(), 2, "{r}");
    assert_eq!(r["certificate"]["fingerprint"].as_str().unwrap().len(), 64);

    let only = c
        .call(
            "POST",
            "/api/v1/cert/inspect?store=CAPF-trust",
            t,
            Some(("application/x-pem-file", capf.body.as_bytes())),
        )
        .await;
    assert_eq!(only.json()["verification"].as_array().unwrap().len(), 1);
    let bad = c
        .call("POST", "/api/v1/cert/inspect?store=Nowhere", t, Some(("application/x-pem-file", capf.body.as_bytes())))
        .await;
    assert_eq!(bad.status, 400);
}

/// Issue 16: trust consumers over REST, and the CAPF rollover's guard naming the consumer that
/// lacks the new CAPF certificate.
#[tokio::test]
async fn consumers_are_recorded_and_a_retired_capf_waits_for_them() {
    let admin = Admin::start().await;
    let c = admin.client("script");
    let body = json!({"name": "radius-1", "kind": "freeradius"});
    let a = c.json("POST", "/api/v1/consumers", &admin.helpdesk_token, &body).await;
    assert_eq!(a.status, 403, "the help desk changes no trust: {}", a.body);
    let a = c.json("POST", "/api/v1/consumers", &admin.admin_token, &body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["kind"], "freeradius");
    let a = c.json("POST", "/api/v1/consumers", &admin.admin_token, &body).await;
    assert_eq!(a.status, 409, "one name, one consumer: {}", a.body);
    let bad = json!({"name": "radius 1", "kind": "freeradius"});
    assert_eq!(c.json("POST", "/api/v1/consumers", &admin.admin_token, &bad).await.status, 422);
    let bad = json!({"name": "r2", "kind": "cisco"});
    assert_eq!(c.json("POST", "/api/v1/consumers", &admin.admin_token, &bad).await.status, 422);

    let a = c.get_with("/api/v1/consumers", &admin.helpdesk_token).await;
    assert_eq!(a.json()[0]["name"], "radius-1");
    assert!(a.json()[0]["last_export"].is_null());
    let a = c.call("POST", "/api/v1/consumers/radius-1/confirm", Some(&admin.admin_token), None).await;
    assert_eq!(a.status, 409, "nothing exported, nothing to confirm: {}", a.body);

    let old = admin.cluster.require_certificate(opencapf_model::Service::Capf).await.unwrap();
    admin.cluster.regenerate_capf(None, "test").await.unwrap();
    let a = c.get_with("/api/v1/capf/rollover", &admin.helpdesk_token).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let status = a.json();
    assert_eq!(status["phase"], "in-progress");
    assert_eq!(status["consumers"][0]["exported"], false);
    let path = format!("/api/v1/trust/CAPF-trust/{}", old.fingerprint);
    let a = c.call("DELETE", &path, Some(&admin.admin_token), None).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.json()["consumers"], json!(["radius-1"]));

    let bundle = admin.cluster.trust_bundle(opencapf_model::TrustStore::Capf).await.unwrap();
    assert_eq!(bundle.certificates.len(), 2);
    admin.cluster.record_export("radius-1", opencapf_cluster::ExportFormat::Freeradius, &bundle, "test").await.unwrap();
    let a = c.call("POST", "/api/v1/consumers/radius-1/confirm", Some(&admin.admin_token), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.json()["confirmed_at"].is_string());
    let a = c.call("DELETE", &path, Some(&admin.admin_token), None).await;
    assert_eq!(a.status, 200, "confirmed, and no phone on the old CAPF: {}", a.body);

    assert_eq!(c.call("DELETE", "/api/v1/consumers/radius-1", Some(&admin.admin_token), None).await.status, 204);
    assert_eq!(c.get_with("/api/v1/consumers/radius-1", &admin.helpdesk_token).await.status, 404);
}
