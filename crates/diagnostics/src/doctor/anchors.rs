//! Trust anchors: certificates in CallManager-trust or CAPF-trust that have expired. The active
//! CAPF certificate and manufacturing CAs have their own checks and are left to them.

use opencapf_pki::{is_manufacturing_ca, TrustStore};

use super::snapshot::Snapshot;
use crate::date;
use crate::finding::{Finding, Severity};

/// One finding per expired anchor and store.
pub(super) fn expired(s: &Snapshot<'_>) -> Vec<Finding> {
    let active = s.view.active_capf().map(|c| c.info.fingerprint.clone());
    let mut out = Vec::new();
    for store in TrustStore::PHONE_CERTIFICATES {
        for e in s.view.store(store) {
            let info = &e.info;
            if info.not_after >= s.now || is_manufacturing_ca(info) || active.as_ref() == Some(&info.fingerprint) {
                continue;
            }
            let cn = info.subject_cn.clone().unwrap_or_else(|| info.subject.clone());
            out.push(
                Finding::new(
                    Severity::Warning,
                    "trust-anchor-expired",
                    format!("{store} holds {cn}, which expired on {}", date(info.not_after)),
                )
                .detail(format!(
                    "Certificates issued under it no longer verify against {store}: phones presenting them are \
                     refused"
                ))
                .remedy(format!(
                    "Add its renewed certificate (`opencapf trust add {store} FILE.pem`), then remove the expired one \
                     (`opencapf trust remove {store} {cn}`)"
                )),
            );
        }
    }
    out
}
