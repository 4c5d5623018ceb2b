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

use opencapf_pki::{CertificateInfo, DeviceName, IssuedCertificate};
use serde::Serialize;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use crate::{audit, devices, now, ts, AuthMode, CertificateOperation, Device, Result, Store, StoreError};

/// The actor of the audit records the CAPF server writes.
pub const ACTOR: &str = "capf";

/// Why an operation failed: the reasons of CUCM's "Certificate Operation Status"
/// (`<Op> Failed: <reason>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    InvalidAuthenticationString,
    InvalidLsc,
    InvalidMic,
    /// No usable credentials at all (By Existing Certificate and no certificate).
    InvalidCredentials,
    PhoneCommunication,
    KeyGeneration,
    /// "Operation Completes By" has passed.
    Late,
    /// "EC Only" for a phone that does not speak CAPF version 3.
    NoEcSupport,
    /// The phone answered that it did not do it, or CAPF could not: plain "`<Op> Failed`", with
    /// the cause in the history detail.
    Unspecified,
}

impl Failure {
    /// The reason part of the status, as CUCM words it.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Failure::InvalidAuthenticationString => Some("Invalid Authentication String"),
            Failure::InvalidLsc => Some("Invalid LSC"),
            Failure::InvalidMic => Some("Invalid MIC"),
            Failure::InvalidCredentials => Some("Invalid Credentials"),
            Failure::PhoneCommunication => Some("Phone Communication Failure"),
            Failure::KeyGeneration => Some("Key Generation Failed/Timeout"),
            Failure::Late => Some("User Initiated Request Late/Timedout"),
            Failure::NoEcSupport => Some("No Support for EC only in CAPF version 3"),
            Failure::Unspecified => None,
        }
    }
}

/// The word CUCM puts before "Success" / "Failed" for an operation.
pub fn operation_word(op: CertificateOperation) -> &'static str {
    match op {
        CertificateOperation::InstallUpgrade => "Upgrade",
        CertificateOperation::Delete => "Delete",
        CertificateOperation::Troubleshoot => "Troubleshoot",
        CertificateOperation::NoPendingOperation => "Operation",
    }
}

/// "Upgrade Success", "Delete Success", "Troubleshoot Success".
pub fn success_status(op: CertificateOperation) -> String {
    format!("{} Success", operation_word(op))
}

/// "Upgrade Failed: Invalid LSC", or "Delete Failed" for [`Failure::Unspecified`].
pub fn failure_status(op: CertificateOperation, failure: Failure) -> String {
    match failure.reason() {
        Some(reason) => format!("{} Failed: {reason}", operation_word(op)),
        None => format!("{} Failed", operation_word(op)),
    }
}

/// Where a session came from: written into every history detail and audit record.
#[derive(Debug, Clone)]
pub struct Origin {
    pub session_id: u32,
    pub peer: String,
}

/// A certificate named in a record: the one the phone authenticated with, or an issued LSC.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    /// "LSC" or "MIC".
    pub kind: &'static str,
    pub serial: String,
    pub issuer: String,
    pub subject: String,
}

impl CertSummary {
    pub fn new(kind: &'static str, info: &CertificateInfo) -> Self {
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

/// Loads a device for a new session and checks its deadline. A passed deadline is recorded
/// (`"<Op> Failed: User Initiated Request Late/Timedout"`) and ends the operation.
pub async fn begin(store: &Store, name: &DeviceName, origin: &Origin, at: OffsetDateTime) -> Result<Begin> {
    let mut tx = store.begin_write().await?;
    let device = match devices::get(&mut tx, name).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) => return Ok(Begin::UnknownDevice),
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
            finish(&mut tx, &attempt, &status, &detail, End::Operation, &[]).await?;
            tx.commit().await?;
            Ok(Begin::Late { device: Box::new(device), status })
        }
        _ => Ok(Begin::Pending(Box::new(device))),
    }
}

/// Records a failed attempt (the operation stays pending). Returns the status written.
pub async fn fail(store: &Store, attempt: &Attempt, failure: Failure, detail: &str) -> Result<String> {
    let mut tx = store.begin_write().await?;
    let status = failure_status(attempt.operation, failure);
    finish(&mut tx, attempt, &status, detail, End::Keep, &[]).await?;
    tx.commit().await?;
    Ok(status)
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

/// Records a wrong authentication string. After `max_failures` wrong strings since the
/// operation was scheduled (0 = no limit), the operation is cancelled and the string cleared,
/// so that guessing stops until an administrator schedules it again with a new string.
pub async fn fail_authentication_string(
    store: &Store,
    attempt: &Attempt,
    detail: &str,
    max_failures: u32,
) -> Result<StringFailure> {
    let mut tx = store.begin_write().await?;
    let status = failure_status(attempt.operation, Failure::InvalidAuthenticationString);
    let before = wrong_strings_since_scheduled(&mut tx, &attempt.device).await?;
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
    finish(&mut tx, attempt, &status, &detail, end, &[]).await?;
    tx.commit().await?;
    Ok(StringFailure { status, failures, locked_out })
}

/// Wrong strings recorded since the last time the operation was scheduled ("Operation Pending").
async fn wrong_strings_since_scheduled(conn: &mut SqliteConnection, name: &DeviceName) -> Result<u32> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM operation_history WHERE device = ? AND status LIKE '% Failed: Invalid Authentication String' \
         AND id > COALESCE((SELECT MAX(id) FROM operation_history WHERE device = ? AND status = ?), 0)",
    )
    .bind(name.as_str())
    .bind(name.as_str())
    .bind(crate::model::status::PENDING)
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(row.get::<i64, _>(0)).unwrap_or(u32::MAX))
}

/// Writes an LSC about to be sent to the phone, once (the serial is unique), state `issued`.
/// The device's active LSC does not change.
pub async fn record_issued(
    store: &Store,
    attempt: &Attempt,
    lsc: &IssuedCertificate,
    issuer_fingerprint: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let at = ts(now());
    let inserted = sqlx::query(
        "INSERT INTO issued_certificates (serial, device, issuer_fingerprint, subject, der, not_before, not_after, state, \
         issued_at, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?) ON CONFLICT (serial) DO NOTHING",
    )
    .bind(&lsc.info.serial)
    .bind(attempt.device.as_str())
    .bind(issuer_fingerprint)
    .bind(&lsc.info.subject)
    .bind(&lsc.der)
    .bind(ts(lsc.info.not_before))
    .bind(ts(lsc.info.not_after))
    .bind(&at)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!("an LSC with serial {} was already issued", lsc.info.serial)));
    }
    audit::record(
        &mut tx,
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
    tx.commit().await?;
    Ok(())
}

/// The phone stored the LSC: it becomes the device's LSC, the previous one is superseded, the
/// operation ends ("Upgrade Success") and the authentication string is spent.
pub async fn complete_install(store: &Store, attempt: &Attempt, serial: &str) -> Result<String> {
    let mut tx = store.begin_write().await?;
    let row = sqlx::query("SELECT der, state FROM issued_certificates WHERE serial = ? AND device = ?")
        .bind(serial)
        .bind(attempt.device.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no LSC {serial} issued to {}", attempt.device)))?;
    let der: Vec<u8> = row.get(0);
    let state: String = row.get(1);
    if state != "issued" {
        return Err(StoreError::Conflict(format!("LSC {serial} is '{state}', not waiting for the phone")));
    }
    let at = ts(now());
    sqlx::query(
        "UPDATE issued_certificates SET state = 'superseded', state_at = ? WHERE device = ? AND state = 'installed'",
    )
    .bind(&at)
    .bind(attempt.device.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE issued_certificates SET state = 'installed', state_at = ? WHERE serial = ?")
        .bind(&at)
        .bind(serial)
        .execute(&mut *tx)
        .await?;
    devices::set_lsc(&mut tx, &attempt.device, Some(&der)).await?;
    let info = CertificateInfo::parse(&der)?;
    let status = success_status(attempt.operation);
    let installed = CertSummary::new("LSC", &info);
    finish(&mut tx, attempt, &status, "the phone stored the new LSC", End::Operation, &[("installed", &installed)])
        .await?;
    tx.commit().await?;
    Ok(status)
}

/// The phone did not store the LSC (it said so, went silent or disconnected): the issued LSC
/// is marked `failed`, the device keeps its previous LSC, the operation stays pending.
pub async fn fail_install(
    store: &Store,
    attempt: &Attempt,
    serial: &str,
    failure: Failure,
    detail: &str,
) -> Result<String> {
    let mut tx = store.begin_write().await?;
    let row = sqlx::query("SELECT der FROM issued_certificates WHERE serial = ? AND device = ?")
        .bind(serial)
        .bind(attempt.device.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    sqlx::query("UPDATE issued_certificates SET state = 'failed', state_at = ? WHERE serial = ? AND state = 'issued'")
        .bind(ts(now()))
        .bind(serial)
        .execute(&mut *tx)
        .await?;
    let issued = match row {
        Some(r) => Some(CertSummary::new("LSC", &CertificateInfo::parse(&r.get::<Vec<u8>, _>(0))?)),
        None => None,
    };
    let status = failure_status(attempt.operation, failure);
    let certs: Vec<(&str, &CertSummary)> = issued.iter().map(|c| ("not installed", c)).collect();
    finish(&mut tx, attempt, &status, detail, End::Keep, &certs).await?;
    tx.commit().await?;
    Ok(status)
}

/// The phone deleted its LSC: the device has none, the LSC we issued it is `deleted`,
/// "Delete Success".
pub async fn complete_delete(store: &Store, attempt: &Attempt) -> Result<String> {
    let mut tx = store.begin_write().await?;
    let device = devices::get(&mut tx, &attempt.device).await?;
    let at = ts(now());
    sqlx::query(
        "UPDATE issued_certificates SET state = 'deleted', state_at = ? WHERE device = ? AND state = 'installed'",
    )
    .bind(&at)
    .bind(attempt.device.as_str())
    .execute(&mut *tx)
    .await?;
    devices::set_lsc(&mut tx, &attempt.device, None).await?;
    let deleted = match &device.lsc {
        Some(l) => Some(CertSummary::new("LSC", &CertificateInfo::parse(&l.der)?)),
        None => None,
    };
    let status = success_status(attempt.operation);
    let certs: Vec<(&str, &CertSummary)> = deleted.iter().map(|c| ("deleted", c)).collect();
    let detail = if deleted.is_some() {
        "the phone deleted its LSC"
    } else {
        "the phone deleted its LSC (none was recorded for it)"
    };
    finish(&mut tx, attempt, &status, detail, End::Operation, &certs).await?;
    tx.commit().await?;
    Ok(status)
}

/// LSC or MIC, as an uploaded certificate is filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UploadKind {
    #[serde(rename = "LSC")]
    Lsc,
    #[serde(rename = "MIC")]
    Mic,
}

impl UploadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadKind::Lsc => "LSC",
            UploadKind::Mic => "MIC",
        }
    }
}

/// A certificate a phone uploaded with Troubleshoot.
#[derive(Debug, Clone)]
pub struct Upload {
    pub kind: UploadKind,
    pub der: Vec<u8>,
    /// Also record it as the device's MIC (`devices::set_mic`): only for a MIC that CAPF
    /// verified and bound to the device.
    pub record_as_mic: bool,
}

/// The phone uploaded its certificates: they are stored with the device (a verified MIC also
/// becomes its recorded MIC), "Troubleshoot Success".
pub async fn complete_troubleshoot(store: &Store, attempt: &Attempt, uploads: &[Upload]) -> Result<String> {
    let mut tx = store.begin_write().await?;
    let at = ts(now());
    let mut summaries = Vec::new();
    for u in uploads {
        let info = CertificateInfo::parse(&u.der)?;
        sqlx::query(
            "INSERT INTO uploaded_certificates (device, kind, der, fingerprint, subject, issuer, serial, not_after, \
             uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(attempt.device.as_str())
        .bind(u.kind.as_str())
        .bind(&u.der)
        .bind(&info.fingerprint)
        .bind(&info.subject)
        .bind(&info.issuer)
        .bind(&info.serial)
        .bind(ts(info.not_after))
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if u.kind == UploadKind::Mic && u.record_as_mic {
            devices::set_mic(&mut tx, &attempt.device, &u.der).await?;
        }
        summaries.push(CertSummary::new(u.kind.as_str(), &info));
    }
    let status = success_status(attempt.operation);
    let certs: Vec<(&str, &CertSummary)> = summaries.iter().map(|c| ("uploaded", c)).collect();
    let detail = format!("the phone uploaded {} certificate(s)", uploads.len());
    finish(&mut tx, attempt, &status, &detail, End::Operation, &certs).await?;
    tx.commit().await?;
    Ok(status)
}

/// A certificate a phone uploaded, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct UploadedCertificate {
    pub id: i64,
    pub device: String,
    pub kind: String,
    #[serde(skip)]
    pub der: Vec<u8>,
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_after: String,
    pub uploaded_at: String,
}

/// The certificates a device uploaded, newest first.
pub async fn uploaded(conn: &mut SqliteConnection, name: &DeviceName) -> Result<Vec<UploadedCertificate>> {
    let rows = sqlx::query(
        "SELECT id, device, kind, der, fingerprint, subject, issuer, serial, not_after, uploaded_at \
         FROM uploaded_certificates WHERE device = ? ORDER BY id DESC",
    )
    .bind(name.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UploadedCertificate {
            id: r.get(0),
            device: r.get(1),
            kind: r.get(2),
            der: r.get(3),
            fingerprint: r.get(4),
            subject: r.get(5),
            issuer: r.get(6),
            serial: r.get(7),
            not_after: r.get(8),
            uploaded_at: r.get(9),
        })
        .collect())
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
    conn: &mut SqliteConnection,
    attempt: &Attempt,
    status: &str,
    detail: &str,
    end: End,
    certs: &[(&str, &CertSummary)],
) -> Result<()> {
    let at = ts(now());
    let sql = match end {
        End::Keep => "UPDATE devices SET status = ?, status_at = ? WHERE name = ?",
        End::Operation => {
            "UPDATE devices SET status = ?, status_at = ?, operation = 'No Pending Operation', auth_string = NULL, \
             completes_by = NULL WHERE name = ?"
        }
    };
    sqlx::query(sql).bind(status).bind(&at).bind(attempt.device.as_str()).execute(&mut *conn).await?;

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
        conn,
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
    audit::record(conn, ACTOR, action, attempt.device.as_str(), &audit_detail).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_are_cucm_s() {
        use CertificateOperation::*;
        assert_eq!(success_status(InstallUpgrade), "Upgrade Success");
        assert_eq!(success_status(Troubleshoot), "Troubleshoot Success");
        assert_eq!(failure_status(InstallUpgrade, Failure::InvalidLsc), "Upgrade Failed: Invalid LSC");
        assert_eq!(failure_status(Delete, Failure::InvalidMic), "Delete Failed: Invalid MIC");
        assert_eq!(
            failure_status(Troubleshoot, Failure::Late),
            "Troubleshoot Failed: User Initiated Request Late/Timedout"
        );
        assert_eq!(
            failure_status(InstallUpgrade, Failure::NoEcSupport),
            "Upgrade Failed: No Support for EC only in CAPF version 3"
        );
        assert_eq!(failure_status(Delete, Failure::Unspecified), "Delete Failed");
        assert_eq!(
            failure_status(InstallUpgrade, Failure::KeyGeneration),
            "Upgrade Failed: Key Generation Failed/Timeout"
        );
    }
}
