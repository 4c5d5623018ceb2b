//! Devices' MICs: expired (with or without a valid LSC to fall back on) or expiring.

use super::snapshot::{about, name, needs_lsc, Snapshot};
use crate::finding::{Finding, Severity};

/// The devices whose MIC has expired, told apart by whether they still hold a valid LSC.
fn expired_mics(s: &Snapshot<'_>, with_lsc: bool) -> Vec<String> {
    s.mics
        .iter()
        .filter(|(d, mic)| mic.not_after < s.now && s.has_valid_lsc(d.name.as_str()) == with_lsc)
        .map(|(d, _)| name(d))
        .collect()
}

pub(super) fn expired_without_lsc(s: &Snapshot<'_>) -> Vec<Finding> {
    about(expired_mics(s, false), |n| {
        needs_lsc(
            "mic-expired-no-lsc",
            format!("{n} device(s) have an expired MIC and no valid LSC"),
            "A MIC cannot be re-issued: these phones can neither register securely nor authenticate by certificate",
        )
    })
}

pub(super) fn expired(s: &Snapshot<'_>) -> Vec<Finding> {
    about(expired_mics(s, true), |n| {
        Finding::new(Severity::Warning, "mic-expired", format!("{n} device(s) have an expired MIC"))
            .detail(
                "They work on their LSC; By Existing Certificate (Precedence to MIC) fails, and deleting the LSC would \
                 strand them",
            )
            .remedy("Renew their LSCs with Precedence to LSC, never with Precedence to MIC")
    })
}

pub(super) fn expiring(s: &Snapshot<'_>) -> Vec<Finding> {
    let expiring: Vec<String> = s
        .mics
        .iter()
        .filter(|(_, mic)| mic.not_after >= s.now && mic.not_after <= s.window)
        .map(|(d, _)| name(d))
        .collect();
    about(expiring, |n| {
        Finding::new(
            Severity::Warning,
            "mic-expiring",
            format!("{n} device(s) have a MIC that expires within {} days", s.expiry_days),
        )
        .remedy("Give them an LSC before the MIC expires: a MIC cannot be re-issued")
    })
}
