//! What the metrics show of certificate expiry (`/metrics`, read at every scrape): plain data,
//! which the admin service maps to its gauges.

use opencapf_model::{now, Service};
use opencapf_pki::CertificateInfo;
use opencapf_store::{devices, service};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::{lsc, Cluster, Result};

/// How far ahead an LSC counts as expiring.
pub const EXPIRING_WITHIN: Duration = Duration::days(30);

/// Installed LSCs of this cluster by expiry, and when the active CAPF certificate expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExpiryGauges {
    /// Installed LSCs issued by one of this cluster's CAPF certificates (current or retired)
    /// that expire within [`EXPIRING_WITHIN`] and have not expired yet.
    pub lsc_expiring_30d: u64,
    /// Those already expired.
    pub lsc_expired: u64,
    /// The active CAPF certificate's notAfter (`None`: the cluster has none).
    #[serde(with = "time::serde::rfc3339::option")]
    pub capf_not_after: Option<OffsetDateTime>,
}

impl Cluster {
    /// [`ExpiryGauges`] as of now, in one read transaction (no certificate is loaded but the
    /// CAPF ones).
    pub async fn expiry_gauges(&self) -> Result<ExpiryGauges> {
        let mut db = self.store.read().await?;
        let capfs = service::capf_infos(&mut db).await?;
        let active = service::active(&mut db, Service::Capf).await?;
        let lscs = devices::lsc_expiries(&mut db).await?;
        let capf_not_after = active.map(|c| CertificateInfo::parse(&c.der)).transpose()?.map(|i| i.not_after);
        Ok(count(&lscs, &capfs, capf_not_after, now()))
    }
}

fn count(
    lscs: &[(String, Option<String>, OffsetDateTime)],
    capfs: &[CertificateInfo],
    capf_not_after: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> ExpiryGauges {
    let mut gauges = ExpiryGauges { lsc_expiring_30d: 0, lsc_expired: 0, capf_not_after };
    for (issuer, aki, not_after) in lscs {
        if !lsc::issuer_in(issuer, aki.as_deref(), capfs) {
            continue;
        }
        if *not_after < at {
            gauges.lsc_expired += 1;
        } else if *not_after < at + EXPIRING_WITHIN {
            gauges.lsc_expiring_30d += 1;
        }
    }
    gauges
}
