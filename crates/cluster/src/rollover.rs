//! The reads behind the guided pages of Certificate Management: what a CAPF regeneration will
//! mean for the phones (the rollover plan), how far their re-keying has come, and which devices a
//! trust entry is load-bearing for (what the guard's refusal names).

use opencapf_model::{CertificateOperation, Device, Service, ServiceCertificate};
use opencapf_pki::CertificateInfo;
use serde::Serialize;
use time::OffsetDateTime;

use crate::lsc::issued_by_cluster;
use crate::{Cluster, Result};

/// What `capf regenerate` will do, before it is done.
#[derive(Debug, Serialize)]
pub struct RolloverPlan {
    /// The CAPF certificate that will be retired (kept in both stores).
    pub active: ServiceCertificate,
    /// Older CAPF certificates, already retired and still trusted.
    pub retired: Vec<ServiceCertificate>,
    /// Devices holding an LSC from this cluster: after the regeneration their LSC comes from a
    /// retired CAPF certificate and they need a new one.
    pub to_rekey: Vec<String>,
}

/// One phone of the re-keying after a regeneration.
#[derive(Debug, Serialize)]
pub struct RekeyPhone {
    pub name: String,
    /// Its LSC now comes from the active CAPF certificate.
    pub rekeyed: bool,
    pub operation: CertificateOperation,
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completes_by: Option<OffsetDateTime>,
}

/// The re-keying, phone by phone: every device with an LSC of this cluster, those still on a
/// retired CAPF certificate first.
#[derive(Debug, Serialize)]
pub struct RekeyProgress {
    pub active: ServiceCertificate,
    pub rekeyed: usize,
    pub pending: usize,
    pub phones: Vec<RekeyPhone>,
}

impl Cluster {
    /// The plan the regenerate page shows before its confirm button.
    pub async fn capf_rollover_plan(&self) -> Result<RolloverPlan> {
        let mut all = self.certificates(Service::Capf).await?.into_iter();
        let active = all.next().filter(ServiceCertificate::is_active);
        let active = match active {
            Some(a) => a,
            None => self.require_certificate(Service::Capf).await?,
        };
        let retired: Vec<ServiceCertificate> = all.filter(|c| !c.is_active()).collect();
        let capfs = self.capf_infos().await?;
        let to_rekey = self
            .devices()
            .await?
            .into_iter()
            .filter(|d| d.lsc.as_ref().is_some_and(|l| issued_by_cluster(l, &capfs)))
            .map(|d| d.name.to_string())
            .collect();
        Ok(RolloverPlan { active, retired, to_rekey })
    }

    /// How far the phones are from holding LSCs of the active CAPF certificate.
    pub async fn rekey_progress(&self) -> Result<RekeyProgress> {
        let active = self.require_certificate(Service::Capf).await?;
        let active_info = [CertificateInfo::parse(&active.der)?];
        let capfs = self.capf_infos().await?;
        let mut phones: Vec<RekeyPhone> = self
            .devices()
            .await?
            .into_iter()
            .filter_map(|d: Device| {
                let lsc = d.lsc.as_ref().filter(|l| issued_by_cluster(l, &capfs))?;
                Some(RekeyPhone {
                    rekeyed: issued_by_cluster(lsc, &active_info),
                    name: d.name.to_string(),
                    operation: d.capf.operation,
                    status: d.capf.status,
                    completes_by: d.capf.completes_by,
                })
            })
            .collect();
        phones.sort_by(|a, b| a.rekeyed.cmp(&b.rekeyed).then_with(|| a.name.cmp(&b.name)));
        let rekeyed = phones.iter().filter(|p| p.rekeyed).count();
        Ok(RekeyProgress { active, rekeyed, pending: phones.len() - rekeyed, phones })
    }
}
