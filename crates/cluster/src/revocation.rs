//! Which LSCs of this cluster still work: only a device's **installed** one (issue 9 item 3).
//!
//! [`not_current`] is the one rule, used by CAPF's By Existing Certificate
//! ([`Cluster::lsc_standing`]) and by CallManager's TLS handshake ([`Cluster::lsc_refusals`], taken
//! once per connection because the verifier cannot wait for the database; `serve` keeps them
//! until the change feed reports a change of the issued LSCs). An LSC the cluster has
//! no record of (another cluster's, or one recorded with `device record-cert`) is not judged here.
//!
//! `device revoke` ([`Cluster::revoke`]) marks an LSC `revoked`; the device has no LSC after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opencapf_model::{ts, DeviceName};
use opencapf_pki::{fingerprint, CertificateInfo};
use opencapf_store::{audit, devices, issued, Db, Topic};
use serde::Serialize;
use time::OffsetDateTime;

use crate::crl::{refresh_crls, CrlSummary};
use crate::recovery::{UNCONFIRMED, UNCONFIRMED_BY};
use crate::{Cluster, Error, Result};

/// Why an LSC this cluster issued is not its device's current one.
#[derive(Debug, Clone, Serialize)]
pub struct NotCurrent {
    pub serial: String,
    pub device: String,
    /// `issued`, `failed`, `superseded`, `deleted` or `revoked`.
    pub state: String,
    /// "superseded by serial …", "revoked on … by …", "never installed (failed) …".
    pub reason: String,
    /// Failed only because the CAPF service stopped before the phone confirmed storing it: a
    /// phone that presents it proves it stored it ([`Cluster::confirm_late`]).
    pub late_confirmable: bool,
}

/// The one rule: `None` for the device's installed LSC, else why it is refused.
pub fn not_current(rec: &issued::IssuedRecord) -> Option<NotCurrent> {
    let on = ts(rec.state_at);
    let late_confirmable = rec.state == "failed" && rec.state_by.as_deref() == Some(UNCONFIRMED_BY);
    let reason = match rec.state.as_str() {
        "installed" => return None,
        "issued" => format!("never installed: issued on {on}, the phone never confirmed storing it"),
        "failed" if late_confirmable => format!("never confirmed: {UNCONFIRMED} ({on})"),
        "failed" => format!("never installed (failed): the phone did not store it ({on})"),
        "superseded" => match &rec.successor {
            Some(s) => format!("superseded by serial {s} on {on}"),
            None => format!("superseded on {on}"),
        },
        "deleted" => format!("deleted on {on} (the phone deleted its LSC)"),
        "revoked" => format!("revoked on {on} by {}", rec.state_by.as_deref().unwrap_or("an administrator")),
        other => format!("in state '{other}' since {on}"),
    };
    let reason = format!("LSC serial {} of {} is not the device's installed LSC: {reason}", rec.serial, rec.device);
    Some(NotCurrent {
        serial: rec.serial.clone(),
        device: rec.device.clone(),
        state: rec.state.clone(),
        reason,
        late_confirmable,
    })
}

/// Every LSC of this cluster that is not a device's installed one, by certificate fingerprint
/// (the exact certificate, so that another CA's serial never matches).
#[derive(Debug, Clone, Default)]
pub struct LscRefusals {
    by_fingerprint: HashMap<String, NotCurrent>,
}

/// The last [`LscRefusals`] read, with the revision of the issued LSCs it was read at.
type Revised = (i64, Arc<LscRefusals>);

/// Shared by every clone of a [`Cluster`].
#[derive(Debug, Clone, Default)]
pub(crate) struct RefusalCache(Arc<Mutex<Option<Revised>>>);

impl RefusalCache {
    fn get(&self, revision: i64) -> Option<Arc<LscRefusals>> {
        let cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cached.as_ref().filter(|(r, _)| *r == revision).map(|(_, refusals)| refusals.clone())
    }

    fn put(&self, revision: i64, refusals: LscRefusals) -> Arc<LscRefusals> {
        let refusals = Arc::new(refusals);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((revision, refusals.clone()));
        refusals
    }
}

impl LscRefusals {
    /// Why `info` is refused, when it is an LSC of this cluster that is not current.
    pub fn refusal(&self, info: &CertificateInfo) -> Option<&NotCurrent> {
        self.by_fingerprint.get(&info.fingerprint)
    }
}

/// The result of `device revoke`, also its `--json` shape.
#[derive(Debug, Clone, Serialize)]
pub struct Revoked {
    pub device: String,
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    pub actor: String,
    /// The state it had (`installed` when it was the device's LSC, which it no longer has).
    pub previous_state: String,
    /// The CRLs signed again.
    pub crls: Vec<CrlSummary>,
}

impl Cluster {
    /// Whether the LSC a phone presents is its device's installed one (`None`: it is, or the
    /// cluster has no record of it).
    pub async fn lsc_standing(&self, info: &CertificateInfo) -> Result<Option<NotCurrent>> {
        let mut db = self.store.read().await?;
        standing(&mut db, info).await
    }

    /// Every LSC of this cluster that is refused now (for a verifier that cannot query). Read
    /// again only when an issued LSC changed since the last call (a TLS connection asks each
    /// time; a fleet's history of LSCs is not re-read for each).
    /// Once `serve` follows the change feed, kept until the issued LSCs change.
    pub async fn lsc_refusals(&self) -> Result<Arc<LscRefusals>> {
        let Some(followed) = self.kept.followed() else { return self.read_lsc_refusals().await };
        let version = followed.version(&[Topic::Issued]).await;
        followed.refusals.get(version, || async { refusals(&mut self.store.read().await?).await }).await
    }

    async fn read_lsc_refusals(&self) -> Result<Arc<LscRefusals>> {
        let mut db = self.store.read().await?;
        let revision = issued::revision(&mut db).await?;
        if let Some(cached) = self.refusals.get(revision) {
            return Ok(cached);
        }
        Ok(self.refusals.put(revision, refusals(&mut db).await?))
    }

    /// Revokes `serial` (default: the device's installed LSC): state `revoked` with time and
    /// actor, the device has no LSC after it when it was its LSC, audited; the CRLs are signed
    /// again.
    pub async fn revoke(&self, device: &DeviceName, serial: Option<&str>, actor: &str) -> Result<Revoked> {
        let mut db = self.store.write().await?;
        let current = devices::get(&mut db, device).await?;
        let serial = match serial {
            Some(s) => s.trim().to_ascii_lowercase().replace(':', ""),
            None => issued::installed_serial(&mut db, device)
                .await?
                .ok_or_else(|| Error::NotFound(format!("{device} has no installed LSC issued by this cluster")))?,
        };
        let rec = issued::record(&mut db, &serial)
            .await?
            .filter(|r| r.device == device.as_str())
            .ok_or_else(|| Error::NotFound(format!("no LSC with serial {serial} was issued to {device}")))?;
        if rec.state == "revoked" {
            return Err(Error::Conflict(format!("LSC serial {serial} was already revoked on {}", ts(rec.state_at))));
        }
        issued::revoke(&mut db, &serial, actor).await?;
        let revoked_at = issued::record(&mut db, &serial).await?.map_or_else(opencapf_model::now, |r| r.state_at);
        if current.lsc.as_ref().is_some_and(|l| l.serial == serial) {
            devices::set_lsc(&mut db, device, None).await?;
        }
        let detail = format!("LSC serial {serial} revoked (was {})", rec.state);
        audit::record(&mut db, actor, "device.revoke", device.as_str(), &detail).await?;
        let crls = refresh_crls(&mut db, self.data_dir()).await?;
        db.commit().await?;
        self.changed(&[Topic::Issued]);
        Ok(Revoked {
            device: device.to_string(),
            serial,
            revoked_at,
            actor: actor.to_owned(),
            previous_state: rec.state,
            crls,
        })
    }
}

async fn refusals(db: &mut Db) -> Result<LscRefusals> {
    // A never-confirmed LSC is let through the handshake to be confirmed, unless its device
    // has a newer LSC: then it is refused in the handshake like any other.
    let outdated: std::collections::HashSet<String> =
        issued::failed_by_and_outdated(db, UNCONFIRMED_BY).await?.into_iter().collect();
    let by_fingerprint = issued::not_installed(db)
        .await?
        .iter()
        .filter_map(|r| not_current(r).map(|n| (fingerprint(&r.der), n)))
        .map(|(f, mut n)| {
            n.late_confirmable &= !outdated.contains(&n.serial);
            (f, n)
        })
        .collect();
    Ok(LscRefusals { by_fingerprint })
}

async fn standing(db: &mut Db, info: &CertificateInfo) -> Result<Option<NotCurrent>> {
    let Some(rec) = issued::record(db, &info.serial).await? else { return Ok(None) };
    if fingerprint(&rec.der) != info.fingerprint {
        return Ok(None);
    }
    Ok(not_current(&rec))
}
