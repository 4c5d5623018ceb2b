//! The README's walk-through ("Try it") and its tour, run as written: each fenced `sh` block is
//! read from README.md and every line run in order, with `opencapf serve` running beside it. The
//! only rewrites: `opencapf` is this build's binary (the README's alias), the phone commands'
//! `--server 127.0.0.1` gets the ports `serve` was given (free ports, chosen by the system), and
//! `serve` advertises 127.0.0.1 to phones.
//! A line whose comment says it is refused must exit 1; every other line must succeed.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

/// The repository root (README.md and examples/).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lines of the fenced `sh` block after the heading starting with `heading`.
fn block(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let after = readme.split_once(&format!("\n{heading}")).unwrap_or_else(|| panic!("no '{heading}' in README")).1;
    let body = after.split_once("```sh\n").unwrap().1.split_once("```").unwrap().0;
    body.lines().map(str::to_owned).collect()
}

/// `opencapf serve` in `dir` (its default data folder), every listener on a free port.
struct Serve {
    child: Option<Child>,
    capf: SocketAddr,
    sip_tls: SocketAddr,
    http: SocketAddr,
    tftp: SocketAddr,
}

impl Serve {
    /// Before `init`: nothing runs yet.
    fn none() -> Serve {
        let off: SocketAddr = "0.0.0.0:0".parse().unwrap();
        Serve { child: None, capf: off, sip_tls: off, http: off, tftp: off }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn serve(dir: &Path) -> Serve {
    let mut child = Command::cargo_bin("opencapf")
        .unwrap()
        .current_dir(dir)
        .env_remove("OPENCAPF_DATA_DIR")
        .arg("serve")
        .args(["--capf-listen", "127.0.0.1:0", "--sip-tls-listen", "127.0.0.1:0", "--sip-tcp-listen", "127.0.0.1:0"])
        .args(["--sip-udp-listen", "127.0.0.1:0", "--sccp-tls-listen", "127.0.0.1:0", "--sccp-tcp-listen"])
        .args(["127.0.0.1:0", "--shutdown-grace", "1"])
        .args(["--http-listen", "127.0.0.1:0", "--tftp-listen", "127.0.0.1:0", "--tvs-listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0", "--est-listen", "127.0.0.1:0"])
        // The phones are told to reach the services here, whatever the machine's name resolves to.
        .args(["--advertise", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let ready = line.starts_with("Ready");
        seen.push(line);
        if ready {
            break;
        }
    }
    // Keep reading so that the pipe never fills.
    std::thread::spawn(move || lines.for_each(drop));
    let addr = |prefix: &str| -> SocketAddr {
        let line = seen.iter().find_map(|l| l.strip_prefix(prefix));
        line.and_then(|r| r.split_whitespace().next()?.parse().ok()).unwrap_or_else(|| panic!("{prefix}: {seen:?}"))
    };
    let (capf, sip_tls) = (addr("CAPF listening on "), addr("CallManager SIP TLS listening on "));
    let (http, tftp) = (addr("HTTP (phone configuration files) listening on "), addr("TFTP listening on "));
    Serve { child: Some(child), capf, sip_tls, http, tftp }
}

/// Runs one README line in `dir`: commands joined by `&&`, each `opencapf …` or `cat FILE`.
fn run_line(dir: &Path, line: &str, serve: &Serve) {
    let (command, comment) = line.split_once(" #").unwrap_or((line, ""));
    let command = command.trim();
    if command.is_empty() || command.starts_with('#') {
        return;
    }
    // A line the README says is refused, or exits 1 (doctor with error findings), must exit 1.
    let refused = comment.contains("refused") || comment.contains("exits 1");
    for part in command.split("&&") {
        let words: Vec<&str> = part.split_whitespace().collect();
        match words[0] {
            "cat" => {
                let text = std::fs::read_to_string(dir.join(words[1])).unwrap();
                assert!(text.ends_with('\n'), "{line}: {text:?}");
            }
            "opencapf" => {
                let mut args: Vec<String> = words[1..].iter().map(|w| w.to_string()).collect();
                if let Some(i) = args.iter().position(|a| a == "--server") {
                    if args[1] == "boot" {
                        // The provisioning server is a host; its ports are options.
                        args.extend(["--http-port".into(), serve.http.port().to_string()]);
                        args.extend(["--tftp-port".into(), serve.tftp.port().to_string()]);
                    } else {
                        let port = if args[1] == "capf" { serve.capf.port() } else { serve.sip_tls.port() };
                        args[i + 1] = format!("{}:{port}", args[i + 1]);
                    }
                }
                let out = Command::cargo_bin("opencapf")
                    .unwrap()
                    .current_dir(dir)
                    .env_remove("OPENCAPF_DATA_DIR")
                    .args(&args)
                    .output()
                    .unwrap();
                let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                let expected = if refused { 1 } else { 0 };
                assert_eq!(out.status.code(), Some(expected), "README line `{line}`:\n{said}");
            }
            other => panic!("README line `{line}`: the test does not know `{other}`"),
        }
    }
}

#[test]
fn the_readme_walk_through_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let serve = serve(dir.path());
    for line in block("## Try it") {
        run_line(dir.path(), &line, &serve);
    }
    let console = std::fs::read_to_string(dir.path().join("phone1/console.log")).unwrap();
    assert!(console.contains("200 OK") || console.contains("egistered"), "{console}");
}

#[test]
fn the_readme_tour_runs_as_written_from_the_repository_root() {
    // The repository root as the tour sees it: examples/ and ../shared/data/cisco-ca/, in a
    // scratch folder so that what the tour writes (./opencapf-data, ./phone1...) lands there.
    let top = tempfile::tempdir().unwrap();
    let root = top.path().join("opencapf");
    std::fs::create_dir(&root).unwrap();
    std::os::unix::fs::symlink(repo().join("examples"), root.join("examples")).unwrap();
    std::os::unix::fs::symlink(repo().join("../shared"), top.path().join("shared")).unwrap();
    let lines = block("## A short tour");
    let init = lines.iter().position(|l| l.starts_with("opencapf init")).expect("the tour starts with init");
    for line in &lines[..=init] {
        run_line(&root, line, &Serve::none());
    }
    let serve = serve(&root);
    for line in &lines[init + 1..] {
        run_line(&root, line, &serve);
    }
    assert!(root.join("phone1").is_dir());
}
