//! `opencapf consumer add|list|show|remove|confirm|check`: the systems outside the cluster that
//! trust its CAPF certificates. `check` runs `eapol_test` (wpa_supplicant's RADIUS test client,
//! Debian package `eapoltest`) with a short-lived LSC.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use opencapf_cluster::{cli_actor, Consumer, ConsumerExport};
use serde::Serialize;

use super::Context;
use crate::cli::ConsumerCommand;
use crate::output::{self, Table};

/// The RADIUS test client `consumer check` runs.
pub(crate) const EAPOL_TEST: &str = "eapol_test";

pub(crate) async fn run(ctx: &Context, cmd: ConsumerCommand) -> anyhow::Result<()> {
    let cluster = ctx.cluster().await?;
    let actor = cli_actor();
    match cmd {
        ConsumerCommand::Add { name, kind } => {
            let c = cluster.add_consumer(&name, kind, &actor).await?;
            if ctx.json {
                return output::json(&c);
            }
            outln!("Added consumer {} ({}).", c.name, c.kind);
            outln!(
                "Next: `opencapf trust export CAPF-trust --consumer {} --out …`, apply it there, then \
                 `opencapf consumer confirm {}`.",
                c.name,
                c.name
            );
            Ok(())
        }
        ConsumerCommand::List => {
            let all = cluster.consumers().await?;
            if ctx.json {
                return output::json(&all);
            }
            if all.is_empty() {
                outln!("No consumer. Add the 802.1X servers and VPN head-ends that trust the CAPF certificates: `opencapf consumer add NAME --kind freeradius|ise|asa|other`.");
                return Ok(());
            }
            let mut t = Table::new(&["NAME", "KIND", "LAST EXPORT", "CERTIFICATES", "CONFIRMED"]);
            for c in &all {
                let (at, count, confirmed) = summary(c);
                t.row(vec![c.name.clone(), c.kind.to_string(), at, count, confirmed]);
            }
            t.print();
            Ok(())
        }
        ConsumerCommand::Show { name } => {
            let c = cluster.consumer(&name).await?;
            if ctx.json {
                return output::json(&c);
            }
            show(&c);
            Ok(())
        }
        ConsumerCommand::Remove { name } => {
            let c = cluster.remove_consumer(&name, &actor).await?;
            if ctx.json {
                return output::json(&c);
            }
            outln!("Removed consumer {} ({}) and its {} export record(s).", c.name, c.kind, c.exports);
            Ok(())
        }
        ConsumerCommand::Confirm { name } => {
            let e = cluster.confirm_consumer(&name, "confirmed by the administrator", &actor).await?;
            if ctx.json {
                return output::json(&e);
            }
            outln!(
                "{name} runs with export {} of {} ({} certificate(s)), confirmed {}.",
                e.id,
                e.exported_at,
                e.certificates.len(),
                e.confirmed_at.as_deref().unwrap_or("-")
            );
            Ok(())
        }
        ConsumerCommand::Check { name, radius, secret, timeout } => {
            check(ctx, &cluster, &name, &radius, &secret, timeout).await
        }
    }
}

fn summary(c: &Consumer) -> (String, String, String) {
    match &c.last_export {
        None => ("never".into(), "-".into(), "-".into()),
        Some(e) => (
            format!("{} ({})", e.exported_at, e.format),
            e.certificates.len().to_string(),
            e.confirmed_at.clone().unwrap_or_else(|| "no".into()),
        ),
    }
}

fn show(c: &Consumer) {
    output::fields(&[
        ("Name", c.name.clone()),
        ("Kind", c.kind.to_string()),
        ("Added", format!("{} by {}", c.created_at, c.created_by)),
        ("Exports", c.exports.to_string()),
    ]);
    let print = |title: &str, e: &ConsumerExport| {
        outln!("\n{title}: export {} ({}), {} by {}", e.id, e.format, e.exported_at, e.exported_by);
        match (&e.confirmed_at, &e.confirmed_by) {
            (Some(at), Some(by)) => outln!("  confirmed applied {at} by {by}"),
            _ => outln!("  not confirmed applied"),
        }
        for cert in &e.certificates {
            outln!(
                "  {} (until {}), SHA-256 {}",
                cert.subject,
                &cert.not_after[..10.min(cert.not_after.len())],
                cert.fingerprint
            );
        }
    };
    match &c.last_export {
        None => outln!("\nNever exported."),
        Some(e) => print("Last export", e),
    }
    if let Some(confirmed) = &c.confirmed {
        if c.last_export.as_ref().map(|e| e.id) != Some(confirmed.id) {
            print("Runs with (last confirmed)", confirmed);
        }
    }
}

/// What `consumer check --json` prints.
#[derive(Serialize)]
struct CheckReport {
    consumer: String,
    radius: String,
    accepted: bool,
    /// The lines of eapol_test's output that say why (TLS alerts, the final verdict).
    evidence: Vec<String>,
    /// The certificate presented.
    lsc_subject: String,
    lsc_issuer: String,
    lsc_serial: String,
    /// Whether the success confirmed the consumer's last export.
    confirmed: bool,
}

async fn check(
    ctx: &Context,
    cluster: &opencapf_cluster::Cluster,
    name: &str,
    radius: &str,
    secret: &str,
    timeout: u64,
) -> anyhow::Result<()> {
    let consumer = cluster.consumer(name).await?;
    if !consumer.kind.is_radius() {
        anyhow::bail!("{name} is an {} consumer: `consumer check` tries RADIUS servers (EAP-TLS); confirm it with `opencapf consumer confirm {name}`", consumer.kind);
    }
    let (host, port) = split_host_port(radius)?;
    if secret.is_empty() || secret.chars().any(|c| c.is_control() || c == '"') {
        anyhow::bail!("--secret: the RADIUS shared secret, without quotes or control characters");
    }
    if !(1..=120).contains(&timeout) {
        anyhow::bail!("--timeout: 1 to 120 seconds");
    }
    which(EAPOL_TEST).with_context(|| {
        format!(
            "{EAPOL_TEST} is not installed: install it (Debian: apt install eapoltest) to check a RADIUS consumer live"
        )
    })?;
    let actor = cli_actor();
    let (cert, key) = cluster.check_lsc(name, &actor).await?;
    let dir = PrivateDir::new()?;
    std::fs::write(dir.path().join("lsc.pem"), cert.pem()).context("writing the check LSC")?;
    write_private(&dir.path().join("lsc.key"), key.to_pem().as_bytes())?;
    drop(key);
    let conf = format!(
        "network={{\n\tkey_mgmt=IEEE8021X\n\teap=TLS\n\tidentity=\"{id}\"\n\tclient_cert=\"{cert}\"\n\tprivate_key=\"{key}\"\n\teapol_flags=0\n}}\n",
        id = opencapf_pki::profiles::CHECK_LSC_CN,
        cert = dir.path().join("lsc.pem").display(),
        key = dir.path().join("lsc.key").display(),
    );
    std::fs::write(dir.path().join("eapol.conf"), conf).context("writing the eapol_test configuration")?;
    let (accepted, evidence) = run_eapol_test(dir.path(), &host, port, secret, timeout)?;
    drop(dir);
    let detail = format!("{radius}: {}", if accepted { "EAP-TLS accepted" } else { "EAP-TLS refused" });
    let confirmed = accepted && consumer.last_export.is_some();
    cluster.record_consumer_check(name, accepted, &detail, &actor).await?;
    let report = CheckReport {
        consumer: name.to_owned(),
        radius: radius.to_owned(),
        accepted,
        evidence,
        lsc_subject: cert.info.subject.clone(),
        lsc_issuer: cert.info.issuer.clone(),
        lsc_serial: cert.info.serial.clone(),
        confirmed,
    };
    if ctx.json {
        output::json(&report)?;
    } else {
        outln!(
            "Presented an LSC of {} (serial {}, valid 10 minutes) to {radius}.",
            report.lsc_issuer,
            report.lsc_serial
        );
        for line in &report.evidence {
            outln!("  {line}");
        }
        if accepted {
            outln!("Accepted: {name} trusts the active CAPF certificate.");
            if confirmed {
                outln!("Its last export is recorded as applied.");
            }
        }
    }
    if !accepted {
        anyhow::bail!(
            "{name} refused the EAP-TLS attempt: it does not trust the active CAPF certificate yet (export to it: \
             `opencapf trust export CAPF-trust --consumer {name} --out …`), or the secret or address is wrong"
        );
    }
    Ok(())
}

fn split_host_port(s: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = s.rsplit_once(':').context("--radius HOST:PORT, e.g. 192.0.2.10:1812")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().ok().filter(|p| *p > 0).context("--radius HOST:PORT: the port is 1 to 65535")?;
    if host.is_empty() || host.chars().any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))) {
        anyhow::bail!("--radius HOST:PORT: '{}' is no host name or address", host.escape_debug());
    }
    Ok((host.to_owned(), port))
}

/// Runs eapol_test (bounded: it stops itself after `timeout`; killed a few seconds later).
/// Whether it ended in SUCCESS, and the lines that say why.
fn run_eapol_test(
    dir: &Path,
    host: &str,
    port: u16,
    secret: &str,
    timeout: u64,
) -> anyhow::Result<(bool, Vec<String>)> {
    let mut child = Command::new(EAPOL_TEST)
        .arg("-c")
        .arg(dir.join("eapol.conf"))
        .args(["-a", host, "-p", &port.to_string(), "-s", secret, "-t", &timeout.to_string(), "-n"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {EAPOL_TEST}"))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(timeout + 5);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        use std::io::Read;
        let _ = out.by_ref().take(4 << 20).read_to_string(&mut text);
    }
    let evidence: Vec<String> = text
        .lines()
        .filter(|l| {
            l.contains("alert")
                || l.starts_with("SUCCESS")
                || l.starts_with("FAILURE")
                || l.contains("EAP-Failure")
                || l.contains("Access-Reject")
                || l.contains("No response from Authentication server")
        })
        .take(20)
        .map(|l| opencapf_model::printable(l.trim()).into_owned())
        .collect();
    let accepted = status.is_some_and(|s| s.success()) && text.lines().any(|l| l.trim() == "SUCCESS");
    Ok((accepted, evidence))
}

fn which(program: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("{program} not found in PATH"))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

/// A 0700 folder of its own under the temporary folder, removed when dropped: the check LSC's
/// key lives there for the attempt only.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> anyhow::Result<PrivateDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let path = std::env::temp_dir().join(format!("opencapf-check-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(PrivateDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
