//! Pending CAPF operations: past their deadline, waiting for a typed string, or bound to fail.

use opencapf_pki::TrustStore;

use super::snapshot::{about, name, Snapshot};
use super::{status, AuthMode, Device};
use crate::finding::{Finding, Severity};
use crate::remedies;

fn pending<'a>(s: &'a Snapshot<'_>) -> impl Iterator<Item = &'a Device> {
    s.devices.iter().filter(|d| d.capf.status == status::PENDING)
}

pub(super) fn overdue(s: &Snapshot<'_>) -> Vec<Finding> {
    let overdue = pending(s).filter(|d| d.capf.completes_by.is_some_and(|t| t < s.now)).map(name).collect();
    about(overdue, |n| {
        Finding::new(
            Severity::Warning,
            "operation-overdue",
            format!("{n} operation(s) are pending past their Operation Completes By"),
        )
        .detail(
            "They will end 'Upgrade Failed: User Initiated Request Late/Timedout' when the phone next contacts CAPF",
        )
        .remedy(
            "Set a new deadline (`opencapf device set NAMES --operation install --expires-in-days 10`) or cancel them \
             (`--operation none`)",
        )
    })
}

pub(super) fn auth_string_unused(s: &Snapshot<'_>) -> Vec<Finding> {
    let unused = pending(s)
        .filter(|d| d.capf.auth_mode == AuthMode::AuthenticationString && d.capf.auth_string_set)
        .map(name)
        .collect();
    about(unused, |n| {
        Finding::new(
            Severity::Info,
            "auth-string-unused",
            format!("{n} device(s) wait for their authentication string to be typed on the phone"),
        )
        .detail("By Authentication String operations start only when someone enters the string on the phone")
        .remedy(
            "On each phone: Settings > Security Configuration > **# > LSC > Update, then the string (`opencapf device \
             show NAME --reveal-auth-string`); or switch to By Null String",
        )
    })
}

/// Operations By Existing Certificate (Precedence to LSC) whose LSC is expired or not trusted by
/// CAPF-trust.
pub(super) fn will_fail_invalid_lsc(s: &Snapshot<'_>) -> Vec<Finding> {
    let will_fail = pending(s)
        .filter(|d| d.capf.auth_mode == AuthMode::ExistingCertificateLsc)
        .filter(|d| {
            s.lsc_of(d.name.as_str())
                .is_some_and(|l| l.not_after < s.now || s.view.issuer_in(TrustStore::Capf, l).is_none())
        })
        .map(name)
        .collect();
    about(will_fail, |n| {
        Finding::new(
            Severity::Error,
            "pending-will-fail-invalid-lsc",
            format!(
                "{n} pending operation(s) By Existing Certificate (Precedence to LSC) will fail with 'Invalid LSC'"
            ),
        )
        .detail("The LSC they would authenticate with is expired or its issuer is not in CAPF-trust")
        .remedy(remedies::INVALID_LSC)
    })
}
