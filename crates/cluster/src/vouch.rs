//! What the cluster's TVS answers about a certificate: the roles it vouches for, by SHA-256
//! fingerprint (capf-protocol §3.4: no dates, no chain, no device name).

use opencapf_model::{Role, Service};
use opencapf_pki::{fingerprint, CertificateInfo};
use opencapf_store::{service, trust};

use opencapf_model::TrustStore;

use crate::{Cluster, Result};

/// The roles of one of the cluster's own active identities.
fn own_roles(svc: Service) -> Option<Vec<Role>> {
    match svc {
        Service::ItlRecovery => Some(vec![Role::Sast]),
        // The TFTP node's CallManager certificate signs the configuration files (cucm-reference §2).
        Service::CallManager => Some(vec![Role::CcmTftp]),
        Service::Tvs => Some(vec![Role::Tvs]),
        Service::Capf => Some(vec![Role::Capf]),
        // Phones reach the web service on 8443 (directories, services) and check its certificate,
        // which no ITL holds, through TVS (phone-boot.md, step 7). [U] APP-SERVER is the ITL role
        // CUCM gives tomcat-signed services; the exact role TVS answers for tomcat is unpublished.
        Service::Tomcat => Some(vec![Role::AppServer]),
        Service::LabManufacturer => None,
    }
}

impl Cluster {
    /// The roles TVS answers for the DER certificate `der`, or `None` ("invalid"):
    /// - the cluster's own active identities: ITLRecovery → SAST, CallManager → CCM+TFTP,
    ///   TVS → TVS, CAPF → CAPF, tomcat → APP-SERVER;
    /// - a retired CAPF certificate still in CallManager-trust or CAPF-trust → CAPF (phones with
    ///   its LSCs still need it);
    /// - a Phone-SAST-trust entry → SAST (another cluster's ITLRecovery, so that phones accept
    ///   that cluster's ITL: cucm-reference §5);
    /// - a CallManager-trust entry that is not a CA (another node's or cluster's CallManager) → CCM.
    ///
    /// A certificate in several of the last two gets every role that applies, in code order.
    /// \[U\] CUCM's exact rule is unpublished: it is known to vouch for the certificates of its own
    /// ITL, for Phone-SAST-trust and for CallManager-trust; whether an imported CallManager
    /// certificate gets CCM or CCM+TFTP, and whether CA entries get anything, is not. CCM and
    /// nothing for CAs is the narrower choice: a CA in CallManager-trust vouches for phones, not
    /// for servers a phone talks to.
    pub async fn tvs_vouch(&self, der: &[u8]) -> Result<Option<Vec<Role>>> {
        let fp = fingerprint(der);
        let mut db = self.store.read().await?;
        let own = service::with_fingerprint(&mut db, &fp).await?;
        if let Some(roles) = own.as_ref().filter(|c| c.is_active()).and_then(|c| own_roles(c.service)) {
            return Ok(Some(roles));
        }
        let retired_capf = own.is_some_and(|c| c.service == Service::Capf);
        let mut roles = Vec::new();
        for entry in trust::with_fingerprint(&mut db, &fp).await? {
            match entry.store {
                TrustStore::CallManager | TrustStore::Capf if retired_capf => roles.push(Role::Capf),
                TrustStore::PhoneSast => roles.push(Role::Sast),
                TrustStore::CallManager => {
                    // An unreadable entry is not vouched for: TVS answers only what it can name.
                    if CertificateInfo::parse(&entry.der).is_ok_and(|i| !i.is_ca) {
                        roles.push(Role::Ccm);
                    }
                }
                TrustStore::Capf | TrustStore::Est => {}
            }
        }
        roles.sort();
        roles.dedup();
        Ok((!roles.is_empty()).then_some(roles))
    }
}
