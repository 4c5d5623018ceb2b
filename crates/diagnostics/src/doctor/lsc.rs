//! Devices' LSCs: whether both stores trust their issuer, and their expiry.

use std::collections::BTreeMap;

use opencapf_model::SecurityMode;
use opencapf_pki::is_capf_name;
use opencapf_pki::TrustStore;
use time::OffsetDateTime;

use super::snapshot::{about, name, Snapshot};
use crate::finding::{Finding, Severity};
use crate::{date, remedies};

/// Why an LSC's issuer fails, in the order the findings are reported for one issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Missing {
    /// A CAPF certificate of this cluster, in neither store (removed too early).
    OursFromBoth,
    /// Not a CAPF certificate of this cluster, in neither store.
    ForeignFromBoth,
    CallManagerTrust,
    CapfTrust,
}

/// Devices whose LSC issuer is missing from one store or both, one finding per issuer and case.
pub(super) fn issuers(s: &Snapshot<'_>) -> Vec<Finding> {
    let mut groups: BTreeMap<(Missing, String, bool), Vec<String>> = BTreeMap::new();
    for (d, lsc) in &s.lscs {
        let in_cm = s.view.issuer_in(TrustStore::CallManager, lsc).is_some();
        let in_capf = s.view.issuer_in(TrustStore::Capf, lsc).is_some();
        let ours = s.view.capf_issuer_of(lsc).is_some();
        let missing = match (in_cm, in_capf, ours) {
            (true, true, _) => continue,
            (false, false, true) => Missing::OursFromBoth,
            (false, false, false) => Missing::ForeignFromBoth,
            (false, true, _) => Missing::CallManagerTrust,
            (true, false, _) => Missing::CapfTrust,
        };
        let issuer = lsc.issuer_cn.clone().unwrap_or_else(|| lsc.issuer.clone());
        let secure = d.security_mode != SecurityMode::NonSecure;
        groups.entry((missing, issuer, secure)).or_default().push(name(d));
    }
    groups
        .into_iter()
        .map(|((missing, issuer, secure), names)| {
            let f = issuer_finding(missing, &issuer, names.len());
            if secure { f } else { non_secure(f) }.devices(names)
        })
        .collect()
}

/// Non Secure phones register without TLS: an untrusted LSC matters only once they are made
/// secure, so it is worth knowing, not an error.
fn non_secure(mut f: Finding) -> Finding {
    if f.severity == Severity::Error {
        f.severity = Severity::Info;
        f.title.push_str(" (Non Secure devices: they register without TLS)");
        f.detail = format!("If they are made secure: {}", f.detail);
    }
    f
}

fn issuer_finding(missing: Missing, issuer: &str, n: usize) -> Finding {
    let held = format!("{n} device(s) hold an LSC issued by {issuer}");
    match missing {
        Missing::OursFromBoth => Finding::new(
            Severity::Error,
            "lsc-issuer-in-no-store",
            format!("{held}, which is in neither CallManager-trust nor CAPF-trust"),
        )
        .detail(
            "They cannot register securely (CallManager answers unknown CA) nor renew By Existing Certificate \
             (Invalid LSC): the CAPF certificate was removed before their LSCs were replaced (rule 9)",
        )
        .remedies(remedies::CAPF_REMOVED.iter().copied()),
        Missing::ForeignFromBoth => {
            let other =
                if is_capf_name(issuer) { "another cluster's CAPF" } else { "an issuer that is no CAPF of this cluster" };
            Finding::new(
                Severity::Error,
                "lsc-from-other-cluster",
                format!("{held}, {other}, trusted by neither store"),
            )
            .detail("They fail TLS to CallManager with unknown CA (rule 5)")
            .remedies(remedies::OTHER_CLUSTER.iter().copied())
        }
        Missing::CallManagerTrust => Finding::new(
            Severity::Error,
            "lsc-issuer-not-in-callmanager-trust",
            format!("{held}, which is not in CallManager-trust"),
        )
        .detail("CallManager refuses them with a fatal unknown CA alert: they cannot register securely (rule 2)")
        .remedy(format!(
            "Add {issuer} back to CallManager-trust (`opencapf trust add CallManager-trust {issuer}.pem`; it applies \
             to the next connection), or give them LSCs of the active CAPF (`opencapf capf reissue`)"
        )),
        Missing::CapfTrust => Finding::new(
            Severity::Warning,
            "lsc-issuer-not-in-capf-trust",
            format!("{held}, which is not in CAPF-trust"),
        )
        .detail(
            "They register, but By Existing Certificate (Precedence to LSC) operations fail with 'Invalid LSC' (rule 3)",
        )
        .remedy(format!(
            "Add {issuer} to CAPF-trust, or run their next operation By Authentication String, By Null String or By \
             Existing Certificate (Precedence to MIC)"
        )),
    }
}

pub(super) fn expired(s: &Snapshot<'_>) -> Vec<Finding> {
    let expired: Vec<String> = s.lscs.iter().filter(|(_, l)| l.not_after < s.now).map(|(d, _)| name(d)).collect();
    about(expired, |n| {
        Finding::new(Severity::Error, "lsc-expired", format!("{n} device(s) hold an expired LSC"))
            .detail(
                "An expired LSC is refused in TLS (registration rejected on secure phones) and cannot authenticate By \
                 Existing Certificate (Precedence to LSC)",
            )
            .remedy(
                "Install/Upgrade By Authentication String or By Null String (or Precedence to MIC): `opencapf device \
                 set NAMES --operation install --auth null`",
            )
    })
}

/// LSCs ending within the window, the first to end first.
pub(super) fn expiring(s: &Snapshot<'_>) -> Vec<Finding> {
    let mut expiring: Vec<(OffsetDateTime, String)> = s
        .lscs
        .iter()
        .filter(|(_, l)| l.not_after >= s.now && l.not_after <= s.window)
        .map(|(d, l)| (l.not_after, name(d)))
        .collect();
    expiring.sort();
    let Some(&(first, _)) = expiring.first() else { return Vec::new() };
    about(expiring.into_iter().map(|(_, n)| n).collect(), |n| {
        Finding::new(
            Severity::Warning,
            "lsc-expiring",
            format!("{n} device(s) hold an LSC that expires within {} days (first on {})", s.expiry_days, date(first)),
        )
        .remedy(
            "Renew them while they are valid: `opencapf device set NAMES --operation install --auth lsc` (By \
             Existing Certificate, Precedence to LSC)",
        )
    })
}
