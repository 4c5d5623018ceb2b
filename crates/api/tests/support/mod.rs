//! A running admin service on 127.0.0.1 (in this process, with the cluster's tomcat) and
//! `curl` as the client, as an administrator's script would use it.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use opencapf_api::{AdminConfig, AdminServer, AppState};
use opencapf_cluster::{init_with, Cluster, Database, InitOptions};
use opencapf_model::{AccountRole, CertKind, KeyAlgorithm, SubjectFields, TrustStore};
use opencapf_store::testing::ScratchPostgres;

pub const ADMIN_PASSWORD: &str = "admin passphrase 1";
pub const HELPDESK_PASSWORD: &str = "helpdesk passphrase 1";

/// The phones of [`Admin::with_phones`]: name, model, line 1.
pub const PHONES: [(&str, &str, &str); 3] = [
    ("SEP000000000001", "CP-8861", "1001"),
    ("SEP000000000002", "CP-8845", "1002"),
    ("SEP000000000003", "CP-8861", "1003"),
];

pub struct Admin {
    pub dir: tempfile::TempDir,
    pub cluster: Cluster,
    pub addr: SocketAddr,
    /// API tokens: role admin and helpdesk.
    pub admin_token: String,
    pub helpdesk_token: String,
    database: Database,
    stop: opencapf_net::CancellationToken,
    // Dropped after `dir`'s users: the PostgreSQL database, if the cluster is on one.
    _postgres: Option<ScratchPostgres>,
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Another `serve` node of an [`Admin`]'s cluster: its own cluster handle and admin service.
pub struct Node {
    pub cluster: Cluster,
    pub addr: SocketAddr,
    stop: opencapf_net::CancellationToken,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The admin service of `cluster` on a free port, until the token is cancelled.
async fn serve(cluster: Cluster) -> (SocketAddr, opencapf_net::CancellationToken) {
    let limits =
        opencapf_net::Limits { max_connections: 64, max_per_source: None, when_full: opencapf_net::WhenFull::Close };
    let config = AdminConfig::new("127.0.0.1:0".parse().unwrap());
    let listener = AdminServer::bind(AppState::new(cluster), config, limits).await.unwrap();
    let addr = listener.local_addr();
    let stop = opencapf_net::CancellationToken::new();
    tokio::spawn(listener.run(stop.clone()));
    (addr, stop)
}

impl Admin {
    /// A new cluster with accounts `root` (admin) and `desk` (helpdesk), a token of each role,
    /// and the admin service on a free port.
    pub async fn start() -> Admin {
        Self::start_on(None).await
    }

    /// The same on PostgreSQL when `postgres` is given (the keys stay in the temporary folder).
    pub async fn start_on(postgres: Option<ScratchPostgres>) -> Admin {
        let dir = tempfile::tempdir().unwrap();
        let opts = InitOptions {
            capf_key: KeyAlgorithm::Ec256,
            subject: SubjectFields::default(),
            hostname: "cucm.lab".into(),
            manufacturer_cas: Vec::new(),
            actor: "test".into(),
        };
        init_with(dir.path(), postgres.as_ref().map(|pg| &pg.database), opts).await.unwrap();
        let database = postgres.as_ref().map_or_else(|| Database::in_folder(dir.path()), |pg| pg.database.clone());
        let cluster = Cluster::open_with(dir.path(), &database).await.unwrap();
        cluster.add_account("root", AccountRole::Admin, ADMIN_PASSWORD, "test").await.unwrap();
        cluster.add_account("desk", AccountRole::Helpdesk, HELPDESK_PASSWORD, "test").await.unwrap();
        let (_, admin_token) = cluster.create_token("admin-script", AccountRole::Admin, "test").await.unwrap();
        let (_, helpdesk_token) = cluster.create_token("desk-script", AccountRole::Helpdesk, "test").await.unwrap();
        let (addr, stop) = serve(cluster.clone()).await;
        Admin { dir, cluster, addr, admin_token, helpdesk_token, database, stop, _postgres: postgres }
    }

    /// A second node on the same database (for SQLite, the same cluster folder): what a load
    /// balancer in front of several `serve` processes sends requests to.
    pub async fn another_node(&self) -> Node {
        let cluster = Cluster::open_with(self.dir.path(), &self.database).await.unwrap();
        let (addr, stop) = serve(cluster.clone()).await;
        Node { cluster, addr, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Three CP-88xx phones (see [`PHONES`]); the third holds a lab MIC whose manufacturer is in
    /// CAPF-trust, so removing that entry is refused. The manufacturer's fingerprint.
    pub async fn with_phones(&self) -> String {
        for (name, model, line) in PHONES {
            let mut d = opencapf_testkit::new_device(name);
            d.model = model.into();
            d.lines = vec![line.parse().unwrap()];
            opencapf_testkit::add_device(&self.cluster, d).await;
        }
        let (root, signer) = opencapf_testkit::lab_manufacturer(&self.cluster).await;
        self.cluster.add_trust(TrustStore::Capf, std::slice::from_ref(&root.der), None, "test").await.unwrap();
        let key = opencapf_testkit::phone_key();
        let mic = opencapf_testkit::mic(&signer, PHONES[2].0, key.public_key_der(), opencapf_testkit::now());
        let name = PHONES[2].0.parse().unwrap();
        self.cluster.record_cert(&name, &mic.der, Some(CertKind::Mic), "test").await.unwrap();
        root.fingerprint
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

static BODIES: AtomicUsize = AtomicUsize::new(0);

pub struct Client {
    jar: PathBuf,
    base: String,
}

impl Client {
    /// The full URL of `path`, for a curl command line of several transfers (`--next`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs curl (async-safe: on a blocking thread) with these extra arguments against `path`.
    pub async fn curl(&self, path: &str, args: &[&str]) -> Answer {
        let mut cmd = Command::new("curl");
        // -k: the throwaway certificate is self-signed (the serve tests check the real one).
        cmd.args(["-sS", "-k", "--max-time", "20", "-D", "-", "-b"]).arg(&self.jar).arg("-c").arg(&self.jar);
        cmd.args(args).arg(format!("{}{path}", self.base));
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("curl runs")).await.unwrap();
        assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        Answer { status, headers: headers.to_owned(), body: body.to_owned() }
    }

    /// `method path` with an optional bearer token and body (its content type and bytes).
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<(&str, &[u8])>) -> Answer {
        let mut args: Vec<String> = vec!["-X".into(), method.into()];
        if let Some(t) = token {
            args.extend(["-H".into(), format!("Authorization: Bearer {t}")]);
        }
        if let Some((content_type, bytes)) = body {
            let file = self.jar.with_extension(format!("body{}", BODIES.fetch_add(1, Ordering::Relaxed)));
            std::fs::write(&file, bytes).unwrap();
            args.extend(["-H".into(), format!("Content-Type: {content_type}")]);
            args.extend(["--data-binary".into(), format!("@{}", file.display())]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.curl(path, &args).await
    }

    /// GET with a token.
    pub async fn get_with(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None).await
    }

    /// A JSON body with a token.
    pub async fn json(&self, method: &str, path: &str, token: &str, body: &serde_json::Value) -> Answer {
        self.call(method, path, Some(token), Some(("application/json", body.to_string().as_bytes()))).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.curl(path, &[]).await
    }

    /// The same browser (its cookie jar) talking to another node: cookies do not depend on the
    /// port, as they would not on the nodes behind one name.
    pub fn via(&self, addr: SocketAddr) -> Client {
        Client { jar: self.jar.clone(), base: format!("https://{addr}") }
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

/// A phone's console log from the seed (read in place): an SCCP phone refused with unknown CA.
pub fn console_log() -> Vec<u8> {
    std::fs::read(shared().join("seed/000_97626ba51d4b1a35.txt")).unwrap()
}

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// A capture of one TLS 1.2 connection to SIP (5061) where the phone presents a self-signed
/// certificate named `SEP000000000009`.
pub fn capture() -> Vec<u8> {
    use opencapf_diagnostics::synth::{self, Conversation, Link};
    let key = rcgen::KeyPair::generate().unwrap();
    let phone = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut phone = phone;
    phone.distinguished_name.push(rcgen::DnType::CommonName, "SEP000000000009");
    let phone = phone.self_signed(&key).unwrap().der().to_vec();
    let server =
        rcgen::CertificateParams::new(vec!["cucm.lab".to_owned()]).unwrap().self_signed(&key).unwrap().der().to_vec();
    let hs = synth::tls12_handshake(&[&server], Some(&[&phone]), &[], None, 16384);
    let mut conv = Conversation::new("10.0.0.10:40000".parse().unwrap(), "10.0.0.1:5061".parse().unwrap());
    let packets = synth::tls12_connection(&mut conv, &hs, 1460, false);
    synth::pcap_of(&Link::Ethernet(vec![]), &packets, 1_790_000_000.0)
}
