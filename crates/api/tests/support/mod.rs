//! A running admin service on 127.0.0.1 (in this process, with a throwaway certificate) and
//! `curl` as the client, as an administrator's script would use it.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use opencapf_api::{AdminConfig, AdminServer, AppState};
use opencapf_cluster::{init, Cluster, InitOptions};
use opencapf_model::{AccountRole, KeyAlgorithm, SubjectFields};

pub const ADMIN_PASSWORD: &str = "admin passphrase 1";
pub const HELPDESK_PASSWORD: &str = "helpdesk passphrase 1";

pub struct Admin {
    pub dir: tempfile::TempDir,
    pub cluster: Cluster,
    pub addr: SocketAddr,
    /// API tokens: role admin and helpdesk.
    pub admin_token: String,
    pub helpdesk_token: String,
    stop: opencapf_net::CancellationToken,
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Admin {
    /// A new cluster with accounts `root` (admin) and `desk` (helpdesk), a token of each role,
    /// and the admin service on a free port.
    pub async fn start() -> Admin {
        let dir = tempfile::tempdir().unwrap();
        let opts = InitOptions {
            capf_key: KeyAlgorithm::Ec256,
            subject: SubjectFields::default(),
            hostname: "cucm.lab".into(),
            manufacturer_cas: Vec::new(),
            actor: "test".into(),
        };
        init(dir.path(), opts).await.unwrap();
        let cluster = Cluster::open(dir.path()).await.unwrap();
        cluster.add_account("root", AccountRole::Admin, ADMIN_PASSWORD, "test").await.unwrap();
        cluster.add_account("desk", AccountRole::Helpdesk, HELPDESK_PASSWORD, "test").await.unwrap();
        let (_, admin_token) = cluster.create_token("admin-script", AccountRole::Admin, "test").await.unwrap();
        let (_, helpdesk_token) = cluster.create_token("desk-script", AccountRole::Helpdesk, "test").await.unwrap();
        let server = AdminServer::new(AppState::new(cluster.clone()), AdminConfig::new("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        let limits = opencapf_net::Limits {
            max_connections: 64,
            max_per_source: None,
            when_full: opencapf_net::WhenFull::Close,
        };
        let listener = opencapf_net::Listener::bind(
            Arc::new(server),
            opencapf_net::Gate::new(limits),
            opencapf_net::Shutdown::IMMEDIATE,
        )
        .await
        .unwrap();
        let addr = listener.local_addr();
        let stop = opencapf_net::CancellationToken::new();
        tokio::spawn(listener.run(stop.clone()));
        Admin { dir, cluster, addr, admin_token, helpdesk_token, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// A browser-like client with its own cookie jar.
    pub fn client(&self, name: &str) -> Client {
        Client { jar: self.dir.path().join(format!("{name}.cookies")), base: self.url("") }
    }
}

/// What curl got.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

pub struct Client {
    jar: PathBuf,
    base: String,
}

impl Client {
    /// Runs curl (async-safe: on a blocking thread) with these extra arguments against `path`.
    pub async fn curl(&self, path: &str, args: &[&str]) -> Answer {
        let mut cmd = Command::new("curl");
        // -k: tomcat is self-signed; the serve tests check it against `cert own tomcat`.
        cmd.args(["-sS", "-k", "--max-time", "20", "-D", "-", "-b"]).arg(&self.jar).arg("-c").arg(&self.jar);
        cmd.args(args).arg(format!("{}{path}", self.base));
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("curl runs")).await.unwrap();
        assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        Answer { status, headers: headers.to_owned(), body: body.to_owned() }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.curl(path, &[]).await
    }

    /// Logs in through the form; the jar keeps the session.
    pub async fn login(&self, name: &str, password: &str) -> Answer {
        let user = format!("username={name}");
        let pass = format!("password={password}");
        self.curl("/login", &["--data-urlencode", &user, "--data-urlencode", &pass]).await
    }

    /// The CSRF token of the session, as the pages' forms carry it.
    pub async fn csrf(&self) -> String {
        let page = self.get("/account/password").await.body;
        let at = page.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + 25;
        page[at..at + 64].to_owned()
    }
}
