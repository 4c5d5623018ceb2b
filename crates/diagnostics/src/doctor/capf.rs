//! The CAPF certificates: the active one (valid, trusted by both stores) and the retired ones
//! (still backing LSCs, or safe to remove).

use opencapf_pki::issued_by;
use opencapf_pki::TrustStore;

use super::snapshot::{name, Snapshot};
use crate::cluster::CapfCertificate;
use crate::date;
use crate::finding::{Finding, Severity};

/// The active CAPF certificate: its validity, then whether each store holds it.
pub(super) fn active(s: &Snapshot<'_>) -> Vec<Finding> {
    let Some(capf) = s.view.active_capf() else {
        return vec![Finding::new(Severity::Error, "no-capf", "The cluster has no active CAPF certificate")];
    };
    let mut out = vec![validity(s, capf)];
    out.extend(TrustStore::PHONE_CERTIFICATES.into_iter().filter(|store| !s.view.contains(*store, &capf.info)).map(
        |store| {
            let effect = match store {
            TrustStore::CallManager => "phones with its new LSCs will fail TLS to CallManager (unknown CA)",
            TrustStore::Capf => {
                "By Existing Certificate (Precedence to LSC) will fail with 'Invalid LSC' for phones holding its LSCs"
            }
            TrustStore::PhoneSast | TrustStore::Est => "",
        };
            Finding::new(
                Severity::Error,
                "active-capf-not-trusted",
                format!("The active CAPF certificate {} is not in {store}", cn(capf)),
            )
            .detail(effect)
            .remedy(format!("Add it back: `opencapf capf show` gives it, then `opencapf trust add {store} CAPF.pem`"))
        },
    ));
    out
}

fn validity(s: &Snapshot<'_>, capf: &CapfCertificate) -> Finding {
    let (cn, end) = (cn(capf), capf.info.not_after);
    if end < s.now {
        Finding::new(Severity::Error, "capf-expired", format!("The CAPF certificate {cn} expired on {}", date(end)))
            .detail("CAPF cannot issue LSCs with an expired certificate")
            .remedy(
                "Regenerate it (`opencapf capf regenerate`), then reissue LSCs (`opencapf capf reissue`) before \
                 removing the old one from the stores (rule 9)",
            )
    } else if end <= s.window {
        Finding::new(
            Severity::Warning,
            "capf-expiring",
            format!("The CAPF certificate {cn} expires on {} ({} days)", date(end), s.days_left(end)),
        )
        .detail("LSCs it issues cannot outlive it")
        .remedy(
            "Regenerate it now (`opencapf capf regenerate`), reissue LSCs (`opencapf capf reissue`), and keep the \
             old certificate in both stores until every phone has a new LSC (rule 9)",
        )
    } else {
        Finding::new(
            Severity::Info,
            "capf-valid",
            format!("The CAPF certificate {cn} is valid until {} ({} days)", date(end), s.days_left(end)),
        )
    }
}

/// Each retired CAPF certificate: still needed by the LSCs it issued, or removable from the
/// stores that hold it.
pub(super) fn retired(s: &Snapshot<'_>) -> Vec<Finding> {
    s.view.capfs().iter().filter(|c| !c.active).filter_map(|capf| retired_one(s, capf)).collect()
}

fn retired_one(s: &Snapshot<'_>, capf: &CapfCertificate) -> Option<Finding> {
    let cn = cn(capf);
    let backed: Vec<String> = s.lscs.iter().filter(|(_, l)| issued_by(l, &capf.info)).map(|(d, _)| name(d)).collect();
    let stores: Vec<&str> = TrustStore::PHONE_CERTIFICATES
        .into_iter()
        .filter(|st| s.view.contains(*st, &capf.info))
        .map(|st| st.name())
        .collect();
    if !backed.is_empty() {
        let held = if stores.is_empty() { "none".to_owned() } else { stores.join(", ") };
        return Some(
            Finding::new(
                Severity::Warning,
                "retired-capf-still-needed",
                format!("The retired CAPF certificate {cn} still issued the active LSC of {} device(s)", backed.len()),
            )
            .detail(format!(
                "Keep it in CallManager-trust and CAPF-trust (now in: {held}), and on the 802.1x server and VPN \
                 head-end, until they have new LSCs (rule 9)"
            ))
            .remedies(crate::remedies::after_capf_regenerate(backed.len()))
            .devices(backed),
        );
    }
    if stores.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            Severity::Info,
            "retired-capf-removable",
            format!(
                "The retired CAPF certificate {cn} backs no device's LSC: safe to remove from {}",
                stores.join(" and ")
            ),
        )
        .detail(
            "Remove it also from the 802.1x server (ISE, FreeRADIUS) and the VPN head-end (ASA) if it was uploaded \
             there",
        )
        .remedies(stores.iter().map(|st| format!("`opencapf trust remove {st} {cn}`"))),
    )
}

fn cn(capf: &CapfCertificate) -> String {
    capf.info.subject_cn.clone().unwrap_or_default()
}
