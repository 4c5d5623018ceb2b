//! What the CAPF server records about each session: the operation it starts, the LSC it issues,
//! and how every attempt ended.
//!
//! Each public function here is one transaction, so that a session that stops at any point
//! leaves either the state before a step or the state after it, never half of one:
//! - an issued LSC is written once, state `issued`, *before* it is sent to the phone;
//! - it becomes the device's LSC only when the phone says it stored it ([`complete_install`]);
//!   until then the previous LSC stays the device's active one;
//! - every attempt that reached a device with a pending operation sets the device's
//!   "Certificate Operation Status" to what really happened, adds a status-history row and an
//!   audit record (device, operation, authentication mode, result, certificate serial and issuer).
//!
//! Only success, a passed deadline and a lock-out end a pending operation; any other failure
//! leaves it pending, so that the phone can try again until "Operation Completes By".

use opencapf_model::{
    failure_status, success_status, ts, AuthMode, CertKind, CertificateOperation, Device, DeviceName, Failure,
};
use opencapf_pki::{CertificateInfo, IssuedCertificate};
use opencapf_store::{audit, devices, issued, uploads, Db};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Cluster, Error, Result};

/// The actor of the audit records the CAPF server writes.
pub const ACTOR: &str = "capf";

/// Where a session came from: written into every history detail and audit record.
#[derive(Debug, Clone)]
pub struct Origin {
    pub session_id: u32,
    pub peer: String,
}

/// A certificate named in a record: the one the phone authenticated with, or an issued LSC.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    pub kind: CertKind,
    pub serial: String,
    pub issuer: String,
    pub subject: String,
}

impl CertSummary {
    pub fn new(kind: CertKind, info: &CertificateInfo) -> Self {
        Self { kind, serial: info.serial.clone(), issuer: info.issuer.clone(), subject: info.subject.clone() }
    }

    fn describe(&self) -> String {
        format!("{} serial {} issuer {}", self.kind, self.serial, self.issuer)
    }
}

/// One attempt at a device's pending operation, as the records name it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub device: DeviceName,
    pub operation: CertificateOperation,
    pub auth_mode: AuthMode,
    pub origin: Origin,
    /// The certificate the phone presented to authenticate (By Existing Certificate), accepted
    /// or not.
    pub presented: Option<CertSummary>,
}

impl Attempt {
    pub fn new(device: &Device, origin: Origin) -> Self {
        Self {
            device: device.name.clone(),
            operation: device.capf.operation,
            auth_mode: device.capf.auth_mode,
            origin,
            presented: None,
        }
    }
}

/// What [`begin`] found for a device name.
#[derive(Debug)]
pub enum Begin {
    UnknownDevice,
    NoPendingOperation(Box<Device>),
    /// "Operation Completes By" had passed: the failure is recorded and the operation ended.
    Late {
        device: Box<Device>,
        status: String,
    },
    Pending(Box<Device>),
}

impl Cluster {
    /// Loads a device for a new session and checks its deadline. A passed deadline is recorded
    /// (`"<Op> Failed: User Initiated Request Late/Timedout"`) and ends the operation.
    pub async fn begin(&self, name: &DeviceName, origin: &Origin, at: OffsetDateTime) -> Result<Begin> {
        let mut db = self.store.write().await?;
        let device = match devices::get(&mut db, name).await {
            Ok(d) => d,
            Err(Error::NotFound(_)) => return Ok(Begin::UnknownDevice),
            Err(e) => return Err(e),
        };
        if device.capf.operation == CertificateOperation::NoPendingOperation {
            return Ok(Begin::NoPendingOperation(Box::new(device)));
        }
        match device.capf.completes_by {
            Some(deadline) if deadline < at => {
                let attempt = Attempt::new(&device, origin.clone());
                let status = failure_status(attempt.operation, Failure::Late);
                let detail = format!("Operation Completes By was {}; the operation is cancelled", ts(deadline));
                finish(&mut db, &attempt, &status, &detail, End::Operation, &[]).await?;
                db.commit().await?;
                Ok(Begin::Late { device: Box::new(device), status })
            }
            _ => Ok(Begin::Pending(Box::new(device))),
        }
    }
}

impl Cluster {
    /// Records a failed attempt (the operation stays pending). Returns the status written.
    pub async fn fail(&self, attempt: &Attempt, failure: Failure, detail: &str) -> Result<String> {
        let mut db = self.store.write().await?;
        let status = failure_status(attempt.operation, failure);
        finish(&mut db, attempt, &status, detail, End::Keep, &[]).await?;
        db.commit().await?;
        Ok(status)
    }
}

/// What a wrong authentication string did.
#[derive(Debug, Clone)]
pub struct StringFailure {
    pub status: String,
    /// Wrong strings since the operation was scheduled, this one included.
    pub failures: u32,
    /// The limit was reached: the operation is cancelled and the string cleared.
    pub locked_out: bool,
}

impl Cluster {
    /// Records a wrong authentication string. After `max_failures` wrong strings since the
    /// operation was scheduled (0 = no limit), the operation is cancelled and the string cleared,
    /// so that guessing stops until an administrator schedules it again with a new string.
    pub async fn fail_authentication_string(
        &self,
        attempt: &Attempt,
        detail: &str,
        max_failures: u32,
    ) -> Result<StringFailure> {
        let mut db = self.store.write().await?;
        let status = failure_status(attempt.operation, Failure::InvalidAuthenticationString);
        let before = devices::wrong_strings_since_scheduled(&mut db, &attempt.device).await?;
        let failures = before.saturating_add(1);
        let locked_out = max_failures > 0 && failures >= max_failures;
        let detail = if locked_out {
            format!(
            "{detail}; {failures} wrong authentication strings: operation cancelled, schedule it again with a new string"
        )
        } else {
            format!("{detail} ({failures} wrong since scheduled)")
        };
        let end = if locked_out { End::Operation } else { End::Keep };
        finish(&mut db, attempt, &status, &detail, end, &[]).await?;
        db.commit().await?;
        Ok(StringFailure { status, failures, locked_out })
    }
}

impl Cluster {
    /// Writes an LSC about to be sent to the phone, once (the serial is unique), state `issued`.
    /// The device's active LSC does not change.
    pub async fn record_issued(
        &self,
        attempt: &Attempt,
        lsc: &IssuedCertificate,
        issuer_fingerprint: &str,
    ) -> Result<()> {
        let mut db = self.store.write().await?;
        let inserted = issued::insert(&mut db, &attempt.device, issuer_fingerprint, lsc).await?;
        if !inserted {
            return Err(Error::Conflict(format!("an LSC with serial {} was already issued", lsc.info.serial)));
        }
        audit::record(
            &mut db,
            ACTOR,
            "capf.lsc.issue",
            attempt.device.as_str(),
            &format!(
                "LSC serial {} issuer {} sent to the phone; {}; {}",
                lsc.info.serial,
                lsc.info.issuer,
                attempt.auth_mode,
                origin_text(&attempt.origin)
            ),
        )
        .await?;
        db.commit().await?;
        Ok(())
    }
}

impl Cluster {
    /// The phone stored the LSC: it becomes the device's LSC, the previous one is superseded, the
    /// operation ends ("Upgrade Success") and the authentication string is spent.
    pub async fn complete_install(&self, attempt: &Attempt, serial: &str) -> Result<String> {
        let mut db = self.store.write().await?;
        let (der, state) = issued::find(&mut db, &attempt.device, serial)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no LSC {serial} issued to {}", attempt.device)))?;
        if state != "issued" {
            return Err(Error::Conflict(format!("LSC {serial} is '{state}', not waiting for the phone")));
        }
        issued::end_installed(&mut db, &attempt.device, "superseded").await?;
        issued::set_state(&mut db, serial, None, "installed").await?;
        devices::set_lsc(&mut db, &attempt.device, Some(&der)).await?;
        let info = CertificateInfo::parse(&der)?;
        let status = success_status(attempt.operation);
        let installed = CertSummary::new(CertKind::Lsc, &info);
        finish(&mut db, attempt, &status, "the phone stored the new LSC", End::Operation, &[("installed", &installed)])
            .await?;
        db.commit().await?;
        Ok(status)
    }
}

impl Cluster {
    /// The phone did not store the LSC (it said so, went silent or disconnected): the issued LSC
    /// is marked `failed`, the device keeps its previous LSC, the operation stays pending.
    pub async fn fail_install(
        &self,
        attempt: &Attempt,
        serial: &str,
        failure: Failure,
        detail: &str,
    ) -> Result<String> {
        let mut db = self.store.write().await?;
        let row = issued::find(&mut db, &attempt.device, serial).await?;
        issued::set_state(&mut db, serial, Some("issued"), "failed").await?;
        let issued = match row {
            Some((der, _)) => Some(CertSummary::new(CertKind::Lsc, &CertificateInfo::parse(&der)?)),
            None => None,
        };
        let status = failure_status(attempt.operation, failure);
        let certs: Vec<(&str, &CertSummary)> = issued.iter().map(|c| ("not installed", c)).collect();
        finish(&mut db, attempt, &status, detail, End::Keep, &certs).await?;
        db.commit().await?;
        Ok(status)
    }
}

impl Cluster {
    /// The phone deleted its LSC: the device has none, the LSC we issued it is `deleted`,
    /// "Delete Success".
    pub async fn complete_delete(&self, attempt: &Attempt) -> Result<String> {
        let mut db = self.store.write().await?;
        let device = devices::get(&mut db, &attempt.device).await?;
        issued::end_installed(&mut db, &attempt.device, "deleted").await?;
        devices::set_lsc(&mut db, &attempt.device, None).await?;
        let deleted = match &device.lsc {
            Some(l) => Some(CertSummary::new(CertKind::Lsc, &CertificateInfo::parse(&l.der)?)),
            None => None,
        };
        let status = success_status(attempt.operation);
        let certs: Vec<(&str, &CertSummary)> = deleted.iter().map(|c| ("deleted", c)).collect();
        let detail = if deleted.is_some() {
            "the phone deleted its LSC"
        } else {
            "the phone deleted its LSC (none was recorded for it)"
        };
        finish(&mut db, attempt, &status, detail, End::Operation, &certs).await?;
        db.commit().await?;
        Ok(status)
    }
}

/// A certificate a phone uploaded with Troubleshoot.
#[derive(Debug, Clone)]
pub struct Upload {
    pub kind: CertKind,
    pub der: Vec<u8>,
    /// Also record it as the device's MIC (`devices::set_mic`): only for a MIC that CAPF
    /// verified and bound to the device.
    pub record_as_mic: bool,
}

impl Cluster {
    /// The phone uploaded its certificates: they are stored with the device (a verified MIC also
    /// becomes its recorded MIC), "Troubleshoot Success".
    pub async fn complete_troubleshoot(&self, attempt: &Attempt, uploads: &[Upload]) -> Result<String> {
        let mut db = self.store.write().await?;
        let mut summaries = Vec::new();
        for u in uploads {
            let info = CertificateInfo::parse(&u.der)?;
            uploads::insert(&mut db, &attempt.device, u.kind, &u.der, &info).await?;
            if u.kind == CertKind::Mic && u.record_as_mic {
                devices::set_mic(&mut db, &attempt.device, &u.der).await?;
            }
            summaries.push(CertSummary::new(u.kind, &info));
        }
        let status = success_status(attempt.operation);
        let certs: Vec<(&str, &CertSummary)> = summaries.iter().map(|c| ("uploaded", c)).collect();
        let detail = format!("the phone uploaded {} certificate(s)", uploads.len());
        finish(&mut db, attempt, &status, &detail, End::Operation, &certs).await?;
        db.commit().await?;
        Ok(status)
    }
}

/// Whether an attempt's record ends the pending operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Keep,
    /// Back to "No Pending Operation"; the authentication string is spent and the deadline cleared.
    Operation,
}

fn origin_text(o: &Origin) -> String {
    format!("session {} from {}", o.session_id, o.peer)
}

/// Status, history row and audit record of an attempt, inside the caller's transaction.
async fn finish(
    db: &mut Db,
    attempt: &Attempt,
    status: &str,
    detail: &str,
    end: End,
    certs: &[(&str, &CertSummary)],
) -> Result<()> {
    devices::set_status(db, &attempt.device, status, end == End::Operation).await?;

    let mut parts = vec![detail.to_owned()];
    if let Some(p) = &attempt.presented {
        parts.push(format!("presented {}", p.describe()));
    }
    for (what, c) in certs {
        parts.push(format!("{what} {}", c.describe()));
    }
    parts.push(origin_text(&attempt.origin));
    let history_detail = parts.join("; ");
    devices::add_history(
        db,
        &attempt.device,
        attempt.operation.as_str(),
        attempt.auth_mode.as_str(),
        status,
        &history_detail,
    )
    .await?;
    let action = match attempt.operation {
        CertificateOperation::InstallUpgrade => "capf.upgrade",
        CertificateOperation::Delete => "capf.delete",
        CertificateOperation::Troubleshoot => "capf.troubleshoot",
        CertificateOperation::NoPendingOperation => "capf.session",
    };
    let audit_detail = format!("{status}; {}; {history_detail}", attempt.auth_mode);
    audit::record(db, ACTOR, action, attempt.device.as_str(), &audit_detail).await
}

impl Cluster {
    /// Records a device's MIC, once CAPF verified it and bound it to the device.
    pub async fn record_mic(&self, device: &DeviceName, der: &[u8]) -> Result<()> {
        let mut db = self.store.read().await?;
        devices::set_mic(&mut db, device, der).await
    }
}
