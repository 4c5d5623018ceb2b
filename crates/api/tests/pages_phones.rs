//! The dashboard, Find and List Phones and the Phone page as a browser gets them (curl with a
//! session): filters, the CAPF form's rules, CSRF, roles, escaping and downloads. The browser
//! test (crates/opencapf/tests/browser.rs) drives the same pages in Chromium.

use crate::support;

use opencapf_cluster::new_device;
use support::{Admin, Client, ADMIN_PASSWORD, HELPDESK_PASSWORD};

async fn with_devices() -> Admin {
    let admin = Admin::start().await;
    for (name, model, description) in [
        ("SEP00000000A001", "CP-8861", "lobby"),
        ("SEP00000000A002", "CP-8861", "<script>alert('desk')</script>"),
        ("SEP00000000A003", "CP-7841", "kitchen"),
    ] {
        let d = new_device(name, model, "sip", "encrypted", description).unwrap();
        admin.cluster.add_device(&d, "test").await.unwrap();
    }
    admin
}

async fn logged_in(admin: &Admin, name: &str, password: &str) -> Client {
    let c = admin.client(name);
    assert_eq!(c.login(name, password).await.status, 303);
    c
}

async fn status(admin: &Admin, name: &str) -> String {
    admin.cluster.device(&name.parse().unwrap()).await.unwrap().capf.status
}

#[tokio::test]
async fn the_dashboard_draws_accessible_charts_with_their_numbers() {
    let admin = with_devices().await;
    let c = logged_in(&admin, "root", ADMIN_PASSWORD).await;
    let page = c.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Dashboard</h1>"));
    assert!(page.body.contains(r#"aria-current="page">Dashboard<"#), "{}", page.body);
    // No LSC yet: the issuer chart has nothing to draw; expiry months and the day's hours do.
    assert_eq!(page.body.matches(r#"role="img""#).count(), 2, "{}", page.body);
    assert!(page.body.contains(
        r#"aria-label="Registrations and refusals over the last day (UTC, by hour): Registered 0, Refused 0""#
    ));
    assert_eq!(page.body.matches("<th scope=\"row\">").count(), 26 + 24, "a table row per month and per hour");
}

#[tokio::test]
async fn find_and_list_phones_filters_sorts_and_refuses_a_bad_filter() {
    let admin = with_devices().await;
    let c = logged_in(&admin, "desk", HELPDESK_PASSWORD).await;
    let page = c.get("/phones?model=CP-8861&sort=name&desc=1").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Phones 1 to 2 of 2."), "{}", page.body);
    let (a1, a2) = (page.body.find("SEP00000000A001").unwrap(), page.body.find("SEP00000000A002").unwrap());
    assert!(a2 < a1, "descending by name");
    assert!(!page.body.contains("SEP00000000A003"));
    assert!(page.body.contains(r#"aria-sort="descending""#));
    assert!(page.body.contains(r#"action="/phones/capf?model=CP-8861""#), "the search rides in the form's action");

    let page = c.get("/phones?limit=1").await;
    assert!(page.body.contains("Phones 1 to 1 of 3."));
    assert!(page.body.contains(r#"href="/phones?offset=1&#38;limit=1" rel="next""#), "{}", page.body);

    let page = c.get("/phones?offset=18446744073709551615&limit=99999999").await;
    assert_eq!(page.status, 200, "any number reads as a page (past the end: empty)");
    assert!(page.body.contains("past the last of the 3 matching phones"), "{}", page.body);

    let page = c.get("/phones?lsc=shiny").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("is not an LSC filter"), "{}", page.body);
}

#[tokio::test]
async fn helpdesk_sets_the_capf_operation_of_the_ticked_phones_with_the_csrf_token() {
    let admin = with_devices().await;
    let c = logged_in(&admin, "desk", HELPDESK_PASSWORD).await;
    let form = ["device=SEP00000000A001", "device=SEP00000000A003", "operation=install", "auth_mode=null"];
    let mut args: Vec<String> = form.iter().flat_map(|f| ["-d".to_owned(), (*f).to_owned()]).collect();
    let refused = c.curl("/phones/capf", &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(refused.status, 403, "no CSRF token");
    assert_eq!(status(&admin, "SEP00000000A001").await, "None");

    args.extend(["-d".to_owned(), format!("csrf_token={}", c.csrf().await)]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = c.curl("/phones/capf", &args).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("2 phone(s) changed."), "{}", done.body);
    assert_eq!(status(&admin, "SEP00000000A001").await, "Operation Pending");
    assert_eq!(status(&admin, "SEP00000000A002").await, "None", "not ticked");
    assert_eq!(status(&admin, "SEP00000000A003").await, "Operation Pending");

    let again = c.curl("/phones/capf", &args).await;
    assert_eq!(again.status, 409, "pending operations are replaced only when asked");
    assert!(again.body.contains("Replace pending operations"), "{}", again.body);
    let token = c.csrf().await;
    let every = "/phones/capf?model=CP-8861";
    let token = format!("csrf_token={token}");
    let all = ["-d", &token, "-d", "scope=matching", "-d", "operation=delete", "-d", "replace=1"];
    let done = c.curl(every, &all).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("2 phone(s) changed.") && done.body.contains("The pending operation of 1 was replaced.")
    );
    let d = admin.cluster.device(&"SEP00000000A002".parse().unwrap()).await.unwrap();
    assert_eq!(d.capf.operation.as_str(), "Delete");
    let d = admin.cluster.device(&"SEP00000000A003".parse().unwrap()).await.unwrap();
    assert_eq!(d.capf.operation.as_str(), "Install/Upgrade", "another model: not matched");
}

#[tokio::test]
async fn the_phone_page_escapes_what_it_shows_and_saves_the_capf_section() {
    let admin = with_devices().await;
    let c = logged_in(&admin, "root", ADMIN_PASSWORD).await;
    let page = c.get("/phones/SEP00000000A002").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert"), "the description is escaped");
    assert!(page.body.contains("&#60;script&#62;alert("), "{}", page.body);
    assert!(page.body.contains("Certificate Operation Status: <strong id=\"capf-status\">None</strong>"));

    let token = format!("csrf_token={}", c.csrf().await);
    let post = |extra: &[&str]| {
        let mut fields = vec!["operation=install", "auth_mode=string", "key_order=ec", "ec_bits=384", token.as_str()];
        fields.extend_from_slice(extra);
        let args: Vec<String> = fields.iter().flat_map(|f| ["-d".to_owned(), (*f).to_owned()]).collect();
        let c = &c;
        async move { c.curl("/phones/SEP00000000A002/capf", &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    let refused = post(&["auth_string=12"]).await;
    assert_eq!(refused.status, 422, "CUCM's rule: 4 to 10 digits");
    assert!(refused.body.contains("4 to 10 digits"));
    assert_eq!(
        post(&["generate_auth_string=1", "completes_by=2000-01-01"]).await.status,
        400,
        "a deadline in the past"
    );
    let done = post(&["generate_auth_string=1"]).await;
    assert_eq!(done.status, 200, "a generated string is shown once, on its own page: {}", done.body);
    assert!(done.body.contains("<code>"), "{}", done.body);
    let d = admin.cluster.device(&"SEP00000000A002".parse().unwrap()).await.unwrap();
    assert_eq!((d.capf.key_order.as_str(), d.capf.ec_bits), ("EC Only", 384));
    assert!(d.capf.auth_string_set);

    let args = ["-d", "operation=none", "-d", "auth_mode=null", "-d", token.as_str()];
    let saved = c.curl("/phones/SEP00000000A002/capf", &args).await;
    assert_eq!(saved.status, 303);
    assert_eq!(saved.header("location").as_deref(), Some("/phones/SEP00000000A002"));

    let missing = c.get("/phones/SEP00000000A002/certificates/lsc.pem").await;
    assert_eq!(missing.status, 404, "no LSC yet");
    assert_eq!(c.get("/phones/SEP00000000FFFF").await.status, 404);
}
