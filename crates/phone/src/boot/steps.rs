//! The steps after the trust list: the configuration file, the CAPF session it asks for, and the
//! registration of its lines.

use opencapf_model::{Protocol, Role, SecurityMode};
use opencapf_pki::SignedFile;

use super::fetch::{Fetched, FileServer};
use super::{BootOptions, BootReport, ConfigOutcome};
use crate::register::{Kept, RegisterOptions};
use crate::{CallManagerEntry, CapfAuthMode, CapfOptions, DeviceConfig, Phone, PhoneCredentials, Result};

/// SCCP over TLS is the `ethernetPhonePort` + 443 (2000 → 2443) [U: the file does not carry
/// it; every deployment shows 2443].
const SCCP_TLS_OFFSET: u16 = 443;

impl Phone {
    /// Boots once; with `keep`, a SIP registration's connection is returned for `--stay`.
    pub(crate) async fn boot_keeping(
        &self,
        opts: &BootOptions,
        keep: bool,
    ) -> Result<(BootReport, Option<(RegisterOptions, Kept)>)> {
        let log = self.console();
        let server = opts.file_server();
        let mut report = BootReport::new(self);
        log.info(&format!(
            "BOOT: -Booting {} from {} (HTTP {}, TFTP {})",
            self.device_name(),
            opencapf_model::printable(&server.host),
            if server.http { server.http_port.to_string() } else { "off".into() },
            server.tftp_port
        ));
        self.trust_step(&server, &mut report).await?;
        let config = match self.config_step(&server, &mut report).await? {
            Some(c) => c,
            None => {
                let why = match &report.config {
                    ConfigOutcome::NotProvisioned => format!(
                        "SEP configuration not found: {} is not provisioned on the server (CUCM would offer \
                         XMLDefault.cnf.xml for auto-registration, which the simulator does not do)",
                        self.device_name()
                    ),
                    ConfigOutcome::Rejected(why) | ConfigOutcome::Unavailable(why) => why.clone(),
                    _ => "no configuration".into(),
                };
                return Ok((report.fail(self, why), None));
            }
        };
        if config.capf_auth_mode != CapfAuthMode::None {
            if let Err(why) = self.capf_step(opts, &config, &mut report).await? {
                return Ok((report.fail(self, why), None));
            }
        }
        self.register_step(opts, &config, report, keep).await
    }

    /// Fetches and checks the configuration; `None` when the boot cannot go on.
    pub(super) async fn config_step(
        &self,
        server: &FileServer,
        report: &mut BootReport,
    ) -> Result<Option<DeviceConfig>> {
        let log = self.console();
        let name = format!("{}.cnf.xml", self.device_name());
        let tftp_signers: Vec<(String, Vec<u8>, Vec<u8>)> = match self.itl()? {
            Some(itl) => itl
                .records
                .iter()
                .filter(|r| r.role().is_some_and(Role::signs_files))
                .filter_map(|r| Some((r.issuer.clone(), r.serial.clone(), r.certificate.clone()?)))
                .collect(),
            None => Vec::new(),
        };
        let signed = !tftp_signers.is_empty();
        let requested = if signed { format!("{name}.sgn") } else { name.clone() };
        if signed {
            log.info("SECUREAPP-authenticated file approved - add .sgn");
        }
        let bytes = match self.fetch(server, &requested, &mut report.files).await {
            Fetched::Found(b) => b,
            Fetched::NotFound => {
                report.config = ConfigOutcome::NotProvisioned;
                return Ok(None);
            }
            Fetched::Failed(why) => {
                report.config = ConfigOutcome::Unavailable(format!("{requested}: {why}"));
                return Ok(None);
            }
        };
        let xml = if signed {
            match verify_sgn(&bytes, &tftp_signers) {
                Ok(content) => content,
                Err(detail) => {
                    let words = format!("invalid file {requested}, authenticated fail. Reason:14");
                    log.error(&words);
                    log.error(&format!("SECUREAPP-{detail}"));
                    report.config = ConfigOutcome::Rejected(words);
                    return Ok(None);
                }
            }
        } else {
            bytes
        };
        let config = match DeviceConfig::parse(&xml) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("{requested} cannot be read: {e}");
                report.config = ConfigOutcome::Rejected(why);
                return Ok(None);
            }
        };
        self.store_config(&xml)?;
        report.config = if signed { ConfigOutcome::Signed } else { ConfigOutcome::Unsigned };
        log.info(&format!(
            "BOOT: -Configuration {requested}: {} {}, {} line(s), capfAuthMode {}",
            config.protocol,
            config.security_mode,
            config.lines.len(),
            config.capf_auth_mode.code()
        ));
        Ok(Some(config))
    }

    /// One CAPF session as the configuration says; `Err(why)` stops the boot.
    async fn capf_step(
        &self,
        opts: &BootOptions,
        config: &DeviceConfig,
        report: &mut BootReport,
    ) -> Result<std::result::Result<(), String>> {
        let Some(capf) = config.capf.first() else {
            return Ok(Err("the configuration asks for a CAPF operation but names no CAPF (capfList)".into()));
        };
        let credentials = match config.capf_auth_mode {
            CapfAuthMode::AuthString => match &opts.auth_string {
                Some(s) => PhoneCredentials::AuthString(s.clone()),
                None => {
                    return Ok(Err("CAPF asks for an authentication string (capfAuthMode 1): \
                                   give it with --auth-string DIGITS, as typed on the phone"
                        .into()))
                }
            },
            CapfAuthMode::NullString => PhoneCredentials::NullString,
            CapfAuthMode::Mic => PhoneCredentials::ExistingCertificate { prefer_mic: true },
            CapfAuthMode::ExistingLsc | CapfAuthMode::None => {
                PhoneCredentials::ExistingCertificate { prefer_mic: false }
            }
        };
        let host = if capf.process_node_name.contains(':') {
            format!("[{}]", capf.process_node_name)
        } else {
            capf.process_node_name.clone()
        };
        let mut capf_opts = CapfOptions::new(credentials);
        capf_opts.server = Some(format!("{host}:{}", capf.phone_port));
        capf_opts.message_timeout = opts.timeout;
        capf_opts.engine = opts.engine;
        if let Some(v) = opts.tls_versions {
            capf_opts.tls_versions = v;
        }
        let mut session = self.capf(capf_opts.clone()).await?;
        if let Some(der) = session.untrusted_server.clone() {
            if self.tvs_vouches(&config.tvs, &der, &[Role::Capf], opts.timeout).await? {
                session = self.capf(capf_opts).await?;
            }
        }
        report.capf = Some(session);
        // A failed CAPF session does not stop a phone: it registers with what it has.
        Ok(Ok(()))
    }

    /// Registers the configured lines at the first CallManager.
    async fn register_step(
        &self,
        opts: &BootOptions,
        config: &DeviceConfig,
        mut report: BootReport,
        keep: bool,
    ) -> Result<(BootReport, Option<(RegisterOptions, Kept)>)> {
        let Some(cm) = config.call_managers.first() else {
            return Ok((report.fail(self, "the configuration names no CallManager"), None));
        };
        let secure = config.security_mode != SecurityMode::NonSecure;
        let port = |cm: &CallManagerEntry| match (config.protocol, secure) {
            (Protocol::Sip, true) => cm.secured_sip_port.unwrap_or(5061),
            (Protocol::Sip, false) => cm.sip_port.unwrap_or(5060),
            (Protocol::Sccp, true) => cm.ethernet_phone_port.unwrap_or(2000).saturating_add(SCCP_TLS_OFFSET),
            (Protocol::Sccp, false) => cm.ethernet_phone_port.unwrap_or(2000),
        };
        let mut ro = RegisterOptions::new(config.protocol, config.security_mode);
        ro.server = Some(cm.process_node_name.clone());
        ro.port = Some(port(cm));
        // The rest of the group, which the phone fails over to (phone-boot.md §3.5).
        ro.standby = config.call_managers[1..].iter().map(|m| (m.process_node_name.clone(), port(m))).collect();
        ro.timeout = opts.timeout;
        ro.engine = opts.engine;
        ro.tls_versions = opts.tls_versions;
        if config.protocol == Protocol::Sip {
            ro.lines = config.lines.iter().map(|l| l.name.clone()).collect();
        }
        let keep = keep && config.protocol == Protocol::Sip;
        let (mut attempts, mut kept) = self.register_in_group(&ro, keep).await?;
        let mut attempt = attempts.pop().expect("the group has a first member");
        if let Some(der) = attempt.untrusted_server.clone() {
            if self.tvs_vouches(&config.tvs, &der, &[Role::Ccm, Role::CcmTftp], opts.timeout).await? {
                attempts.push(attempt);
                (attempts, kept) = self.register_in_group(&ro, keep).await?;
                attempt = attempts.pop().expect("the group has a first member");
            }
        }
        report.registrations.extend(attempts);
        let registered = attempt.registered();
        let summary = attempt.summary.clone();
        report.registrations.push(attempt);
        if !registered {
            return Ok((report.fail(self, summary), None));
        }
        report.registered = true;
        self.console().info("BOOT: -Registered");
        Ok((report, kept.map(|k| (ro, k))))
    }
}

/// The content of a `.sgn`, if it verifies against one of the ITL's file-signing records
/// `(issuer, serial, certificate)` that the header names.
pub(crate) fn verify_sgn(bytes: &[u8], signers: &[(String, Vec<u8>, Vec<u8>)]) -> std::result::Result<Vec<u8>, String> {
    let file = SignedFile::parse(bytes).map_err(|e| format!("the signed file cannot be read: {e}"))?;
    let named: Vec<&Vec<u8>> = signers
        .iter()
        .filter(|(issuer, serial, _)| *serial == file.header.serial && *issuer == file.header.issuer_name)
        .map(|(_, _, cert)| cert)
        .collect();
    if named.is_empty() {
        return Err(format!(
            "No match found in trust list against the item: the file is signed by {} (issuer {}), \
             which is no TFTP record of the ITL",
            opencapf_model::printable(&file.header.signer_name),
            opencapf_model::printable(&file.header.issuer_name)
        ));
    }
    for cert in named {
        if file.verify_with(cert).is_ok() {
            return Ok(file.content);
        }
    }
    Err("the signature does not verify with the ITL's TFTP certificate".into())
}
