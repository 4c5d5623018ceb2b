//! Issue 15: several `serve` nodes behind one name share the admin service's sessions and login
//! limits. Two admin services on one cluster database stand for two nodes; one browser (one
//! cookie jar) talks to either, as a load balancer would send it.

use crate::support;

use opencapf_store::testing::ScratchPostgres;
use support::{Admin, ADMIN_PASSWORD};

/// A login on one node is valid on the other; a logout on the first ends it there too.
async fn a_session_is_the_clusters(admin: Admin) {
    let node = admin.another_node().await;
    let on_a = admin.client("browser");
    let on_b = on_a.via(node.addr);
    assert_eq!(on_a.login("root", ADMIN_PASSWORD).await.status, 303);
    let a = on_b.get("/").await;
    assert_eq!(a.status, 200, "the other node knows the session");
    assert!(a.body.contains("root (admin)"));
    assert_eq!(on_b.get("/api/v1/status").await.status, 200);

    let token = on_b.csrf().await;
    assert_eq!(on_a.csrf().await, token, "one session, one CSRF token");
    // A copy of the cookie, kept past the logout (which clears the browser's own).
    std::fs::copy(admin.dir.path().join("browser.cookies"), admin.dir.path().join("copy.cookies")).unwrap();
    let stale = admin.client("copy").via(node.addr);
    let a = on_a.curl("/logout", &["-d", &format!("csrf_token={token}")]).await;
    assert_eq!(a.status, 303);
    assert_eq!(on_b.get("/").await.header("location").as_deref(), Some("/login?next=/"));
    assert_eq!(stale.get("/api/v1/status").await.status, 401, "the other node ended the session too");
    assert_eq!(stale.get("/").await.status, 303);
}

#[tokio::test]
async fn a_login_on_one_node_is_valid_on_another_until_a_logout_on_either() {
    a_session_is_the_clusters(Admin::start().await).await;
}

#[tokio::test]
async fn a_login_on_one_node_is_valid_on_another_on_postgresql() {
    if let Some(pg) = ScratchPostgres::new().await {
        a_session_is_the_clusters(Admin::start_on(Some(pg)).await).await;
    }
}

#[tokio::test]
async fn failed_logins_on_both_nodes_count_together() {
    let admin = Admin::start().await;
    let node = admin.another_node().await;
    let on_a = admin.client("guesser");
    let on_b = on_a.via(node.addr);
    for i in 0..5 {
        let c = if i % 2 == 0 { &on_a } else { &on_b };
        assert_eq!(c.login("root", "wrong password!").await.status, 401, "attempt {i}");
    }
    for c in [&on_a, &on_b] {
        let a = c.login("root", ADMIN_PASSWORD).await;
        assert_eq!(a.status, 429, "five failures over two nodes lock the account on both");
        assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    }
    let desk = admin.client("desk").via(node.addr);
    assert_eq!(desk.login("desk", support::HELPDESK_PASSWORD).await.status, 303, "other accounts are not locked");
}

#[tokio::test]
async fn a_password_change_on_one_node_ends_the_accounts_other_sessions_on_the_other() {
    let admin = Admin::start().await;
    let node = admin.another_node().await;
    let laptop = admin.client("laptop");
    let phone = admin.client("phone").via(node.addr);
    assert_eq!(laptop.login("desk", support::HELPDESK_PASSWORD).await.status, 303);
    assert_eq!(phone.login("desk", support::HELPDESK_PASSWORD).await.status, 303);
    assert_eq!(phone.get("/").await.status, 200);

    let token = laptop.csrf().await;
    let form = format!(
        "csrf_token={token}&current=helpdesk+passphrase+1&new_password=another+passphrase&again=another+passphrase"
    );
    assert_eq!(laptop.curl("/account/password", &["-d", &form]).await.status, 303);
    assert_eq!(phone.get("/").await.status, 303, "the other session ended on the other node");
    assert_eq!(laptop.via(node.addr).get("/").await.status, 200, "the one that changed it goes on, everywhere");

    // An administrator's role change on the second node logs the account out on the first.
    node.cluster.set_account_role("desk", opencapf_model::AccountRole::Admin, "test").await.unwrap();
    assert_eq!(laptop.get("/").await.status, 303);
}
