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
//! One session at a time works on a device's pending operation: [`Cluster::begin`] claims it
//! (until the session's maximum duration, so that a crashed server's claim expires), a second
//! session meanwhile gets [`Begin::InProgress`], and every later write of the session checks,
//! in its transaction, that it still holds the claim (an administrator who reschedules takes it
//! away), so that a late session never overwrites a finished operation. The record that ends a
//! session releases it.
//! A claim names its node and process, so that a restarted node frees the claims of its earlier
//! runs at once, and an LSC left `issued` by a session that is gone is failed by
//! [`Cluster::recover_interrupted`](crate::Cluster::recover_interrupted) (module `recovery`).
//!
//! Success, a passed deadline and a lock-out end a pending operation, and so does sending an
//! LSC: the credential (string, null string or certificate permission) is spent then, so that
//! a phone that does not store it needs the administrator to schedule the operation again. Any
//! other failure leaves it pending, so that the phone can try again until "Operation Completes
//! By".

use opencapf_model::{
    failure_status, success_status, ts, AuthMode, CertKind, CertificateOperation, Device, DeviceName, Failure,
    TlsSession,
};
use opencapf_pki::{CertificateInfo, IssuedCertificate};
use opencapf_store::credentials::{self, Claim, Release};
use opencapf_store::{audit, devices, issued, uploads, Db, Topic};
use serde::Serialize;
use std::time::Duration;
use time::OffsetDateTime;

use crate::crl::refresh_crls;
use crate::recovery::Node;
use crate::{Cluster, Error, Result};

/// The actor of the audit records the CAPF server writes.
pub const ACTOR: &str = "capf";

/// Where a session came from: written into every history detail and audit record.
#[derive(Debug, Clone)]
pub struct Origin {
    pub session_id: u32,
    pub peer: String,
    /// The session's TLS (engine, version, suite), so that the history shows a legacy one
    /// (`TLSv1 AES256-SHA (legacy)`); `None` when the caller does not know it.
    pub tls: Option<TlsSession>,
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
    /// The session's claim on the pending operation, from [`Begin::Pending`].
    pub claim: String,
}

impl Attempt {
    pub fn new(device: &Device, origin: Origin, claim: String) -> Self {
        Self {
            device: device.name.clone(),
            operation: device.capf.operation,
            auth_mode: device.capf.auth_mode,
            origin,
            presented: None,
            claim,
        }
    }
}

/// What [`Cluster::begin`](crate::Cluster::begin) found for a device name.
#[derive(Debug)]
pub enum Begin {
    UnknownDevice,
    NoPendingOperation(Box<Device>),
    /// "Operation Completes By" had passed: the failure is recorded and the operation ended.
    Late {
        device: Box<Device>,
        status: String,
    },
    /// Another session is working on the operation: nothing was recorded.
    InProgress {
        device: Box<Device>,
        /// The other session (`<id> <peer> …`).
        by: String,
    },
    /// The session holds the operation until it records how it ended (or the claim expires).
    Pending {
        device: Box<Device>,
        claim: String,
    },
}

impl Cluster {
    /// Loads a device for a new session, claims its pending operation for `hold_for` (the
    /// session's maximum duration) and checks its deadline. A passed deadline is recorded
    /// (`"<Op> Failed: User Initiated Request Late/Timedout"`) and ends the operation.
    pub async fn begin(
        &self,
        name: &DeviceName,
        origin: &Origin,
        at: OffsetDateTime,
        hold_for: Duration,
    ) -> Result<Begin> {
        let mut db = self.store.write().await?;
        let device = match devices::get(&mut db, name).await {
            Ok(d) => d,
            Err(Error::NotFound(_)) => return Ok(Begin::UnknownDevice),
            Err(e) => return Err(e),
        };
        if device.capf.operation == CertificateOperation::NoPendingOperation {
            return Ok(Begin::NoPendingOperation(Box::new(device)));
        }
        let claim = claim_token(origin, &self.node);
        let until = millis(at).saturating_add(i64::try_from(hold_for.as_millis()).unwrap_or(i64::MAX));
        if let Claim::HeldBy { session, .. } = credentials::claim(&mut db, name, &claim, millis(at), until).await? {
            return Ok(Begin::InProgress { device: Box::new(device), by: session });
        }
        match device.capf.completes_by {
            Some(deadline) if deadline < at => {
                let attempt = Attempt::new(&device, origin.clone(), claim);
                let status = failure_status(attempt.operation, Failure::Late);
                let detail = format!("Operation Completes By was {}; the operation is cancelled", ts(deadline));
                finish(&mut db, &attempt, &status, &detail, Release::End, &[]).await?;
                db.commit().await?;
                Ok(Begin::Late { device: Box::new(device), status })
            }
            _ => {
                // A claim is a lease, not a record: every later writer sees it at once, and a
                // crash that loses it loses nothing (no session of this process survives to act
                // on it). So the session does not wait for it to be durable; what it records
                // next waits for both.
                db.commit_lazily();
                Ok(Begin::Pending { device: Box::new(device), claim })
            }
        }
    }

    /// Releases the session's claim without a record: for a session that ends with nothing to
    /// record, or whose record failed.
    pub async fn release(&self, attempt: &Attempt) -> Result<()> {
        let mut db = self.store.write().await?;
        credentials::release(&mut db, &attempt.device, &attempt.claim).await?;
        db.commit().await
    }
}

/// A claim names the session and is unique even across restarts (session ids may repeat); it
/// ends with the node and boot that made it, so that a restarted node knows its dead claims.
fn claim_token(origin: &Origin, node: &Node) -> String {
    let mut nonce = [0u8; 8];
    aws_lc_rs::rand::fill(&mut nonce).expect("the system random generator works");
    format!("session {} from {} ({}){}", origin.session_id, origin.peer, hex::encode(nonce), node.claim_suffix())
}

pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Fails unless the attempt's session still holds the device's operation: a late session
/// (its claim expired, or an administrator rescheduled) records nothing.
async fn hold(db: &mut Db, attempt: &Attempt) -> Result<()> {
    if credentials::holds(db, &attempt.device, &attempt.claim, millis(opencapf_model::now())).await? {
        return Ok(());
    }
    Err(lost(attempt))
}

/// What a late session's write gets: the transaction it was in is rolled back with it.
fn lost(attempt: &Attempt) -> Error {
    Error::Conflict(format!(
        "{} no longer holds the pending operation of {} (its claim expired or the operation was rescheduled); \
         nothing recorded",
        origin_text(&attempt.origin),
        attempt.device
    ))
}

impl Cluster {
    /// Records a failed attempt (the operation stays pending). Returns the status written.
    pub async fn fail(&self, attempt: &Attempt, failure: Failure, detail: &str) -> Result<String> {
        let mut db = self.store.write().await?;
        let status = failure_status(attempt.operation, failure);
        finish(&mut db, attempt, &status, detail, Release::Keep, &[]).await?;
        db.commit().await?;
        Ok(status)
    }
}

/// What a refused authentication string did (already recorded).
#[derive(Debug, Clone)]
pub struct StringFailure {
    pub status: String,
    pub detail: String,
    /// Wrong strings since the operation was scheduled, this one included.
    pub failures: u32,
    /// The limit was reached: the operation is cancelled and the string cleared.
    pub locked_out: bool,
}

impl Cluster {
    /// Checks the string a phone sent against the device's (its keyed hash, in constant time)
    /// and, if wrong, records it, all in one write transaction, so that parallel sessions cannot
    /// each test a guess against a copy read earlier. After `max_failures` wrong strings since
    /// the operation was scheduled (0 = no limit), the operation is cancelled and the string
    /// cleared, so that guessing stops until an administrator schedules it again.
    /// `Ok(None)`: the string is right.
    pub async fn check_authentication_string(
        &self,
        attempt: &Attempt,
        presented: Option<&str>,
        max_failures: u32,
    ) -> Result<Option<StringFailure>> {
        let mut db = self.store.write().await?;
        hold(&mut db, attempt).await?;
        let stored = credentials::auth_string_hash(&mut db, &attempt.device).await?;
        let detail = match (stored, presented.filter(|p| !p.is_empty())) {
            (None, _) => "no authentication string is set for the device (it is single-use and was already used)",
            (Some(_), None) => "the phone sent no authentication string",
            (Some(hash), Some(p)) if self.auth_key.verify(&hash, p) => return Ok(None),
            (Some(_), Some(_)) => "the phone sent a wrong authentication string",
        };
        let status = failure_status(attempt.operation, Failure::InvalidAuthenticationString);
        let before = devices::wrong_strings_since_scheduled(&mut db, &attempt.device).await?;
        let failures = before.saturating_add(1);
        let locked_out = max_failures > 0 && failures >= max_failures;
        let recorded = if locked_out {
            format!(
                "{detail}; {failures} wrong authentication strings: operation cancelled, schedule it again with a new string"
            )
        } else {
            format!("{detail} ({failures} wrong since scheduled)")
        };
        let release = if locked_out { Release::End } else { Release::Keep };
        finish(&mut db, attempt, &status, &recorded, release, &[]).await?;
        db.commit().await?;
        Ok(Some(StringFailure { status, detail: detail.to_owned(), failures, locked_out }))
    }
}

impl Cluster {
    /// Writes an LSC about to be sent to the phone, once (the serial is unique), state `issued`,
    /// and spends the credential: the operation is no longer pending, so that the same string or
    /// permission cannot get a second LSC. The device's active LSC does not change.
    pub async fn record_issued(
        &self,
        attempt: &Attempt,
        lsc: &IssuedCertificate,
        issuer_fingerprint: &str,
    ) -> Result<()> {
        let mut db = self.store.write().await?;
        let now = millis(opencapf_model::now());
        if !credentials::spend_held(&mut db, &attempt.device, &attempt.claim, now).await? {
            return Err(lost(attempt));
        }
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
                "LSC serial {} issuer {} sent to the phone, credential spent; {}; {}",
                lsc.info.serial,
                lsc.info.issuer,
                attempt.auth_mode,
                origin_text(&attempt.origin)
            ),
        )
        .await?;
        db.commit().await?;
        self.changed(&[Topic::Issued]);
        Ok(())
    }
}

impl Cluster {
    /// The phone stored the LSC: it becomes the device's LSC, the previous one is superseded, the
    /// operation ends ("Upgrade Success") and the authentication string is spent. `lsc` is the
    /// session's own description of the LSC it issued and recorded (not parsed again); the
    /// recorded certificate must match it.
    pub async fn complete_install(&self, attempt: &Attempt, lsc: &CertificateInfo) -> Result<String> {
        let mut db = self.store.write().await?;
        let serial = &lsc.serial;
        let installed = issued::install(&mut db, &attempt.device, serial).await?;
        let Some(der) = installed.der else {
            // Dropped, the transaction takes back the superseding.
            return Err(match issued::find(&mut db, &attempt.device, serial).await? {
                None => Error::NotFound(format!("no LSC {serial} issued to {}", attempt.device)),
                Some((_, state)) => Error::Conflict(format!("LSC {serial} is '{state}', not waiting for the phone")),
            });
        };
        if opencapf_pki::fingerprint(&der) != lsc.fingerprint {
            return Err(Error::Conflict(format!(
                "LSC {serial} as recorded is not the certificate this session issued"
            )));
        }
        let status = success_status(attempt.operation);
        let summary = CertSummary::new(CertKind::Lsc, lsc);
        let release = Release::Install { der: &der, info: lsc };
        finish(&mut db, attempt, &status, "the phone stored the new LSC", release, &[("installed", &summary)]).await?;
        // A first LSC ends none: the CRLs would list the same serials, so they are not signed
        // again (a key read and a signature per session otherwise).
        if installed.superseded > 0 {
            refresh_crls(&mut db, self.data_dir()).await?;
        }
        db.commit().await?;
        self.changed(&[Topic::Issued]);
        Ok(status)
    }
}

impl Cluster {
    /// The phone did not store the LSC (it said so, went silent or disconnected): the issued LSC
    /// is marked `failed`, the device keeps its previous LSC. The credential was spent when the
    /// LSC was sent: the detail says to schedule the operation again.
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
        let detail = format!("{detail}; {CREDENTIAL_SPENT}");
        finish(&mut db, attempt, &status, &detail, Release::Keep, &certs).await?;
        refresh_crls(&mut db, self.data_dir()).await?;
        db.commit().await?;
        self.changed(&[Topic::Issued]);
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
        finish(&mut db, attempt, &status, detail, Release::End, &certs).await?;
        refresh_crls(&mut db, self.data_dir()).await?;
        db.commit().await?;
        self.changed(&[Topic::Issued]);
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
        finish(&mut db, attempt, &status, &detail, Release::End, &certs).await?;
        db.commit().await?;
        Ok(status)
    }
}

/// What a failed install's record says: the LSC was sent, so the credential is gone.
pub const CREDENTIAL_SPENT: &str = "credential spent: schedule the operation again";

fn origin_text(o: &Origin) -> String {
    match &o.tls {
        Some(tls) => format!("session {} from {} over {tls}", o.session_id, o.peer),
        None => format!("session {} from {}", o.session_id, o.peer),
    }
}

/// Status, history row and audit record of an attempt, inside the caller's transaction; the
/// session's claim is released, or, if the session no longer holds it, a conflict (the caller's
/// transaction is then dropped, so nothing of the record is kept).
async fn finish(
    db: &mut Db,
    attempt: &Attempt,
    status: &str,
    detail: &str,
    release: Release<'_>,
    certs: &[(&str, &CertSummary)],
) -> Result<()> {
    // The session must still hold the operation: checked by the record's first statement, in
    // the same transaction, so that a late session's record is rolled back whole.
    let now = millis(opencapf_model::now());
    let held = credentials::release_with_status(db, &attempt.device, &attempt.claim, now, status, release);
    if !held.await? {
        return Err(lost(attempt));
    }
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
