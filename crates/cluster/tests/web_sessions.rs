//! Issue 15: the admin service's sessions and login limits are the cluster's, not one node's.
//! Two `Cluster` handles on one database stand for two `serve` nodes, on SQLite (one folder) and
//! on PostgreSQL.

use std::net::IpAddr;

use opencapf_cluster::{init_with, Cluster, Database, InitOptions, LOGIN_FAILURES_PER_ACCOUNT, LOGIN_WINDOW};
use opencapf_model::{AccountRole, KeyAlgorithm, SubjectFields};
use opencapf_store::testing::ScratchPostgres;

const PASSWORD: &str = "twelve chars ok";

/// Two nodes of one cluster, and what keeps their database alive.
struct TwoNodes {
    a: Cluster,
    b: Cluster,
    backend: &'static str,
    _dir: tempfile::TempDir,
    _postgres: Option<ScratchPostgres>,
}

async fn two_nodes(postgres: Option<ScratchPostgres>) -> TwoNodes {
    let dir = tempfile::tempdir().unwrap();
    let database = postgres.as_ref().map_or_else(|| Database::in_folder(dir.path()), |pg| pg.database.clone());
    let opts = InitOptions {
        capf_key: KeyAlgorithm::Ec256,
        subject: SubjectFields::default(),
        hostname: "cucm.lab".into(),
        manufacturer_cas: Vec::new(),
        actor: "test".into(),
    };
    init_with(dir.path(), postgres.as_ref().map(|pg| &pg.database), opts).await.unwrap();
    let a = Cluster::open_with(dir.path(), &database).await.unwrap();
    let b = Cluster::open_with(dir.path(), &database).await.unwrap();
    for (name, role) in [("jane", AccountRole::Admin), ("bob", AccountRole::Helpdesk)] {
        a.add_account(name, role, PASSWORD, "test").await.unwrap();
    }
    let backend = if postgres.is_some() { "postgres" } else { "sqlite" };
    TwoNodes { a, b, backend, _dir: dir, _postgres: postgres }
}

async fn each_backend() -> Vec<TwoNodes> {
    let mut nodes = vec![two_nodes(None).await];
    if let Some(pg) = ScratchPostgres::new().await {
        nodes.push(two_nodes(Some(pg)).await);
    }
    nodes
}

#[tokio::test]
async fn a_session_opened_on_one_node_is_valid_on_the_other_and_a_logout_ends_it_there() {
    for n in each_backend().await {
        let s = n.a.open_web_session("jane").await.unwrap();
        assert_eq!(s.id.len(), 64);
        assert_ne!(s.id, s.csrf_token);
        let on_b = n.b.web_session(&s.id).await.unwrap();
        assert_eq!(on_b.as_ref(), Some(&s), "{}", n.backend);
        assert_eq!(n.a.web_session(&s.id).await.unwrap(), Some(s.clone()), "{}: used again", n.backend);

        n.a.close_web_session(&s.id).await.unwrap();
        assert_eq!(n.b.web_session(&s.id).await.unwrap(), None, "{}: logged out everywhere", n.backend);
        assert_eq!(n.b.web_session("").await.unwrap(), None);
        assert_eq!(n.b.web_session(&"f".repeat(10_000)).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_password_or_role_change_or_removal_ends_the_accounts_sessions_on_every_node() {
    for n in each_backend().await {
        let (mine, other) = (n.a.open_web_session("jane").await.unwrap(), n.b.open_web_session("jane").await.unwrap());
        let bobs = n.a.open_web_session("bob").await.unwrap();
        n.a.change_password("jane", "a new passphrase", &mine.id, "web:jane").await.unwrap();
        assert!(n.b.web_session(&other.id).await.unwrap().is_none(), "{}: the other session ends", n.backend);
        assert!(n.b.web_session(&mine.id).await.unwrap().is_some(), "{}: the one that changed it goes on", n.backend);
        assert!(n.b.web_session(&bobs.id).await.unwrap().is_some(), "{}: other accounts' stay", n.backend);

        n.b.set_password("jane", "an admin's choice", true, "cli:root").await.unwrap();
        assert!(n.a.web_session(&mine.id).await.unwrap().is_none(), "{}: a reset ends them all", n.backend);

        n.b.set_account_role("bob", AccountRole::Admin, "web:jane").await.unwrap();
        assert!(n.a.web_session(&bobs.id).await.unwrap().is_none(), "{}: a new role, a new login", n.backend);

        let bobs = n.a.open_web_session("bob").await.unwrap();
        n.b.remove_account("bob", "web:jane").await.unwrap();
        assert!(n.a.web_session(&bobs.id).await.unwrap().is_none(), "{}: gone with the account", n.backend);
    }
}

#[tokio::test]
async fn failed_logins_count_on_every_node() {
    let ip = |i: u8| IpAddr::from([10, 0, 0, i]);
    for n in each_backend().await {
        for i in 0..LOGIN_FAILURES_PER_ACCOUNT {
            let node = if i % 2 == 0 { &n.a } else { &n.b };
            assert_eq!(node.login_wait(ip(i as u8), "jane").await.unwrap(), None, "{}: failure {i}", n.backend);
            node.login_failed(ip(i as u8), "jane").await.unwrap();
        }
        for node in [&n.a, &n.b] {
            let wait = node.login_wait(ip(99), "jane").await.unwrap().expect("the account waits");
            assert!(wait <= LOGIN_WINDOW, "{}: {wait:?}", n.backend);
            assert_eq!(node.login_wait(ip(99), "bob").await.unwrap(), None, "{}: other accounts do not", n.backend);
        }

        // One address guessing many names, half on each node.
        let guesser = IpAddr::from([192, 0, 2, 1]);
        for i in 0..10 {
            let node = if i % 2 == 0 { &n.a } else { &n.b };
            node.login_failed(guesser, &format!("user{i}")).await.unwrap();
        }
        assert!(n.a.login_wait(guesser, "someone-else").await.unwrap().is_some(), "{}", n.backend);
        assert!(n.b.login_wait(IpAddr::from([192, 0, 2, 2]), "someone-else").await.unwrap().is_none());

        // A login that succeeded (after the wait) forgets the account's failures.
        n.b.open_web_session("jane").await.unwrap();
        assert_eq!(n.a.login_wait(ip(99), "jane").await.unwrap(), None, "{}", n.backend);
    }
}
