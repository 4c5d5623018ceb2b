//! `opencapf serve`: the cluster's services in one process, until SIGINT or SIGTERM: CAPF on TCP
//! 3804 inside TLS, CallManager's registration listeners (SIP 5061/5060 and UDP 5060, SCCP
//! 2443/2000), and what phones boot from: the files over HTTP 6970 and TFTP 69, and TVS on 2445;
//! the admin pages (8443) and EST (8444).
//! TCP listeners are run by [`opencapf_net::serve`]; SIP over UDP and TFTP beside it, each on its
//! datagram loop.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use opencapf_callmanager::{CallManagerConfig, CallManagerServer};
use opencapf_capf::{CapfConfig, CapfServer};
use opencapf_cluster::{cli_actor, init_with, Cluster, Error as StoreError, InitOptions, Joining, Membership};
use opencapf_model::Service;
use opencapf_pki::profiles::CAPF_DEFAULT_KEY;
use opencapf_pki::SubjectFields;

use super::Context;

#[derive(Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub log: crate::logging::LogArgs,
    /// Address CAPF listens on (TLS); phones use port 3804 unless their configuration says otherwise
    #[arg(long, default_value = "0.0.0.0:3804", value_name = "ADDR:PORT")]
    pub capf_listen: SocketAddr,
    /// Seconds a client has to complete the TLS handshake
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub handshake_timeout: u64,
    /// Seconds a phone has to answer with its device name and credentials
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_timeout: u64,
    /// Seconds a phone has to generate its key pair, however many "in progress" messages it sends
    /// meanwhile (old phones may need 30 minutes for an RSA key)
    #[arg(long, default_value_t = 1800, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub keygen_timeout: u64,
    /// Seconds to wait for any other answer from a phone (store, delete, upload), or for it to read
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout: u64,
    /// CAPF sessions at once; connections beyond it are closed at once
    #[arg(long, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_sessions: u64,
    /// Wrong authentication strings after which a device's operation is cancelled (0: no limit)
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_auth_failures: u32,
    /// On SIGINT or SIGTERM, seconds that sessions in progress get to finish
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub shutdown_grace: u64,
    /// CallManager SIP over TLS (secure phones), or `off`
    #[arg(long, default_value = "0.0.0.0:5061", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub sip_tls_listen: Listen,
    /// CallManager SIP over TCP (Non Secure phones), or `off`
    #[arg(long, default_value = "0.0.0.0:5060", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub sip_tcp_listen: Listen,
    /// CallManager SIP over UDP (Non Secure phones), or `off`
    #[arg(long, default_value = "0.0.0.0:5060", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub sip_udp_listen: Listen,
    /// CallManager SCCP over TLS (secure phones), or `off`
    #[arg(long, default_value = "0.0.0.0:2443", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub sccp_tls_listen: Listen,
    /// CallManager SCCP over TCP (Non Secure phones), or `off`
    #[arg(long, default_value = "0.0.0.0:2000", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub sccp_tcp_listen: Listen,
    /// The configuration files phones download at boot (ITL, SEP<MAC>.cnf.xml[.sgn]) over HTTP,
    /// which current phones try first, or `off`
    #[arg(long, default_value = "0.0.0.0:6970", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub http_listen: Listen,
    /// The same files over TFTP (UDP), the fallback and the only way for older firmware, or
    /// `off`. Default 0.0.0.0:69; when that port cannot be bound (it needs root or
    /// CAP_NET_BIND_SERVICE) TFTP is left off with a warning. An address given here must bind
    #[arg(long, value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub tftp_listen: Option<Listen>,
    /// Trust Verification Service (TLS with the cluster's TVS certificate): phones ask it about
    /// certificates that are not in their ITL; or `off`
    #[arg(long, default_value = "0.0.0.0:2445", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub tvs_listen: Listen,
    /// The admin web pages, the REST API (/api/v1) and /metrics, over HTTPS with the cluster's web
    /// certificate (`cert own tomcat`), or `off`. Loopback by default: open it to the network
    /// deliberately, e.g. 0.0.0.0:8443. The first start prints a one-time password for `admin`
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub admin_listen: Listen,
    /// EST (RFC 7030) over HTTPS with the cluster's web certificate (`cert own tomcat`), at
    /// /.well-known/est/: enrolment for devices that do not speak CAPF (`opencapf est`), or `off`
    #[arg(long, default_value = "0.0.0.0:8444", value_name = "ADDR:PORT|off", value_parser = listen_addr)]
    pub est_listen: Listen,
    /// The name or address phones and other nodes reach this node at (processNodeName of CAPF,
    /// CallManager and TVS in their configuration); default: the cluster's hostname
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,
    /// This node's name in the cluster (`opencapf nodes`); unique among the running nodes of a
    /// database several nodes share. Default: the system's host name
    #[arg(long, value_name = "NAME", value_parser = valid_node_name)]
    pub node_name: Option<String>,
    /// Seconds between this node's heartbeats; after 3 missed ones it reads as not responding
    #[arg(long, hide = true, default_value_t = opencapf_cluster::HEARTBEAT_SECS, value_parser = clap::value_parser!(u32).range(1..))]
    pub heartbeat_secs: u32,
    /// Seconds between SCCP keepalives a phone is asked for; idle connections are closed after 2.5 times that
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub sccp_keepalive: u64,
    /// Create a cluster with default settings when the folder named by --data-dir (or
    /// OPENCAPF_DATA_DIR) holds none; without it, such a folder is an error
    #[arg(long)]
    pub init: bool,
    /// Connections at once from one address, for each listener (CAPF and each CallManager one);
    /// 0: no limit. Phones behind one NAT share an address: keep it above their number
    #[arg(long, default_value_t = opencapf_net::Limits::DEFAULT_PER_SOURCE as u64, value_name = "N")]
    pub max_per_source: u64,
    /// Seconds a SIP or SCCP connection may stay open without a registration (keepalives do not
    /// extend it)
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub unregistered_timeout: u64,
    /// Days of registration records kept (refusals included); older ones are deleted at start
    /// and every hour. 0: keep them all
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub registrations_keep_days: u32,
}

/// A listener address, or none (`off`).
#[derive(Clone, Copy)]
pub(crate) struct Listen(Option<SocketAddr>);

fn listen_addr(s: &str) -> Result<Listen, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(Listen(None));
    }
    s.parse().map(|a| Listen(Some(a))).map_err(|e| format!("{e}: give ADDRESS:PORT, e.g. 0.0.0.0:5061, or off"))
}

/// A node name: what a host name may hold, at most 64 characters.
fn valid_node_name(s: &str) -> Result<String, String> {
    let ok =
        !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("a node name is 1 to 64 letters, digits, '-', '_' or '.'".into())
    }
}

impl ServeArgs {
    fn max_per_source(&self) -> Option<usize> {
        (self.max_per_source > 0).then(|| usize::try_from(self.max_per_source).unwrap_or(usize::MAX))
    }

    fn capf_config(&self) -> CapfConfig {
        CapfConfig {
            listen: self.capf_listen,
            handshake_timeout: Duration::from_secs(self.handshake_timeout),
            auth_timeout: Duration::from_secs(self.auth_timeout),
            keygen_timeout: Duration::from_secs(self.keygen_timeout),
            read_timeout: Duration::from_secs(self.read_timeout),
            max_sessions: usize::try_from(self.max_sessions).unwrap_or(usize::MAX),
            max_per_source: self.max_per_source(),
            max_auth_failures: self.max_auth_failures,
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            first_session_id: None,
        }
    }

    fn callmanager_config(&self) -> CallManagerConfig {
        let keepalive = Duration::from_secs(self.sccp_keepalive);
        CallManagerConfig {
            sip_tls: self.sip_tls_listen.0,
            sip_tcp: self.sip_tcp_listen.0,
            sip_udp: self.sip_udp_listen.0,
            sccp_tls: self.sccp_tls_listen.0,
            sccp_tcp: self.sccp_tcp_listen.0,
            handshake_timeout: Duration::from_secs(self.handshake_timeout),
            sccp_keepalive_interval: keepalive,
            sccp_idle_timeout: keepalive * 5 / 2,
            max_per_source: self.max_per_source(),
            unregistered_timeout: Duration::from_secs(self.unregistered_timeout),
            ..CallManagerConfig::default()
        }
    }
}

pub(crate) async fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<()> {
    // Logs go to standard error; RUST_LOG narrows or widens them (default: info).
    crate::logging::init(args.log.log_format);

    raise_descriptor_limit();

    // Signals first, so that one arriving during start-up is not lost.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;

    let mut store = open_or_create(ctx, args.init).await?;
    // Before any service gets a handle: the claims its CAPF sessions make name this node.
    store.name_node(&node_name(&args));
    // What every connection reads (trust, identities, refusals, tls.*) is kept until the change
    // feed says another node, the CLI or this process changed it.
    store.follow_changes().await.context("following the cluster's changes")?;
    let capf_cn = { store.require_certificate(Service::Capf).await?.common_name };
    let (addr, server) = CapfServer::bind(store.clone(), args.capf_config())
        .await
        .with_context(|| format!("starting CAPF on {}", args.capf_listen))?;
    let callmanager = CallManagerServer::bind(store.clone(), args.callmanager_config())
        .await
        .context("starting the CallManager listeners")?;
    let tvs = bind_tvs(&store, &args).await?;
    println!("CAPF listening on {addr} (TLS, certificate {capf_cn})");
    let bound = callmanager.addrs();
    for (name, a) in [
        ("SIP TLS", bound.sip_tls),
        ("SIP TCP", bound.sip_tcp),
        ("SIP UDP", bound.sip_udp),
        ("SCCP TLS", bound.sccp_tls),
        ("SCCP TCP", bound.sccp_tcp),
    ] {
        if let Some(a) = a {
            println!("CallManager {name} listening on {a}");
        }
    }
    if let Some(t) = &tvs {
        println!("TVS listening on {} (TLS)", t.local_addr());
    }
    let admin = bind_admin(&store, &args).await?;
    let est = bind_est(&store, &args).await?;
    let endpoints = endpoints(&store, &args, addr, &callmanager, tvs.as_ref()).await?;
    let files = std::sync::Arc::new(crate::provisioning::ClusterFiles { cluster: store.clone(), endpoints });
    let http = bind_http(&args, files.clone()).await?;
    if let Some(h) = &http {
        println!("HTTP (phone configuration files) listening on {}", h.local_addr());
    }
    let membership = join(&store, &args, &files.endpoints, http.as_ref(), admin.as_ref()).await?;
    println!("Node {} of the cluster", membership.name());
    let tftp = bind_tftp(&args).await?;
    if let Some(t) = &tftp {
        println!("TFTP listening on {} (UDP)", t.local_addr().context("the TFTP socket")?);
    }
    // `device reset` reaches the open registrations through the data folder's socket.
    // Several nodes may share the data folder: each has its own socket there.
    let socket_node = ctx.database.is_postgres().then(|| membership.name().to_owned());
    let control = tokio::spawn(super::control::serve(
        super::control::bind(&ctx.data_dir, socket_node.as_deref())?,
        callmanager.registry(),
    ));
    let heartbeat = tokio::spawn(keep_beating(membership.clone()));
    // Only now, with the node's name held (no other live node has it) and its control socket
    // bound (no other `serve` of this node runs on this folder), are the claims of this node's
    // earlier runs dead.
    recover_interrupted(&store).await.context("recovering the installs a stopped server left")?;
    println!("Ready; stop with Ctrl-C or SIGTERM");

    // One signal stops every service; each stops as its own shutdown policy says.
    let shutdown = opencapf_net::CancellationToken::new();
    let refusals = callmanager.refusal_log();
    let mut listeners = vec![server.into_listener()];
    let (cm_listeners, sip_udp) = callmanager.into_listeners();
    listeners.extend(cm_listeners);
    listeners.extend(tvs);
    listeners.extend(admin);
    listeners.extend(est);
    listeners.extend(http);
    let sip_udp = sip_udp.map(|u| tokio::spawn(u.run(shutdown.clone())));
    let tftp = tftp.map(|socket| {
        let server = opencapf_tftp::TftpServer::new(files.clone(), opencapf_tftp::TftpConfig::default());
        tokio::spawn(server.run(socket, shutdown.clone()))
    });
    let mut services = tokio::spawn(opencapf_net::serve(listeners, shutdown.clone()));
    let retention = tokio::spawn(prune_registrations(store.clone(), args.registrations_keep_days));
    let recovery = tokio::spawn(keep_recovering(store.clone()));
    // The services end only once told to: one that ends by itself has failed.
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received: shutting down"),
        _ = terminate.recv() => tracing::info!("SIGTERM received: shutting down"),
        r = &mut services => {
            r.context("the services' task")?;
            anyhow::bail!("the services stopped unexpectedly");
        }
    }
    shutdown.cancel();
    retention.abort();
    recovery.abort();
    control.abort();
    heartbeat.abort();
    let _ = std::fs::remove_file(super::control::socket_path(&ctx.data_dir, socket_node.as_deref()));
    services.await.context("the services' task")?;
    if let Some(udp) = sip_udp {
        udp.await.context("the SIP UDP task")?;
    }
    if let Some(t) = tftp {
        t.await.context("the TFTP task")?;
    }
    refusals.flush().await;
    if let Err(e) = membership.leave().await {
        tracing::warn!("could not mark this node stopped: {e}");
    }
    store.close().await;
    println!("Stopped");
    Ok(())
}

/// The admin service on its listener; `None` when `off`. On a cluster without accounts, creates
/// `admin` and prints its one-time password, once.
async fn bind_admin(store: &Cluster, args: &ServeArgs) -> anyhow::Result<Option<opencapf_net::Listener>> {
    let Some(listen) = args.admin_listen.0 else { return Ok(None) };
    let state = opencapf_api::AppState::new(store.clone());
    let server =
        opencapf_api::AdminServer::bind(state, opencapf_api::AdminConfig::new(listen), connection_limits(args))
            .await
            .with_context(|| format!("starting the admin service on {listen}"))?;
    let addr = server.local_addr();
    println!("Admin web pages and REST API on https://{addr}/ (certificate tomcat)");
    if let Some(password) = store.ensure_first_admin("serve").await? {
        println!(
            "First start: log in as `admin` with the one-time password {password} (shown only now; you will \
             choose your own at the first login; `opencapf admin passwd admin` sets another)"
        );
    }
    Ok(Some(server))
}

/// EST on its listener, serving the cluster's web certificate; `None` when `off`.
async fn bind_est(store: &Cluster, args: &ServeArgs) -> anyhow::Result<Option<opencapf_net::Listener>> {
    let Some(listen) = args.est_listen.0 else { return Ok(None) };
    let config = opencapf_est::EstConfig {
        max_per_source: args.max_per_source(),
        max_code_failures: args.max_auth_failures,
        handshake_timeout: Duration::from_secs(args.handshake_timeout),
        ..opencapf_est::EstConfig::new(listen)
    };
    let server = opencapf_est::EstServer::bind(store.clone(), config)
        .await
        .with_context(|| format!("starting EST on {listen}"))?;
    println!("EST listening on https://{}/.well-known/est/ (certificate tomcat)", server.local_addr());
    Ok(Some(server))
}

/// TVS on its listener, serving the cluster's TVS certificate; `None` when `off`.
async fn bind_tvs(store: &Cluster, args: &ServeArgs) -> anyhow::Result<Option<opencapf_net::Listener>> {
    let Some(listen) = args.tvs_listen.0 else { return Ok(None) };
    let limits = connection_limits(args);
    let tvs = opencapf_tvs::TvsServer::new(
        crate::provisioning::ClusterTvs { cluster: store.clone() },
        crate::provisioning::ActiveTvs { cluster: store.clone() },
        listen,
        limits,
    );
    Ok(Some(tvs.bind().await.with_context(|| format!("starting TVS on {listen}"))?))
}

async fn bind_http(
    args: &ServeArgs,
    files: std::sync::Arc<crate::provisioning::ClusterFiles>,
) -> anyhow::Result<Option<opencapf_net::Listener>> {
    let Some(listen) = args.http_listen.0 else { return Ok(None) };
    let http = opencapf_tftp::HttpServer::new(files, opencapf_tftp::HttpConfig::new(listen));
    let gate = opencapf_net::Gate::new(connection_limits(args));
    let listener = opencapf_net::Listener::bind(http, gate, opencapf_net::Shutdown::IMMEDIATE)
        .await
        .with_context(|| format!("starting HTTP on {listen}"))?;
    Ok(Some(listener))
}

/// The TFTP socket. The default port 69 is privileged: without the right to bind it, TFTP stays
/// off with a warning (current phones use HTTP 6970 first); a port the administrator chose must bind.
async fn bind_tftp(args: &ServeArgs) -> anyhow::Result<Option<tokio::net::UdpSocket>> {
    let (listen, chosen) = match args.tftp_listen {
        Some(Listen(None)) => return Ok(None),
        Some(Listen(Some(a))) => (a, true),
        None => (SocketAddr::from(([0, 0, 0, 0], 69)), false),
    };
    match tokio::net::UdpSocket::bind(listen).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if !chosen && e.kind() == std::io::ErrorKind::PermissionDenied => {
            tracing::warn!(
                "TFTP not started: binding {listen} needs root or CAP_NET_BIND_SERVICE ({e}); phones still get \
                 their files over HTTP; pass --tftp-listen ADDR:PORT or off"
            );
            Ok(None)
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("starting TFTP on {listen}"))),
    }
}

/// Connections at once for the HTTP and TVS listeners: phones fetch a few small files each.
fn connection_limits(args: &ServeArgs) -> opencapf_net::Limits {
    opencapf_net::Limits {
        max_connections: 4096,
        max_per_source: args.max_per_source(),
        when_full: opencapf_net::WhenFull::Close,
    }
}

/// Where phones are told the services are: the advertised name and the ports actually bound
/// (the standard port for a listener that is off).
async fn endpoints(
    store: &Cluster,
    args: &ServeArgs,
    capf: SocketAddr,
    callmanager: &CallManagerServer,
    tvs: Option<&opencapf_net::Listener>,
) -> anyhow::Result<opencapf_cluster::Endpoints> {
    let host = match &args.advertise {
        Some(h) => h.clone(),
        None => store.settings().await?.hostname,
    };
    let mut e = opencapf_cluster::Endpoints::standard(&host);
    let bound = callmanager.addrs();
    e.capf_port = capf.port();
    e.sip_port = bound.sip_tcp.map_or(e.sip_port, |a| a.port());
    e.secured_sip_port = bound.sip_tls.map_or(e.secured_sip_port, |a| a.port());
    e.sccp_port = bound.sccp_tcp.map_or(e.sccp_port, |a| a.port());
    e.tvs_port = tvs.map_or(e.tvs_port, |t| t.local_addr().port());
    Ok(e)
}

/// Records this node in the cluster (`opencapf nodes`, the phones' CallManager group).
async fn join(
    store: &Cluster,
    args: &ServeArgs,
    at: &opencapf_cluster::Endpoints,
    http: Option<&opencapf_net::Listener>,
    admin: Option<&opencapf_net::Listener>,
) -> anyhow::Result<Membership> {
    let addresses = opencapf_model::NodeAddresses {
        host: at.host.clone(),
        capf_port: at.capf_port,
        sip_port: at.sip_port,
        secured_sip_port: at.secured_sip_port,
        sccp_port: at.sccp_port,
        tvs_port: at.tvs_port,
        http_port: http.map(|h| h.local_addr().port()),
        admin_port: admin.map(|a| a.local_addr().port()),
    };
    let joining = Joining {
        name: node_name(args),
        addresses,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        heartbeat: Duration::from_secs(u64::from(args.heartbeat_secs)),
    };
    store.join(joining).await.context("joining the cluster")
}

/// `--node-name`, else the system's hostname.
fn node_name(args: &ServeArgs) -> String {
    args.node_name.clone().unwrap_or_else(opencapf_cluster::system_hostname)
}

/// This node's heartbeat, every interval until the task is aborted at shutdown.
async fn keep_beating(membership: Membership) {
    let mut every = tokio::time::interval(membership.interval());
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lost = false;
    loop {
        every.tick().await;
        match membership.beat().await {
            Ok(true) => lost = false,
            Ok(false) if !lost => {
                lost = true;
                tracing::error!(
                    "node '{}' missed too many heartbeats and its name was taken over by another node",
                    membership.name()
                );
            }
            Ok(false) => {}
            Err(e) => tracing::warn!("heartbeat of node '{}' not recorded: {e}", membership.name()),
        }
    }
}

/// Deletes registration records older than `keep_days` (0: none), at start and every hour.
async fn prune_registrations(store: Cluster, keep_days: u32) {
    if keep_days == 0 {
        return;
    }
    let keep = time::Duration::days(i64::from(keep_days));
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.prune_registrations(keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "deleted {n} registration records older than {keep_days} days"),
            Err(e) => tracing::warn!("could not delete old registration records: {e}"),
        }
    }
}

/// How often LSCs left `issued` by a session whose claim expired are failed.
const RECOVERY_EVERY: Duration = Duration::from_secs(30);

/// Fails the LSCs sent but never confirmed by a session that is gone (crash safety, issue 15).
async fn recover_interrupted(store: &Cluster) -> anyhow::Result<()> {
    let recovered = store.recover_interrupted(opencapf_model::now()).await?;
    for r in &recovered {
        tracing::warn!(
            device = %r.device,
            serial = %r.serial,
            "LSC {} of {} not installed: {}; schedule the operation again",
            r.serial,
            r.device,
            opencapf_cluster::UNCONFIRMED
        );
    }
    Ok(())
}

/// [`recover_interrupted`] every [`RECOVERY_EVERY`]: claims of crashed sessions (this node's
/// or another's on a shared database) expire while the server runs. And the key files: those
/// another node made are restored ahead of use, those this node made sealed for the others.
async fn keep_recovering(store: Cluster) {
    let mut every = tokio::time::interval(RECOVERY_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        if let Err(e) = recover_interrupted(&store).await {
            tracing::warn!("could not recover interrupted installs: {e:#}");
        }
        match store.sync_keys().await {
            Ok(sync) => {
                for name in &sync.restored {
                    tracing::info!("key {name} restored from the database (made by another node)");
                }
            }
            Err(e) => tracing::warn!("could not share the key files with the other nodes: {e:#}"),
        }
    }
}

/// Every connection is a descriptor: the soft limit goes up to the hard one, so that a flood of
/// idle connections meets the per-address limits before the process runs out of descriptors.
fn raise_descriptor_limit() {
    match opencapf_net::raise_descriptor_limit() {
        Ok(l) if l.now > l.before => {
            tracing::info!(
                before = l.before,
                now = l.now,
                hard = l.hard,
                "descriptor limit raised from {} to {}",
                l.before,
                l.now
            )
        }
        Ok(l) => {
            tracing::info!(now = l.now, hard = l.hard, "descriptor limit {} (the hard limit is {})", l.now, l.hard)
        }
        Err(e) => tracing::warn!(error = %e, "could not raise the descriptor limit"),
    }
}

/// The cluster of the data folder; a new one with default settings when there is none yet in the
/// default folder, or with `--init`. A folder the user named is never turned into a second
/// cluster by a typo.
async fn open_or_create(ctx: &Context, init_flag: bool) -> anyhow::Result<Cluster> {
    let named = ctx.data_dir_named || ctx.named_database().is_some();
    match Cluster::open_with(&ctx.data_dir, &ctx.database).await {
        Ok(store) => return Ok(store),
        Err(StoreError::NoCluster(_)) if init_flag || !named => {}
        Err(StoreError::NoCluster(_)) => anyhow::bail!(
            "no cluster in {}: pass `serve --init` to create one there with default settings, or create it \
             with `opencapf init`",
            ctx.named_database().map_or_else(|| ctx.data_dir.display().to_string(), ToString::to_string)
        ),
        Err(e) => return Err(e.into()),
    }
    let options = InitOptions {
        capf_key: CAPF_DEFAULT_KEY,
        subject: SubjectFields { organization: Some("OpenCAPF".into()), ..SubjectFields::default() },
        hostname: opencapf_cluster::system_hostname(),
        manufacturer_cas: Vec::new(),
        actor: cli_actor(),
    };
    let report = init_with(&ctx.data_dir, ctx.named_database(), options).await?;
    println!(
        "No cluster in {}: created one with default settings (CAPF certificate {})",
        report.data_dir.display(),
        report.capf.common_name
    );
    // In the log, so that a log shipper reading `--log-format json` gets JSON only.
    tracing::warn!("{}", super::init::NO_MANUFACTURER);
    Ok(Cluster::open_with(&ctx.data_dir, &ctx.database).await?)
}
