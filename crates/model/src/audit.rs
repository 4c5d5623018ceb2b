//! What `opencapf audit verify` finds in the audit log's hash chain.

use serde::Serialize;

/// The result of walking the audit log's hash chain from its first record.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditChain {
    /// Records read (up to and including the first broken one).
    pub records: u64,
    pub intact: bool,
    /// The first record where the chain breaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<AuditBreak>,
}

/// The first record whose hash does not follow, and what is wrong with it.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub problem: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} ({} {} {}): {}", self.id, self.at, self.actor, self.action, self.problem)
    }
}
