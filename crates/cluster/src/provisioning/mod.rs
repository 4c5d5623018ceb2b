//! The files phones boot from (phone-boot.md §1.3), generated from the database on every request:
//! `ITLFile.tlv` / `ITL<device>.tlv`, `SEP<MAC>.cnf.xml` and its signed `.sgn`. Generation is
//! deterministic (the timestamps come from the data, PKCS#1 v1.5 signatures are deterministic),
//! so a file changes exactly when what it says changes, and no cache can go stale.
//!
//! - `budget`: how often one address may add to the unknown-device list.
//! - `names`: which file a requested name is ([`Requested`]).
//! - `itl`: the ITL, signed by ITLRecovery.
//! - `config_xml`: the device configuration ([`Endpoints`]).

mod budget;
mod config_xml;
mod itl;
mod names;

use std::net::IpAddr;

use opencapf_model::{DeviceName, Service};
use opencapf_pki::{build_sgn, FileHash, FileSigner};
use opencapf_store::{devices, service};
use time::OffsetDateTime;

use crate::{Cluster, Error, Result};

pub(crate) use budget::RecordBudget;
pub use config_xml::Endpoints;
pub use itl::ITL_FILE;
pub use names::Requested;

/// What the configuration service answers for a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionedFile {
    Found(Vec<u8>),
    /// HTTP 404, TFTP error 1.
    NotFound,
    /// A file CUCM answers 503 for over HTTP: the CTL of a cluster that is not in mixed mode
    /// (phone-boot.md §1.2). TFTP says "File not found".
    Unavailable,
}

impl Cluster {
    /// The file a phone asked for by `name`, from `source`. A configuration request for a device
    /// the cluster does not know is recorded (`device list --unknown-requests`).
    pub async fn provisioning_file(&self, name: &str, at: &Endpoints, source: IpAddr) -> Result<ProvisionedFile> {
        Ok(match Requested::parse(name) {
            Requested::Itl(_) => ProvisionedFile::Found(self.itl_file().await?),
            // Mixed mode (a CTL) is not offered: phones go on to the ITL.
            Requested::Ctl(_) => ProvisionedFile::Unavailable,
            Requested::Config { device, signed } => match self.device_config(&device, at).await? {
                None => {
                    if self.unknown_budget.take(source) {
                        self.record_unknown_request(&device, name, source).await?;
                    }
                    ProvisionedFile::NotFound
                }
                Some(xml) if signed => ProvisionedFile::Found(self.sign_file(xml.as_bytes(), name).await?),
                Some(xml) => ProvisionedFile::Found(xml.into_bytes()),
            },
            Requested::Other => ProvisionedFile::NotFound,
        })
    }

    /// `SEP<MAC>.cnf.xml` of `device`, or `None` when the cluster does not know the device.
    pub async fn device_config(&self, device: &DeviceName, at: &Endpoints) -> Result<Option<String>> {
        let mut db = self.store.read().await?;
        let d = match devices::get(&mut db, device).await {
            Ok(d) => d,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        drop(db);
        let group = self.call_manager_group().await?;
        let stamp = version_stamp(&d);
        Ok(Some(config_xml::device_config(&d, &group, at, d.load_information.as_deref(), &stamp)))
    }

    /// `content` as a `.sgn` file named `name`, signed by the CallManager certificate: it holds
    /// the CCM+TFTP role in the ITL, so phones check configuration files against it.
    async fn sign_file(&self, content: &[u8], name: &str) -> Result<Vec<u8>> {
        let mut db = self.store.read().await?;
        let cm = service::require_active(&mut db, Service::CallManager).await?;
        drop(db);
        let key = self.key_of(&cm).await?;
        let signer = FileSigner { certificate: &cm.der, key: &key };
        let at = unix_seconds(&cm.created_at);
        build_sgn(&signer, content, name, FileHash::Sha1, at).map_err(|e| Error::Invalid(e.to_string()))
    }
}

/// `<unix time>-<uuid>` (phone-boot.md §2.1): the time of the device's last CAPF status change
/// (or its creation) and a UUID derived from its name, so that the stamp is stable between
/// requests.
fn version_stamp(d: &opencapf_model::Device) -> String {
    let when = d.capf.status_at.as_deref().unwrap_or(&d.created_at);
    let h = opencapf_pki::fingerprint(d.name.as_str().as_bytes());
    format!("{}-{}-{}-{}-{}-{}", unix_seconds(when), &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Seconds since 1970 of a stored timestamp; 0 if it cannot be read (it always can: the store
/// writes them).
fn unix_seconds(stamp: &str) -> u32 {
    opencapf_model::parse_ts(stamp)
        .map(OffsetDateTime::unix_timestamp)
        .ok()
        .and_then(|t| u32::try_from(t).ok())
        .unwrap_or(0)
}
