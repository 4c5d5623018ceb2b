//! Whether an LSC is this cluster's, its state (what `device list --lsc` filters on), and when
//! it counts as expiring: one place for each rule, for the CLI, the pages, the API and metrics.

use opencapf_model::{Device, DeviceLsc, LscState};
use opencapf_pki::issuer_is;
use opencapf_pki::CertificateInfo;
use time::{Duration, OffsetDateTime};

/// An LSC of this cluster that ends within this many days is "expiring": time enough to schedule
/// Install/Upgrade before phones lose it.
pub const LSC_EXPIRING_DAYS: i64 = 30;

/// Whether `lsc` was issued by one of `capfs` (this cluster's CAPF certificates, current and
/// retired): pki's [`issuer_is`] on the stored issuer name and key identifier.
pub fn issued_by_cluster(lsc: &DeviceLsc, capfs: &[CertificateInfo]) -> bool {
    issuer_in(&lsc.issuer_dn, lsc.authority_key_id.as_deref(), capfs)
}

/// Whether the issuer of an LSC (its name as stored, hex DER, and its authority key id) is one
/// of `capfs`.
pub(crate) fn issuer_in(issuer_dn: &str, authority_key_id: Option<&str>, capfs: &[CertificateInfo]) -> bool {
    let Ok(issuer_der) = hex::decode(issuer_dn) else { return false };
    capfs.iter().any(|c| issuer_is(&issuer_der, authority_key_id, c))
}

pub fn lsc_state(device: &Device, capfs: &[CertificateInfo], at: OffsetDateTime) -> LscState {
    match &device.lsc {
        None => LscState::None,
        Some(l) if !issued_by_cluster(l, capfs) => LscState::Foreign,
        Some(l) if l.not_after < at => LscState::Expired,
        Some(_) => LscState::Valid,
    }
}

/// Whether a device whose LSC is in `state` and ends at `not_after` is expiring at `at`: a
/// valid LSC of this cluster that ends within [`LSC_EXPIRING_DAYS`].
pub fn lsc_expiring(state: LscState, not_after: Option<OffsetDateTime>, at: OffsetDateTime) -> bool {
    state == LscState::Valid && not_after.is_some_and(|t| t <= at + Duration::days(LSC_EXPIRING_DAYS))
}
