//! The phone simulator of OpenCAPF: a folder that holds one phone's certificates and behaves as a
//! Cisco IP phone does towards CAPF and CallManager. No command-line parsing here.
//!
//! # The phone folder
//!
//! | file | what it is |
//! |---|---|
//! | `phone.json` | device name (`SEP` + 12 hex digits), model (`CP-8861`), default CAPF server (`HOST:PORT`), creation time |
//! | `mic.pem`, `mic.key` | the Manufacturer Installed Certificate and its key (PKCS#8 PEM, mode 0600). Never replaced. |
//! | `lsc.pem`, `lsc.key` | the Locally Significant Certificate and its key (0600), present only when the phone has one |
//! | `itl.tlv` | the installed ITL, the phone's trust list: servers are accepted by the role of their record (absent in factory state; `phone init` installs the cluster's, as if the phone had booted from it once) |
//! | `config.xml` | the last accepted `SEP<MAC>.cnf.xml` ([`DeviceConfig`]); its TVS members are where the phone asks about unknown certificates |
//! | `tvs-cache.json` | certificates TVS vouched for, with their roles and expiry (the answer's TTL) |
//! | `console.log` | the phone's console log, in the phone's own format (see [`ConsoleLog`]) |
//!
//! The folder itself is mode 0700. [`Phone::init`] builds it in a sibling temporary folder that is
//! renamed into place, so an interrupted init leaves nothing half-made; it refuses an existing
//! non-empty folder. An LSC is replaced atomically ([`Phone::install_lsc`]): both files are written
//! and synced under temporary names first, then the old `lsc.pem` is removed and the new key and
//! certificate are renamed into place, so `lsc.pem` is never half written and never names a key
//! that is not beside it (`lsc.pem` is what makes the phone "have an LSC").
//!
//! Registering to CallManager (module `register`) reuses the same folder: the certificate a
//! phone presents comes from [`Phone::select_certificate`] (LSC if present, else MIC, logging
//! `PXY_NO_LSC`), the server check from [`Phone::server_certificates`] (ITL records of the
//! role, TVS-vouched certificates) with `opencapf_capf::client::tls`, and the console lines from [`ConsoleLog`]
//! (`PXY_CERT_CIPHER`, `STATE_SSL3_ALERT`). New `phone.json` fields must be `#[serde(default)]`.
//!
//! # Behaviour
//!
//! - [`Phone::boot`]: the boot of phone-boot.md §1 (CTL, ITL by the rules of §1.4, the signed
//!   configuration, CAPF when the configuration asks, registration of its lines), with
//!   [`BootReport`]; [`Phone::boot_keeping_registration`] and [`Phone::stay_booted`] for
//!   `--stay` (Reset/Restart boot again). [`Phone::factory_reset`] erases LSC, ITL,
//!   configuration and TVS cache.
//! - [`Phone::capf`]: one CAPF session (`opencapf_capf::client`), authenticating with the LSC if
//!   present else the MIC (By Existing Certificate, Precedence to LSC), the MIC when asked
//!   (Precedence to MIC), an authentication string or the null string; it stores a new LSC,
//!   deletes it, or uploads a certificate as the server asks, and returns a [`CapfReport`].
//! - [`Phone::register`]: one registration to CallManager (SIP or SCCP, TLS with the LSC or else
//!   the MIC for a secure profile, TCP for a Non Secure one), logged as a phone logs it
//!   ([`RegisterReport`], [`Outcome`]).
//! - [`LoadPhone`]: a SIP-over-TLS registration with no phone folder, held open and refreshed
//!   ([`LoadRegistration`]), for `opencapf bench register`.
//! - [`Phone::delete_lsc`]: what the phone's settings page does.
//! - [`Phone::summary`]: what `opencapf phone show` prints.
//!
//! # Modules
//!
//! Private, with their items re-exported here: `boot` (the boot sequence, [`BootOptions`],
//! [`BootReport`], [`ItlOutcome`], [`ConfigOutcome`]), `config` (`SEP<MAC>.cnf.xml`,
//! [`DeviceConfig`]), `trust` (ITL, TVS cache, held configuration, factory reset),
//! `folder` (the phone folder, [`InitOptions`], [`MicSource`]), `capf` (the CAPF session, [`CapfOptions`], [`CapfReport`],
//! [`PhoneCredentials`]), `register` (CallManager registration, [`RegisterOptions`],
//! [`RegisterReport`], [`Outcome`], [`Presented`]), `console` (the console log, [`ConsoleLog`],
//! [`ConsoleLine`], [`Level`]), `family` (which TLS a model speaks, [`TlsFamily`], and the
//! engine a session uses, [`TlsEngine`]) and `legacy_tls` (TLS 1.0 with AES-SHA through OpenSSL
//! for the 79xx and 69xx/89xx/99xx families, [`LegacyProfile`]). [`files`] stays a public
//! module: it is a namespace of file-name constants, read as `files::LSC_PEM`.

pub(crate) mod boot;
mod capf;
mod config;
mod console;
mod family;
mod folder;
mod legacy_tls;
mod register;
mod trust;

use std::path::{Path, PathBuf};

use opencapf_pki::{CertificateInfo, DeviceName, PkiError, PrivateKey};
use serde::{Deserialize, Serialize};

pub use boot::{BootOptions, BootReport, Booted, ConfigOutcome, FetchedFile, ItlOutcome, HTTP_PORT, TFTP_PORT};
pub use capf::{CapfOptions, CapfReport, PhoneCredentials};
pub use config::{
    CallManagerEntry, CapfAuthMode, CapfEntry, ConfigError, DeviceConfig, LineEntry, Transport, TvsEntry,
    MAX_CONFIG_BYTES,
};
pub use console::{ConsoleLine, ConsoleLog, Level};
pub use family::{TlsEngine, TlsFamily};
pub use folder::{InitOptions, MicSource};
pub use legacy_tls::{LegacyProfile, LegacyVersion};
pub use register::{
    Kept, LoadFailure, LoadPhone, LoadRegistration, Outcome, Presented, RegisterOptions, RegisterReport,
};
pub use trust::{ItlEntry, TvsCacheEntry};

/// File names inside a phone folder.
pub mod files {
    pub const PHONE_JSON: &str = "phone.json";
    pub const MIC_PEM: &str = "mic.pem";
    pub const MIC_KEY: &str = "mic.key";
    pub const LSC_PEM: &str = "lsc.pem";
    pub const LSC_KEY: &str = "lsc.key";
    /// The installed ITL, absent in factory state.
    pub const ITL: &str = "itl.tlv";
    /// The last accepted `SEP<MAC>.cnf.xml`.
    pub const CONFIG: &str = "config.xml";
    /// The certificates TVS vouched for, with roles and expiry.
    pub const TVS_CACHE: &str = "tvs-cache.json";
    pub const CONSOLE_LOG: &str = "console.log";
}

/// The CAPF server a new phone talks to unless told otherwise.
pub const DEFAULT_CAPF_SERVER: &str = "127.0.0.1:3804";
/// The model a new phone is unless told otherwise.
pub const DEFAULT_MODEL: &str = "CP-8861";

/// Why a phone-folder operation failed. Each message is whole (context and cause's text); no
/// variant exposes a `source()`, so the CLI prints each cause once.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("{0} already exists and is not empty; refusing to overwrite it (a phone's MIC is never replaced)")]
    Exists(PathBuf),
    #[error("{0} is not a phone folder (no phone.json): create one with `opencapf phone init`")]
    NotAPhone(PathBuf),
    #[error("{0}")]
    Invalid(String),
    #[error("the phone folder is inconsistent: {0}")]
    Inconsistent(String),
    #[error("{context}: {cause}")]
    Io { context: String, cause: std::io::Error },
    #[error(transparent)]
    Pki(#[from] PkiError),
}

impl PhoneError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> PhoneError {
        let context = context.into();
        move |cause| PhoneError::Io { context, cause }
    }
}

pub type Result<T, E = PhoneError> = std::result::Result<T, E>;

/// `phone.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneConfig {
    pub device_name: DeviceName,
    pub model: String,
    /// `HOST:PORT` of the CAPF server (the phone's `<capfList>`).
    pub capf_server: String,
    /// RFC 3339.
    pub created_at: String,
}

/// Which of its certificates a phone uses: the one "LSC or MIC" of `opencapf-model`.
pub use opencapf_model::CertKind;

/// One of the phone's certificates with its key.
#[derive(Debug, Clone)]
pub struct DeviceCertificate {
    pub kind: CertKind,
    pub der: Vec<u8>,
    pub info: CertificateInfo,
    pub key: PrivateKey,
}

/// A certificate as `phone show` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex.
    pub serial: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub expired: bool,
    /// "RSA 2048", "EC P-256".
    pub key: String,
    /// SHA-256 of the DER, lowercase hex.
    pub fingerprint: String,
}

impl CertSummary {
    pub fn of(info: &CertificateInfo) -> Self {
        let rfc = |t: time::OffsetDateTime| opencapf_model::ts(t);
        CertSummary {
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            serial: info.serial.clone(),
            not_before: rfc(info.not_before),
            not_after: rfc(info.not_after),
            expired: info.not_after < time::OffsetDateTime::now_utc(),
            key: info.key.clone(),
            fingerprint: info.fingerprint.clone(),
        }
    }
}

/// What `opencapf phone show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneSummary {
    pub dir: PathBuf,
    pub device_name: String,
    pub model: String,
    /// Which TLS the model speaks: `cisco79xx` and `cisco69xx89xx99xx` TLS 1.0 through OpenSSL.
    pub tls_family: TlsFamily,
    pub capf_server: String,
    /// The certificate the phone presents (to CallManager, and to CAPF By Existing Certificate
    /// with precedence to LSC): its LSC if it has one, else its MIC.
    pub presents: CertKind,
    pub lsc: Option<CertSummary>,
    pub mic: CertSummary,
    /// The installed ITL's records (empty in factory state).
    pub itl: Vec<ItlEntry>,
    /// The last accepted configuration.
    pub config: Option<ConfigSummary>,
    /// Unexpired TVS answers.
    pub tvs_cache: Vec<TvsCacheEntry>,
}

/// The configuration as `phone show` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigSummary {
    pub security_mode: String,
    pub protocol: String,
    pub lines: Vec<String>,
    /// The CAPF authentication mode of a pending operation, `None` when there is none.
    pub pending_capf: Option<CapfAuthMode>,
    pub call_manager: Option<String>,
}

impl ConfigSummary {
    pub fn of(c: &DeviceConfig) -> Self {
        ConfigSummary {
            security_mode: c.security_mode.to_string(),
            protocol: c.protocol.to_string(),
            lines: c.lines.iter().map(|l| opencapf_model::printable(&l.name).into_owned()).collect(),
            pending_capf: (c.capf_auth_mode != CapfAuthMode::None).then_some(c.capf_auth_mode),
            call_manager: c.call_managers.first().map(|m| opencapf_model::printable(&m.process_node_name).into_owned()),
        }
    }
}

/// A phone folder, opened.
#[derive(Debug)]
pub struct Phone {
    dir: PathBuf,
    config: PhoneConfig,
    console: ConsoleLog,
}

impl Phone {
    /// Opens an existing phone folder.
    pub fn open(dir: &Path) -> Result<Phone> {
        let path = dir.join(files::PHONE_JSON);
        if !path.is_file() {
            return Err(PhoneError::NotAPhone(dir.to_path_buf()));
        }
        let text = std::fs::read_to_string(&path).map_err(PhoneError::io(format!("reading {}", path.display())))?;
        let config: PhoneConfig =
            serde_json::from_str(&text).map_err(|e| PhoneError::Invalid(format!("{}: {e}", path.display())))?;
        let console = ConsoleLog::open(dir.join(files::CONSOLE_LOG))?;
        Ok(Phone { dir: dir.to_path_buf(), config, console })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &PhoneConfig {
        &self.config
    }

    pub fn device_name(&self) -> &DeviceName {
        &self.config.device_name
    }

    pub fn console(&self) -> &ConsoleLog {
        &self.console
    }

    /// The MIC and its key.
    pub fn mic(&self) -> Result<DeviceCertificate> {
        folder::load_pair(&self.dir, CertKind::Mic)?
            .ok_or_else(|| PhoneError::Inconsistent(format!("{} has no {}", self.dir.display(), files::MIC_PEM)))
    }

    /// The LSC and its key, if the phone has one.
    pub fn lsc(&self) -> Result<Option<DeviceCertificate>> {
        folder::load_pair(&self.dir, CertKind::Lsc)
    }

    /// Whether the phone has an LSC (`lsc.pem` exists), without reading it.
    pub fn has_lsc(&self) -> bool {
        self.dir.join(files::LSC_PEM).is_file()
    }

    /// The certificate a phone presents for `purpose` (`CAPF`, `SIP`, `SCCP`): its LSC if it has one,
    /// else its MIC, logging `SECD: -PXY_NO_LSC: No LSC for [<purpose>], will try MIC` (seed rule 1).
    /// `prefer_mic` is CAPF's "By Existing Certificate (Precedence to MIC)": the MIC, always.
    pub fn select_certificate(&self, purpose: &str, prefer_mic: bool) -> Result<DeviceCertificate> {
        if prefer_mic {
            return self.mic();
        }
        match self.lsc()? {
            Some(lsc) => Ok(lsc),
            None => {
                self.console.no_lsc(purpose);
                self.mic()
            }
        }
    }

    /// Which certificate [`Phone::select_certificate`] would pick, without logging.
    pub fn would_present(&self) -> CertKind {
        if self.has_lsc() {
            CertKind::Lsc
        } else {
            CertKind::Mic
        }
    }

    /// Stores a new LSC and its key atomically, replacing any previous one (see the crate doc).
    /// The key must match the certificate.
    pub fn install_lsc(&self, cert_der: &[u8], key: &PrivateKey) -> Result<CertificateInfo> {
        folder::install_lsc(&self.dir, cert_der, key)
    }

    /// Forgets the LSC, as the phone's settings page does. Returns whether there was one.
    pub fn delete_lsc(&self) -> Result<bool> {
        let info = self.lsc().ok().flatten().map(|l| l.info);
        let deleted = folder::remove_lsc(&self.dir)?;
        match info {
            Some(info) if deleted => self.console.info(&format!(
                "SECD: -LSC deleted from the phone's settings (serial {}, issuer {})",
                info.serial, info.issuer
            )),
            _ if deleted => self.console.info("SECD: -LSC deleted from the phone's settings"),
            _ => self.console.warn("SECD: -No LSC to delete"),
        };
        Ok(deleted)
    }

    /// Name, certificates, ITL, configuration and TVS cache, as `opencapf phone show` prints them.
    pub fn summary(&self) -> Result<PhoneSummary> {
        let mic = self.mic()?;
        let lsc = self.lsc()?;
        Ok(PhoneSummary {
            dir: self.dir.clone(),
            device_name: self.config.device_name.to_string(),
            model: self.config.model.clone(),
            tls_family: TlsFamily::of_model(&self.config.model),
            capf_server: self.config.capf_server.clone(),
            presents: if lsc.is_some() { CertKind::Lsc } else { CertKind::Mic },
            lsc: lsc.as_ref().map(|l| CertSummary::of(&l.info)),
            mic: CertSummary::of(&mic.info),
            itl: self.itl_entries()?,
            config: self.held_config()?.as_ref().map(ConfigSummary::of),
            tvs_cache: {
                let now = time::OffsetDateTime::now_utc();
                self.tvs_cache()?
                    .into_iter()
                    .filter(|e| opencapf_model::parse_ts(&e.expires).is_ok_and(|t| t > now))
                    .collect()
            },
        })
    }
}

/// The simulator's judgement of files a TFTP server gives it, for the fuzz targets only (`fuzz/`).
#[doc(hidden)]
pub mod fuzzing {
    /// Whether a phone holding `held` (an ITL it took before) takes the ITL `offered`, as it
    /// judges it at boot before asking TVS: `Ok(true)` taken, `Ok(false)` TVS must vouch,
    /// `Err` refused (with the console's reason).
    pub fn judge_itl(held: Option<&opencapf_pki::Itl>, offered: &[u8]) -> Result<bool, String> {
        use crate::boot::itl::{judge, Judgement};
        match judge(held, offered) {
            Judgement::Take(_) => Ok(true),
            Judgement::AskTvs(_) => Ok(false),
            Judgement::Refuse(why) => Err(why),
        }
    }

    /// A `.sgn` file's content if it verifies with one of the ITL's TFTP records
    /// `(issuer, serial, certificate)` that its header names, as the phone checks a signed
    /// configuration file.
    pub fn verify_sgn(bytes: &[u8], signers: &[(String, Vec<u8>, Vec<u8>)]) -> Result<Vec<u8>, String> {
        crate::boot::steps::verify_sgn(bytes, signers)
    }
}
