//! The audit log's hash chain: a broken chain means someone changed or removed records by
//! writing the database file directly.

use opencapf_model::AuditChain;

use crate::finding::{Finding, Severity};

pub(super) fn chain(chain: &AuditChain) -> Option<Finding> {
    let broken = chain.broken.as_ref()?;
    Some(
        Finding::new(
            Severity::Error,
            "audit-chain-broken",
            format!("The audit log's hash chain is broken at record {}", broken.id),
        )
        .detail(format!(
            "{broken}. The database file was written by something other than OpenCAPF, past the append-only \
             triggers"
        ))
        .remedies([
            "Find out who could write the data folder, and restore the database from a backup taken before the \
             record's time if the log must be trusted",
            "`opencapf audit verify` repeats the check",
        ]),
    )
}
