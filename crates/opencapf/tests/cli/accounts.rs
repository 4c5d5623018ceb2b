//! `opencapf admin`: accounts and API tokens of the admin service.

use crate::cli::common::Cluster;

fn with_stdin(c: &Cluster, args: &[&str], stdin: &str) -> std::process::Output {
    c.cmd().args(args).write_stdin(stdin).output().unwrap()
}

#[test]
fn accounts_are_added_listed_and_removed_with_passwords_from_stdin() {
    let c = Cluster::init(&[]);
    let out =
        with_stdin(&c, &["admin", "add", "jane", "--role", "helpdesk", "--password-stdin"], "a long passphrase\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = with_stdin(&c, &["admin", "add", "root", "--password-stdin"], "another passphrase\n");
    assert!(out.status.success());
    let list = c.json(&["admin", "list"]);
    let roles: Vec<(&str, &str)> =
        list.as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap(), a["role"].as_str().unwrap())).collect();
    assert_eq!(roles, [("jane", "helpdesk"), ("root", "admin")]);
    assert!(!list.to_string().contains("argon2"), "no hash is shown");

    let out = with_stdin(&c, &["admin", "add", "bob", "--password-stdin"], "short\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));
    let err = c.fail(&["admin", "remove", "root"]);
    assert!(err.contains("last administrator"), "{err}");
    c.ok(&["admin", "remove", "jane"]);
    let err = c.fail(&["admin", "remove", "jane"]);
    assert!(err.contains("no account jane"), "{err}");
    let stderr = c.usage(&["admin", "role", "root", "superuser"]);
    assert!(stderr.contains("admin, helpdesk"), "{stderr}");

    let audit = c.json(&["audit"]);
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"account.add") && actions.contains(&"account.remove"), "{actions:?}");
}

#[test]
fn a_password_is_never_read_from_a_missing_terminal() {
    let c = Cluster::init(&[]);
    let out = with_stdin(&c, &["admin", "add", "jane"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));
    assert_eq!(c.json(&["admin", "list"]).as_array().unwrap().len(), 0, "nothing was added");
}

#[test]
fn a_token_secret_is_printed_once_and_a_revoked_token_is_gone() {
    let c = Cluster::init(&[]);
    let secret = c.ok(&["admin", "token", "create", "nightly-export", "--role", "helpdesk"]);
    let secret = secret.trim();
    assert!(secret.starts_with("ocapf_") && secret.len() > 60, "{secret}");
    let list = c.ok(&["admin", "token", "list"]);
    assert!(list.contains("nightly-export") && list.contains("helpdesk") && !list.contains(secret));
    let found = c.store(async |s| s.token_caller(secret).await.unwrap());
    assert_eq!(found.unwrap().name, "nightly-export");
    c.ok(&["admin", "token", "revoke", "nightly-export"]);
    let found = c.store(async |s| s.token_caller(secret).await.unwrap());
    assert!(found.is_none());
}
