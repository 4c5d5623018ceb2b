//! Secure phones (Authenticated or Encrypted) that hold no LSC: they register on their MIC, or
//! not at all when no MIC CallManager trusts is there.

use opencapf_model::SecurityMode;
use opencapf_pki::TrustStore;

use super::snapshot::{about, name, needs_lsc, Snapshot};
use crate::finding::Finding;

/// Secure devices with no LSC and no MIC path: no MIC, or one CallManager-trust does not
/// trust. An expired MIC is reported by the MIC checks.
pub(super) fn without_certificate(s: &Snapshot<'_>) -> Vec<Finding> {
    let stranded: Vec<String> = s
        .devices
        .iter()
        .filter(|d| d.security_mode != SecurityMode::NonSecure && s.lsc_of(d.name.as_str()).is_none())
        .filter(|d| match s.mics.iter().find(|(m, _)| m.name == d.name) {
            None => true,
            Some((_, mic)) => mic.not_after >= s.now && s.view.issuer_in(TrustStore::CallManager, mic).is_none(),
        })
        .map(name)
        .collect();
    about(stranded, |n| {
        needs_lsc(
            "secure-without-lsc-or-mic",
            format!("{n} secure device(s) have no LSC and no MIC that CallManager-trust trusts"),
            "Their security profile requires TLS to CallManager: they cannot register until they get an LSC",
        )
    })
}
