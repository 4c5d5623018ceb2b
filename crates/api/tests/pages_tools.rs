//! Issue 14, the operator's pages: Registrations (live fragment), Doctor, Audit (with verify)
//! and Diagnose (a capture or a console log uploaded, the report read), for admin and helpdesk.

use crate::support;

use std::path::PathBuf;

use opencapf_model::{NewRegistration, Protocol, RegistrationResult, Transport};
use support::{Admin, Client, ADMIN_PASSWORD, HELPDESK_PASSWORD};

async fn logged_in(admin: &Admin, name: &str, password: &str) -> (Client, String) {
    let c = admin.client(name);
    assert_eq!(c.login(name, password).await.status, 303);
    let token = c.csrf().await;
    (c, token)
}

async fn both(admin: &Admin) -> [(Client, String); 2] {
    [logged_in(admin, "root", ADMIN_PASSWORD).await, logged_in(admin, "desk", HELPDESK_PASSWORD).await]
}

/// The repository's sample files (README's tour), read in place.
fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name)
}

#[tokio::test]
async fn registrations_are_listed_and_refreshed_as_a_fragment() {
    let admin = Admin::start().await;
    let event = NewRegistration {
        device: Some("SEP00000000D001".into()),
        reason: "unknown CA <script>".into(),
        ..NewRegistration::bare(
            "192.0.2.7:51234".into(),
            Protocol::Sip,
            Transport::Tls,
            RegistrationResult::Refused,
            String::new(),
        )
    };
    admin.cluster.record_registration(&event, "test", "registration.refused", "SEP00000000D001", "").await.unwrap();
    for (c, _) in both(&admin).await {
        let a = c.get("/registrations").await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.contains("data-refresh=\"/registrations/fragment?device=&#38;limit=100\""), "{}", a.body);
        assert!(a.body.contains("SEP00000000D001"));
        assert!(a.body.contains("unknown CA &#60;script&#62;"), "text from phones is escaped: {}", a.body);
        assert!(!a.body.contains("CA <script>"));
        let f = c.get("/registrations/fragment?device=SEP00000000D001").await;
        assert_eq!(f.status, 200);
        assert!(!f.body.contains("<html") && f.body.contains("id=\"registrations-table\""));
        assert!(f.body.contains("SEP00000000D001"));
        let other = c.get("/registrations/fragment?device=SEP00000000D002").await;
        assert!(!other.body.contains("SEP00000000D001"), "filtered by device");
        assert_eq!(c.get("/registrations?device=not-a-phone").await.status, 422);
    }
}

#[tokio::test]
async fn doctor_and_audit_render_for_both_roles_and_audit_verifies_the_chain() {
    let admin = Admin::start().await;
    for (c, _) in both(&admin).await {
        let a = c.get("/doctor").await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.contains("id=\"doctor-summary\""));
        assert!(a.body.contains("aria-current=\"page\">Doctor"));
        let a = c.get("/doctor?expiry_days=400").await;
        assert!(a.body.contains("value=\"400\""));

        let a = c.get("/audit").await;
        assert_eq!(a.status, 200);
        assert!(a.body.contains("account.add"), "the accounts' creation is in the log");
        assert!(!a.body.contains("audit-verify-result"), "the chain is walked only on request");
        let a = c.get("/audit?verify=1&limit=5").await;
        assert_eq!(a.status, 200);
        assert!(a.body.contains("id=\"audit-chain-intact\""), "{}", a.body);
        assert!(a.body.contains("chain intact"));
    }
}

#[tokio::test]
async fn diagnose_reads_an_uploaded_capture_and_console_log() {
    let admin = Admin::start().await;
    let [(root, root_token), (desk, desk_token)] = both(&admin).await;
    let a = desk.get("/diagnose").await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains(&format!("action=\"/diagnose?csrf_token={desk_token}\"")));

    let capture = format!("file=@{}", example("capture.pcapng").display());
    let a = root.curl("/diagnose", &["-F", "kind=auto", "-F", &capture]).await;
    assert_eq!(a.status, 403, "no CSRF token, no upload");
    let a = root.curl(&format!("/diagnose?csrf_token={root_token}"), &["-F", "kind=auto", "-F", &capture]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("id=\"diagnose-report\""));
    assert!(a.body.contains("Packet capture: capture.pcapng"));
    assert!(a.body.contains("id=\"diagnose-connections\""), "the TLS connections are listed");
    assert!(a.body.contains("checked against this cluster"));

    let log = format!("file=@{}", example("console.log").display());
    let a = desk.curl(&format!("/diagnose?csrf_token={desk_token}"), &["-F", "kind=log", "-F", &log]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Phone console log: console.log"));
    assert!(a.body.contains("id=\"finding-1\""), "the log's findings: {}", a.body);
    assert!(a.body.contains("PXY_NO_LSC") || a.body.contains("MIC"), "{}", a.body);

    let junk = admin.dir.path().join("junk.pcap");
    std::fs::write(&junk, [0xd4, 0xc3, 0xb2, 0xa1, 0, 0]).unwrap();
    let a =
        root.curl(&format!("/diagnose?csrf_token={root_token}"), &["-F", &format!("file=@{}", junk.display())]).await;
    assert!(a.status == 200 || a.status == 422, "a damaged capture is reported, not a failure: {}", a.status);
    let a = root.curl(&format!("/diagnose?csrf_token={root_token}"), &["-F", "kind=log"]).await;
    assert_eq!(a.status, 422, "no file");
    // Past the 32 MiB a page accepts: a 413 that says so, not a "damaged" upload.
    let huge = admin.dir.path().join("huge.pcap");
    std::fs::write(&huge, vec![0u8; 32 * 1024 * 1024 + 64 * 1024]).unwrap();
    let form = ["-H", "Expect:", "-F", "kind=pcap", "-F", &format!("file=@{}", huge.display())];
    let a = root.curl(&format!("/diagnose?csrf_token={root_token}"), &form).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body.contains("larger than the 32 MiB a page accepts"), "{}", a.body);
}
