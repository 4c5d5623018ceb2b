//! The trust stores: additions (idempotent, audited), the guarded removal, exports, anchors, and
//! the [`TrustSnapshot`] every server and diagnosis reads.

use std::sync::Arc;

use opencapf_model::{Service, TrustAdded, TrustEntry, TrustStore};
use opencapf_pki::is_manufacturing_ca;
use opencapf_pki::{Anchor, CapfCertificate, CertificateInfo, TrustSnapshot};
use opencapf_store::{audit, devices, service, trust, Topic};
use serde::Serialize;

use crate::rollover_status::consumers_blocking_removal;
use crate::trust_guard::dependent_devices;
use crate::{Cluster, Error, Result};

/// What a trust removal did.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Serialize)]
pub struct Removal {
    pub store: TrustStore,
    pub common_name: Option<String>,
    pub fingerprint: String,
    /// Devices whose current certificate (LSC, else MIC) chained to the removed certificate
    /// (non-empty only when forced).
    pub stranded_devices: Vec<String>,
    /// Consumers (802.1X servers, VPN head-ends) not confirmed to run with the active CAPF
    /// certificate when a retired one was removed (non-empty only when forced).
    pub unconfirmed_consumers: Vec<String>,
}

/// One certificate of `trust add`, as printed and as `--json` gives it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TrustAddition {
    pub store: TrustStore,
    pub subject: String,
    pub fingerprint: String,
    /// "added" or "already-present".
    pub added: &'static str,
    pub not_after: String,
    /// Why the administrator should look again (an expired CA is still added: CUCM accepts it).
    pub warning: Option<String>,
    #[serde(skip)]
    pub note: Option<String>,
}

impl TrustAddition {
    pub fn new(store: TrustStore, info: &CertificateInfo, added: TrustAdded) -> TrustAddition {
        let expired = info.not_after < time::OffsetDateTime::now_utc();
        let not_after = opencapf_model::ts(info.not_after);
        TrustAddition {
            store,
            subject: info.subject.clone(),
            fingerprint: info.fingerprint.clone(),
            added: if added == TrustAdded::Added { "added" } else { "already-present" },
            warning: expired.then(|| {
                format!(
                    "{} expired on {}: phones and servers will not accept what it issued until it is replaced",
                    info.subject,
                    &not_after[..10]
                )
            }),
            not_after,
            note: (!info.is_ca).then(|| format!("{} is not a CA certificate; it can only trust itself", info.subject)),
        }
    }
}

impl Cluster {
    /// The devices whose current certificate (LSC, else MIC) chains to a trust entry: the ones
    /// [`Cluster::remove_trust`] refuses to strand.
    pub async fn trust_dependents(&self, kind: TrustStore, selector: &str) -> Result<Vec<String>> {
        if !TrustStore::PHONE_CERTIFICATES.contains(&kind) {
            return Ok(Vec::new());
        }
        let mut db = self.store.read().await?;
        let entry = trust::find(&mut db, kind, selector).await?;
        let store_entries = trust::list(&mut db, Some(kind)).await?;
        let current = devices::current_certificates(&mut db).await?;
        Ok(dependent_devices(&entry, &store_entries, &current))
    }

    /// The trust consumers whose lack of the active CAPF certificate [`Cluster::remove_trust`]
    /// refuses to ignore when the entry is a retired CAPF certificate.
    pub async fn trust_unconfirmed_consumers(&self, kind: TrustStore, selector: &str) -> Result<Vec<String>> {
        if !TrustStore::PHONE_CERTIFICATES.contains(&kind) {
            return Ok(Vec::new());
        }
        let mut db = self.store.read().await?;
        let entry = trust::find(&mut db, kind, selector).await?;
        consumers_blocking_removal(&mut db, &entry).await
    }

    /// Removes a certificate from a store, refusing when the current certificate of any device (its
    /// installed LSC, else its recorded MIC) chains to it in that store, or when it is the
    /// cluster's active CAPF or CallManager certificate, or when it is a retired CAPF certificate and
    /// a trust consumer is not confirmed to run with the active one, unless `force`.
    pub async fn remove_trust(&self, kind: TrustStore, selector: &str, force: bool, actor: &str) -> Result<Removal> {
        let mut db = self.store.write().await?;
        let entry = trust::find(&mut db, kind, selector).await?;
        let store_entries = trust::list(&mut db, Some(kind)).await?;
        // Phone-SAST-trust judges no phone certificate, and EST-trust only EST enrolments (what they
        // issue chains to CAPF): no device's current certificate depends on their entries.
        let backed = if TrustStore::PHONE_CERTIFICATES.contains(&kind) {
            let current = devices::current_certificates(&mut db).await?;
            dependent_devices(&entry, &store_entries, &current)
        } else {
            Vec::new()
        };
        // A retired CAPF certificate also waits for every consumer to run with the active one.
        let lacking = if TrustStore::PHONE_CERTIFICATES.contains(&kind) {
            consumers_blocking_removal(&mut db, &entry).await?
        } else {
            Vec::new()
        };
        let name = entry.common_name.clone().unwrap_or_else(|| entry.subject.clone());
        let mut active_role = None;
        for svc in [Service::Capf, Service::CallManager] {
            if service::active(&mut db, svc).await?.is_some_and(|c| c.fingerprint == entry.fingerprint) {
                active_role = Some(svc);
            }
        }
        if !force {
            if !lacking.is_empty() && backed.is_empty() {
                return Err(Error::Refused(format!(
                    "refusing to remove {name} from {kind}: {} consumer(s) are not confirmed to run with the active CAPF \
                     certificate ({}); phones re-keyed by it would fail 802.1X or VPN there. Export to them \
                     (`opencapf trust export CAPF-trust --consumer NAME`), confirm (`opencapf consumer confirm NAME`), \
                     or pass --force",
                    lacking.len(),
                    lacking.join(", ")
                )));
            }
            if !backed.is_empty() {
                let shown: Vec<&str> = backed.iter().take(20).map(String::as_str).collect();
                let more = if backed.len() > 20 { format!(" and {} more", backed.len() - 20) } else { String::new() };
                let effect = match kind {
                    TrustStore::CallManager => "they would fail TLS to CallManager with 'unknown CA'",
                    TrustStore::Capf => {
                        "their By Existing Certificate operations would fail with 'Invalid LSC' (or an untrusted MIC)"
                    }
                    TrustStore::PhoneSast => "they could not move to that cluster",
                    TrustStore::Est => "they could not enrol over EST with their makers' certificates",
                };
                let consumers = if lacking.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; and {} consumer(s) are not confirmed to run with the active CAPF certificate ({})",
                        lacking.len(),
                        lacking.join(", ")
                    )
                };
                return Err(Error::Refused(format!(
                    "refusing to remove {name} from {kind}: the current certificate (LSC, else MIC) of {} device(s) \
                 chains to it ({}{more}); {effect}{consumers}. Give them certificates from a CA that stays first \
                 (`opencapf capf reissue`), or pass --force",
                    backed.len(),
                    shown.join(", ")
                )));
            }
            if let Some(svc) = active_role {
                return Err(Error::Refused(format!(
                "refusing to remove {name} from {kind}: it is the cluster's active {svc} certificate; pass --force to remove it anyway"
            )));
            }
        }
        trust::delete(&mut db, entry.id).await?;
        let overridden = !backed.is_empty() || !lacking.is_empty() || active_role.is_some();
        let action = if force && overridden { "trust.remove.forced" } else { "trust.remove" };
        let unconfirmed = if lacking.is_empty() {
            String::new()
        } else {
            format!("; consumers not confirmed: {}", lacking.join(", "))
        };
        audit::record(
            &mut db,
            actor,
            action,
            &format!("{kind}: {name}"),
            &format!(
                "fingerprint {}; devices left without a trusted LSC issuer: {}{unconfirmed}",
                entry.fingerprint,
                backed.len()
            ),
        )
        .await?;
        db.commit().await?;
        self.changed(&[Topic::Trust]);
        Ok(Removal {
            store: kind,
            common_name: entry.common_name,
            fingerprint: entry.fingerprint,
            stranded_devices: backed,
            unconfirmed_consumers: lacking,
        })
    }
}

impl Cluster {
    /// Adds certificates to a store (idempotent), audited. `legacy_sha1`: None = on for
    /// manufacturing CAs, off otherwise.
    pub async fn add_trust(
        &self,
        kind: TrustStore,
        ders: &[Vec<u8>],
        legacy_sha1: Option<bool>,
        actor: &str,
    ) -> Result<Vec<(CertificateInfo, TrustAdded)>> {
        let mut db = self.store.write().await?;
        let mut out = Vec::new();
        for der in ders {
            let info = CertificateInfo::parse(der)?;
            let legacy = legacy_sha1.unwrap_or_else(|| is_manufacturing_ca(&info));
            let added = trust::add(&mut db, kind, der, legacy, actor).await?;
            if added == TrustAdded::Added {
                audit::record(&mut db, actor, "trust.add", &format!("{kind}: {}", info.subject), &info.fingerprint)
                    .await?;
            }
            out.push((info, added));
        }
        db.commit().await?;
        self.changed(&[Topic::Trust]);
        Ok(out)
    }
}

impl Cluster {
    /// The entries of one store, or of every store.
    pub async fn trust_list(&self, kind: Option<TrustStore>) -> Result<Vec<TrustEntry>> {
        trust::list(&mut self.store.read().await?, kind).await
    }

    /// The anchors of a store, for `opencapf_pki::verify`.
    pub async fn anchors(&self, kind: TrustStore) -> Result<Vec<Anchor>> {
        trust::anchors(&mut self.store.read().await?, kind).await
    }

    /// The CAPF certificates (active first, then retired) and the anchors of the two stores that
    /// judge phone certificates, in one
    /// read: what CAPF, CallManager, `cert inspect` and the diagnostics judge certificates with.
    /// Kept between calls once `serve` follows the change feed, and shared, not copied: a
    /// connection's check costs no copy of every anchor.
    pub async fn trust_snapshot(&self) -> Result<Arc<TrustSnapshot>> {
        let Some(followed) = self.kept.followed() else { return Ok(Arc::new(self.read_trust_snapshot().await?)) };
        let version = followed.version(&[Topic::Trust, Topic::Identities]).await;
        followed.trust.get(version, || self.read_trust_snapshot()).await
    }

    async fn read_trust_snapshot(&self) -> Result<TrustSnapshot> {
        let mut db = self.store.read().await?;
        let mut capfs = Vec::new();
        for c in service::all(&mut db, Service::Capf).await? {
            capfs.push(CapfCertificate { info: CertificateInfo::parse(&c.der)?, active: c.is_active() });
        }
        let callmanager = trust::anchors(&mut db, TrustStore::CallManager).await?;
        let capf = trust::anchors(&mut db, TrustStore::Capf).await?;
        let est = trust::anchors(&mut db, TrustStore::Est).await?;
        Ok(TrustSnapshot::new(capfs, callmanager, capf).with_est(est))
    }
}
