//! Dates as users type them (`--completes-by`, `--lsc-expires-before`, the API's same fields):
//! one reading for the CLI and the REST API.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

use crate::{Error, Result};

/// `YYYY-MM-DD` (the start of that day, UTC), or a full RFC 3339 time.
pub fn parse_date(s: &str) -> Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let d = Date::parse(s, format_description!("[year]-[month]-[day]")).map_err(|_| {
        Error::Invalid(format!(
            "'{}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
            opencapf_model::printable(s)
        ))
    })?;
    Ok(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc())
}

/// When a scheduled operation completes by: a date (a bare `YYYY-MM-DD` means the end of that
/// day), else `days` from now, else `default` (the cluster's "CAPF Operation Expires in"). Never
/// in the past.
pub fn completes_by(date: Option<&str>, days: Option<u32>, default: OffsetDateTime) -> Result<OffsetDateTime> {
    let now = OffsetDateTime::now_utc();
    let t = match (date, days) {
        (Some(s), _) => {
            let t = parse_date(s)?;
            if s.len() == 10 {
                t + Duration::days(1) - Duration::seconds(1)
            } else {
                t
            }
        }
        (None, Some(0)) => return Err(Error::Invalid("--expires-in-days must be at least 1".into())),
        (None, Some(n)) => now + Duration::days(i64::from(n)),
        (None, None) => default,
    };
    if t <= now {
        return Err(Error::Invalid(format!("Operation Completes By ({}) is in the past", opencapf_model::ts(t))));
    }
    Ok(t)
}
