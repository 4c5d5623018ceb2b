//! Running OpenCAPF as a service (issue 14): the configuration file and its precedence, JSON
//! logs, shell completions, the manual page, and the configuration shipped in packaging/.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// `opencapf` in `dir` with no data folder or configuration file from the environment.
fn opencapf(dir: &Path) -> Process {
    let mut c = Process::cargo_bin("opencapf").unwrap();
    c.current_dir(dir).env_remove("OPENCAPF_DATA_DIR").env_remove("OPENCAPF_CONFIG");
    c
}

/// Runs `opencapf ARGS` in `dir`: exit code, standard output, standard error.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = opencapf(dir).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, Some(0), "opencapf {args:?}:\n{out}\n{err}");
    out
}

/// The one `error:` line of a command that must fail with 1.
fn fail(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, Some(1), "opencapf {args:?} should fail with 1:\n{out}\n{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    lines[0].to_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `config show --json`'s entry for a key: (value, source).
fn shown(json: &Value, key: &str) -> (Value, String) {
    let entry = &json["settings"][key];
    (entry["value"].clone(), entry["source"].as_str().unwrap_or_else(|| panic!("no {key} in {json}")).to_owned())
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "opencapf.toml",
        "data_dir = \"/from/file\"\n\n[serve]\ncapf_listen = \"127.0.0.1:3999\"\nread_timeout = 90\n",
    );
    let show = |env: Option<&str>, args: &[&str]| -> Value {
        let mut c = opencapf(d);
        c.args(["--config", "opencapf.toml", "--json", "config", "show"]).args(args);
        if let Some(env) = env {
            c.env("OPENCAPF_DATA_DIR", env);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };

    let json = show(None, &[]);
    assert_eq!(json["config_file"], "opencapf.toml");
    assert_eq!(shown(&json, "data_dir"), ("/from/file".into(), "file".into()));
    assert_eq!(shown(&json, "serve.capf_listen"), ("127.0.0.1:3999".into(), "file".into()));
    assert_eq!(shown(&json, "serve.read_timeout"), ("90".into(), "file".into()));
    assert_eq!(shown(&json, "serve.auth_timeout"), ("30".into(), "default".into()));
    assert_eq!(json["settings"]["serve.capf_listen"]["line"], 4);

    let json = show(Some("/from/env"), &[]);
    assert_eq!(shown(&json, "data_dir"), ("/from/env".into(), "env".into()));

    let json = show(Some("/from/env"), &["--data-dir", "/from/flag", "--capf-listen", "127.0.0.1:4000"]);
    assert_eq!(shown(&json, "data_dir"), ("/from/flag".into(), "flag".into()));
    assert_eq!(shown(&json, "serve.capf_listen"), ("127.0.0.1:4000".into(), "flag".into()));
    assert_eq!(shown(&json, "serve.read_timeout"), ("90".into(), "file".into()), "the file still gives the rest");

    // Without a configuration file nothing is read, and OPENCAPF_CONFIG names one as --config does.
    let json: Value = serde_json::from_str(&ok(d, &["--json", "config", "show"])).unwrap();
    assert_eq!(json["config_file"], Value::Null);
    assert_eq!(shown(&json, "serve.capf_listen"), ("0.0.0.0:3804".into(), "default".into()));
    let out = opencapf(d).env("OPENCAPF_CONFIG", "opencapf.toml").args(["config", "show"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("serve.capf_listen = \"127.0.0.1:3999\"") && text.contains("(file, line 4)"), "{text}");
}

#[test]
fn a_wrong_key_or_value_names_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "typo.toml", "[serve]\ncapf_listen = \"0.0.0.0:3804\"\ncapf_lsiten = \"0.0.0.0:3805\"\n");
    let err = fail(d, &["--config", "typo.toml", "status"]);
    assert!(err.contains("typo.toml line 3: unknown key `serve.capf_lsiten`"), "{err}");
    assert!(err.contains("serve.capf_listen") && err.contains("data_dir"), "the valid keys are listed: {err}");
    assert_eq!(fail(d, &["config", "check", "typo.toml"]), err, "config check says the same");

    // The value is refused as clap refuses it on the command line, with the file and key added.
    write(d, "value.toml", "# comment\n[serve]\nhandshake_timeout = 0\n");
    let err = fail(d, &["--config", "value.toml", "serve"]);
    let (_, _, flag_err) = run(d, &["serve", "--handshake-timeout", "0"]);
    let clap_line = flag_err.lines().next().unwrap().strip_prefix("error: ").unwrap();
    assert_eq!(err, format!("error: configuration file value.toml line 3, key `serve.handshake_timeout`: {clap_line}"));

    write(d, "top.toml", "capf_listen = \"0.0.0.0:3804\"\n");
    let err = fail(d, &["--config", "top.toml", "status"]);
    assert!(err.contains("line 1: unknown key `capf_listen`"), "serve's keys go in [serve]: {err}");
    write(d, "syntax.toml", "[serve]\ncapf_listen = 0.0.0.0\n");
    assert!(fail(d, &["--config", "syntax.toml", "status"]).contains("syntax.toml line 2"));
    let err = fail(d, &["--config", "missing.toml", "status"]);
    assert!(err.contains("missing.toml") && err.contains("No such file"), "{err}");
    // Commands that read no cluster do not need the file.
    ok(d, &["--config", "missing.toml", "completions", "bash"]);
}

/// `name = value` with a bare key, as the example writes its settings.
fn is_setting(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

#[test]
fn the_example_lists_every_key_and_parses_back_with_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let example = ok(d, &["config", "example"]);
    write(d, "example.toml", &example);
    assert_eq!(ok(d, &["config", "check", "example.toml"]), "example.toml: valid (0 settings)\n");

    // Every key with a default, uncommented, is valid and gives the values of the built-in defaults.
    let defaults: Value = serde_json::from_str(&ok(d, &["--json", "config", "show"])).unwrap();
    let uncommented: String = example
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(setting) if is_setting(setting) => setting,
            _ if l.starts_with('#') => "",
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let keys = defaults["settings"].as_object().unwrap();
    let with_default = keys.values().filter(|e| !e["value"].is_null()).count();
    let no_default: Vec<&String> = keys.keys().filter(|k| keys[k.as_str()]["value"].is_null()).collect();
    let uncommented: String = uncommented
        .lines()
        .filter(|l| !no_default.iter().any(|k| l.starts_with(&format!("{} =", k.rsplit('.').next().unwrap()))))
        .map(|l| format!("{l}\n"))
        .collect();
    write(d, "all.toml", &uncommented);
    let checked = ok(d, &["config", "check", "all.toml"]);
    assert_eq!(checked, format!("all.toml: valid ({with_default} settings)\n"), "{uncommented}");
    let from_file: Value = serde_json::from_str(&ok(d, &["--config", "all.toml", "--json", "config", "show"])).unwrap();
    for (key, entry) in keys {
        let (value, source) = shown(&from_file, key);
        assert_eq!(value, entry["value"], "{key}");
        let expected = if entry["value"].is_null() { "default" } else { "file" };
        assert_eq!(source, expected, "{key}");
    }
}

#[test]
fn the_shipped_configuration_passes_the_check_and_lists_every_key() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/opencapf.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["config", "check", shipped.to_str().unwrap()]);
    assert!(out.contains(": valid ("), "{out}");
    // A flag added to `serve` must reach the packaged file: regenerate it with
    // `opencapf config example > packaging/opencapf.toml`.
    let example = ok(dir.path(), &["config", "example"]);
    assert_eq!(std::fs::read_to_string(&shipped).unwrap(), example, "packaging/opencapf.toml is out of date");
}

#[test]
fn serve_reads_the_file_and_logs_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The file's CAPF address cannot be bound (TEST-NET-1): serve starts only if the flag wins.
    let mut config = String::from("data_dir = \"data\"\n[serve]\ninit = true\nlog_format = \"json\"\n");
    config.push_str("capf_listen = \"192.0.2.1:3804\"\n");
    for key in ["sip_tls", "sip_tcp", "sip_udp", "sccp_tls", "sccp_tcp", "http", "tftp", "tvs", "admin", "est"] {
        config.push_str(&format!("{key}_listen = \"off\"\n"));
    }
    write(d, "opencapf.toml", &config);
    let mut child = opencapf(d)
        .args(["--config", "opencapf.toml", "serve", "--capf-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Ready") {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(seen.contains("Ready") && seen.contains("CAPF listening on 127.0.0.1:"), "{seen}\n{stderr}");
    assert!(!seen.contains("SIP") && !seen.contains("TVS listening"), "the file turned them off: {seen}");
    assert!(d.join("data/cluster.db").exists(), "data_dir and init came from the file");
    let lines: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty(), "serve logs at start (the descriptor limit)");
    for l in &lines {
        assert!(l["level"].is_string() && l["timestamp"].is_string() && l["fields"]["message"].is_string(), "{l}");
    }
}

#[test]
fn a_data_dir_from_the_file_is_named_so_serve_does_not_create_a_cluster_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "opencapf.toml", "data_dir = \"named\"\n");
    let err = fail(d, &["--config", "opencapf.toml", "serve"]);
    assert!(err.contains("no cluster in named") && err.contains("--init"), "{err}");
    assert!(!d.join("named").exists());
}

#[test]
fn bash_completion_loads_and_completes_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "opencapf.bash", &ok(dir.path(), &["completions", "bash"]));
    let probe = format!(
        "source {}; complete -p opencapf; COMP_WORDS=(opencapf dev); COMP_CWORD=1; COMP_LINE='opencapf dev'; \
         COMP_POINT=12; _opencapf opencapf dev opencapf; echo \"REPLY ${{COMPREPLY[*]}}\"",
        script.display()
    );
    let Ok(out) = Process::new("bash").args(["--norc", "-c", &probe]).output() else {
        eprintln!("no bash here: skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("-F _opencapf opencapf"), "{text}");
    assert!(text.contains("REPLY device"), "`opencapf dev<TAB>` completes to device: {text}");
    for shell in ["zsh", "fish"] {
        assert!(ok(dir.path(), &["completions", shell]).contains("opencapf"), "{shell}");
    }
}

#[test]
fn the_manual_page_is_roff_naming_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let page = ok(dir.path(), &["man"]);
    assert!(page.lines().any(|l| l.starts_with(".TH opencapf 1")), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section}");
    }
    for command in ["opencapf\\-serve", "opencapf\\-config", "opencapf\\-device", "opencapf\\-completions"] {
        assert!(page.contains(command), "{command} in the page");
    }
    if let Ok(mut groff) = Process::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        use std::io::Write as _;
        groff.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
        let out = groff.wait_with_output().unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", String::from_utf8_lossy(&out.stderr));
        // groff's terminal output emboldens by overstriking (X, backspace, X).
        let text = String::from_utf8_lossy(&out.stdout).replace("\u{8}", "");
        assert!(text.contains("SSUUBBCCOOMMMMAANNDDSS") || text.contains("SUBCOMMANDS"), "{text}");
    }

    let out = dir.path().join("man");
    ok(dir.path(), &["man", "--out", out.to_str().unwrap()]);
    for page in ["opencapf.1", "opencapf-serve.1", "opencapf-config-example.1"] {
        let text = std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page}");
    }
}
