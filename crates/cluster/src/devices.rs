//! Devices: add, import, update, remove (the phone page fields), record-cert, and the reads of a
//! device. Their CAPF settings (`device set`) are in `capf_settings`.

use opencapf_model::{
    parse_load_information, CertKind, Device, DeviceName, DirectoryNumber, HistoryEntry, IssuedCertificateRecord,
    NewDevice, Protocol, SecurityMode, UploadedCertificate,
};
use opencapf_pki::{classify, names_device, CertificateInfo, CertificateKind, DEVICE_CN_RULE};
use opencapf_store::{audit, devices, settings, uploads};
use serde::Serialize;

use crate::{Cluster, Error, Result};

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
        lines: Vec::new(),
        load_information: None,
    })
}

/// Directory numbers as a user typed them (`--line 2222`, a `lines` column "2222 2223"), each
/// checked, none twice.
pub fn parse_lines<S: AsRef<str>>(words: &[S]) -> Result<Vec<DirectoryNumber>> {
    let mut lines: Vec<DirectoryNumber> = Vec::new();
    for w in words.iter().flat_map(|w| w.as_ref().split([' ', ',', ';'])).filter(|w| !w.trim().is_empty()) {
        let dn: DirectoryNumber = w.parse()?;
        if lines.contains(&dn) {
            return Err(Error::Invalid(format!("line {dn} is given twice")));
        }
        lines.push(dn);
    }
    Ok(lines)
}

/// A change to the phone page fields; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct DeviceUpdate {
    pub model: Option<String>,
    pub protocol: Option<String>,
    pub security: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` removes the load, `Some(Some(id))` sets it (checked by
    /// [`opencapf_model::parse_load_information`]).
    pub load: Option<Option<String>>,
}

/// The device with its load id checked and in its stored form (no `.loads`).
fn with_checked_load(d: NewDevice) -> Result<NewDevice> {
    let load_information = d.load_information.as_deref().map(parse_load_information).transpose()?;
    Ok(NewDevice { load_information, ..d })
}

/// What `device import` did.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub added: usize,
    pub skipped: usize,
}

/// What `device record-cert` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedCert {
    pub kind: CertKind,
    pub classified: CertificateKind,
    pub info: CertificateInfo,
}

impl Cluster {
    /// Adds a line (directory number) after the device's last one, audited.
    pub async fn add_line(&self, name: &DeviceName, dn: &DirectoryNumber, actor: &str) -> Result<Vec<DirectoryNumber>> {
        let mut db = self.store.write().await?;
        devices::add_line(&mut db, name, dn).await?;
        audit::record(&mut db, actor, "device.line.add", name.as_str(), dn.as_str()).await?;
        let lines = devices::lines(&mut db, name).await?;
        db.commit().await?;
        Ok(lines)
    }

    /// Removes a line; the ones after it move up a button. Audited.
    pub async fn remove_line(
        &self,
        name: &DeviceName,
        dn: &DirectoryNumber,
        actor: &str,
    ) -> Result<Vec<DirectoryNumber>> {
        let mut db = self.store.write().await?;
        devices::remove_line(&mut db, name, dn).await?;
        audit::record(&mut db, actor, "device.line.remove", name.as_str(), dn.as_str()).await?;
        let lines = devices::lines(&mut db, name).await?;
        db.commit().await?;
        Ok(lines)
    }

    /// Records a Reset / Restart / Apply Config that `serve` sent to the phones it could reach
    /// (the NOTIFY itself goes out from the running server, not from this process).
    pub async fn record_device_control(&self, action: &str, reached: &[DeviceName], actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        for name in reached {
            audit::record(&mut db, actor, &format!("device.{action}"), name.as_str(), "NOTIFY service-control sent")
                .await?;
        }
        db.commit().await
    }

    pub async fn add_device(&self, d: &NewDevice, actor: &str) -> Result<()> {
        let d = &with_checked_load(d.clone())?;
        let mut db = self.store.write().await?;
        let keys = settings::load(&mut db).await?.key_defaults;
        devices::add(&mut db, d, &keys).await?;
        let mut detail = format!("{} {} {}", d.model, d.protocol, d.security_mode);
        if let Some(load) = &d.load_information {
            detail.push_str(&format!(", load {load}"));
        }
        if !d.lines.is_empty() {
            let lines: Vec<&str> = d.lines.iter().map(DirectoryNumber::as_str).collect();
            detail.push_str(&format!(", lines {}", lines.join(" ")));
        }
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
            let d = match with_checked_load(d) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
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
        let keys = settings::load(&mut db).await?.key_defaults;
        for (i, d) in to_add.iter().enumerate() {
            devices::add(&mut db, d, &keys).await?;
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
        let d = NewDevice {
            load_information: match &u.load {
                Some(Some(id)) => Some(parse_load_information(id)?),
                Some(None) => None,
                None => cur.load_information,
            },
            ..d
        };
        devices::update(&mut db, &d).await?;
        let mut detail = format!("{} {} {}", d.model, d.protocol, d.security_mode);
        if let Some(load) = &d.load_information {
            detail.push_str(&format!(", load {load}"));
        }
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
        let classified = classify(&info, Some(&capfs));
        let Some(kind) = as_kind.or(classified.cert_kind()) else {
            return Err(Error::Invalid(format!(
                "{} is neither an LSC (issuer CAPF-…) nor a MIC (manufacturing CA issuer); say which with --as lsc|mic",
                info.subject
            )));
        };
        let cn = info.subject_cn.clone().unwrap_or_default();
        if !names_device(&info, kind, name) {
            return Err(Error::Invalid(format!(
                "the certificate's CN '{cn}' does not belong to {name}: {DEVICE_CN_RULE}"
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
