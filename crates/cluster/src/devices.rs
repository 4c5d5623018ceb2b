//! Devices: add, import, update, remove, the CAPF settings (`device set`), record-cert, and the
//! reads of a device.

use opencapf_model::{
    AuthMode, CapfUpdate, CertKind, CertificateOperation, Device, DeviceName, HistoryEntry, IssuedCertificateRecord,
    KeyOrder, NewDevice, Protocol, SecurityMode, UploadedCertificate,
};
use opencapf_pki::{classify, CertificateInfo, CertificateKind};
use opencapf_store::{audit, credentials, devices, uploads};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Cluster, Error, Result};

/// Generated strings: 8 digits, inside CUCM's 4 to 10.
const GENERATED_AUTH_STRING_DIGITS: usize = 8;

/// A device to add or update, from the words a user typed; the model is 1 to 32 characters.
pub fn new_device(name: &str, model: &str, protocol: &str, security: &str, description: &str) -> Result<NewDevice> {
    let model = model.trim();
    if model.is_empty() || model.len() > 32 {
        return Err(Error::Invalid(format!("model '{model}' must be 1 to 32 characters, e.g. CP-8861")));
    }
    Ok(NewDevice {
        name: name.parse()?,
        model: model.to_owned(),
        protocol: protocol.trim().parse::<Protocol>()?,
        security_mode: security.trim().parse::<SecurityMode>()?,
        description: description.to_owned(),
    })
}

/// A change to the phone page fields; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct DeviceUpdate {
    pub model: Option<String>,
    pub protocol: Option<String>,
    pub security: Option<String>,
    pub description: Option<String>,
}

/// What `device import` did.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub added: usize,
    pub skipped: usize,
}

/// The CAPF settings `device set` changes; `None` keeps each device's current value.
#[derive(Debug, Clone, Default)]
pub struct CapfSettings {
    pub operation: Option<CertificateOperation>,
    pub auth_mode: Option<AuthMode>,
    pub auth_string: Option<String>,
    pub generate_auth_string: bool,
    pub key_order: Option<KeyOrder>,
    pub rsa_bits: Option<u32>,
    pub ec_bits: Option<u32>,
}

impl CapfSettings {
    /// The key-size and authentication-string rules, checked before anything is written.
    pub fn validate(&self) -> Result<()> {
        if let Some(bits) = self.rsa_bits {
            if !matches!(bits, 1024 | 2048 | 3072 | 4096) {
                return Err(Error::Invalid(format!(
                    "--rsa-bits {bits}: use 1024, 2048, 3072 or 4096 (512 is too weak to carry a SHA-512 signature)"
                )));
            }
        }
        if let Some(bits) = self.ec_bits {
            if !matches!(bits, 256 | 384 | 521) {
                return Err(Error::Invalid(format!("--ec-bits {bits}: use 256, 384 or 521")));
            }
        }
        if let Some(s) = &self.auth_string {
            if !(4..=10).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::Invalid("the authentication string must be 4 to 10 digits".into()));
            }
        }
        if self.wants_string() && self.auth_mode.is_some_and(|m| m != AuthMode::AuthenticationString) {
            return Err(Error::Invalid("--auth-string and --generate-auth-string go with --auth string".into()));
        }
        Ok(())
    }

    fn wants_string(&self) -> bool {
        self.auth_string.is_some() || self.generate_auth_string
    }
}

/// Which devices `device set` changes.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    Names(Vec<DeviceName>),
}

/// One device after `device set`.
#[derive(Debug, Clone, Serialize)]
pub struct SetResult {
    pub device: String,
    pub operation: String,
    pub auth_mode: String,
    pub status: String,
    /// Only a generated string, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_string: Option<String>,
}

/// What `device record-cert` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedCert {
    pub kind: CertKind,
    pub classified: CertificateKind,
    pub info: CertificateInfo,
}

impl Cluster {
    pub async fn add_device(&self, d: &NewDevice, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        devices::add(&mut db, d).await?;
        let detail = format!("{} {} {}", d.model, d.protocol, d.security_mode);
        audit::record(&mut db, actor, "device.add", d.name.as_str(), &detail).await?;
        db.commit().await
    }

    /// Adds every device, or none: `problems` (say, bad lines of a file) and devices that exist
    /// already (unless `skip_existing`) refuse the whole import, every problem listed.
    pub async fn import_devices(
        &self,
        source: &str,
        parsed: Vec<NewDevice>,
        mut problems: Vec<String>,
        skip_existing: bool,
        actor: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Imported> {
        let mut db = self.store.write().await?;
        let mut to_add = Vec::new();
        let mut skipped = 0;
        for d in parsed {
            if devices::exists(&mut db, &d.name).await? {
                if skip_existing {
                    skipped += 1;
                } else {
                    problems.push(format!("{} already exists (use --skip-existing)", d.name));
                }
            } else {
                to_add.push(d);
            }
        }
        if !problems.is_empty() {
            let shown = problems.iter().take(10).cloned().collect::<Vec<_>>().join("; ");
            let more = if problems.len() > 10 { format!(" (and {} more)", problems.len() - 10) } else { String::new() };
            return Err(Error::Invalid(format!(
                "{} problem(s) in {source}, nothing imported: {shown}{more}",
                problems.len()
            )));
        }
        for (i, d) in to_add.iter().enumerate() {
            devices::add(&mut db, d).await?;
            progress(i + 1, to_add.len());
        }
        let detail = format!("{} added, {skipped} skipped", to_add.len());
        audit::record(&mut db, actor, "device.import", source, &detail).await?;
        db.commit().await?;
        Ok(Imported { added: to_add.len(), skipped })
    }

    /// Changes the phone page fields of a device. Returns the device as saved.
    pub async fn update_device(&self, name: &DeviceName, u: &DeviceUpdate, actor: &str) -> Result<NewDevice> {
        let mut db = self.store.write().await?;
        let cur = devices::get(&mut db, name).await?;
        let d = new_device(
            name.as_str(),
            u.model.as_deref().unwrap_or(&cur.model),
            u.protocol.as_deref().unwrap_or(cur.protocol.token()),
            u.security.as_deref().unwrap_or(cur.security_mode.token()),
            u.description.as_deref().unwrap_or(&cur.description),
        )?;
        devices::update(&mut db, &d).await?;
        let detail = format!("{} {} {}", d.model, d.protocol, d.security_mode);
        audit::record(&mut db, actor, "device.update", name.as_str(), &detail).await?;
        db.commit().await?;
        Ok(d)
    }

    pub async fn remove_device(&self, name: &DeviceName, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        devices::remove(&mut db, name).await?;
        audit::record(&mut db, actor, "device.remove", name.as_str(), "").await?;
        db.commit().await
    }

    /// `device set`: the CAPF information of some devices or all, one transaction. A pending
    /// operation completes by `deadline`.
    pub async fn set_capf(
        &self,
        selection: &Selection,
        s: &CapfSettings,
        deadline: OffsetDateTime,
        actor: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<SetResult>> {
        s.validate()?;
        let mut db = self.store.write().await?;
        let names = match selection {
            Selection::All => devices::names(&mut db).await?,
            Selection::Names(n) => n.clone(),
        };
        if names.is_empty() {
            return Err(Error::Invalid("the cluster has no devices".into()));
        }
        let mut results = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let cur = devices::get(&mut db, name).await?;
            let op = s.operation.unwrap_or(cur.capf.operation);
            let mode = s.auth_mode.unwrap_or(if s.wants_string() {
                AuthMode::AuthenticationString
            } else {
                cur.capf.auth_mode
            });
            // The digits when given or generated; otherwise the current string is kept (as its
            // hash: the digits are not stored).
            let auth_string = if mode != AuthMode::AuthenticationString {
                None
            } else if s.generate_auth_string {
                Some(opencapf_pki::random_digits(GENERATED_AUTH_STRING_DIGITS))
            } else {
                s.auth_string.clone()
            };
            let hash = match &auth_string {
                Some(digits) => Some(self.auth_key.hash(digits)),
                None if mode != AuthMode::AuthenticationString => None,
                None => match credentials::auth_string_hash(&mut db, name).await? {
                    Some(current) => Some(current),
                    None => {
                        return Err(Error::Invalid(format!(
                            "{name}: By Authentication String needs --auth-string DIGITS or --generate-auth-string"
                        )))
                    }
                },
            };
            let pending = op != CertificateOperation::NoPendingOperation;
            let update = CapfUpdate {
                operation: op,
                auth_mode: mode,
                auth_string: auth_string.clone(),
                key_order: s.key_order.unwrap_or(cur.capf.key_order),
                rsa_bits: s.rsa_bits.unwrap_or(cur.capf.rsa_bits),
                ec_bits: s.ec_bits.unwrap_or(cur.capf.ec_bits),
                completes_by: pending.then_some(deadline),
            };
            devices::set_capf(&mut db, name, &update, hash.as_deref(), "set by administrator").await?;
            let after = devices::get(&mut db, name).await?;
            // The audit says a string was set, never which.
            let detail = format!(
                "{} / {} / {} RSA {} EC {}{}",
                op,
                mode,
                update.key_order,
                update.rsa_bits,
                update.ec_bits,
                if hash.is_some() { " / authentication string set" } else { "" }
            );
            audit::record(&mut db, actor, "device.set", name.as_str(), &detail).await?;
            results.push(SetResult {
                device: name.to_string(),
                operation: op.to_string(),
                auth_mode: mode.to_string(),
                status: after.capf.status,
                auth_string: if s.generate_auth_string { auth_string } else { None },
            });
            progress(i + 1, names.len());
        }
        db.commit().await?;
        Ok(results)
    }

    /// Saves a device's CAPF information as given (no rules applied): for setups and tests that
    /// need a state `device set` would not produce, such as a deadline in the past.
    pub async fn save_capf(&self, name: &DeviceName, update: &CapfUpdate, detail: &str, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        let hash = update.auth_string.as_deref().map(|digits| self.auth_key.hash(digits));
        devices::set_capf(&mut db, name, update, hash.as_deref(), detail).await?;
        audit::record(&mut db, actor, "device.set", name.as_str(), detail).await?;
        db.commit().await
    }

    /// Records an LSC or MIC a device holds, from a file. `as_kind`: None = classify it.
    pub async fn record_cert(
        &self,
        name: &DeviceName,
        der: &[u8],
        as_kind: Option<CertKind>,
        actor: &str,
    ) -> Result<RecordedCert> {
        let info = CertificateInfo::parse(der)?;
        let mut db = self.store.write().await?;
        let capfs = opencapf_store::service::capf_infos(&mut db).await?;
        let classified = classify(&info, &capfs);
        let kind = match as_kind {
            Some(k) => k,
            None => match classified {
                CertificateKind::Mic => CertKind::Mic,
                CertificateKind::LscThisCluster | CertificateKind::LscOtherCluster => CertKind::Lsc,
                CertificateKind::Other => {
                    return Err(Error::Invalid(format!(
                        "{} is neither an LSC (issuer CAPF-…) nor a MIC (manufacturing CA issuer); say which with --as lsc|mic",
                        info.subject
                    )))
                }
            },
        };
        let cn = info.subject_cn.clone().unwrap_or_default();
        let bound = if kind == CertKind::Mic { cn.ends_with(name.as_str()) } else { cn == name.as_str() };
        if !bound {
            return Err(Error::Invalid(format!(
                "the certificate's CN '{cn}' does not belong to {name} (an LSC's CN is the device name; a MIC's ends with it)"
            )));
        }
        match kind {
            CertKind::Mic => devices::set_mic(&mut db, name, der).await?,
            CertKind::Lsc => devices::set_lsc(&mut db, name, Some(der)).await?,
        }
        let detail = format!("{kind} serial {} issuer {}", info.serial, info.issuer);
        audit::record(&mut db, actor, "device.record-cert", name.as_str(), &detail).await?;
        db.commit().await?;
        Ok(RecordedCert { kind, classified, info })
    }

    pub async fn device(&self, name: &DeviceName) -> Result<Device> {
        devices::get(&mut self.store.read().await?, name).await
    }

    /// Every device, by name.
    pub async fn devices(&self) -> Result<Vec<Device>> {
        devices::list(&mut self.store.read().await?).await
    }

    /// A device's operation history, newest first.
    pub async fn history(&self, name: &DeviceName, limit: i64) -> Result<Vec<HistoryEntry>> {
        devices::history(&mut self.store.read().await?, name, limit).await
    }

    /// The LSCs this cluster issued to a device.
    pub async fn issued_for(&self, name: &DeviceName) -> Result<Vec<IssuedCertificateRecord>> {
        devices::issued_for(&mut self.store.read().await?, name).await
    }

    /// The certificates a device uploaded with Troubleshoot, newest first.
    pub async fn uploaded(&self, name: &DeviceName) -> Result<Vec<UploadedCertificate>> {
        uploads::list(&mut self.store.read().await?, name).await
    }
}
