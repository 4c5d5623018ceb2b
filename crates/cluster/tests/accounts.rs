//! Issue 14: accounts and API tokens of the admin service.

use opencapf_cluster::{init, Cluster, Error, InitOptions, FIRST_ADMIN};
use opencapf_model::{AccountRole, KeyAlgorithm, SubjectFields};

async fn cluster(dir: &std::path::Path) -> Cluster {
    let opts = InitOptions {
        capf_key: KeyAlgorithm::Ec256,
        subject: SubjectFields::default(),
        hostname: "cucm.lab".into(),
        manufacturer_cas: Vec::new(),
        actor: "test".into(),
    };
    init(dir, opts).await.unwrap();
    Cluster::open(dir).await.unwrap()
}

#[tokio::test]
async fn the_first_admin_gets_a_one_time_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let password = c.ensure_first_admin("serve").await.unwrap().expect("a first password");
    assert_eq!(c.ensure_first_admin("serve").await.unwrap(), None, "shown once");
    let admin = c.authenticate(FIRST_ADMIN, &password).await.unwrap().expect("the password works");
    assert!(admin.must_change_password, "a one-time password must be replaced");
    assert!(admin.role.is_admin());
    c.set_password(FIRST_ADMIN, "a new long passphrase", false, "web:admin").await.unwrap();
    assert!(c.authenticate(FIRST_ADMIN, &password).await.unwrap().is_none(), "the old one is gone");
    let admin = c.authenticate(FIRST_ADMIN, "a new long passphrase").await.unwrap().unwrap();
    assert!(!admin.must_change_password);
    assert!(admin.last_login.is_some());
    let audit = c.audit(20).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "account.password" && e.actor == "web:admin"));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_names_are_refused_alike() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    c.add_account("jane", AccountRole::Helpdesk, "twelve chars ok", "cli:root").await.unwrap();
    assert!(c.authenticate("jane", "twelve chars ko").await.unwrap().is_none());
    assert!(c.authenticate("nobody", "twelve chars ok").await.unwrap().is_none());
    assert_eq!(c.authenticate("jane", "twelve chars ok").await.unwrap().unwrap().role, AccountRole::Helpdesk);
    assert!(matches!(c.add_account("jane", AccountRole::Admin, "twelve chars ok", "t").await, Err(Error::Conflict(_))));
    assert!(matches!(c.add_account("bob", AccountRole::Admin, "short", "t").await, Err(Error::Invalid(_))));
    assert!(matches!(c.add_account("b b", AccountRole::Admin, "twelve chars ok", "t").await, Err(Error::Invalid(_))));
}

#[tokio::test]
async fn the_last_administrator_stays() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    c.add_account("root", AccountRole::Admin, "twelve chars ok", "t").await.unwrap();
    c.add_account("desk", AccountRole::Helpdesk, "twelve chars ok", "t").await.unwrap();
    assert!(matches!(c.remove_account("root", "t").await, Err(Error::Refused(_))));
    assert!(matches!(c.set_account_role("root", AccountRole::Helpdesk, "t").await, Err(Error::Refused(_))));
    c.set_account_role("desk", AccountRole::Admin, "t").await.unwrap();
    c.remove_account("root", "t").await.unwrap();
    let names: Vec<String> = c.accounts().await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["desk"]);
}

#[tokio::test]
async fn tokens_are_shown_once_found_by_secret_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let (token, secret) = c.create_token("backup-script", AccountRole::Helpdesk, "cli:root").await.unwrap();
    assert_eq!(token.role, AccountRole::Helpdesk);
    let found = c.token_caller(&secret).await.unwrap().expect("the secret finds its token");
    assert_eq!(found.name, "backup-script");
    assert!(c.token_caller("ocapf_00").await.unwrap().is_none());
    assert!(c.token_caller(&secret.replace("ocapf_", "x")).await.unwrap().is_none());
    let listed = c.api_tokens().await.unwrap();
    assert!(listed[0].last_used.is_some());
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains(&secret[6..]), "the secret is never listed");
    c.revoke_token("backup-script", "cli:root").await.unwrap();
    assert!(c.token_caller(&secret).await.unwrap().is_none());
}
