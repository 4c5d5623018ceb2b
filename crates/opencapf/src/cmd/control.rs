//! How a command reaches the running `opencapf serve`: a Unix socket in the data folder,
//! `callmanager.sock`, mode 0600; `callmanager.<node>.sock` for each node when several nodes
//! share one database (and may share the folder), a command asking every node's socket.
//!
//! Why a socket rather than a request row that `serve` polls: `device reset` acts on connections
//! that only the server process holds, and its answer (which phones were reached, what they
//! answered) exists only there; a socket gets it back at once, with no polling delay and no
//! table of requests to clean up. Who may connect is who may open the data folder (the socket
//! is the owner's only, like the database and the keys); no network port is opened.
//!
//! One request, one answer, each a line of JSON.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use opencapf_callmanager::{Registry, ServiceControl};
use opencapf_model::DeviceName;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The socket's name in the data folder.
const SOCKET: &str = "callmanager.sock";
/// The longest request line read.
const MAX_REQUEST: u64 = 1 << 20;

/// The socket of the node `node` (`None`: the one `serve` of a SQLite cluster).
pub(crate) fn socket_path(data_dir: &Path, node: Option<&str>) -> PathBuf {
    match node {
        None => data_dir.join(SOCKET),
        Some(name) => {
            let safe: String = name
                .chars()
                .take(64)
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
                .collect();
            data_dir.join(format!("callmanager.{safe}.sock"))
        }
    }
}

/// Every control socket in the data folder (one per node that ran there).
fn sockets(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data_dir) else { return Vec::new() };
    let mut all: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("callmanager.") && n.ends_with(".sock"))
        })
        .collect();
    all.sort();
    all
}

/// What a command asks of the server.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Request {
    /// NOTIFY `service-control` (`reset`, `restart`, `apply-config`) to these devices, or to
    /// every registered one (`None`).
    ServiceControl { action: String, devices: Option<Vec<DeviceName>> },
}

/// A device the NOTIFY reached.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ReachedDevice {
    pub device: DeviceName,
    pub peer: String,
    /// The phone's answer; `None`: none in time.
    pub answer: Option<u16>,
}

/// The server's answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub reached: Vec<ReachedDevice>,
    /// Asked for, but with no open SIP registration.
    pub not_registered: Vec<DeviceName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn parse_action(action: &str) -> Option<ServiceControl> {
    match action {
        "reset" => Some(ServiceControl::Reset),
        "restart" => Some(ServiceControl::Restart),
        "apply-config" => Some(ServiceControl::ApplyConfig),
        _ => None,
    }
}

/// Binds the socket (replacing one a stopped server left), owner-only.
pub(crate) fn bind(data_dir: &Path, node: Option<&str>) -> anyhow::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = socket_path(data_dir, node);
    // A server running on this folder answers on it: refuse to take its socket away.
    if std::os::unix::net::UnixStream::connect(&path).is_ok() {
        match node {
            None => anyhow::bail!("another `opencapf serve` is running on {}", data_dir.display()),
            Some(n) => anyhow::bail!("another `opencapf serve` is running as node '{n}' on {}", data_dir.display()),
        }
    }
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).with_context(|| format!("listening on {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} owner-only", path.display()))?;
    Ok(listener)
}

/// Answers the commands until the task is aborted; each connection is served on its own.
pub(crate) async fn serve(listener: UnixListener, registry: Registry) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let registry = registry.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &registry).await {
                tracing::warn!("control socket: {e}");
            }
        });
    }
}

async fn answer(stream: UnixStream, registry: &Registry) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    tokio::io::AsyncReadExt::take(BufReader::new(read), MAX_REQUEST).read_line(&mut line).await?;
    let answer = match serde_json::from_str::<Request>(&line) {
        Err(e) => Answer { error: Some(format!("not a request: {e}")), ..Answer::default() },
        Ok(Request::ServiceControl { action, devices }) => match parse_action(&action) {
            None => Answer { error: Some(format!("no action '{action}'")), ..Answer::default() },
            Some(a) => {
                let (reached, missing) = registry.service_control(devices.as_deref(), a).await;
                for r in &reached {
                    tracing::info!(device = %r.device, peer = %r.peer, answer = ?r.answer, "NOTIFY service-control action={action}");
                }
                Answer {
                    reached: reached
                        .into_iter()
                        .map(|r| ReachedDevice { device: r.device, peer: r.peer.to_string(), answer: r.answer })
                        .collect(),
                    not_registered: missing,
                    error: None,
                }
            }
        },
    };
    let mut out = serde_json::to_vec(&answer)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    Ok(())
}

/// Sends one request to every server of this data folder (one, or one per node) and merges
/// their answers: a device is not registered when no node reached it.
pub(crate) async fn ask(data_dir: &Path, request: &Request) -> anyhow::Result<Answer> {
    let mut merged: Option<Answer> = None;
    let mut last_error = None;
    for path in sockets(data_dir) {
        let answer = match ask_one(&path, request).await {
            Ok(a) => a,
            Err(e) => {
                last_error = Some(e);
                continue;
            }
        };
        if let Some(e) = &answer.error {
            anyhow::bail!("the server refused the request: {e}");
        }
        merged = Some(match merged {
            None => answer,
            Some(mut m) => {
                m.reached.extend(answer.reached);
                m.not_registered.retain(|d| answer.not_registered.contains(d));
                m
            }
        });
    }
    let mut merged = merged.ok_or_else(|| {
        let why = last_error.map_or_else(|| "no control socket".to_owned(), |e| format!("{e:#}"));
        anyhow::anyhow!("no `opencapf serve` is running on {} ({why})", data_dir.display())
    })?;
    let reached: Vec<DeviceName> = merged.reached.iter().map(|r| r.device.clone()).collect();
    merged.not_registered.retain(|d| !reached.contains(d));
    Ok(merged)
}

async fn ask_one(path: &Path, request: &Request) -> anyhow::Result<Answer> {
    let stream = UnixStream::connect(path).await.with_context(|| format!("cannot connect to {}", path.display()))?;
    let (read, mut write) = stream.into_split();
    let mut out = serde_json::to_vec(request)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    let mut line = String::new();
    tokio::io::AsyncReadExt::take(BufReader::new(read), MAX_REQUEST).read_line(&mut line).await?;
    serde_json::from_str(&line).context("the server's answer")
}
