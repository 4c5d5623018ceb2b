//! Issue 9: a session's claim on a device's pending operation, and strings at rest.

use std::time::Duration;

use opencapf_cluster::{init, Cluster, Error, InitOptions};
use opencapf_cluster::{Attempt, Begin, Origin};
use opencapf_model::{
    AuthMode, CapfUpdate, CertificateOperation, DeviceName, Failure, KeyAlgorithm, KeyOrder, NewDevice, Protocol,
    SecurityMode, SubjectFields,
};

async fn cluster(dir: &std::path::Path) -> (Cluster, DeviceName) {
    let opts = InitOptions {
        capf_key: KeyAlgorithm::Ec256,
        subject: SubjectFields { organization: Some("Lab".into()), ..Default::default() },
        hostname: "cucm.lab".into(),
        manufacturer_cas: Vec::new(),
        actor: "test".into(),
    };
    init(dir, opts).await.unwrap();
    let c = Cluster::open(dir).await.unwrap();
    let name: DeviceName = "SEP001122334455".parse().unwrap();
    let d = NewDevice {
        name: name.clone(),
        model: "CP-8861".into(),
        protocol: Protocol::Sip,
        security_mode: SecurityMode::NonSecure,
        description: String::new(),
        lines: Vec::new(),
        load_information: None,
    };
    c.add_device(&d, "test").await.unwrap();
    let update = CapfUpdate {
        operation: CertificateOperation::InstallUpgrade,
        auth_mode: AuthMode::AuthenticationString,
        auth_string: Some("55667788".into()),
        key_order: KeyOrder::EcOnly,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: Some(opencapf_model::now() + time::Duration::days(1)),
    };
    c.save_capf(&name, &update, "test", "test").await.unwrap();
    (c, name)
}

async fn begin(c: &Cluster, name: &DeviceName, session: u32, hold: Duration) -> Begin {
    let origin = Origin { session_id: session, peer: "127.0.0.1:1".into(), tls: None };
    c.begin(name, &origin, opencapf_model::now(), hold).await.unwrap()
}

fn attempt(b: Begin, session: u32) -> Attempt {
    let Begin::Pending { device, claim } = b else { panic!("expected Pending, got {b:?}") };
    Attempt::new(&device, Origin { session_id: session, peer: "127.0.0.1:1".into(), tls: None }, claim)
}

#[tokio::test]
async fn one_session_at_a_time_and_a_late_one_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (c, name) = cluster(&dir.path().join("c")).await;

    let first = attempt(begin(&c, &name, 1, Duration::from_secs(600)).await, 1);
    assert!(matches!(begin(&c, &name, 2, Duration::from_secs(600)).await, Begin::InProgress { .. }));
    // Recording releases the claim.
    c.fail(&first, Failure::PhoneCommunication, "gone").await.unwrap();

    // A claim that expired (a crashed server's) is taken over; the late session's writes fail.
    let late = attempt(begin(&c, &name, 3, Duration::ZERO).await, 3);
    let now = attempt(begin(&c, &name, 4, Duration::from_secs(600)).await, 4);
    assert!(c.check_authentication_string(&now, Some("55667788"), 5).await.unwrap().is_none());
    let status = c.device(&name).await.unwrap().capf.status;
    let err = c.fail(&late, Failure::Unspecified, "late").await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    let err = c.check_authentication_string(&late, Some("0000"), 5).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert_eq!(c.device(&name).await.unwrap().capf.status, status, "the late session changed nothing");
}

#[tokio::test]
async fn clear_strings_of_an_older_version_are_hashed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("c");
    let (c, name) = cluster(&data).await;
    c.close().await;
    let store = opencapf_store::Store::open(&data).await.unwrap();
    let mut db = store.write().await.unwrap();
    let sql = "UPDATE devices SET auth_string = '13572468', auth_string_hash = NULL";
    assert_eq!(db.execute_raw(sql).await.unwrap(), 1);
    db.commit().await.unwrap();
    store.close().await;

    let c = Cluster::open(&data).await.unwrap();
    assert!(c.device(&name).await.unwrap().capf.auth_string_set);
    let a = attempt(begin(&c, &name, 1, Duration::from_secs(600)).await, 1);
    assert!(c.check_authentication_string(&a, Some("13572468"), 5).await.unwrap().is_none());
    c.close().await;
    let store = opencapf_store::Store::open(&data).await.unwrap();
    let mut db = store.write().await.unwrap();
    let left = db.execute_raw("UPDATE devices SET name = name WHERE auth_string IS NOT NULL").await.unwrap();
    assert_eq!(left, 0, "no clear string left");
}
