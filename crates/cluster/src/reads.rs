//! Reads callers need (settings, service certificates, audit, registrations) and the
//! registration records CallManager writes.

use std::collections::BTreeMap;

use opencapf_model::{
    now, status, AuditChain, AuditEntry, ClusterSettings, DeviceName, LscState, NewRegistration, RefusalCount,
    Registration, Service, ServiceCertificate, TlsSettings, TrustStore,
};
use opencapf_pki::{CertificateInfo, PrivateKey};
use opencapf_store::{audit, devices, registrations, service, settings, trust, Topic};
use serde::Serialize;

use crate::{lsc, Cluster, Result};

/// `opencapf status`: the cluster at a glance.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Serialize)]
pub struct Status {
    pub capf: CapfSummary,
    pub retired_capf_certificates: usize,
    pub callmanager_common_name: String,
    pub trust_stores: BTreeMap<String, i64>,
    pub devices: usize,
    pub devices_by_lsc: BTreeMap<String, usize>,
    pub pending_operations: usize,
    pub overdue_operations: usize,
    /// `capf.require_sudi`: By Existing Certificate requires the session-bound SUDI signature.
    pub require_sudi: bool,
    /// The `tls.*` settings.
    pub tls: TlsSettings,
    /// What lets legacy phones in (TLS below 1.2, CBC suites), for a warning; `null` when
    /// nothing does.
    pub legacy_phones_allowed: Option<String>,
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Serialize)]
pub struct CapfSummary {
    pub common_name: String,
    pub key: String,
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: time::OffsetDateTime,
    pub days_left: i64,
}

impl Cluster {
    /// Kept between calls once `serve` follows the change feed (a CAPF session reads the LSC
    /// validity).
    pub async fn settings(&self) -> Result<ClusterSettings> {
        let read = || async { settings::load(&mut self.store.read().await?).await };
        let Some(followed) = self.kept.followed() else { return read().await };
        Ok(followed.settings.get(followed.version(&[Topic::Settings]).await, read).await?.as_ref().clone())
    }

    /// The active certificate of a service, if there is one.
    /// Kept between calls once `serve` follows the change feed (every listener asks for its
    /// certificate per connection).
    pub async fn active_certificate(&self, svc: Service) -> Result<Option<ServiceCertificate>> {
        let read = || async { service::active(&mut self.store.read().await?, svc).await };
        let Some(followed) = self.kept.followed() else { return read().await };
        let version = followed.version(&[Topic::Identities]).await;
        Ok(followed.identity(svc).get(version, read).await?.as_ref().clone())
    }

    /// The active certificate of a service; an error saying how to make it when there is none.
    pub async fn require_certificate(&self, svc: Service) -> Result<ServiceCertificate> {
        if self.kept.followed().is_none() {
            return service::require_active(&mut self.store.read().await?, svc).await;
        }
        match self.active_certificate(svc).await? {
            Some(c) => Ok(c),
            // The store's wording of the refusal.
            None => service::require_active(&mut self.store.read().await?, svc).await,
        }
    }

    /// Every certificate of a service, active first, then retired from newest to oldest.
    pub async fn certificates(&self, svc: Service) -> Result<Vec<ServiceCertificate>> {
        service::all(&mut self.store.read().await?, svc).await
    }

    /// Parsed CAPF certificates of this cluster, current and retired: what makes an LSC "ours".
    pub async fn capf_infos(&self) -> Result<Vec<CertificateInfo>> {
        service::capf_infos(&mut self.store.read().await?).await
    }

    /// The private key of a service certificate. A key file this node lacks (another node of a
    /// PostgreSQL cluster made it) is restored from the database first.
    pub async fn key_of(&self, cert: &ServiceCertificate) -> Result<PrivateKey> {
        self.private_key(&cert.key_file).await
    }

    /// The audit log, newest first.
    pub async fn audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        audit::list(&mut self.store.read().await?, limit).await
    }

    /// Walks the audit log's hash chain (`opencapf audit verify`, and `doctor`).
    pub async fn verify_audit(&self) -> Result<AuditChain> {
        audit::verify(&mut self.store.read().await?).await
    }

    /// Registration events, newest first: all of them, or those of one device.
    pub async fn registrations(&self, device: Option<&DeviceName>, limit: i64) -> Result<Vec<Registration>> {
        registrations::list(&mut self.store.read().await?, device, limit).await
    }

    /// Each device's newest registration event.
    pub async fn newest_registrations(&self) -> Result<Vec<Registration>> {
        registrations::newest_per_device(&mut self.store.read().await?).await
    }

    /// Records one registration event and its audit record, in one transaction. Returns its id.
    pub async fn record_registration(
        &self,
        event: &NewRegistration,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<i64> {
        let mut db = self.store.write().await?;
        let id = registrations::record(&mut db, event).await?;
        audit::record(&mut db, actor, action, target, detail).await?;
        db.commit().await?;
        Ok(id)
    }

    /// Records refusals aggregated by CallManager, in one transaction and with no audit record:
    /// the audit log is for administrators' and CAPF's actions, not strangers' attempts.
    pub async fn record_refusals(&self, refusals: &[RefusalCount]) -> Result<()> {
        let mut db = self.store.write().await?;
        registrations::record_refusals(&mut db, refusals).await?;
        db.commit().await
    }

    /// Deletes the registration records older than `keep`; returns how many.
    pub async fn prune_registrations(&self, keep: time::Duration) -> Result<u64> {
        let mut db = self.store.write().await?;
        let deleted = registrations::delete_before(&mut db, now() - keep).await?;
        db.commit().await?;
        Ok(deleted)
    }

    /// How many LSCs are in an issued-certificate state (`installed`, `issued`...).
    pub async fn issued_count(&self, state: &str) -> Result<i64> {
        opencapf_store::issued::count_in_state(&mut self.store.read().await?, state).await
    }

    /// The cluster at a glance.
    pub async fn status(&self) -> Result<Status> {
        let mut db = self.store.read().await?;
        let capf = service::require_active(&mut db, Service::Capf).await?;
        let capf_info = CertificateInfo::parse(&capf.der)?;
        let all_capf = service::capf_infos(&mut db).await?;
        let cm = service::require_active(&mut db, Service::CallManager).await?;
        let mut stores = BTreeMap::new();
        for s in TrustStore::ALL {
            stores.insert(s.name().to_owned(), trust::count(&mut db, s).await?);
        }
        let tls = settings::tls(&mut db).await?;
        let now = now();
        let list = devices::list(&mut db).await?;
        let mut by_lsc: BTreeMap<String, usize> =
            [LscState::None, LscState::Valid, LscState::Expired, LscState::Foreign]
                .iter()
                .map(|s| (s.to_string(), 0))
                .collect();
        let (mut pending, mut overdue) = (0, 0);
        for d in &list {
            *by_lsc.entry(lsc::lsc_state(d, &all_capf, now).to_string()).or_default() += 1;
            if d.capf.status == status::PENDING {
                pending += 1;
                if d.capf.completes_by.is_some_and(|t| t < now) {
                    overdue += 1;
                }
            }
        }
        Ok(Status {
            capf: CapfSummary {
                common_name: capf.common_name.clone(),
                key: capf_info.key.clone(),
                not_after: capf_info.not_after,
                days_left: (capf_info.not_after - now).whole_days(),
            },
            retired_capf_certificates: all_capf.len() - 1,
            callmanager_common_name: cm.common_name,
            trust_stores: stores,
            devices: list.len(),
            devices_by_lsc: by_lsc,
            pending_operations: pending,
            overdue_operations: overdue,
            require_sudi: settings::get(&mut db, crate::credentials::REQUIRE_SUDI).await?.as_deref() == Some("on"),
            legacy_phones_allowed: tls.legacy_allowed(),
            tls,
        })
    }
}
