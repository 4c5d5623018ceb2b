//! What the phone trusts: its ITL (`itl.tlv`), the certificates TVS vouched for
//! (`tvs-cache.json`, each with its roles and expiry), and the last accepted configuration
//! (`config.xml`, whose TVS members the phone asks about unknown certificates). The
//! certificates a phone accepts as a server of some role are the ITL records with that role plus
//! the unexpired TVS-cache entries with it ([`Phone::server_certificates`]); nothing else. A
//! phone without an ITL (factory state) trusts no server until it boots.

use std::fs;
use std::path::Path;

use opencapf_model::Role;
use opencapf_pki::{CertificateInfo, Itl};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::folder::replace_file;
use crate::{files, DeviceConfig, Phone, PhoneError, Result};

/// More TVS answers than this are not kept (oldest dropped): a phone's cache is small.
const MAX_TVS_CACHE: usize = 64;

/// One certificate TVS vouched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TvsCacheEntry {
    /// SHA-256 of the DER, lowercase hex.
    pub fingerprint: String,
    pub subject: String,
    /// Role names as TVS gave them (`CAPF`, `CCM+TFTP`…).
    pub roles: Vec<String>,
    /// RFC 3339: when the answer's TTL runs out.
    pub expires: String,
    /// PEM.
    pub certificate: String,
}

impl TvsCacheEntry {
    fn has_role(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.iter().any(|w| w.name() == r))
    }

    fn expired(&self, now: OffsetDateTime) -> bool {
        opencapf_model::parse_ts(&self.expires).map_or(true, |t| t <= now)
    }

    fn der(&self) -> Option<Vec<u8>> {
        opencapf_pki::pem::parse_certificates(self.certificate.as_bytes()).ok()?.into_iter().next()
    }
}

/// One ITL record as `phone show` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ItlEntry {
    /// `SAST`, `CCM+TFTP`… or the unknown code.
    pub role: String,
    pub subject: String,
    pub fingerprint: Option<String>,
}

impl Phone {
    /// The installed ITL, if any.
    pub fn itl(&self) -> Result<Option<Itl>> {
        let Some(bytes) = read_optional(&self.dir().join(files::ITL))? else { return Ok(None) };
        let itl = Itl::parse(&bytes).map_err(|e| PhoneError::Inconsistent(format!("{}: {e}", files::ITL)))?;
        Ok(Some(itl))
    }

    /// Installs `bytes` as the phone's ITL (already checked by the caller), replacing any old one.
    pub(crate) fn install_itl(&self, bytes: &[u8]) -> Result<()> {
        replace_file(self.dir(), files::ITL, bytes, 0o644)
    }

    /// The ITL records, for `phone show`.
    pub fn itl_entries(&self) -> Result<Vec<ItlEntry>> {
        let Some(itl) = self.itl()? else { return Ok(Vec::new()) };
        Ok(itl
            .records
            .iter()
            .map(|r| ItlEntry {
                role: r.role().map_or_else(|| format!("role {}", r.role), |role| role.name().to_string()),
                subject: opencapf_model::printable(&r.subject).into_owned(),
                fingerprint: r.certificate.as_deref().map(opencapf_pki::fingerprint),
            })
            .collect())
    }

    /// The last accepted configuration file, as received, and read.
    pub fn held_config(&self) -> Result<Option<DeviceConfig>> {
        let Some(bytes) = read_optional(&self.dir().join(files::CONFIG))? else { return Ok(None) };
        DeviceConfig::parse(&bytes).map(Some).map_err(|e| PhoneError::Inconsistent(format!("{}: {e}", files::CONFIG)))
    }

    pub(crate) fn store_config(&self, xml: &[u8]) -> Result<()> {
        replace_file(self.dir(), files::CONFIG, xml, 0o644)
    }

    /// The TVS cache, expired entries included.
    pub fn tvs_cache(&self) -> Result<Vec<TvsCacheEntry>> {
        let path = self.dir().join(files::TVS_CACHE);
        let Some(bytes) = read_optional(&path)? else { return Ok(Vec::new()) };
        serde_json::from_slice(&bytes).map_err(|e| PhoneError::Inconsistent(format!("{}: {e}", files::TVS_CACHE)))
    }

    /// Remembers that TVS vouched for `der` with `roles` for `ttl` seconds; logs it as a phone does.
    pub(crate) fn add_to_tvs_cache(&self, der: &[u8], roles: &[Role], ttl: u32) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let fingerprint = opencapf_pki::fingerprint(der);
        let mut cache: Vec<TvsCacheEntry> =
            self.tvs_cache()?.into_iter().filter(|e| !e.expired(now) && e.fingerprint != fingerprint).collect();
        let subject = CertificateInfo::parse(der).map(|i| i.subject).unwrap_or_default();
        cache.push(TvsCacheEntry {
            fingerprint,
            subject,
            roles: roles.iter().map(|r| r.name().to_string()).collect(),
            expires: opencapf_model::ts(now + time::Duration::seconds(i64::from(ttl))),
            certificate: opencapf_pki::pem::encode("CERTIFICATE", der),
        });
        if cache.len() > MAX_TVS_CACHE {
            cache.drain(..cache.len() - MAX_TVS_CACHE);
        }
        let json = serde_json::to_vec_pretty(&cache).map_err(|e| PhoneError::Invalid(e.to_string()))?;
        replace_file(self.dir(), files::TVS_CACHE, &json, 0o644)?;
        let hours = ttl / 3600;
        let expiry = if hours > 0 { format!("{hours} hours") } else { format!("{ttl} seconds") };
        self.console().info(&format!("SECUREAPP-TVS added cert to TVS cache - expires in {expiry}"));
        Ok(())
    }

    /// The certificates the phone accepts as a server with one of `roles`: the ITL records with
    /// that role, then the unexpired TVS-cache entries with it.
    pub fn server_certificates(&self, roles: &[Role]) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if let Some(itl) = self.itl()? {
            for role in roles {
                out.extend(itl.certificates_with(*role).map(<[u8]>::to_vec));
            }
        }
        let now = OffsetDateTime::now_utc();
        for e in self.tvs_cache()? {
            if !e.expired(now) && e.has_role(roles) {
                out.extend(e.der());
            }
        }
        out.dedup();
        Ok(out)
    }

    /// Whether the phone holds an ITL (its trust list); not in factory state.
    pub fn has_itl(&self) -> bool {
        self.dir().join(files::ITL).is_file()
    }

    /// What a factory reset erases: the LSC, the ITL, the configuration and the TVS cache. The
    /// MIC stays (cucm-reference §5).
    pub fn factory_reset(&self) -> Result<()> {
        crate::folder::remove_lsc(self.dir())?;
        for name in [files::ITL, files::CONFIG, files::TVS_CACHE] {
            remove_optional(&self.dir().join(name))?;
        }
        self.console().info("SECD: -Factory reset: LSC, trust list, configuration and TVS cache erased; MIC kept");
        Ok(())
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PhoneError::Io { context: format!("reading {}", path.display()), cause: e }),
    }
}

fn remove_optional(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(PhoneError::Io { context: format!("deleting {}", path.display()), cause: e })
        }
        _ => Ok(()),
    }
}
