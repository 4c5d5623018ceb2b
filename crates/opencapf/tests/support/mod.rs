//! A cluster in a temporary folder with `opencapf serve` running as a child process on
//! 127.0.0.1 (every listener on a port the system picks), driven only through the real
//! `opencapf` binary, as an administrator and a phone would.
//!
//! The server is killed when the [`Lab`] is dropped, also when a test fails. Every wait is
//! bounded.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
pub(crate) use opencapf_testkit::Peer;

pub(crate) const BIN: &str = "opencapf";
/// How long `opencapf serve` may take to print `Ready`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The output of one command.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output and error together, for assertions about what a command said.
    pub(crate) fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The addresses `opencapf serve` printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Addrs {
    pub capf: SocketAddr,
    pub sip_tls: SocketAddr,
    pub sip_tcp: SocketAddr,
    pub sip_udp: SocketAddr,
    pub sccp_tls: SocketAddr,
    pub sccp_tcp: SocketAddr,
    /// The configuration files over HTTP (6970 in production).
    pub http: SocketAddr,
    /// The same over TFTP (69).
    pub tftp: SocketAddr,
    pub tvs: SocketAddr,
    /// The admin web pages, REST API and /metrics (HTTPS; 8443 in production).
    pub admin: SocketAddr,
    /// EST (HTTPS; 8444 in production).
    pub est: SocketAddr,
}

/// Every listener on 127.0.0.1, port chosen by the system.
pub(crate) const LOOPBACK_LISTENERS: [(&str, &str); 6] = [
    ("--capf-listen", "127.0.0.1:0"),
    ("--sip-tls-listen", "127.0.0.1:0"),
    ("--sip-tcp-listen", "127.0.0.1:0"),
    ("--sip-udp-listen", "127.0.0.1:0"),
    ("--sccp-tls-listen", "127.0.0.1:0"),
    ("--sccp-tcp-listen", "127.0.0.1:0"),
];

/// The configuration services on 127.0.0.1 too, unless a test names them: their standard ports
/// (69 needs root, 6970 and 2445 are shared by every test) must not be taken by default.
const LOOPBACK_PROVISIONING: [(&str, &str); 5] = [
    ("--http-listen", "127.0.0.1:0"),
    ("--tftp-listen", "127.0.0.1:0"),
    ("--tvs-listen", "127.0.0.1:0"),
    ("--admin-listen", "127.0.0.1:0"),
    ("--est-listen", "127.0.0.1:0"),
];

/// One cluster: its data folder, its server, its phones' folders.
pub(crate) struct Lab {
    pub dir: tempfile::TempDir,
    server: Option<Child>,
    addrs: Option<Addrs>,
    /// The one-time password of `admin` printed by the first start, if this start printed it.
    pub(crate) admin_password: Option<String>,
    /// `--database URL` for every command (several nodes on one PostgreSQL database); `None`:
    /// SQLite in the data folder.
    pub(crate) database: Option<String>,
}

/// One more `opencapf serve` of a lab ([`Lab::spawn_node`]): a node of a cluster of several.
/// Killed when dropped.
pub(crate) struct NodeProcess {
    pub child: Child,
    pub addrs: Addrs,
    pub log: PathBuf,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the phone register commands take for each profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    NonSecure,
    Authenticated,
    Encrypted,
}

impl Security {
    pub(crate) fn token(self) -> &'static str {
        match self {
            Security::NonSecure => "non-secure",
            Security::Authenticated => "authenticated",
            Security::Encrypted => "encrypted",
        }
    }
}

impl Lab {
    /// A new cluster (`opencapf init`) with its lab manufacturer (`opencapf mfg init`), whose CA
    /// is in no trust store yet; the server is not started.
    pub(crate) fn new(hostname: &str) -> Lab {
        Lab::new_with(hostname, &[])
    }

    /// [`Lab::new`] with more `opencapf init` flags (e.g. `--country AU`).
    pub(crate) fn new_with(hostname: &str, init_flags: &[&str]) -> Lab {
        Lab::new_on(hostname, init_flags, None)
    }

    /// [`Lab::new_with`] with its database at `database` (`postgres://…`), given to every command.
    pub(crate) fn new_on(hostname: &str, init_flags: &[&str], database: Option<&str>) -> Lab {
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
            server: None,
            addrs: None,
            admin_password: None,
            database: database.map(str::to_owned),
        };
        let mut init = vec!["init", "--hostname", hostname];
        init.extend_from_slice(init_flags);
        lab.ok(&init);
        lab.ok(&["mfg", "init"]);
        // `mfg issue` writes the manufacturer's CA beside the MIC: keep it as manufacturer-ca.pem.
        let scratch = lab.path("mfg-scratch");
        lab.ok(&["mfg", "issue", "SEP0000000000FF", "--out", scratch.to_str().unwrap()]);
        std::fs::copy(scratch.join("manufacturer-ca.pem"), lab.manufacturer_ca()).unwrap();
        lab
    }

    /// [`Lab::new`] and the server started.
    pub(crate) fn start(hostname: &str) -> Lab {
        let mut lab = Lab::new(hostname);
        lab.serve();
        lab
    }

    /// Starts `opencapf serve` with every listener on 127.0.0.1, port chosen by the system,
    /// and reads the addresses it prints.
    pub(crate) fn serve(&mut self) {
        self.serve_on(&LOOPBACK_LISTENERS);
    }

    /// Starts `opencapf serve` with these listener flags (e.g. the standard ports, so that a
    /// capture reads as CAPF and SIP by port).
    pub(crate) fn serve_on(&mut self, listeners: &[(&str, &str)]) {
        assert!(self.server.is_none(), "already serving");
        let (child, addrs, seen) = self.spawn_serve(listeners, &self.path("serve.log"));
        self.server = Some(child);
        self.addrs = Some(addrs);
        self.admin_password = seen.iter().find_map(|l| {
            let rest = l.split_once("with the one-time password ")?.1;
            rest.split_whitespace().next().map(str::to_owned)
        });
    }

    /// Another `opencapf serve` on this lab's data folder and database (a node of a cluster of
    /// several), logging to `<lab>/<log>`; `flags` as for [`Lab::serve_on`] (e.g. `--node-name`).
    pub(crate) fn spawn_node(&self, flags: &[(&str, &str)], log: &str) -> NodeProcess {
        let log = self.path(log);
        let (child, addrs, _) = self.spawn_serve(flags, &log);
        NodeProcess { child, addrs, log }
    }

    /// Starts `opencapf serve` and reads the addresses it prints (and every line until `Ready`).
    fn spawn_serve(&self, listeners: &[(&str, &str)], log: &std::path::Path) -> (Child, Addrs, Vec<String>) {
        let log_file = File::create(log).unwrap();
        let mut child = self
            .command()
            .env("RUST_LOG", "info")
            .arg("serve")
            .args(listeners.iter().flat_map(|(flag, addr)| [*flag, *addr]))
            .args(
                LOOPBACK_PROVISIONING
                    .iter()
                    .filter(|(flag, _)| !listeners.iter().any(|(f, _)| f == flag))
                    .flat_map(|(flag, addr)| [*flag, *addr]),
            )
            .args(["--shutdown-grace", "1", "--keygen-timeout", "60"])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap();
        // A thread reads standard output to its end (so the pipe never fills) and passes lines on.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "opencapf serve did not get ready:\n{}\n{}",
                        seen.join("\n"),
                        std::fs::read_to_string(log).unwrap_or_default()
                    )
                }
            };
            let ready = line.starts_with("Ready");
            seen.push(line);
            if ready {
                break;
            }
        }
        let find = |prefix: &str| -> SocketAddr {
            seen.iter()
                .find_map(|l| l.strip_prefix(prefix))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{}", seen.join("\n")))
        };
        let off: SocketAddr = "0.0.0.0:0".parse().unwrap();
        let maybe = |prefix: &str| if seen.iter().any(|l| l.starts_with(prefix)) { find(prefix) } else { off };
        let addrs = Addrs {
            capf: find("CAPF listening on "),
            sip_tls: maybe("CallManager SIP TLS listening on "),
            sip_tcp: maybe("CallManager SIP TCP listening on "),
            sip_udp: maybe("CallManager SIP UDP listening on "),
            sccp_tls: maybe("CallManager SCCP TLS listening on "),
            sccp_tcp: maybe("CallManager SCCP TCP listening on "),
            http: maybe("HTTP (phone configuration files) listening on "),
            tftp: maybe("TFTP listening on "),
            tvs: maybe("TVS listening on "),
            admin: seen
                .iter()
                .find_map(|l| l.strip_prefix("Admin web pages and REST API on https://"))
                .and_then(|rest| rest.split('/').next())
                .and_then(|a| a.parse().ok())
                .unwrap_or(off),
            est: seen
                .iter()
                .find_map(|l| l.strip_prefix("EST listening on https://"))
                .and_then(|rest| rest.split('/').next())
                .and_then(|a| a.parse().ok())
                .unwrap_or(off),
        };
        (child, addrs, seen)
    }

    /// `opencapf --data-dir <lab>/data [--database URL]`.
    fn command(&self) -> Command {
        let mut cmd = Command::cargo_bin(BIN).unwrap();
        cmd.env_remove("OPENCAPF_DATA_DIR").env_remove("OPENCAPF_DATABASE_URL").arg("--data-dir").arg(self.data());
        if let Some(db) = &self.database {
            cmd.arg("--database").arg(db);
        }
        cmd
    }

    /// Stops the server with SIGKILL, as a crash or a power cut would: nothing it had not
    /// committed survives. [`Lab::serve`] starts it again.
    pub(crate) fn kill_server(&mut self) {
        let mut child = self.server.take().expect("the server is running");
        child.kill().unwrap();
        child.wait().unwrap();
        self.addrs = None;
    }

    /// The process id of the running `serve`.
    pub(crate) fn server_pid(&self) -> u32 {
        self.server.as_ref().expect("the server is running").id()
    }

    pub(crate) fn addrs(&self) -> Addrs {
        self.addrs.expect("the server is running")
    }

    /// What the server logged so far (its standard error).
    pub(crate) fn server_log(&self) -> String {
        std::fs::read_to_string(self.path("serve.log")).unwrap_or_default()
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// The lab manufacturer's CA certificate (the stand-in for Cisco Manufacturing CA).
    pub(crate) fn manufacturer_ca(&self) -> PathBuf {
        self.path("manufacturer-ca.pem")
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let out = self.command().args(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A command that must succeed; its standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "opencapf {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
        r.stdout
    }

    /// A command that must fail with exit code 1.
    pub(crate) fn fail(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 1, "opencapf {args:?} should fail:\n{}\n{}", r.stdout, r.stderr);
        r
    }

    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// `--json` output of a command that reports a problem (an untrusted verdict, an error-level
    /// finding): exit 1, the report on standard output all the same.
    pub(crate) fn json_problem(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.fail(&all).stdout).unwrap()
    }

    /// `opencapf trust add STORE manufacturer-ca.pem`.
    pub(crate) fn trust_manufacturer(&self, store: &str) {
        self.ok(&["trust", "add", store, self.manufacturer_ca().to_str().unwrap()]);
    }

    /// `opencapf mfg export --legacy` then `trust add STORE`: the older, SHA-1 lab CA that issues
    /// 79xx-era MICs (the output of `trust add`).
    pub(crate) fn trust_older_manufacturer(&self, store: &str) -> String {
        let pem = self.path("manufacturer-sha1-ca.pem");
        self.ok(&["mfg", "export", "--legacy", "--out", pem.to_str().unwrap()]);
        self.ok(&["trust", "add", store, pem.to_str().unwrap()])
    }

    /// `opencapf cert own NAME --out <lab>/NAME.pem`: one of the cluster's own certificates, as
    /// PEM, for openssl or another cluster's trust store.
    pub(crate) fn cert_own(&self, name: &str) -> PathBuf {
        let file = self.path(&format!("{name}.pem"));
        self.ok(&["cert", "own", name, "--out", file.to_str().unwrap()]);
        file
    }

    /// The common name of the active CAPF certificate, `CAPF-xxxxxxxx`.
    pub(crate) fn capf_cn(&self) -> String {
        self.json(&["status"])["capf"]["common_name"].as_str().unwrap().to_owned()
    }

    /// A SIP device `name` with this security profile, and a new phone for it.
    pub(crate) fn sip_phone(&self, name: &str, security: Security) -> Phone {
        self.add_device(name, "sip", security);
        self.new_phone(name)
    }

    /// `opencapf device add NAME --protocol P --security S`.
    pub(crate) fn add_device(&self, name: &str, protocol: &str, security: Security) {
        self.ok(&["device", "add", name, "--protocol", protocol, "--security", security.token()]);
    }

    /// A phone folder for `name` with a lab MIC and this cluster's trust list (`phone init`).
    pub(crate) fn new_phone(&self, name: &str) -> Phone {
        let dir = self.path(&format!("phone-{name}"));
        self.ok(&["phone", "init", dir.to_str().unwrap(), "--name", name]);
        Phone { dir, name: name.to_owned() }
    }

    /// Gives a phone this cluster's ITL (its trust list): the shortcut for "the phone took this
    /// cluster's ITL at a reset", written as its `itl.tlv` (`trust export-itl`). Tests that want
    /// the real path use `phone boot`.
    pub(crate) fn give_itl(&self, phone: &Phone) {
        let file = std::path::Path::new(phone.dir()).join("itl.tlv");
        self.ok(&["trust", "export-itl", "--out", file.to_str().unwrap()]);
    }

    /// `opencapf device set NAME --operation OP --auth AUTH`.
    pub(crate) fn schedule(&self, name: &str, operation: &str, auth: &str) {
        self.ok(&["device", "set", name, "--operation", operation, "--auth", auth]);
        assert_eq!(self.capf_status(name), "Operation Pending");
    }

    /// One CAPF session of the phone against this cluster's CAPF; `extra` are credentials flags.
    pub(crate) fn capf(&self, phone: &Phone, extra: &[&str]) -> Run {
        let server = self.addrs().capf.to_string();
        let mut args = vec!["phone", "capf", phone.dir(), "--server", &server, "--timeout", "20"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `phone register` to this cluster's CallManager, on the listener the profile and protocol
    /// call for (the standard ports 5061/5060/2443/2000 are moved to free ports here).
    pub(crate) fn register(&self, phone: &Phone, protocol: &str, security: Security) -> Run {
        self.register_with(phone, protocol, security, &[])
    }

    /// [`Lab::register`] with more `phone register` flags (e.g. `--tls 1.2`).
    pub(crate) fn register_with(&self, phone: &Phone, protocol: &str, security: Security, extra: &[&str]) -> Run {
        self.register_at(self.addrs(), phone, protocol, security, extra)
    }

    /// [`Lab::register_with`] to the node whose addresses are `a` (see [`Lab::spawn_node`]).
    pub(crate) fn register_at(
        &self,
        a: Addrs,
        phone: &Phone,
        protocol: &str,
        security: Security,
        extra: &[&str],
    ) -> Run {
        let addr = match (protocol, security) {
            ("sip", Security::NonSecure) => a.sip_tcp,
            ("sip", _) => a.sip_tls,
            ("sccp", Security::NonSecure) => a.sccp_tcp,
            ("sccp", _) => a.sccp_tls,
            _ => panic!("protocol {protocol}"),
        };
        let port = addr.port().to_string();
        let recorded_before = self.registrations(&phone.name).len();
        let mut args = vec![
            "phone",
            "register",
            phone.dir(),
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--protocol",
            protocol,
            "--security",
            security.token(),
            "--timeout",
            "10",
        ];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        // A refusal in the TLS handshake is recorded just after the alert reaches the phone:
        // wait (bounded) for CallManager's record of this attempt before anyone reads it.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while self.registrations(&phone.name).len() == recorded_before && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        run
    }

    /// What CallManager recorded for a device, newest first.
    pub(crate) fn registrations(&self, name: &str) -> Vec<serde_json::Value> {
        self.json(&["registrations", "--device", name]).as_array().unwrap().clone()
    }

    /// The newest registration record of a device once it is the one `expected` describes:
    /// CallManager writes a handshake refusal just after its alert reaches the peer (bounded wait).
    pub(crate) fn wait_last_registration(
        &self,
        name: &str,
        expected: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let last = self.registrations(name).into_iter().next();
            match last {
                Some(r) if expected(&r) || std::time::Instant::now() >= deadline => return r,
                None if std::time::Instant::now() >= deadline => panic!("no registration of {name}"),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The newest registration record of a device.
    pub(crate) fn last_registration(&self, name: &str) -> serde_json::Value {
        self.registrations(name).into_iter().next().unwrap_or_else(|| panic!("no registration of {name}"))
    }

    pub(crate) fn capf_status(&self, name: &str) -> String {
        self.json(&["device", "show", name])["capf"]["status"].as_str().unwrap().to_owned()
    }

    /// The serial of the LSC the cluster records for a device.
    pub(crate) fn lsc_serial(&self, name: &str) -> Option<String> {
        self.json(&["device", "show", name])["lsc"]["serial"].as_str().map(str::to_owned)
    }
}

/// A phone folder.
#[derive(Debug, Clone)]
pub(crate) struct Phone {
    pub dir: PathBuf,
    pub name: String,
}

impl Phone {
    pub(crate) fn dir(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    pub(crate) fn console(&self) -> String {
        std::fs::read_to_string(self.dir.join("console.log")).unwrap_or_default()
    }

    /// Console lines written after the first `skip` lines (what one command logged).
    pub(crate) fn console_since(&self, skip: usize) -> String {
        self.console().lines().skip(skip).collect::<Vec<_>>().join("\n")
    }

    pub(crate) fn console_len(&self) -> usize {
        self.console().lines().count()
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub(crate) fn has_lsc(&self) -> bool {
        self.dir.join("lsc.pem").is_file()
    }

    /// Serial and issuer of the phone's LSC (`phone show`).
    pub(crate) fn lsc(&self, lab: &Lab) -> Option<(String, String)> {
        let shown = lab.json(&["phone", "show", self.dir()]);
        let lsc = shown.get("lsc")?.as_object()?.clone();
        Some((lsc["serial"].as_str()?.to_owned(), lsc["issuer"].as_str()?.to_owned()))
    }
}

/// A tshark capture on the loopback interface, live once `start` returns.
pub(crate) struct Capture {
    tshark: Peer,
    pub file: PathBuf,
}

impl Capture {
    pub(crate) fn start(filter: &str, file: PathBuf) -> Capture {
        let mut cmd = Command::new("tshark");
        cmd.args(["-i", "lo", "-f", filter, "-w"]).arg(&file);
        let mut tshark = Peer::spawn(&mut cmd, "tshark");
        // tshark prints "Capturing on" before dumpcap runs; the capture is live once dumpcap has
        // written the file's header ("Capture started.").
        let live = |o: &str| o.contains("Capture started") || std::fs::metadata(&file).is_ok_and(|m| m.len() > 0);
        assert!(tshark.wait_for(Duration::from_secs(20), live), "{}", tshark.output());
        std::thread::sleep(Duration::from_millis(200));
        Capture { tshark, file }
    }

    /// Lets the last segments reach the capture, then stops tshark as Ctrl-C would; returns what
    /// tshark said.
    pub(crate) fn stop(self) -> String {
        std::thread::sleep(Duration::from_millis(500));
        let out = self.tshark.stop();
        assert!(self.file.is_file(), "no capture written:\n{out}");
        out
    }
}

/// A SIP REGISTER as a phone sends it over TLS: To and From user the device name.
pub(crate) fn register_request(device: &str) -> String {
    format!(
        "REGISTER sip:cucm-pub.lab SIP/2.0\r\n\
         Via: SIP/2.0/TLS 127.0.0.1:5555;branch=z9hG4bK{device}\r\n\
         From: <sip:{device}@cucm-pub.lab>;tag=f1\r\n\
         To: <sip:{device}@cucm-pub.lab>\r\n\
         Call-ID: openssl-{device}@127.0.0.1\r\n\
         CSeq: 1 REGISTER\r\n\
         Max-Forwards: 70\r\n\
         Contact: <sip:{device}@127.0.0.1:5555;transport=tls>;+u.sip!devicename.ccm.cisco.com=\"{device}\"\r\n\
         Expires: 600\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// `openssl s_client` to `port`, verifying the server's certificate against `ca`, with `args`,
/// sending `input`; what it printed once `done` holds (or 15 s passed, or it exited).
pub(crate) fn s_client(
    port: u16,
    ca: &std::path::Path,
    args: &[&str],
    input: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-quiet", "-verify_return_error"])
        .arg("-CAfile")
        .arg(ca)
        .args(args);
    let mut peer = Peer::spawn(&mut cmd, "openssl");
    peer.write(input);
    peer.wait_for(Duration::from_secs(15), done);
    peer.finish()
}
