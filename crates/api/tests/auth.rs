//! Issue 14: who may use the admin service. Tokens for scripts, sessions for people, CSRF on
//! every form, rate-limited logins, the one-time password replaced first.

use crate::support;

use support::{Admin, ADMIN_PASSWORD};

#[tokio::test]
async fn the_api_answers_401_without_credentials_and_200_with_a_token() {
    let admin = Admin::start().await;
    let c = admin.client("anon");
    let a = c.get("/api/v1/status").await;
    assert_eq!(a.status, 401);
    assert_eq!(a.header("content-type").as_deref(), Some("application/problem+json"));
    assert!(a.header("www-authenticate").unwrap().starts_with("Bearer"));
    assert_eq!(a.json()["status"], 401);

    let bearer = format!("Authorization: Bearer {}", admin.helpdesk_token);
    let a = c.curl("/api/v1/status", &["-H", &bearer]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["callmanager_common_name"], "cucm.lab");

    let a = c.curl("/api/v1/status", &["-H", "Authorization: Bearer ocapf_0000"]).await;
    assert_eq!(a.status, 401);
    assert!(a.json()["detail"].as_str().unwrap().contains("revoked or mistyped"));
    admin.cluster.revoke_token("desk-script", "test").await.unwrap();
    let a = c.curl("/api/v1/status", &["-H", &bearer]).await;
    assert_eq!(a.status, 401, "a revoked token is refused at once");
}

#[tokio::test]
async fn a_person_logs_in_gets_a_safe_cookie_and_pages_need_the_session() {
    let admin = Admin::start().await;
    let c = admin.client("browser");
    let a = c.get("/").await;
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location").as_deref(), Some("/login?next=/"));

    let a = c.login("root", "not the password").await;
    assert_eq!(a.status, 401);
    assert!(a.body.contains("Wrong account name or password"));
    let a = c.login("root", ADMIN_PASSWORD).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let cookie = a.header("set-cookie").unwrap();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    let a = c.get("/").await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("root (admin)"));
    let csp = a.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let a = c.get("/api/v1/status").await;
    assert_eq!(a.status, 200, "the pages' session reaches the API too");
}

#[tokio::test]
async fn a_form_post_without_its_csrf_token_is_refused_403() {
    let admin = Admin::start().await;
    let c = admin.client("browser");
    assert_eq!(c.login("root", ADMIN_PASSWORD).await.status, 303);
    let a = c.curl("/logout", &["-X", "POST", "-d", "x=1"]).await;
    assert_eq!(a.status, 403);
    assert!(a.json()["detail"].as_str().unwrap().contains("CSRF"));
    let a = c.curl("/logout", &["-d", "csrf_token=00ff"]).await;
    assert_eq!(a.status, 403, "a wrong token too");
    assert_eq!(c.get("/").await.status, 200, "still logged in");

    let token = c.csrf().await;
    let a = c.curl("/logout", &["-H", "Origin: https://evil.example", "-d", &format!("csrf_token={token}")]).await;
    assert_eq!(a.status, 403, "another site's page cannot post, even with the token");
    let a = c.curl("/logout", &["-d", &format!("csrf_token={token}")]).await;
    assert_eq!(a.status, 303);
    assert_eq!(c.get("/").await.status, 303, "logged out");
}

/// A url-encoded form past 1 MiB gets its 413, whether the browser waits for `100 Continue` or
/// sends the body at once (then read and dropped first, so that it reads the answer rather than
/// a reset under its upload); the session is untouched.
#[tokio::test]
async fn a_form_past_its_limit_gets_413_and_not_a_reset() {
    let admin = Admin::start().await;
    let c = admin.client("browser");
    assert_eq!(c.login("root", ADMIN_PASSWORD).await.status, 303);
    let file = admin.dir.path().join("big-form");
    std::fs::write(&file, format!("x={}", "A".repeat(1536 * 1024))).unwrap();
    let data = format!("@{}", file.display());
    let form = |expect| ["-H", expect, "-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", &data];
    let a = c.curl("/logout", &form("Expect: 100-continue")).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.json()["detail"].as_str().unwrap().contains("1 MiB"), "{}", a.body);
    // Sent at once: read to its end, so that the connection stays open for the next request.
    let logout = c.url("/logout");
    let then = ["--next", "-k", "-w", "new connections: %{num_connects}"];
    let a =
        c.curl("/login", &form("Expect:").into_iter().chain([logout.as_str()]).chain(then).collect::<Vec<_>>()).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body.contains("larger than 1 MiB"), "{}", a.body);
    assert!(a.body.ends_with("new connections: 0"), "the next request on the same connection: {}", a.body);
    assert_eq!(c.get("/").await.status, 200, "still logged in");
}

#[tokio::test]
async fn logins_wait_after_repeated_failures() {
    let admin = Admin::start().await;
    let c = admin.client("guesser");
    for _ in 0..5 {
        assert_eq!(c.login("root", "wrong password!").await.status, 401);
    }
    let a = c.login("root", ADMIN_PASSWORD).await;
    assert_eq!(a.status, 429, "even the right password waits: guessing gains nothing");
    assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    let other = admin.client("desk");
    assert_eq!(other.login("desk", support::HELPDESK_PASSWORD).await.status, 303, "other accounts are not locked");
}

#[tokio::test]
async fn a_one_time_password_must_be_replaced_before_anything_else() {
    let admin = Admin::start().await;
    admin.cluster.set_password("desk", "one time password", true, "test").await.unwrap();
    let c = admin.client("desk");
    let a = c.login("desk", "one time password").await;
    assert_eq!(a.header("location").as_deref(), Some("/account/password"));
    assert_eq!(c.get("/").await.header("location").as_deref(), Some("/account/password"));
    assert_eq!(c.get("/api/v1/status").await.status, 403);
    let token = c.csrf().await;
    let form = |new: &str, again: &str| {
        format!("csrf_token={token}&current=one+time+password&new_password={new}&again={again}")
    };
    let a = c.curl("/account/password", &["-d", &form("my+own+passphrase", "different+one")]).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("differ"));
    let a = c.curl("/account/password", &["-d", &form("my+own+passphrase", "my+own+passphrase")]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(c.get("/").await.status, 200);
    let audit = admin.cluster.audit(5).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "account.password" && e.actor == "web:desk"));
}
