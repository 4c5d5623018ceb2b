//! Whether an LSC is this cluster's, and the state `device list --lsc` filters on.

use opencapf_model::{Device, DeviceLsc, LscState};
use opencapf_pki::CertificateInfo;
use time::OffsetDateTime;

/// Whether `lsc` was issued by one of `capfs` (this cluster's CAPF certificates, current and retired).
pub fn issued_by_cluster(lsc: &DeviceLsc, capfs: &[CertificateInfo]) -> bool {
    capfs.iter().any(|c| {
        hex_of(&c.subject_der) == lsc.issuer_dn
            && match (&lsc.authority_key_id, &c.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    })
}

pub fn lsc_state(device: &Device, capfs: &[CertificateInfo], at: OffsetDateTime) -> LscState {
    match &device.lsc {
        None => LscState::None,
        Some(l) if !issued_by_cluster(l, capfs) => LscState::Foreign,
        Some(l) if l.not_after < at => LscState::Expired,
        Some(_) => LscState::Valid,
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
