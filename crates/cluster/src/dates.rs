//! Dates as users type them (`--completes-by`, `--lsc-expires-before`, the API's same fields):
//! the model's rules ([`opencapf_model::operation_deadline`], which the pages use too), as the
//! cluster's errors.

use time::OffsetDateTime;

use crate::{Error, Result};

/// `YYYY-MM-DD` (the start of that day, UTC), or a full RFC 3339 time.
pub fn parse_date(s: &str) -> Result<OffsetDateTime> {
    opencapf_model::parse_date(s).map_err(|e| Error::Invalid(e.to_string()))
}

/// When a scheduled operation completes by: a date (a bare `YYYY-MM-DD` means the end of that
/// day), else `days` from now, else `default` (the cluster's "CAPF Operation Expires in"). Never
/// in the past.
pub fn completes_by(date: Option<&str>, days: Option<u32>, default: OffsetDateTime) -> Result<OffsetDateTime> {
    if date.is_none() && days == Some(0) {
        return Err(Error::Invalid("--expires-in-days must be at least 1".into()));
    }
    opencapf_model::operation_deadline(date, days, default, opencapf_model::now())
        .map_err(|e| Error::Invalid(e.to_string()))
}

impl crate::Cluster {
    /// "Operation Completes By" as an administrator gives it (a date, a number of days, or
    /// neither), read as [`completes_by`] reads it; the cluster's default ("CAPF Operation Expires
    /// in (days)") is read only when neither is given.
    pub async fn operation_deadline(&self, date: Option<&str>, days: Option<u32>) -> Result<OffsetDateTime> {
        if date.is_none() && days.is_none() {
            return self.default_completes_by().await;
        }
        // A date or a number of days decides alone: no default is needed.
        completes_by(date, days, opencapf_model::now())
    }
}
