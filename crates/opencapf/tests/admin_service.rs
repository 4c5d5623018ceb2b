//! Issue 14: `serve`'s admin service as an administrator meets it: HTTPS with the cluster's
//! tomcat certificate (curl verifies it against `cert own tomcat`), the first start's one-time
//! password, and `/metrics` read by curl moving after a CAPF session and a registration.

use crate::support;

use std::process::Command;

use opencapf_telemetry::sample_value;
use support::{Lab, Security};

/// curl verifying the admin service against the cluster's tomcat certificate; returns the
/// status and the body.
fn curl(lab: &Lab, path: &str, args: &[&str]) -> (u16, String) {
    let tomcat = lab.cert_own("tomcat");
    let url = format!("https://{}{path}", lab.addrs().admin);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(&tomcat)
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .arg(&url)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

#[test]
fn the_admin_service_presents_tomcat_and_the_first_password_logs_in_once() {
    let lab = Lab::start("cucm-pub.lab");
    let password = lab.admin_password.clone().expect("the first start prints admin's one-time password");
    assert!(lab.server_log().find(&password).is_none(), "the password is not in the log");
    // curl trusts only tomcat here: a handshake with another certificate would fail.
    let (status, body) = curl(&lab, "/login", &[]);
    assert_eq!(status, 200);
    assert!(body.contains("<form method=\"post\" action=\"/login\""), "{body}");
    let jar = lab.path("cookies");
    let jar = jar.to_str().unwrap();
    let (status, _) = curl(
        &lab,
        "/login",
        &[
            "-c",
            jar,
            "-b",
            jar,
            "--data-urlencode",
            "username=admin",
            "--data-urlencode",
            &format!("password={password}"),
        ],
    );
    assert_eq!(status, 303);
    let (status, _) = curl(&lab, "/api/v1/status", &["-b", jar]);
    assert_eq!(status, 403, "the one-time password must be replaced first");
    let accounts = lab.json(&["admin", "list"]);
    assert_eq!(accounts[0]["name"], "admin");
    assert_eq!(accounts[0]["must_change_password"], true);
}

#[test]
fn metrics_move_after_a_capf_session_and_a_registration() {
    let lab = Lab::start("cucm-pub.lab");
    let token = lab.ok(&["admin", "token", "create", "prometheus", "--role", "helpdesk"]);
    let bearer = format!("Authorization: Bearer {}", token.trim());
    let (status, _) = curl(&lab, "/metrics", &[]);
    assert_eq!(status, 401, "metrics need a token");

    let (status, before) = curl(&lab, "/metrics", &["-H", &bearer]);
    assert_eq!(status, 200);
    let installs = [("operation", "install_upgrade"), ("result", "success")];
    let sip_tls = [("transport", "sip-tls")];
    let value = |text: &str, name: &str, labels: &[(&str, &str)]| sample_value(text, name, labels).unwrap_or(0.0);
    let capf_expiry = sample_value(&before, "opencapf_capf_certificate_expiry_timestamp_seconds", &[]).unwrap();
    assert!(capf_expiry > 1.7e9, "the CAPF certificate's expiry is a date: {capf_expiry}");

    let name = "SEP00000000AD01";
    let phone = lab.sip_phone(name, Security::Encrypted);
    lab.schedule(name, "install", "null");
    let r = lab.capf(&phone, &["--null-string"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = lab.register(&phone, "sip", Security::Encrypted);
    assert_eq!(r.code, 0, "{}", r.all());

    let (_, after) = curl(&lab, "/metrics", &["-H", &bearer]);
    assert_eq!(
        value(&after, "opencapf_capf_sessions_total", &installs),
        value(&before, "opencapf_capf_sessions_total", &installs) + 1.0,
        "{after}"
    );
    assert_eq!(
        value(&after, "opencapf_capf_issuance_seconds_count", &[]),
        value(&before, "opencapf_capf_issuance_seconds_count", &[]) + 1.0
    );
    assert_eq!(
        value(&after, "opencapf_registrations_total", &sip_tls),
        value(&before, "opencapf_registrations_total", &sip_tls) + 1.0
    );
    assert!(value(&after, "opencapf_open_connections", &[("listener", "admin HTTPS")]) >= 1.0, "{after}");
}
