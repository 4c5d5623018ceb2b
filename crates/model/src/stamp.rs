//! Timestamps as the cluster writes them: RFC 3339 UTC text, whole seconds, so that they sort
//! as text.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ModelError;

/// `2026-01-01T00:00:00Z`.
pub fn ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("0 ns is valid");
    t.format(&Rfc3339).expect("RFC 3339 formats any UTC date")
}

pub fn parse_ts(s: &str) -> Result<OffsetDateTime, ModelError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| ModelError::Invalid(format!("bad timestamp '{s}': {e}")))
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
