//! The cluster's own identities (`cert own`), Phone-SAST-trust, the requests of unknown devices
//! and a device's firmware load.

use std::process::Command;

use crate::cli::common::Cluster;

fn names(list: &serde_json::Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c["state"].as_str().unwrap().to_owned()))
        .collect()
}

fn active(names: &[&str]) -> Vec<(String, String)> {
    names.iter().map(|n| (n.to_string(), "active".to_string())).collect()
}

#[test]
fn cert_own_lists_the_five_identities_and_exports_itlrecovery_for_openssl() {
    let c = Cluster::init(&[]);
    let five = ["CallManager", "CAPF", "ITLRecovery", "TVS", "tomcat"];
    assert_eq!(names(&c.json(&["cert", "own"])), active(&five));
    let table = c.ok(&["cert", "own"]);
    for n in five {
        assert!(table.lines().any(|l| l.starts_with(n)), "{n} in\n{table}");
    }
    assert!(table.contains("ITLRECOVERY_cucm-pub.lab"), "{table}");

    let pem = c.path("itlrecovery.pem");
    c.ok(&["cert", "own", "ITLRecovery", "--out", pem.to_str().unwrap()]);
    let o = Command::new("openssl").args(["x509", "-noout", "-subject", "-in"]).arg(&pem).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let subject = String::from_utf8_lossy(&o.stdout);
    assert!(subject.contains("CN = ITLRECOVERY_cucm-pub.lab") || subject.contains("CN=ITLRECOVERY_cucm-pub.lab"));

    let tvs = c.json(&["cert", "own", "tvs"]);
    assert_eq!(tvs["certificate"]["subject_cn"], "cucm-pub.lab", "{tvs}");
    assert!(c.ok(&["cert", "own", "itlrecovery"]).contains("Digital Signature"));
    assert!(c.usage(&["cert", "own", "tftp"]).contains("callmanager, capf, itlrecovery, tvs, tomcat"));

    // A regenerated CAPF: the old one is listed as retired, ITLRecovery unchanged.
    let before = c.json(&["cert", "own", "itlrecovery"])["certificate"]["fingerprint"].clone();
    c.ok(&["capf", "regenerate"]);
    let after = c.json(&["cert", "own"]);
    assert_eq!(names(&after)[5], ("CAPF".to_string(), "retired".to_string()));
    assert_eq!(after[2]["certificate"]["fingerprint"], before);
}

#[test]
fn a_cluster_made_before_the_identities_gets_them_when_opened() {
    let c = Cluster::init(&[]);
    opencapf_testkit::runtime().block_on(async {
        let store = opencapf_store::Store::open(&c.data()).await.unwrap();
        let mut db = store.write().await.unwrap();
        let older = "DELETE FROM service_certificates WHERE service IN ('ITLRecovery', 'TVS', 'tomcat')";
        db.execute_raw(older).await.unwrap();
        db.commit().await.unwrap();
        store.close().await;
    });
    let all = ["CallManager", "CAPF", "ITLRecovery", "TVS", "tomcat"];
    assert_eq!(names(&c.json(&["cert", "own"])), active(&all));
    let audit = c.ok(&["audit"]);
    assert_eq!(audit.matches("cluster.identities").count(), 1, "{audit}");
    c.ok(&["status"]);
    assert_eq!(c.ok(&["audit"]).matches("cluster.identities").count(), 1, "made once");
}

#[test]
fn phone_sast_trust_takes_another_clusters_itlrecovery() {
    let c = Cluster::init(&[]);
    let other = Cluster::init(&[]);
    let theirs = other.path("their-itlrecovery.pem");
    other.ok(&["cert", "own", "itlrecovery", "--out", theirs.to_str().unwrap()]);
    assert!(c.ok(&["trust", "add", "phone-sast", theirs.to_str().unwrap()]).contains("Phone-SAST-trust"));
    let all = c.json(&["trust", "list"]);
    let stores: std::collections::BTreeSet<&str> =
        all.as_array().unwrap().iter().map(|e| e["store"].as_str().unwrap()).collect();
    assert_eq!(stores.into_iter().collect::<Vec<_>>(), ["CAPF-trust", "CallManager-trust", "Phone-SAST-trust"]);
    let sast = c.json(&["trust", "list", "Phone-SAST-trust"]);
    assert_eq!(sast[0]["common_name"], "ITLRECOVERY_cucm-pub.lab");
    // The CAPF certificate and manufacturing CAs go only where phone certificates are judged.
    assert_eq!(sast.as_array().unwrap().len(), 1);
    assert_eq!(c.json(&["status"])["trust_stores"]["Phone-SAST-trust"], 1);
    // Nothing depends on it: removed without --force.
    c.ok(&["trust", "remove", "phone-sast", "ITLRECOVERY_cucm-pub.lab"]);
}

#[test]
fn unknown_requests_are_listed_with_a_hint_until_the_device_is_added() {
    let c = Cluster::init(&[]);
    c.store(async |s| {
        let name = "SEP00AABBCCDD01".parse().unwrap();
        let ip = "192.0.2.7".parse().unwrap();
        s.record_unknown_request(&name, "SEP00AABBCCDD01.cnf.xml", ip).await.unwrap();
        s.record_unknown_request(&name, "SEP00AABBCCDD01.cnf.xml\x1b[2J", ip).await.unwrap();
    });
    let list = c.json(&["device", "list", "--unknown-requests"]);
    assert_eq!(list[0]["device"], "SEP00AABBCCDD01");
    assert_eq!(list[0]["count"], 2);
    assert_eq!(list[0]["last_source"], "192.0.2.7");
    let out = c.cmd().args(["device", "list", "--unknown-requests"]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("SEP00AABBCCDD01") && !stdout.contains('\x1b'), "{stdout}");
    assert!(stderr.contains("opencapf device add SEP00AABBCCDD01"), "{stderr}");

    c.ok(&["device", "add", "SEP00AABBCCDD01"]);
    assert_eq!(c.json(&["device", "list", "--unknown-requests"]), serde_json::json!([]));
}

#[test]
fn a_device_names_a_firmware_load_until_no_load() {
    let c = Cluster::init(&[]);
    assert!(c
        .ok(&["device", "add", "SEP00AABBCCDD02", "--load", "sip88xx.14-2-1-0001-14.loads"])
        .contains("load sip88xx.14-2-1-0001-14"));
    assert_eq!(c.json(&["device", "show", "SEP00AABBCCDD02"])["load_information"], "sip88xx.14-2-1-0001-14");
    let err = c.fail(&["device", "update", "SEP00AABBCCDD02", "--load", "two words"]);
    assert!(err.contains("without spaces"), "{err}");
    c.ok(&["device", "update", "SEP00AABBCCDD02", "--no-load"]);
    assert_eq!(c.json(&["device", "show", "SEP00AABBCCDD02"])["load_information"], serde_json::Value::Null);
}
