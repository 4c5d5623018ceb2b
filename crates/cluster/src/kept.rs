//! What the servers read for every connection, kept between connections once `serve` follows
//! the store's change feed ([`Cluster::follow_changes`]): the trust snapshot, the LSC refusals,
//! the settings (the `tls.*` ones, the cluster's, `capf.require_sudi`) and the services' active
//! certificates. Each is read again only after the feed reported a change of the topics it is
//! made of, from this node, another node or the CLI:
//! on PostgreSQL within the notification's delay (milliseconds; at most a second), on SQLite at
//! once (each use reads the change counters, one statement; a connection served through
//! [`Cluster::connection`] reads them once, at its start), and at once for a change this process
//! made.
//! Without the feed (the CLI, tests that open a cluster), every read goes to the database.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use opencapf_model::{ClusterSettings, Service, ServiceCertificate, TlsSettings};
use opencapf_pki::TrustSnapshot;
use opencapf_store::{Changes, Topic};

use crate::revocation::LscRefusals;
use crate::{Cluster, Result};

/// Shared by every clone of a [`Cluster`]; empty until [`Cluster::follow_changes`].
#[derive(Clone, Default)]
pub(crate) struct Kept(Arc<OnceLock<Followed>>);

pub(crate) struct Followed {
    changes: Changes,
    pub(crate) trust: Slot<TrustSnapshot>,
    pub(crate) refusals: Slot<LscRefusals>,
    pub(crate) tls: Slot<TlsSettings>,
    pub(crate) settings: Slot<ClusterSettings>,
    pub(crate) require_sudi: Slot<bool>,
    identities: Mutex<HashMap<&'static str, Arc<Slot<Option<ServiceCertificate>>>>>,
}

impl Kept {
    pub(crate) fn followed(&self) -> Option<&Followed> {
        self.0.get()
    }
}

tokio::task_local! {
    /// Set while one connection is served ([`Cluster::connection`]): the feed was caught up at its
    /// start, so its reads do not read the database's counters again.
    static CAUGHT_UP: ();
}

impl Followed {
    /// The version of what `topics` cover now: the sum of their generations, which only grows.
    pub(crate) async fn version(&self, topics: &[Topic]) -> u64 {
        if CAUGHT_UP.try_with(|_| ()).is_err() {
            self.changes.catch_up().await;
        }
        topics.iter().map(|t| self.changes.generation(*t)).sum()
    }

    pub(crate) fn identity(&self, service: Service) -> Arc<Slot<Option<ServiceCertificate>>> {
        let mut slots = self.identities.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(service.as_str()).or_default().clone()
    }
}

/// One value and the version it was read at.
pub(crate) struct Slot<T>(Mutex<Option<(u64, Arc<T>)>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(Mutex::new(None))
    }
}

impl<T> Slot<T> {
    /// The value kept at `version`, else `load`'s (the version is read before loading, so a
    /// change during the load makes the next call load again).
    pub(crate) async fn get<F, Fut>(&self, version: u64, load: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Some((v, value)) = &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            if *v == version {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(load().await?);
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A slower load of an older version does not replace a newer one.
        if kept.as_ref().is_none_or(|(v, _)| *v <= version) {
            *kept = Some((version, value.clone()));
        }
        Ok(value)
    }
}

impl Cluster {
    /// Follows the store's change feed from now on: the reads of every connection
    /// ([`Cluster::trust_snapshot`], [`Cluster::lsc_refusals`], [`Cluster::tls_settings`],
    /// [`Cluster::settings`], [`Cluster::require_sudi`], [`Cluster::active_certificate`]) are kept
    /// until a change of what they read is reported.
    /// Shared by every clone; `serve` calls it once.
    pub async fn follow_changes(&self) -> Result<()> {
        let changes = self.store.changes().await?;
        let _ = self.kept.0.set(Followed {
            changes,
            trust: Slot::default(),
            refusals: Slot::default(),
            tls: Slot::default(),
            settings: Slot::default(),
            require_sudi: Slot::default(),
            identities: Mutex::default(),
        });
        Ok(())
    }

    /// Serves one connection with `work`: the change feed is caught up once, at its start, so that
    /// what any process committed before the connection began applies to it, and the reads of
    /// `work` use that reading (and this process's own changes, reported at once) instead of each
    /// reading the database's counters again. A CAPF session makes several such reads.
    pub async fn connection<F: Future>(&self, work: F) -> F::Output {
        if let Some(followed) = self.kept.followed() {
            followed.changes.catch_up().await;
        }
        CAUGHT_UP.scope((), work).await
    }

    /// Reports changes this process committed, so that its own connections see them at once.
    pub(crate) fn changed(&self, topics: &[Topic]) {
        self.store.report(topics);
    }
}
