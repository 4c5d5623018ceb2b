//! Booting like a phone (`opencapf phone boot`, phone-boot.md §1): fetch the CTL (ignored: mixed
//! mode is not supported), the ITL (`ITLSEP<MAC>.tlv`, else `ITLFile.tlv`) and install it by the
//! rules of §1.4, fetch the configuration (`SEP<MAC>.cnf.xml.sgn` verified against the ITL's
//! TFTP record when the phone holds an ITL, else the unsigned file), run CAPF when the
//! configuration names a pending operation, then register the configured lines.
//!
//! | module | what it holds |
//! |---|---|
//! | `fetch` | HTTP 6970 first, TFTP 69 on failure, the `dgetfile` lines, [`FetchedFile`] |
//! | `itl` | the ITL acceptance rules, [`ItlOutcome`] |
//! | `tvs` | asking the cluster's TVS about a certificate the ITL does not hold |
//! | `steps` | the configuration, CAPF and registration steps |
//! | `stay` | the boot loop of `--stay`: Reset/Restart boot again, Apply Config refetches |
//!
//! Servers are accepted as the phone accepts them: a certificate of an ITL record with the right
//! role, or one TVS vouched for (asked when a server presents an unknown certificate; the
//! answer is cached in `tvs-cache.json` for its TTL, and the step is tried once more).

mod fetch;
pub(crate) mod itl;
mod stay;
pub(crate) mod steps;
mod tvs;

use std::time::Duration;

use opencapf_capf::client::TlsVersions;
use serde::Serialize;

use crate::{CapfReport, Phone, RegisterReport, Result, TlsEngine};

pub use fetch::FetchedFile;
pub use itl::ItlOutcome;
pub use stay::Booted;

use fetch::{Fetched, FileServer};
use itl::{judge, vouched, Judgement};

/// HTTP "TFTP" port of current firmware.
pub const HTTP_PORT: u16 = 6970;
/// TFTP.
pub const TFTP_PORT: u16 = 69;

/// Options of [`Phone::boot`].
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// The provisioning server (DHCP option 150): a host name or address.
    pub server: String,
    pub http_port: u16,
    pub tftp_port: u16,
    /// `false`: TFTP only, as old firmware.
    pub http: bool,
    /// What the user types when the configuration asks for an authentication string (mode 1).
    pub auth_string: Option<String>,
    /// Bounds every fetch, TVS question, CAPF message and registration step.
    pub timeout: Duration,
    /// The TLS engine of CAPF and registration (TVS stays on rustls); by default the model's.
    pub engine: TlsEngine,
    /// The rustls versions of CAPF and registration; `None`: their defaults.
    pub tls_versions: Option<TlsVersions>,
}

impl BootOptions {
    pub fn new(server: impl Into<String>) -> Self {
        BootOptions {
            server: server.into(),
            http_port: HTTP_PORT,
            tftp_port: TFTP_PORT,
            http: true,
            auth_string: None,
            timeout: Duration::from_secs(10),
            engine: TlsEngine::ByModel,
            tls_versions: None,
        }
    }

    fn file_server(&self) -> FileServer {
        FileServer {
            host: self.server.trim().trim_start_matches('[').trim_end_matches(']').to_string(),
            http_port: self.http_port,
            tftp_port: self.tftp_port,
            http: self.http,
            timeout: self.timeout,
        }
    }
}

/// What became of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum ConfigOutcome {
    /// The boot stopped before.
    NotReached,
    /// `SEP<MAC>.cnf.xml.sgn`, verified against the ITL.
    Signed,
    /// `SEP<MAC>.cnf.xml`, the phone holding no ITL.
    Unsigned,
    /// The server does not know the device.
    NotProvisioned,
    /// The signature did not verify (`Reason:14`), or the file could not be read.
    Rejected(String),
    /// No answer from the server.
    Unavailable(String),
}

/// Everything the boot did, for people (`failure`, the phone's words) and scripts (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct BootReport {
    pub device_name: String,
    pub files: Vec<FetchedFile>,
    pub itl: ItlOutcome,
    pub config: ConfigOutcome,
    /// The CAPF session, when the configuration asked for one.
    pub capf: Option<CapfReport>,
    /// One per registration attempt (a retry after TVS vouched for CallManager makes two).
    pub registrations: Vec<RegisterReport>,
    /// The boot ended registered.
    pub registered: bool,
    /// Why not, in one line.
    pub failure: Option<String>,
}

impl BootReport {
    fn new(phone: &Phone) -> Self {
        BootReport {
            device_name: phone.device_name().to_string(),
            files: Vec::new(),
            itl: ItlOutcome::NotOffered,
            config: ConfigOutcome::NotReached,
            capf: None,
            registrations: Vec::new(),
            registered: false,
            failure: None,
        }
    }

    fn fail(mut self, phone: &Phone, why: impl Into<String>) -> Self {
        let why = why.into();
        phone.console().error(&format!("BOOT: -{why}"));
        self.failure = Some(why);
        self
    }
}

impl Phone {
    /// Boots once (see the module doc) and registers without keeping the registration. Local
    /// problems (an unreadable folder) are errors; everything the servers do is in the report.
    pub async fn boot(&self, opts: &BootOptions) -> Result<BootReport> {
        Ok(self.boot_keeping(opts, false).await?.0)
    }

    /// The CTL and ITL steps: what the phone trusts after them.
    async fn trust_step(&self, server: &FileServer, report: &mut BootReport) -> Result<()> {
        let log = self.console();
        let device = self.device_name().to_string();
        if let Fetched::Found(_) = self.fetch(server, &format!("CTL{device}.tlv"), &mut report.files).await {
            log.warn("SECUREAPP-CTL file found: mixed mode is not supported by the simulator; going on with the ITL");
        }
        let mut offered = self.fetch(server, &format!("ITL{device}.tlv"), &mut report.files).await;
        if !matches!(offered, Fetched::Found(_)) {
            offered = self.fetch(server, "ITLFile.tlv", &mut report.files).await;
        }
        let Fetched::Found(bytes) = offered else {
            report.itl = ItlOutcome::NotOffered;
            if !self.has_itl() {
                log.info("SECUREAPP-No trust list: the phone goes on non-secure and asks for unsigned files");
            }
            return Ok(());
        };
        let held = self.itl()?;
        report.itl = match judge(held.as_ref(), &bytes) {
            Judgement::Take(outcome) => outcome,
            Judgement::Refuse(why) => ItlOutcome::Refused(why),
            Judgement::AskTvs(signer) => {
                log.warn("SECUREAPP-No match found in trust list against the item (the new ITL's signer)");
                let members = self.held_config()?.map(|c| c.tvs).unwrap_or_default();
                match self.ask_tvs(&members, &signer, self.timeout_of(server)).await? {
                    Some(answer) if vouched(&answer) => ItlOutcome::UpdatedByTvs,
                    _ => ItlOutcome::Refused(
                        "the new ITL is signed by a SAST the phone does not trust, and TVS did not vouch for it".into(),
                    ),
                }
            }
        };
        match &report.itl {
            ItlOutcome::Refused(why) => {
                log.error(&format!("SECUREAPP-ITL refused, keeping the trust list the phone holds: {why}"));
            }
            outcome => {
                log.info("SECUREAPP-TL file verified successfully.");
                if outcome.installed() {
                    self.install_itl(&bytes)?;
                    let how = match outcome {
                        ItlOutcome::InstalledFirstUse => "first use (the phone had no trust list)",
                        ItlOutcome::UpdatedBySast => "signed by a SAST of the held ITL",
                        _ => "its signer vouched for by TVS",
                    };
                    log.info(&format!("SECUREAPP-TL parse to table: CTL_SUCCESS; ITL installed, {how}"));
                }
            }
        }
        Ok(())
    }

    fn timeout_of(&self, server: &FileServer) -> Duration {
        server.timeout
    }
}
