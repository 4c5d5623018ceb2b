//! `opencapf phone init|boot|capf|register|delete-lsc|factory-reset|show`: the phone simulator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use opencapf_capf::client::TlsVersions;
use opencapf_model::{Protocol, SecurityMode};
use opencapf_phone::{
    BootOptions, BootReport, CapfOptions, DeviceCertificate, InitOptions, MicSource, Phone, PhoneCredentials,
    RegisterOptions, TlsEngine, TlsFamily, DEFAULT_CAPF_SERVER, HTTP_PORT, TFTP_PORT,
};
use opencapf_pki::{DeviceName, KeyAlgorithm};

use super::Context;
use crate::output;

#[derive(Subcommand)]
pub(crate) enum PhoneCommand {
    /// Create a phone folder: its MIC (from the cluster's lab manufacturer, or --mic/--mic-key), its
    /// ITL, which is its trust list (the cluster's ITLFile.tlv, as if it had booted from this
    /// cluster once; --itl FILE; or none with --factory) and phone.json
    Init(InitArgs),
    /// Boot like a phone: fetch CTLSEP<MAC>.tlv, then ITLSEP<MAC>.tlv or ITLFile.tlv (HTTP on
    /// --http-port first, TFTP on --tftp-port on any failure) and install the ITL as a phone does
    /// (a phone with none trusts the first; a later one must be signed by a SAST it holds, or be
    /// vouched for by its cluster's TVS, else it is refused and the old one kept); fetch
    /// SEP<MAC>.cnf.xml.sgn verified against the ITL (the unsigned file without an ITL); run CAPF
    /// when the configuration names a pending operation (capfAuthMode); then register each line
    /// at the configured CallManager. Servers are trusted by ITL role, or by TVS. Logs in
    /// console.log in the phone's words; exits 1 when the boot does not end registered
    Boot(BootArgs),
    /// Run one CAPF session as the phone does (Install/Upgrade, Delete, Troubleshoot: whatever the
    /// server has scheduled) and print the outcome; exits 1 when the session failed
    Capf(CapfArgs),
    /// Register to CallManager once, as the phone's security profile says: Authenticated or
    /// Encrypted over TLS (SIP 5061, SCCP 2443) presenting the LSC, or the MIC when there is no
    /// LSC; Non Secure over TCP (SIP 5060, SCCP 2000). Prints the result and logs it in
    /// console.log; exits 1 when CallManager refuses or cannot be reached
    Register(RegisterArgs),
    /// Forget the phone's LSC, as its settings page does; it then presents its MIC
    DeleteLsc {
        /// The phone folder
        dir: PathBuf,
    },
    /// Erase the LSC, the trust list (ITL), the configuration and the TVS cache, as a factory
    /// reset does; the MIC stays. The next boot trusts the first ITL it is given
    FactoryReset {
        /// The phone folder
        dir: PathBuf,
    },
    /// The phone's name, the certificate it presents, its LSC and MIC, its ITL and configuration
    Show {
        /// The phone folder
        dir: PathBuf,
    },
}

#[derive(Args)]
pub(crate) struct InitArgs {
    /// Folder to create (it must not exist, or be empty)
    pub dir: PathBuf,
    /// Device name: SEP followed by the 12 hex digits of the MAC address
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "CP-8861")]
    pub model: String,
    /// The phone's MIC (PEM or DER) instead of one from the cluster's lab manufacturer
    #[arg(long, value_name = "CERT", requires = "mic_key")]
    pub mic: Option<PathBuf>,
    /// The MIC's private key (PEM)
    #[arg(long, value_name = "KEY", requires = "mic")]
    pub mic_key: Option<PathBuf>,
    /// Key of a lab MIC: rsa2048 like Cisco's, or another size or curve
    #[arg(long, default_value = "rsa2048", conflicts_with = "mic", ignore_case = true)]
    pub mic_key_type: KeyAlgorithm,
    /// The ITL (ITLFile.tlv) the phone holds from the start instead of this cluster's, e.g.
    /// another cluster's from `opencapf trust export-itl`
    #[arg(long, value_name = "FILE", conflicts_with = "factory")]
    pub itl: Option<PathBuf>,
    /// A phone in factory state: no ITL; it trusts the first ITL it boots with
    #[arg(long)]
    pub factory: bool,
    /// The CAPF server the phone contacts by default
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_CAPF_SERVER)]
    pub server: String,
}

#[derive(Args)]
pub(crate) struct BootArgs {
    /// The phone folder
    pub dir: PathBuf,
    /// The provisioning server (DHCP option 150): host name or address
    #[arg(long, value_name = "HOST")]
    pub server: String,
    /// HTTP port, tried first
    #[arg(long, value_name = "PORT", default_value_t = HTTP_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    pub http_port: u16,
    /// TFTP port, tried when HTTP fails
    #[arg(long, value_name = "PORT", default_value_t = TFTP_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    pub tftp_port: u16,
    /// TFTP only, as old firmware
    #[arg(long)]
    pub no_http: bool,
    /// The authentication string to type when the configuration asks for one (capfAuthMode 1)
    #[arg(long, value_name = "DIGITS")]
    pub auth_string: Option<String>,
    /// Keep the SIP registration until Ctrl-C or SIGTERM; CallManager's Reset or Restart boots
    /// the phone again, Apply Config fetches the configuration again
    #[arg(long)]
    pub stay: bool,
    /// Bound, in seconds, of every fetch, TVS question, CAPF message and registration step
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// TLS of CAPF and registration: 1.0 (OpenSSL, as 79xx phones), 1.2, 1.3 or both (default:
    /// the model's)
    #[arg(long, value_enum)]
    pub tls: Option<TlsChoice>,
}

#[derive(Args)]
pub(crate) struct CapfArgs {
    /// The phone folder
    pub dir: PathBuf,
    /// CAPF server (default: the one in phone.json); the port defaults to 3804
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: Option<String>,
    /// By Authentication String: the 4 to 10 digits typed on the phone
    #[arg(long, value_name = "DIGITS", conflicts_with_all = ["prefer_mic", "null_string"])]
    pub auth_string: Option<String>,
    /// By Existing Certificate (Precedence to MIC): authenticate with the MIC even if there is an
    /// LSC. Without it the phone uses its LSC if it has one, else its MIC (Precedence to LSC).
    #[arg(long, conflicts_with = "null_string")]
    pub prefer_mic: bool,
    /// By Null String: send no credentials (an empty authentication string)
    #[arg(long)]
    pub null_string: bool,
    /// Send RequestInProgress every this many seconds while generating a key (0: never)
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub progress_interval: f64,
    /// Make key generation last at least this many seconds, like an old phone
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub keygen_delay: f64,
    /// Wait at most this many seconds for each message of the server
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// TLS versions to offer: 1.0 (OpenSSL, AES-SHA, as 79xx phones), or 1.2, 1.3, both (default:
    /// the model's, 1.0 for 79xx/69xx/89xx/99xx, both otherwise)
    #[arg(long, value_enum)]
    pub tls: Option<TlsChoice>,
}

#[derive(Args)]
pub(crate) struct RegisterArgs {
    /// The phone folder
    pub dir: PathBuf,
    /// CallManager: HOST, or HOST:PORT to use another port than the standard one (default: the
    /// host of the phone's CAPF server)
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: Option<String>,
    /// Port to contact instead of the standard one (SIP 5061 TLS / 5060 TCP, SCCP 2443 TLS / 2000 TCP)
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Call-control protocol: sip or sccp (the device must be configured for it)
    #[arg(long, default_value = "sip", ignore_case = true)]
    pub protocol: Protocol,
    /// Device Security Mode of the phone's security profile: non-secure (TCP), authenticated or
    /// encrypted (TLS with the LSC, else the MIC)
    #[arg(long, default_value = "non-secure", ignore_case = true)]
    pub security: SecurityMode,
    /// TLS versions to offer: 1.0 (OpenSSL, AES-SHA, NULL-SHA too when authenticated, as 79xx
    /// phones), or 1.2, 1.3, both (default: 1.0 for a 79xx/69xx/89xx/99xx model; else both when
    /// encrypted, 1.2 when authenticated, 1.2 for an RSA key under 2048 bits)
    #[arg(long, value_enum)]
    pub tls: Option<TlsChoice>,
    /// Wait at most this many seconds to connect, for the handshake, and for the answer
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// SIP Expires to ask for, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub expires: u32,
    /// SIP: keep the registration until Ctrl-C or SIGTERM (refreshes, and acts on CallManager's
    /// Reset, Restart and Apply Config, logging them in console.log)
    #[arg(long)]
    pub stay: bool,
}

pub(crate) async fn run(ctx: &Context, cmd: PhoneCommand) -> anyhow::Result<()> {
    match cmd {
        PhoneCommand::Init(args) => init(ctx, args).await,
        PhoneCommand::Capf(args) => capf(ctx, args).await,
        PhoneCommand::Register(args) => register(ctx, args).await,
        PhoneCommand::DeleteLsc { dir } => delete_lsc(ctx, &dir),
        PhoneCommand::Boot(args) => boot(ctx, args).await,
        PhoneCommand::FactoryReset { dir } => factory_reset(ctx, &dir),
        PhoneCommand::Show { dir } => show(ctx, &dir),
    }
}

async fn init(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    let device: DeviceName = args.name.parse()?;
    if args.dir.exists() && std::fs::read_dir(&args.dir)?.next().is_some() {
        bail!("{} already exists and is not empty; refusing to overwrite a phone folder", args.dir.display());
    }
    let mut store = None;
    let mic = match (args.mic, args.mic_key) {
        (Some(cert), Some(key)) => MicSource::Files { cert, key },
        _ => {
            let key = args.mic_key_type;
            let s = store
                .insert(ctx.cluster().await.context("a lab MIC comes from the cluster (or pass --mic and --mic-key)")?);
            // A 79xx-era model's MIC comes from the older SHA-1 CA, as its real MIC would.
            let (signer, _) = super::mfg::lab_signer(s, &args.model).await?;
            MicSource::LabManufacturer { signer: Box::new(signer), key }
        }
    };
    // The phone's trust list is its ITL: by default the one this cluster serves, as if the phone
    // had booted from it once.
    let itl = match &args.itl {
        Some(file) => Some(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?),
        None if args.factory => None,
        None => {
            let s = match &store {
                Some(s) => s,
                None => store.insert(
                    ctx.cluster().await.context("the ITL comes from the cluster (or pass --itl FILE or --factory)")?,
                ),
            };
            Some(s.itl_file().await?)
        }
    };
    let opts = InitOptions {
        device_name: device,
        model: args.model,
        mic,
        itl,
        factory: args.factory,
        capf_server: Some(args.server),
    };
    let phone = Phone::init(&args.dir, opts)?;
    if let Some(s) = store {
        s.close().await;
    }
    if ctx.json {
        return output::json(&phone.summary()?);
    }
    let mic = phone.mic()?;
    outln!("Created phone {} ({}) in {}", phone.device_name(), phone.config().model, args.dir.display());
    outln!("  MIC: {} (issuer {})", mic.info.subject, mic.info.issuer);
    let family = TlsFamily::of_model(&phone.config().model);
    if let Some(profile) = family.legacy_profile() {
        outln!("  TLS: 1.0 only, {} (OpenSSL; `--tls 1.2` for rustls)", profile.suites());
    }
    if args.factory {
        outln!("  trusts: nothing yet (factory state: the first ITL it boots with)");
    }
    for e in phone.itl_entries()? {
        outln!("  trusts (ITL): {} {}", e.role, e.subject);
    }
    if !mic.info.subject_cn.as_deref().is_some_and(|cn| cn.ends_with(phone.device_name().as_str())) {
        errln!(
            "warning: the MIC's common name does not end with {}: CAPF will not bind it to this device",
            phone.device_name()
        );
    }
    Ok(())
}

fn seconds(what: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| anyhow!("--{what} {s}: give a number of seconds, 0 or more"))
}

async fn capf(ctx: &Context, args: CapfArgs) -> anyhow::Result<()> {
    let phone = Phone::open(&args.dir)?;
    let credentials = match (&args.auth_string, args.null_string) {
        (Some(digits), _) => PhoneCredentials::AuthString(digits.clone()),
        (None, true) => PhoneCredentials::NullString,
        (None, false) => PhoneCredentials::ExistingCertificate { prefer_mic: args.prefer_mic },
    };
    let mut opts = CapfOptions::new(credentials);
    opts.server = args.server;
    let interval = seconds("progress-interval", args.progress_interval)?;
    opts.progress_interval = (!interval.is_zero()).then_some(interval);
    opts.min_keygen_time = seconds("keygen-delay", args.keygen_delay)?;
    if args.timeout == 0 {
        bail!("--timeout must be at least 1 second");
    }
    opts.message_timeout = Duration::from_secs(args.timeout);
    let (engine, versions) = engine(args.tls);
    opts.engine = engine;
    if let Some(v) = versions {
        opts.tls_versions = v;
    }
    let report = phone.capf(opts).await?;
    if ctx.json {
        output::json(&report)?;
    } else {
        outln!("{}", report.summary);
        let mut details = Vec::new();
        if let Some(id) = report.session_id {
            details.push(format!("session {id}"));
        }
        if let (Some(v), Some(c)) = (&report.tls_version, &report.cipher) {
            details.push(format!("{v} {c}"));
        }
        details.push(format!("credentials: {}", report.credentials));
        if let Some(k) = &report.key {
            details.push(format!("{k} key, {} RequestInProgress", report.requests_in_progress));
        }
        outln!("  {} ({})", report.server, details.join(", "));
    }
    if !report.success {
        bail!("{}", if ctx.json { report.summary.as_str() } else { "the CAPF session failed" });
    }
    Ok(())
}

/// `--tls`: the TLS versions a phone offers.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum TlsChoice {
    /// TLS 1.0 through OpenSSL, as 79xx phones.
    #[value(name = "1.0")]
    Tls10,
    #[value(name = "1.2")]
    Tls12,
    #[value(name = "1.3")]
    Tls13,
    #[value(name = "both", alias = "1.2,1.3", alias = "1.3,1.2")]
    Both,
}

/// The engine and rustls versions of `--tls`; without it, the model's engine and the defaults.
fn engine(tls: Option<TlsChoice>) -> (TlsEngine, Option<TlsVersions>) {
    match tls {
        None => (TlsEngine::ByModel, None),
        Some(TlsChoice::Tls10) => (TlsEngine::Legacy, None),
        Some(TlsChoice::Tls12) => (TlsEngine::Rustls, Some(TlsVersions::Tls12Only)),
        Some(TlsChoice::Tls13) => (TlsEngine::Rustls, Some(TlsVersions::Tls13Only)),
        Some(TlsChoice::Both) => (TlsEngine::Rustls, Some(TlsVersions::Tls12And13)),
    }
}

async fn register(ctx: &Context, args: RegisterArgs) -> anyhow::Result<()> {
    let phone = Phone::open(&args.dir)?;
    let mut opts = RegisterOptions::new(args.protocol, args.security);
    opts.server = args.server;
    opts.port = args.port;
    (opts.engine, opts.tls_versions) = engine(args.tls);
    opts.timeout = Duration::from_secs(args.timeout);
    opts.expires = args.expires;
    if args.stay && args.protocol != Protocol::Sip {
        bail!("--stay keeps SIP registrations only");
    }
    let (report, kept) = phone.register_keeping(&opts, args.stay).await?;
    if ctx.json {
        output::json(&report)?;
    } else {
        outln!("{}", report.summary);
        let mut details = vec![format!("{} {}", report.protocol, report.transport), report.security.clone()];
        if let (Some(v), Some(c)) = (&report.tls_version, &report.cipher) {
            details.push(format!("{v} {c}"));
        }
        if let Some(c) = &report.certificate {
            details.push(format!("cert {} issued by {}, serial {}", c.kind, c.issuer, c.serial));
        }
        outln!("  {} ({})", report.server, details.join(", "));
    }
    if !report.registered() {
        bail!("{}", if ctx.json { report.summary.as_str() } else { "the registration did not succeed" });
    }
    if let Some(kept) = kept {
        errln!("Staying registered; stop with Ctrl-C or SIGTERM");
        let stop = stop_signal()?;
        phone.stay(&opts, kept, stop).await?;
    }
    Ok(())
}

fn delete_lsc(ctx: &Context, dir: &Path) -> anyhow::Result<()> {
    let phone = Phone::open(dir)?;
    let lsc = phone.lsc()?;
    let deleted = phone.delete_lsc()?;
    if ctx.json {
        return output::json(&serde_json::json!({
            "device_name": phone.device_name().as_str(),
            "deleted": deleted,
            "serial": lsc.as_ref().map(|l| l.info.serial.clone()),
            "presents": phone.would_present(),
        }));
    }
    match lsc {
        Some(l) if deleted => outln!(
            "Deleted the LSC of {} (serial {}, issuer {}); the phone now presents its MIC",
            phone.device_name(),
            l.info.serial,
            l.info.issuer
        ),
        _ => outln!("{} has no LSC; it presents its MIC", phone.device_name()),
    }
    Ok(())
}

fn cert_fields(pairs: &mut Vec<(&'static str, String)>, labels: [&'static str; 4], c: &DeviceCertificate) {
    let t = c.info.not_after;
    let left = output::days_left(t);
    let expiry = if left < 0 {
        format!("{} (EXPIRED {} days ago)", output::short_date(t), -left)
    } else {
        format!("{} ({left} days)", output::short_date(t))
    };
    pairs.push((labels[0], c.info.subject.clone()));
    pairs.push((labels[1], c.info.issuer.clone()));
    pairs.push((labels[2], format!("{} ({})", c.info.serial, c.info.key)));
    pairs.push((labels[3], expiry));
}

fn show(ctx: &Context, dir: &Path) -> anyhow::Result<()> {
    let phone = Phone::open(dir)?;
    if ctx.json {
        return output::json(&phone.summary()?);
    }
    let lsc = phone.lsc()?;
    let mic = phone.mic()?;
    let presents = match &lsc {
        Some(_) => "LSC (to CallManager, and to CAPF by existing certificate)",
        None => "MIC (no LSC)",
    };
    let mut pairs: Vec<(&str, String)> = vec![
        ("Device name", phone.device_name().to_string()),
        ("Model", phone.config().model.clone()),
        ("TLS", tls_words(TlsFamily::of_model(&phone.config().model))),
        ("Folder", dir.display().to_string()),
        ("CAPF server", phone.config().capf_server.clone()),
        ("Presents", presents.to_string()),
    ];
    match &lsc {
        Some(l) => cert_fields(&mut pairs, ["LSC subject", "LSC issuer", "LSC serial", "LSC expires"], l),
        None => pairs.push(("LSC", "none".into())),
    }
    cert_fields(&mut pairs, ["MIC subject", "MIC issuer", "MIC serial", "MIC expires"], &mic);
    let summary = phone.summary()?;
    for e in &summary.itl {
        pairs.push(("ITL record", format!("{} {}", e.role, e.subject)));
    }
    if summary.itl.is_empty() {
        pairs.push(("ITL", "none (factory state)".into()));
    }
    for e in &summary.tvs_cache {
        pairs.push(("TVS vouched", format!("{} [{}] until {}", e.subject, e.roles.join(","), e.expires)));
    }
    match &summary.config {
        Some(c) => {
            pairs.push((
                "Config",
                format!(
                    "{} {}, CallManager {}",
                    c.protocol,
                    c.security_mode,
                    c.call_manager.as_deref().unwrap_or("none")
                ),
            ));
            pairs.push(("Lines", if c.lines.is_empty() { "none".into() } else { c.lines.join(", ") }));
            pairs.push((
                "Pending CAPF",
                c.pending_capf.map_or_else(|| "none".into(), |m| format!("capfAuthMode {}", m.code())),
            ));
        }
        None => pairs.push(("Config", "none (not booted)".into())),
    }
    output::fields(&pairs);
    Ok(())
}

fn tls_words(family: TlsFamily) -> String {
    match family.legacy_profile() {
        Some(p) => format!("1.0 (OpenSSL, {})", p.suites()),
        None => "1.2 and 1.3 (rustls)".into(),
    }
}

fn factory_reset(ctx: &Context, dir: &Path) -> anyhow::Result<()> {
    let phone = Phone::open(dir)?;
    phone.factory_reset()?;
    if ctx.json {
        return output::json(&phone.summary()?);
    }
    outln!("Factory reset {}: LSC, trust list, configuration and TVS cache erased; the MIC stays", phone.device_name());
    Ok(())
}

async fn boot(ctx: &Context, args: BootArgs) -> anyhow::Result<()> {
    let phone = Phone::open(&args.dir)?;
    let mut opts = BootOptions::new(args.server);
    opts.http_port = args.http_port;
    opts.tftp_port = args.tftp_port;
    opts.http = !args.no_http;
    opts.auth_string = args.auth_string;
    opts.timeout = Duration::from_secs(args.timeout);
    (opts.engine, opts.tls_versions) = engine(args.tls);
    let (report, booted) =
        if args.stay { phone.boot_keeping_registration(&opts).await? } else { (phone.boot(&opts).await?, None) };
    if ctx.json {
        output::json(&report)?;
    } else {
        print_boot(&report);
    }
    if let Some(failure) = &report.failure {
        bail!("{}", opencapf_model::printable(failure));
    }
    if let Some(booted) = booted {
        errln!("Staying registered; stop with Ctrl-C or SIGTERM");
        let stop = stop_signal()?;
        phone.stay_booted(&opts, booted, stop).await?;
    } else if args.stay {
        errln!("warning: only SIP registrations are kept; the phone is not staying");
    }
    Ok(())
}

fn print_boot(r: &BootReport) {
    let state = if r.registered { "registered" } else { "not registered" };
    outln!("Booted {}: {state}", r.device_name);
    for f in &r.files {
        outln!("  {} via {}: {}", f.name, f.via, opencapf_model::printable(&f.result));
    }
    outln!("  ITL: {}", serde_json::to_value(&r.itl).map(|v| itl_words(&v)).unwrap_or_default());
    outln!("  Config: {}", serde_json::to_value(&r.config).map(|v| itl_words(&v)).unwrap_or_default());
    if let Some(c) = &r.capf {
        outln!("  CAPF: {}", c.summary);
    }
    for reg in &r.registrations {
        outln!("  Registration: {}", reg.summary);
    }
}

/// `{"outcome": "updated_by_sast"}` → `updated by sast`; with its detail after a colon.
fn itl_words(v: &serde_json::Value) -> String {
    let outcome = v["outcome"].as_str().unwrap_or("?").replace('_', " ");
    match v["detail"].as_str() {
        Some(d) => format!("{outcome}: {}", opencapf_model::printable(d)),
        None => outcome,
    }
}

/// Completes on Ctrl-C or SIGTERM: what ends a phone kept registered.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    })
}
