//! Issue 14, "Done when": the admin pages in a real browser (headless Chromium through
//! chromedriver) against the real `opencapf serve`, as an administrator and a helpdesk agent use
//! them. Every page reached is screenshotted under `target/browser-screenshots/` and checked at
//! 1366x768 for sideways overflow, unlabelled fields and heading order (`webdriver::Browser`).
//!
//! One cluster and one browser session go through the flows in order (each flow starts from the
//! state the previous one left): that keeps the whole test under a minute. To add a flow, write
//! `async fn NAME(b: &Browser, lab: &Lab, w: &World)` and call it in the test below.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: `chromium chromium-driver`);
//! `OPENCAPF_SKIP_BROWSER=1` skips it.

use crate::support;
use crate::webdriver;

use support::{Lab, Phone};
use webdriver::{add_account, skip_reason, Browser};

/// The password `admin` chooses after the first start's one-time password.
const ADMIN_PASSWORD: &str = "admin's own passphrase";
const HELPDESK_PASSWORD: &str = "helpdesk passphrase 1";
/// Six phones of the model the search looks for, and two others.
const MODEL: &str = "CP-8861";
const OTHER_MODEL: &str = "CP-7841";

/// What the flows share: the lab's phones.
struct World {
    wanted: Vec<String>,
    others: Vec<String>,
    /// The simulated phone of `wanted[0]`.
    phone: Phone,
}

fn world(lab: &Lab) -> World {
    let name = |prefix: &str, i: usize| format!("SEP{prefix}{i:04}");
    let wanted: Vec<String> = (1..=6).map(|i| name("0000000B", i)).collect();
    let others: Vec<String> = (1..=2).map(|i| name("0000000C", i)).collect();
    for (i, n) in wanted.iter().enumerate() {
        let dn = format!("{}", 2000 + i);
        lab.ok(&["device", "add", n, "--model", MODEL, "--protocol", "sip", "--security", "encrypted", "--line", &dn]);
    }
    for n in &others {
        lab.ok(&["device", "add", n, "--model", OTHER_MODEL, "--protocol", "sccp", "--security", "authenticated"]);
    }
    let phone = lab.new_phone(&wanted[0]);
    World { wanted, others, phone }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pages_work_in_a_browser() {
    if let Some(why) = skip_reason() {
        eprintln!("browser test skipped: {why}");
        return;
    }
    let lab = Lab::start("cucm-pub.lab");
    let w = world(&lab);
    let b = Browser::start(&lab).await;

    log_in_with_the_one_time_password(&b, &lab).await;
    find_phones_with_a_filter(&b, &w).await;
    schedule_install_for_five_at_once(&b, &lab, &w).await;
    see_a_phones_capf_history_after_the_phone_ran_capf(&b, &lab, &w).await;
    upload_a_trust_certificate(&b, &lab).await;
    deleting_the_capf_certificate_phones_need_is_refused(&b, &lab, &w).await;
    regenerate_capf_on_the_guided_page(&b, &lab, &w).await;
    read_the_other_pages(&b).await;
    helpdesk_logs_in_and_schedules(&b, &lab, &w).await;
    helpdesk_cannot_change_trust(&b).await;

    b.close().await;
}

async fn log_in_with_the_one_time_password(b: &Browser, lab: &Lab) {
    let once = lab.admin_password.clone().expect("the first start prints admin's one-time password");
    b.goto("/phones").await;
    assert!(b.path().await.starts_with("/login"), "pages need a login: {}", b.path().await);
    b.check_page("login").await;
    b.log_in("admin", &once).await;
    assert_eq!(b.path().await, "/account/password", "a one-time password must be replaced first");
    assert!(b.text("main").await.contains("one-time password"));
    b.check_page("password").await;
    b.fill("#current", &once).await;
    b.fill("#new_password", ADMIN_PASSWORD).await;
    b.fill("#again", ADMIN_PASSWORD).await;
    b.click_to("main form button[type=submit]", "main h1").await;
    assert_eq!(b.path().await, "/");
    assert_eq!(b.text("main h1").await, "Dashboard");
    assert_eq!(b.text("header nav [aria-current=page]").await, "Dashboard");
    assert!(b.text("header .who").await.contains("admin (admin)"));
    assert_eq!(b.count("main svg[role=img]").await, 2, "no LSC yet: the issuer chart is empty, two charts drawn");
    b.check_page("dashboard").await;
}

async fn find_phones_with_a_filter(b: &Browser, w: &World) {
    b.click_to("header nav a[href='/phones']", "#found").await;
    assert_eq!(b.count("#phones tbody tr").await, w.wanted.len() + w.others.len());
    b.fill("#f-model", MODEL).await;
    b.click_to("form[role=search] button[type=submit]", "#found").await;
    assert_eq!(b.text("#found").await, "Phones 1 to 6 of 6.");
    let rows = b.text("#phones tbody").await;
    for n in &w.wanted {
        assert!(rows.contains(n.as_str()), "{n} in:\n{rows}");
    }
    for n in &w.others {
        assert!(!rows.contains(n.as_str()), "{n} is another model:\n{rows}");
    }
    // Sorting by name the other way round puts the last phone first.
    b.click_to("#phones thead th[aria-sort] a", "#found").await;
    assert_eq!(
        b.find("#phones thead th[aria-sort]").await.attr("aria-sort").await.unwrap().as_deref(),
        Some("descending")
    );
    assert!(b.text("#phones tbody tr:first-child").await.contains(w.wanted[5].as_str()));
    // The header's checkbox ticks every phone of the page (app.js), and unticks them.
    let ticked = "return document.querySelectorAll('#phones input[name=device]:checked').length;";
    b.click("#select-all").await;
    assert_eq!(b.client.execute(ticked, vec![]).await.unwrap(), 6);
    b.click("#select-all").await;
    assert_eq!(b.client.execute(ticked, vec![]).await.unwrap(), 0);
    b.check_page("phones-filtered").await;
}

async fn schedule_install_for_five_at_once(b: &Browser, lab: &Lab, w: &World) {
    // The list is sorted by name, newest search kept: tick the five lowest names.
    b.click_to("#phones thead th[aria-sort] a", "#found").await;
    for i in 1..=5 {
        b.click(&format!("#phones tbody tr:nth-child({i}) input[name=device]")).await;
    }
    b.select("#operation", "install").await;
    b.select("#auth_mode", "null").await;
    b.click_to("#capf-set-submit", "#set-results").await;
    assert!(b.text("#set-summary").await.starts_with("5 phone(s) changed."), "{}", b.text("main").await);
    let table = b.text("#set-results tbody").await;
    for n in &w.wanted[..5] {
        assert!(table.contains(&format!("{n} Install/Upgrade By Null String Operation Pending")), "{table}");
    }
    b.check_page("capf-set").await;
    for n in &w.wanted[..5] {
        assert_eq!(lab.capf_status(n), "Operation Pending", "{n}");
    }
    assert_eq!(lab.capf_status(&w.wanted[5]), "None", "the sixth was not ticked");
}

async fn see_a_phones_capf_history_after_the_phone_ran_capf(b: &Browser, lab: &Lab, w: &World) {
    let r = lab.capf(&w.phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let name = &w.wanted[0];
    b.click_to(&format!("#set-results a[href='/phones/{name}']"), "#capf-status").await;
    assert_eq!(b.text("main h1").await, format!("Phone {name}"));
    assert_eq!(b.text("#capf-status").await, "Upgrade Success");
    let history = b.text("#history-table tbody").await;
    assert!(history.contains("Upgrade Success"), "{history}");
    assert!(history.contains("Operation Pending"), "the schedule is in the history too:\n{history}");
    let certs = b.text("#certificates-table tbody").await;
    assert!(certs.contains("LSC recorded"), "{certs}");
    assert_eq!(b.fetch_status("GET", &format!("/phones/{name}/certificates/lsc.pem")).await, 200);
    assert_eq!(b.fetch_status("GET", &format!("/phones/{name}/certificates/7.pem")).await, 404);
    b.check_page("phone").await;
}

/// The fingerprint of the active certificate `cert own NAME` shows.
fn own_fingerprint(lab: &Lab, name: &str) -> String {
    lab.json(&["cert", "own", name])["certificate"]["fingerprint"].as_str().unwrap().to_lowercase()
}

/// Says yes to the page's next `confirm()` (the forms that delete or regenerate ask first).
async fn accept_confirmations(b: &Browser) {
    b.client.execute("window.confirm = () => true; return true;", vec![]).await.unwrap();
}

async fn upload_a_trust_certificate(b: &Browser, lab: &Lab) {
    b.click_to("header nav a[href='/certificates']", "#own-certificates").await;
    assert_eq!(b.text("main h1").await, "Certificate Management");
    assert!(b.text("#own-certificates").await.contains("tomcat"));
    b.check_page("certificates").await;
    let before = lab.json(&["trust", "list", "CallManager-trust"]).as_array().unwrap().len();
    b.select("#trust-upload-store", "CallManager-trust").await;
    let file = lab.manufacturer_ca();
    b.find("#trust-upload-file").await.send_keys(file.to_str().unwrap()).await.unwrap();
    b.click_to("#trust-upload-submit", "#own-certificates").await;
    let notice = b.text("main").await;
    assert!(notice.contains("CallManager-trust"), "{notice}");
    let after = lab.json(&["trust", "list", "CallManager-trust"]);
    assert_eq!(after.as_array().unwrap().len(), before + 1, "{after}");
    let audit = lab.json(&["audit", "--limit", "5"]);
    assert!(audit.as_array().unwrap().iter().any(|e| e["actor"] == "web:admin"), "audited with the account: {audit}");
    b.check_page("certificates-uploaded").await;
}

async fn deleting_the_capf_certificate_phones_need_is_refused(b: &Browser, lab: &Lab, w: &World) {
    let capf = own_fingerprint(lab, "capf");
    b.goto("/certificates").await;
    accept_confirmations(b).await;
    b.click_to(&format!("#trust-delete-capf-trust-{capf}"), "#guard-refusal").await;
    let refusal = b.text("#guard-refusal-text").await;
    assert!(!refusal.is_empty());
    let devices = b.text("#guard-refusal-devices").await;
    assert!(devices.contains(w.wanted[0].as_str()), "the phone whose LSC it signed: {devices}");
    let still = lab.json(&["trust", "list", "CAPF-trust"]);
    assert!(still.to_string().to_lowercase().contains(&capf), "nothing was removed");
    b.check_page("trust-delete-refused").await;
}

async fn regenerate_capf_on_the_guided_page(b: &Browser, lab: &Lab, w: &World) {
    let old = own_fingerprint(lab, "capf");
    b.goto("/certificates").await;
    b.click_to("#regenerate-start", "#regenerate-plan").await;
    let count = b.text("#regenerate-count").await;
    assert!(count.starts_with("1 phone(s) hold an LSC"), "one phone holds an LSC of this CAPF: {count}");
    b.click("#regenerate-phones summary").await;
    assert!(b.text("#regenerate-phones").await.contains(w.wanted[0].as_str()));
    b.check_page("regenerate-plan").await;
    accept_confirmations(b).await;
    b.click_to("#regenerate-confirm", "#rekey-progress").await;
    assert_ne!(own_fingerprint(lab, "capf"), old, "a new CAPF certificate");
    assert!(b.exists(&format!("#rekey-{}", w.wanted[0])).await, "{}", b.text("main").await);
    b.check_page("regenerate-progress").await;
    // The plan page now shows the rollover as `capf rollover status` does: the phone still on
    // the old CAPF, and the old certificate not removable from the stores yet.
    b.goto("/certificates/capf/regenerate").await;
    let summary = b.text("#rollover-summary").await;
    assert!(summary.contains("1 still on an LSC from a retired CAPF certificate"), "{summary}");
    let steps = b.text("#rollover-steps").await;
    assert!(steps.contains("Phones re-keyed: 0 of 1") && steps.contains("blocked"), "{steps}");
    b.check_page("regenerate-rollover").await;
}

async fn read_the_other_pages(b: &Browser) {
    b.click_to("header nav a[href='/registrations']", "#registrations-live").await;
    b.check_page("registrations").await;
    b.click_to("header nav a[href='/doctor']", "#doctor-summary").await;
    b.check_page("doctor").await;
    b.click_to("header nav a[href='/audit']", "#audit-table").await;
    b.click_to("#audit-verify", "#audit-verify-result").await;
    assert!(b.exists("#audit-chain-intact").await, "{}", b.text("#audit-verify-result").await);
    b.check_page("audit").await;
    b.click_to("header nav a[href='/diagnose']", "#diagnose-form").await;
    b.check_page("diagnose").await;
    let capture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/capture.pcapng");
    let capture = capture.canonicalize().unwrap();
    b.find("#diagnose-file").await.send_keys(capture.to_str().unwrap()).await.unwrap();
    b.click_to("#diagnose-submit", "#diagnose-report").await;
    assert!(!b.text("#diagnose-summary").await.is_empty());
    b.check_page("diagnose-report").await;
    // The API's interactive docs: Swagger UI from the binary (no CDN), listing the operations.
    b.click("header nav a[href='/api/docs']").await;
    let operations = b.find(".opblock-summary-path").await;
    assert!(operations.text().await.unwrap().starts_with("/api/v1/"));
    b.screenshot("api-docs").await;
    b.goto("/").await;
}

async fn helpdesk_cannot_change_trust(b: &Browser) {
    b.goto("/certificates").await;
    assert!(b.exists("#trust-readonly").await);
    assert!(!b.exists("#trust-upload").await, "no upload form for helpdesk");
    assert_eq!(b.count("[id^='trust-delete-']").await, 0, "no delete buttons for helpdesk");
    b.check_page("certificates-helpdesk").await;
    // The rollover plan is for everyone to read; only an administrator may start it.
    b.goto("/certificates/capf/regenerate").await;
    assert!(b.exists("#regenerate-readonly").await);
    assert!(!b.exists("#regenerate-confirm").await);
    // The server refuses too, whatever the page shows.
    assert_eq!(b.fetch_status("POST", "/certificates/capf/regenerate").await, 403);
    assert_eq!(b.fetch_status("POST", "/certificates/trust/upload").await, 403);
    // And so does the REST API, with the same session.
    assert_eq!(b.fetch_status("GET", "/api/v1/trust").await, 200, "helpdesk reads the stores");
    assert_eq!(b.fetch_status("POST", "/api/v1/capf/regenerate").await, 403);
    assert_eq!(b.fetch_status("DELETE", "/api/v1/trust/CAPF-trust/0000").await, 403);
}

async fn helpdesk_logs_in_and_schedules(b: &Browser, lab: &Lab, w: &World) {
    add_account(lab, "desk", "helpdesk", HELPDESK_PASSWORD);
    b.log_out().await;
    b.log_in("desk", HELPDESK_PASSWORD).await;
    assert_eq!(b.path().await, "/");
    assert!(b.text("header .who").await.contains("desk (helpdesk)"));
    for page in ["Dashboard", "Phones", "Certificates", "Registrations", "Doctor", "Audit", "Diagnose"] {
        assert!(b.text("header nav").await.contains(page), "{page} in the navigation");
    }
    // The phone's LSC now shows on the dashboard: three charts.
    assert_eq!(b.count("main svg[role=img]").await, 3);
    let issuer = b.find("main svg[role=img]").await.attr("aria-label").await.unwrap().unwrap_or_default();
    assert_eq!(issuer, "LSCs by issuer: LSCs 1");
    b.check_page("dashboard-helpdesk").await;

    let name = &w.wanted[5];
    b.goto(&format!("/phones/{name}")).await;
    b.select("#operation", "troubleshoot").await;
    b.select("#auth_mode", "null").await;
    b.click_to("#capf-form button[type=submit]", "#capf-status").await;
    assert_eq!(b.path().await, format!("/phones/{name}"));
    assert_eq!(b.text("#capf-status").await, "Operation Pending");
    assert_eq!(lab.json(&["device", "show", name])["capf"]["operation"], "Troubleshoot");
    b.check_page("phone-helpdesk").await;
}
