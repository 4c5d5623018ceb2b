//! The command line, as clap reads it. Help texts are written for the UC administrator.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use opencapf_model::{AuthMode, CertKind, CertificateOperation, KeyAlgorithm, KeyOrder, Protocol};
use opencapf_model::{SecurityMode, TrustStore};

#[derive(Parser)]
#[command(
    name = "opencapf",
    version,
    about = "OpenCAPF: the phone-certificate system of a CUCM cluster (CAPF, LSCs, MICs, trust stores)",
    long_about = "OpenCAPF issues Locally Significant Certificates (LSC) to IP phones that prove themselves with \
                  their Manufacturer Installed Certificate (MIC), an authentication string or an older LSC, and keeps \
                  the CallManager-trust and CAPF-trust stores that decide which phones are accepted.\n\n\
                  Start with `opencapf init`, then `opencapf status`.",
    after_long_help = "Environment:\n  OPENCAPF_DATA_DIR      the cluster's folder (as --data-dir)\n  \
                       OPENCAPF_DATABASE_URL  the cluster database (as --database)\n  \
                       OPENCAPF_CONFIG        the configuration file (as --config)\n  \
                       RUST_LOG               what `serve` logs on standard error: error, warn, info (default), debug, \
                           trace, or per module (RUST_LOG=opencapf_capf=debug)"
)]
pub(crate) struct Cli {
    /// Folder of the cluster (database and private keys)
    #[arg(long, global = true, env = "OPENCAPF_DATA_DIR", default_value = "./opencapf-data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// The cluster database: `postgres://USER:PASSWORD@HOST:PORT/NAME` for a cluster of several
    /// nodes sharing one PostgreSQL database (each node keeps the private keys in its --data-dir),
    /// or `sqlite://PATH`. Default: cluster.db in the data folder, no setup
    #[arg(long, global = true, env = "OPENCAPF_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,

    /// Print read commands' results as JSON
    #[arg(long, global = true)]
    pub json: bool,

    /// Configuration file (TOML): `data_dir` and, in [serve], any flag of `serve`; flags and
    /// environment variables override it. No file is read unless named here or by OPENCAPF_CONFIG
    /// (the systemd unit names /etc/opencapf/opencapf.toml). `opencapf config example` prints one
    #[arg(long, global = true, env = "OPENCAPF_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// An on/off setting.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Switch {
    On,
    Off,
}

impl Switch {
    pub(crate) fn is_on(self) -> bool {
        self == Switch::On
    }
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Create the cluster: CAPF, CallManager, ITLRecovery and TVS certificates, the trust stores
    Init(InitArgs),
    /// Show the CAPF certificate, store sizes, devices by LSC state and pending operations
    Status,
    /// Manage the trust stores (CallManager-trust, CAPF-trust, Phone-SAST-trust, EST-trust)
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Systems outside the cluster that trust its CAPF certificates (FreeRADIUS, ISE, ASA): what
    /// each was exported and whether it was confirmed applied
    #[command(subcommand)]
    Consumer(ConsumerCommand),
    /// Manage devices (phones) and their CAPF operations
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The cluster as a whole: `cluster export-bundle` for a cluster migration
    #[command(subcommand)]
    Cluster(crate::cmd::cluster::ClusterCommand),
    /// Cluster migration: move phones from another cluster to this one by a guided plan
    /// (`migrate plan --from BUNDLE`, `migrate start`, `migrate status`, `migrate finish`)
    #[command(subcommand, long_about = crate::cmd::migrate::ABOUT)]
    Migrate(crate::cmd::migrate::MigrateCommand),
    /// The CAPF certificate: show, regenerate, reissue LSCs from retired CAPF certificates
    #[command(subcommand)]
    Capf(CapfCommand),
    /// Certificates: the cluster's own (`cert own`, as CUCM's `show cert own`), and files (`cert inspect`)
    #[command(subcommand)]
    Cert(CertCommand),
    /// The lab manufacturer: a stand-in for Cisco's factory, issuing MICs for labs and tests
    #[command(subcommand)]
    Mfg(MfgCommand),
    /// Run the cluster's services (CAPF on TCP 3804 inside TLS) until SIGINT or SIGTERM
    Serve(Box<crate::cmd::serve::ServeArgs>),
    /// The phone simulator: a phone folder with its MIC, LSC, ITL (its trust list), configuration and console log
    #[command(subcommand)]
    Phone(crate::cmd::phone::PhoneCommand),
    /// The nodes of the cluster (`serve` processes on one database): addresses, version, last heartbeat, state
    Nodes,
    /// Phone registrations to CallManager (registered, refused with the reason, unregistered), newest first
    Registrations(crate::cmd::registrations::RegistrationsArgs),
    /// Diagnose from what an administrator has: a packet capture or a phone console log
    #[command(subcommand)]
    Diagnose(crate::cmd::diagnose::DiagnoseCommand),
    /// Check the cluster's own state: what will break, for how many phones, and the remedy
    Doctor(crate::cmd::doctor::DoctorArgs),
    /// Measure performance (runs in a throw-away cluster; the data folder is not touched)
    #[command(subcommand)]
    Bench(crate::cmd::bench::BenchCommand),
    /// Show the audit log, newest first; `audit verify` checks its hash chain
    Audit(AuditArgs),
    /// Cluster settings: LSC validity, operation expiry, subject of new certificates, require_sudi
    #[command(subcommand)]
    Settings(crate::cmd::settings::SettingsCommand),
    /// Accounts and API tokens of the admin web pages and the REST API (`serve --admin-listen`)
    #[command(subcommand)]
    Admin(crate::cmd::admin::AdminCommand),
    /// EST (RFC 7030) for devices that do not speak CAPF: enrolment codes, approvals, and the
    /// phone simulator enrolling as such a device (`serve --est-listen`, 8444)
    #[command(subcommand)]
    Est(crate::cmd::est::EstCommand),
    /// The configuration file (opencapf.toml): an example, a check, the effective settings
    #[command(subcommand)]
    Config(crate::cmd::config::ConfigCommand),
    /// Print a shell completion script: `source <(opencapf completions bash)`
    Completions(crate::cmd::completions::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --out
    Man(crate::cmd::man::ManArgs),
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    /// How many entries
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the audit log's hash chain from its first record; exits 1 naming the first record
    /// that was changed or removed
    Verify,
}

#[derive(Args)]
pub(crate) struct InitArgs {
    /// Key of the CAPF certificate: rsa2048, rsa3072, rsa4096, ec256 or ec384
    #[arg(long, default_value = "rsa2048", ignore_case = true)]
    pub capf_key: KeyAlgorithm,
    /// Organization (O) of the CAPF and CallManager subjects, copied into every LSC
    #[arg(long, default_value = "OpenCAPF")]
    pub org: String,
    /// Organizational unit (OU)
    #[arg(long)]
    pub ou: Option<String>,
    /// Locality (L)
    #[arg(long)]
    pub locality: Option<String>,
    /// State or province (ST)
    #[arg(long)]
    pub state: Option<String>,
    /// Two-letter country code (C)
    #[arg(long)]
    pub country: Option<String>,
    /// Host name in the CallManager certificate (default: this machine's)
    #[arg(long)]
    pub hostname: Option<String>,
    /// Manufacturing CA to trust (PEM or DER file, or a folder of them); repeat for several.
    /// Cisco's are at Cisco's public PKI page: Cisco Manufacturing CA SHA2, Cisco Manufacturing CA,
    /// Cisco Root CA M2, Cisco Root CA 2048, ACT2 SUDI CA.
    #[arg(long, value_name = "FILE|DIR")]
    pub manufacturer_ca: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum TrustCommand {
    /// List the certificates of one store, or of every store
    List {
        /// CallManager-trust, CAPF-trust, Phone-SAST-trust or EST-trust
        #[arg(ignore_case = true)]
        store: Option<TrustStore>,
    },
    /// Add every certificate of a PEM or DER file to a store (an expired CA is added, with a warning).
    /// Phone-SAST-trust takes another cluster's ITLRecovery certificate, so that this cluster's TVS
    /// vouches for it and phones accept that cluster's ITL (a secure-to-secure migration).
    /// EST-trust takes the CAs of other makers' device certificates (IDevIDs) that may enrol over EST
    Add {
        /// CallManager-trust, CAPF-trust, Phone-SAST-trust or EST-trust
        #[arg(ignore_case = true)]
        store: TrustStore,
        file: PathBuf,
        /// Accept SHA-1 signatures under this anchor (default: on for manufacturing CAs, off otherwise)
        #[arg(long, ignore_case = true)]
        legacy_sha1: Option<Switch>,
    },
    /// Remove a certificate; refused while the current certificate (LSC, else MIC) of any device chains to it
    Remove {
        /// CallManager-trust, CAPF-trust, Phone-SAST-trust or EST-trust
        #[arg(ignore_case = true)]
        store: TrustStore,
        /// Common name, or at least 6 hex digits of the SHA-256 fingerprint
        cert: String,
        /// Remove it even if phones still depend on it (audited)
        #[arg(long)]
        force: bool,
    },
    /// Write the cluster's ITL (ITLFile.tlv, exactly as `serve` sends it: signed by ITLRecovery,
    /// the records phones trust by role), e.g. for `phone init --itl`, or for `openssl` to verify
    /// with `cert own itlrecovery`
    ExportItl {
        /// File to write (binary: required, as the ITL is no text for a terminal)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write a store as a PEM bundle, or (--for) what an 802.1X server or VPN head-end needs to
    /// judge phones' LSCs: the cluster's CAPF certificates in the store (active and retired,
    /// with the issuers of an enterprise-signed one) and their CRLs.
    ///
    /// --for freeradius: a folder with capf-ca.pem (the certificates, then the CRLs: FreeRADIUS
    /// reads both from its ca_file) and eap, an EAP-TLS module (tls-config with check_crl = yes)
    /// for FreeRADIUS 3 (/etc/freeradius/3.0/mods-available/eap).
    /// --for ise: a folder with one PEM per certificate, named after its CN, each CRL, and
    /// certificates.txt with what ISE's Trusted Certificates page shows.
    /// --for asa: `crypto ca trustpoint` / `crypto ca authenticate` with the PEM inline, and the
    /// `crypto ca certificate map` matching phones by CN (SEP…).
    ///
    /// With --consumer the export is recorded for that consumer (certificates, fingerprints, when;
    /// audited): `capf rollover status` and the removal of an old CAPF certificate read it
    Export {
        /// CallManager-trust, CAPF-trust, Phone-SAST-trust or EST-trust
        #[arg(ignore_case = true)]
        store: TrustStore,
        /// freeradius, ise, asa or pem (default: the consumer's kind, else pem)
        #[arg(long = "for", value_name = "FORMAT", ignore_case = true)]
        format: Option<opencapf_cluster::ExportFormat>,
        /// Record the export for this consumer (`opencapf consumer add`)
        #[arg(long, value_name = "NAME")]
        consumer: Option<String>,
        /// Folder to write (freeradius, ise: required), or file (asa, pem: default standard output)
        #[arg(long, value_name = "DIR|FILE")]
        out: Option<PathBuf>,
        /// FreeRADIUS: the server's own EAP certificate, as a path on the RADIUS server
        #[arg(long, value_name = "PATH", default_value = "/etc/ssl/certs/ssl-cert-snakeoil.pem")]
        radius_cert: String,
        /// FreeRADIUS: the server's own EAP key, as a path on the RADIUS server
        #[arg(long, value_name = "PATH", default_value = "/etc/ssl/private/ssl-cert-snakeoil.key")]
        radius_key: String,
        /// FreeRADIUS: the folder on the RADIUS server that will hold capf-ca.pem
        #[arg(long, value_name = "PATH", default_value = "${certdir}/opencapf")]
        radius_dir: String,
        /// ASA, ISE: the URL where you publish the CRLs (each as <URL>/<CAPF CN>.crl); without it
        /// the ASA's trustpoints say revocation-check none
        #[arg(long, value_name = "URL")]
        crl_url: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ConsumerCommand {
    /// Record a system that trusts the cluster's CAPF certificates to judge phones' LSCs
    Add {
        /// 1 to 64 letters, digits, '.', '_' or '-'
        name: String,
        /// freeradius, ise, asa or other: decides what `trust export --consumer` writes
        #[arg(long, ignore_case = true)]
        kind: opencapf_cluster::ConsumerKind,
    },
    /// The consumers, what each was last given and whether it was confirmed applied
    List,
    /// One consumer: its last export (certificates, fingerprints) and confirmation
    Show { name: String },
    /// Forget a consumer and its exports (the CAPF rollover no longer waits for it)
    Remove { name: String },
    /// Record that the consumer's last export was applied (it runs with those certificates)
    Confirm { name: String },
    /// Try the consumer live: an EAP-TLS attempt (eapol_test) with a 10-minute LSC the active
    /// CAPF certificate issues for no device. Success confirms its last export (audited); exit 1
    /// when the server refuses it
    Check {
        name: String,
        /// The RADIUS server (FreeRADIUS, ISE) to authenticate against
        #[arg(long, value_name = "HOST:PORT")]
        radius: String,
        /// The RADIUS shared secret of this machine as a client of that server
        #[arg(long, env = "OPENCAPF_RADIUS_SECRET", hide_env_values = true)]
        secret: String,
        /// Seconds to wait for the server's answer
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
pub(crate) enum RolloverCommand {
    /// The steps of the CAPF rollover, each with what it waits for and the command that does it
    Plan,
    /// Each step's state: the new CAPF certificate in both stores and the ITL, each consumer
    /// (exported? confirmed?), phones re-keyed and still on an old LSC, where the old CAPF
    /// certificate may be removed
    Status,
}

#[derive(Subcommand)]
pub(crate) enum DeviceCommand {
    /// Add a phone
    Add(DeviceAddArgs),
    /// Add phones from a CSV file with a header: name,model,protocol,security,description,lines
    /// (lines: directory numbers separated by spaces, line 1 first); an unknown column is an error.
    /// A CUCM BAT phone export is read too: DEVICE NAME, DESCRIPTION, DEVICE TYPE, DEVICE PROTOCOL,
    /// DEVICE SECURITY PROFILE and DIRECTORY NUMBER 1..N; its other columns are ignored
    Import {
        file: PathBuf,
        /// Skip devices that already exist instead of refusing the whole file
        #[arg(long)]
        skip_existing: bool,
    },
    /// List phones, optionally filtered by their LSC
    List(DeviceListArgs),
    /// Show one phone: settings, CAPF information, certificates, history
    Show {
        name: String,
        /// Refused: a string is kept only as a keyed hash, shown once when it is set
        #[arg(long, hide = true)]
        reveal_auth_string: bool,
    },
    /// Change a phone's model, protocol, Device Security Mode, description or firmware load (its
    /// certificates and CAPF information stay)
    Update {
        name: String,
        #[arg(long)]
        model: Option<String>,
        /// sip or sccp
        #[arg(long, ignore_case = true)]
        protocol: Option<Protocol>,
        /// Device Security Mode: non-secure, authenticated or encrypted
        #[arg(long, ignore_case = true)]
        security: Option<SecurityMode>,
        #[arg(long)]
        description: Option<String>,
        /// Firmware load its configuration file names (loadInformation), e.g. sip88xx.14-2-1-0001-14
        #[arg(long, value_name = "ID", conflicts_with = "no_load")]
        load: Option<String>,
        /// Name no firmware load: the phone keeps the one it runs
        #[arg(long)]
        no_load: bool,
    },
    /// Remove a phone
    Remove { name: String },
    /// Set the CAPF information of phones (CUCM's "Certificate Authority Proxy Function (CAPF) Information")
    Set(DeviceSetArgs),
    /// The certificates a phone uploaded with Troubleshoot, and its recorded LSC and MIC
    Certs {
        name: String,
        /// Also write each certificate as a PEM file into this folder
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Revoke an LSC this cluster issued: it is refused by CallManager and CAPF from now on, listed
    /// in its CAPF certificate's CRL, and the device has no LSC after it
    Revoke {
        name: String,
        /// Serial (hex) of the LSC to revoke (default: the device's installed LSC)
        #[arg(long)]
        serial: Option<String>,
    },
    /// Record a certificate a phone is known to hold (LSC or MIC), e.g. from another cluster
    RecordCert {
        name: String,
        file: PathBuf,
        /// Record it as this kind instead of classifying it
        #[arg(long, ignore_case = true)]
        r#as: Option<CertKind>,
    },
    /// A phone's lines (directory numbers), in button order
    #[command(subcommand)]
    Line(DeviceLineCommand),
    /// Reset registered SIP phones as CUCM's Reset/Restart/Apply Config does: a NOTIFY
    /// `service-control` on each phone's open connection to the running `opencapf serve`
    Reset(DeviceResetArgs),
}

#[derive(Subcommand)]
pub(crate) enum DeviceLineCommand {
    /// Add a line after the phone's last one
    Add {
        name: String,
        /// Directory number: digits, * and #, an optional leading +
        dn: String,
    },
    /// Remove a line; the lines after it move up one button
    Remove { name: String, dn: String },
}

#[derive(Args)]
pub(crate) struct DeviceResetArgs {
    /// Device names (SEP + 12 hex digits; also CSF, BOT, TCT, TAB, ATA and AN names)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub names: Vec<String>,
    /// Every phone registered now
    #[arg(long)]
    pub all: bool,
    /// Restart (re-read the configuration and register again) instead of a full reset
    #[arg(long, conflicts_with = "apply_config")]
    pub restart: bool,
    /// Apply Config: the phone applies configuration changes, restarting only if it must
    #[arg(long)]
    pub apply_config: bool,
}

#[derive(Args)]
pub(crate) struct DeviceAddArgs {
    /// SEP followed by the 12 hex digits of the phone's MAC address; also Jabber (CSF, BOT, TCT,
    /// TAB + 1 to 12 letters or digits) and analog adaptor (ATA, AN + 12 hex digits) names
    pub name: String,
    #[arg(long, default_value = "CP-8861")]
    pub model: String,
    /// sip or sccp
    #[arg(long, default_value = "sip", ignore_case = true)]
    pub protocol: Protocol,
    /// Device Security Mode: non-secure, authenticated or encrypted
    #[arg(long, default_value = "non-secure", ignore_case = true)]
    pub security: SecurityMode,
    #[arg(long, default_value = "")]
    pub description: String,
    /// A directory number for the next line button; repeat for several (line 1 first)
    #[arg(long = "line", value_name = "DN")]
    pub lines: Vec<String>,
    /// Firmware load its configuration file names (loadInformation), e.g. sip88xx.14-2-1-0001-14;
    /// without it the phone keeps the one it runs
    #[arg(long, value_name = "ID")]
    pub load: Option<String>,
}

/// Which LSCs `--lsc` keeps (the `lsc_state` values, and `expiring`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LscChoice {
    /// No LSC
    None,
    /// A valid LSC of this cluster
    #[value(alias = "this")]
    Valid,
    /// An LSC of this cluster past its end
    Expired,
    /// An LSC from another cluster's CAPF
    #[value(alias = "other")]
    Foreign,
    /// A valid LSC of this cluster ending within 30 days
    Expiring,
}

/// The column `device list --sort` sorts on.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SortChoice {
    Name,
    Model,
    /// Certificate Operation Status
    Status,
    LscExpiry,
    LastRegistration,
}

/// Find and List Phones: the filters `device list` shows by and `device set --match` changes by.
/// Text matches case-insensitively; every filter given must match.
#[derive(Args, Default)]
pub(crate) struct DeviceFilterArgs {
    /// Device names containing this (e.g. 8E1)
    #[arg(long = "name", value_name = "TEXT")]
    pub name_part: Option<String>,
    /// This model (the whole of it, e.g. CP-8861)
    #[arg(long = "model", value_name = "MODEL")]
    pub model_is: Option<String>,
    /// A line (directory number) containing this
    #[arg(long = "line", value_name = "DN")]
    pub line_part: Option<String>,
    /// none, valid (alias this), expired, foreign (alias other: another cluster's CAPF), or expiring
    /// (valid, ending within 30 days)
    #[arg(long, ignore_case = true)]
    pub lsc: Option<LscChoice>,
    /// LSCs whose issuer common name or subject contains this (e.g. CAPF-1a2b3c4d)
    #[arg(long, visible_alias = "lsc-issuer", value_name = "TEXT")]
    pub issuer: Option<String>,
    /// Only LSCs that expire before this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub lsc_expires_before: Option<String>,
    /// Certificate Operation Status containing this (e.g. Pending, Failed)
    #[arg(long, value_name = "TEXT")]
    pub status: Option<String>,
}

impl DeviceFilterArgs {
    pub(crate) fn is_empty(&self) -> bool {
        self.name_part.is_none()
            && self.model_is.is_none()
            && self.line_part.is_none()
            && self.lsc.is_none()
            && self.issuer.is_none()
            && self.lsc_expires_before.is_none()
            && self.status.is_none()
    }
}

#[derive(Args)]
pub(crate) struct DeviceListArgs {
    #[command(flatten)]
    pub filter: DeviceFilterArgs,
    /// Certificate Operation: install, delete, troubleshoot, none
    #[arg(long, ignore_case = true)]
    pub operation: Option<CertificateOperation>,
    /// Sort on: name (the default), model, status, lsc-expiry, last-registration
    #[arg(long, ignore_case = true, default_value = "name")]
    pub sort: SortChoice,
    /// Sort in descending order
    #[arg(long)]
    pub desc: bool,
    /// Show at most this many devices (1 to 1000; all of them without it)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Skip this many matching devices first (for pages, with --limit)
    #[arg(long, value_name = "N")]
    pub offset: Option<u64>,
    /// The CAPF report as CSV (RFC 4180): name, model, LSC issuer, serial, expiry, status, last registration
    #[arg(long)]
    pub csv: bool,
    /// Instead of the devices: the MACs that asked for a configuration file but are not devices
    /// (first and last seen, count, last source and file), to add with `device add`
    #[arg(long, conflicts_with_all = [
        "name_part", "model_is", "line_part", "lsc", "issuer", "lsc_expires_before", "status", "operation",
        "limit", "offset", "desc", "csv",
    ])]
    pub unknown_requests: bool,
}

#[derive(Args)]
pub(crate) struct DeviceSetArgs {
    /// Device names (SEP + 12 hex digits; also CSF, BOT, TCT, TAB, ATA and AN names)
    #[arg(required_unless_present_any = ["all", "match"], conflicts_with_all = ["all", "match"])]
    pub names: Vec<String>,
    /// Every device of the cluster
    #[arg(long, conflicts_with = "match")]
    pub all: bool,
    /// Every device the filter flags (--name, --model, --line, --lsc, --issuer, --status,
    /// --current-operation...) match, as Bulk Administration updates the phones of a query
    #[arg(long = "match")]
    pub r#match: bool,
    #[command(flatten)]
    pub filter: DeviceFilterArgs,
    /// With --match: devices whose Certificate Operation is this now (install, delete,
    /// troubleshoot, none)
    #[arg(long, ignore_case = true, value_name = "OPERATION", requires = "match")]
    pub current_operation: Option<CertificateOperation>,
    /// Certificate Operation: install (Install/Upgrade), delete, troubleshoot, none
    #[arg(long, ignore_case = true)]
    pub operation: Option<CertificateOperation>,
    /// Authentication Mode: string, null, lsc (existing certificate, precedence to LSC), mic
    #[arg(long, ignore_case = true)]
    pub auth: Option<AuthMode>,
    /// Authentication string: 4 to 10 digits, typed on the phone
    #[arg(long, value_name = "DIGITS", conflicts_with = "generate_auth_string")]
    pub auth_string: Option<String>,
    /// Generate a different authentication string for each device and print them
    #[arg(long)]
    pub generate_auth_string: bool,
    /// Key Order: rsa, ec, ec-rsa
    #[arg(long, ignore_case = true)]
    pub key_order: Option<KeyOrder>,
    /// RSA key size: 1024, 2048, 3072 or 4096
    #[arg(long)]
    pub rsa_bits: Option<u32>,
    /// EC key size: 256, 384 or 521
    #[arg(long)]
    pub ec_bits: Option<u32>,
    /// Operation Completes By (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)
    #[arg(long, value_name = "DATE", conflicts_with = "expires_in_days")]
    pub completes_by: Option<String>,
    /// Operation Completes By, in days from now (default: the cluster's CAPF Operation Expires in, 10)
    #[arg(long, value_name = "N")]
    pub expires_in_days: Option<u32>,
    /// Replace the operations already pending on the devices (without it, `device set` refuses,
    /// or asks on a terminal, naming how many it would replace)
    #[arg(long)]
    pub replace: bool,
}

#[derive(Subcommand)]
pub(crate) enum CapfCommand {
    /// Show the active and retired CAPF certificates
    Show,
    /// Make a new CAPF certificate the issuer; the old one is retired and stays in both stores
    Regenerate {
        /// Key of the new certificate (default: the same kind as the current one)
        #[arg(long, ignore_case = true)]
        capf_key: Option<KeyAlgorithm>,
    },
    /// Schedule Install/Upgrade (By Existing Certificate, Precedence to LSC) for every device whose
    /// LSC comes from a retired CAPF certificate
    Reissue {
        #[arg(long, value_name = "DATE", conflicts_with = "expires_in_days")]
        completes_by: Option<String>,
        #[arg(long, value_name = "N")]
        expires_in_days: Option<u32>,
    },
    /// Write the CRL of each CAPF certificate (active and retired), for ISE, FreeRADIUS or an ASA.
    ///
    /// Each CRL is signed by its CAPF certificate's key and lists the LSCs it issued that are no
    /// device's installed one any more (revoked, superseded, deleted, failed); it is signed again
    /// on every change, valid 7 days. With several CAPF certificates, PEM output holds one CRL
    /// block per certificate, concatenated (active first); DER holds one CRL, so it needs
    /// `--capf` then.
    Crl {
        /// File to write
        #[arg(long)]
        out: PathBuf,
        /// PEM (the default): one "X509 CRL" block per CAPF certificate
        #[arg(long, conflicts_with = "der")]
        pem: bool,
        /// DER: one CRL, of the only CAPF certificate or of the one `--capf` picks
        #[arg(long)]
        der: bool,
        /// Only the CRL of the CAPF certificate whose SHA-256 fingerprint starts with this
        #[arg(long, value_name = "FINGERPRINT")]
        capf: Option<String>,
    },
    /// Track a CAPF rollover (after `capf regenerate`) across the stores, the ITL, the trust
    /// consumers (802.1X, VPN) and the phones, until the old certificate can go
    #[command(subcommand)]
    Rollover(RolloverCommand),
    /// Change CAPF's cluster settings
    Set {
        /// on: By Existing Certificate also requires the SudiData signature, which covers the
        /// session id, so that a captured AuthResponse cannot be replayed (phones without SUDI
        /// then fail); off (the default): checked only when the phone sends it
        #[arg(long, ignore_case = true)]
        require_sudi: Switch,
    },
    /// Write a certificate signing request (PKCS#10) for the active CAPF key, for an enterprise CA
    Csr {
        /// File to write (PEM)
        #[arg(long)]
        out: PathBuf,
    },
    /// Make the CAPF certificate an enterprise CA signed the active one: same key (from `capf csr`),
    /// its chain checked; it and its issuers enter both trust stores; the old one is retired
    ImportSigned {
        /// The signed CAPF certificate (PEM), optionally followed by its issuers
        file: PathBuf,
        /// The issuer certificates (PEM), when the file does not hold them
        #[arg(long, value_name = "FILE")]
        chain: Option<PathBuf>,
    },
}

/// The cluster's own certificates, by the name `cert own` shows.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OwnCertificate {
    #[value(name = "callmanager")]
    CallManager,
    Capf,
    #[value(name = "itlrecovery")]
    ItlRecovery,
    Tvs,
    Tomcat,
}

/// The own certificates `cert regenerate`, `cert csr` and `cert import-signed` manage. Only tomcat
/// for now: CAPF has its own commands (`capf regenerate`, `capf csr`...), and ITLRecovery, TVS and
/// CallManager are in every phone's ITL, so replacing them is a rollover of its own.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WebCertificate {
    /// The admin web service's HTTPS certificate (CUCM's `tomcat`)
    Tomcat,
}

#[derive(Subcommand)]
pub(crate) enum CertCommand {
    /// The cluster's own certificates, as CUCM's `show cert own`: CallManager, CAPF, ITLRecovery,
    /// TVS and tomcat (the admin web pages' HTTPS certificate), then the retired CAPF certificates;
    /// with NAME, that certificate's details
    Own {
        /// callmanager, capf, itlrecovery, tvs or tomcat (the active certificate)
        #[arg(ignore_case = true)]
        name: Option<OwnCertificate>,
        /// Write its certificate (PEM) to this file, e.g. ITLRecovery for `openssl` to verify the ITL
        #[arg(long, value_name = "FILE", requires = "name")]
        out: Option<PathBuf>,
    },
    /// A new key and self-signed certificate, as CUCM's Certificate Management "Regenerate" for
    /// tomcat: the admin HTTPS service presents it from its next start; the old one is retired.
    /// CAPF, CallManager, ITLRecovery and TVS are not touched
    Regenerate {
        #[arg(ignore_case = true)]
        name: WebCertificate,
    },
    /// A certificate signing request (PKCS#10, PEM) for the active key, for an enterprise CA, as
    /// CUCM's "Generate CSR" for tomcat: its subject, SAN DNS the cluster's hostname, serverAuth
    Csr {
        #[arg(ignore_case = true)]
        name: WebCertificate,
        /// File to write (default: standard output)
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make the certificate an enterprise CA signed the active one, as CUCM's "Upload
    /// Certificate/Certificate chain": same key (from `cert csr`), it must name the cluster's
    /// hostname and chain to its issuers, which the HTTPS service then presents after it
    ImportSigned {
        #[arg(ignore_case = true)]
        name: WebCertificate,
        /// The signed certificate (PEM), optionally followed by its issuers
        file: PathBuf,
        /// The issuer certificates (PEM), when the file does not hold them
        #[arg(long, value_name = "FILE")]
        chain: Option<PathBuf>,
    },
    /// Subject, issuer, validity, key, kind (LSC, MIC, other) and the verdict of each trust store,
    /// with every reason it is not trusted
    ///
    /// Exit status: 1 when no trust store checked (with --store, that store) trusts the
    /// certificate, 0 otherwise (also without a cluster, when no store is checked)
    Inspect {
        /// PEM or DER; a PEM chain gives the device certificate first, then intermediates
        file: PathBuf,
        /// Verify in this store only
        #[arg(long, ignore_case = true)]
        store: Option<TrustStore>,
    },
}

#[derive(Subcommand)]
pub(crate) enum MfgCommand {
    /// Create the lab manufacturer's root CA (it enters no trust store until `trust add`)
    Init,
    /// Write the lab manufacturer's root certificate (PEM), to add to a trust store or an 802.1x server
    Export {
        /// File to write (default: standard output)
        #[arg(long)]
        out: Option<PathBuf>,
        /// The older, SHA-1 CA instead ("… (SHA-1)"), issuer of 79xx-era MICs (CP-79xx, 69xx, 89xx, 99xx)
        #[arg(long)]
        legacy: bool,
    },
    /// Issue a lab MIC: writes mic.pem, mic.key (0600) and manufacturer-ca.pem into DIR; a 79xx-era
    /// model's MIC comes from the older, SHA-1 CA
    Issue {
        /// Device name (SEP + 12 hex digits)
        name: String,
        #[arg(long, default_value = "CP-8861")]
        model: String,
        /// Key of the MIC: rsa2048 like Cisco's, or another size or curve
        #[arg(long, default_value = "rsa2048")]
        key: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}
