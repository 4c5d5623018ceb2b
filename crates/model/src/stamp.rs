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

/// A date as administrators type it: `YYYY-MM-DD` (the start of that day, UTC) or a full RFC
/// 3339 time.
pub fn parse_date(s: &str) -> Result<OffsetDateTime, ModelError> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        ModelError::Invalid(format!("'{}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", crate::printable(s)))
    })?;
    Ok(time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT).assume_utc())
}

/// CUCM's "Operation Completes By" as the CLI, the API and the pages take it: a date means the
/// end of that day (UTC), a number of days counts from `now`, neither means `default`; the
/// result must be in the future.
pub fn operation_deadline(
    date: Option<&str>,
    days: Option<u32>,
    default: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ModelError> {
    let t = match (date, days) {
        (Some(s), _) => {
            let t = parse_date(s)?;
            if s.len() == 10 {
                t + time::Duration::days(1) - time::Duration::seconds(1)
            } else {
                t
            }
        }
        (None, Some(0)) => return Err(ModelError::Invalid("the number of days must be at least 1".into())),
        (None, Some(n)) => now + time::Duration::days(i64::from(n)),
        (None, None) => default,
    };
    if t <= now {
        return Err(ModelError::Invalid(format!("Operation Completes By ({}) is in the past", ts(t))));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_means_the_end_of_that_day_and_must_be_ahead() {
        let now = parse_ts("2026-06-01T12:00:00Z").unwrap();
        let default = parse_ts("2026-06-15T00:00:00Z").unwrap();
        let end = operation_deadline(Some("2026-06-02"), None, default, now).unwrap();
        assert_eq!(ts(end), "2026-06-02T23:59:59Z");
        assert_eq!(ts(operation_deadline(None, Some(3), default, now).unwrap()), "2026-06-04T12:00:00Z");
        assert_eq!(operation_deadline(None, None, default, now).unwrap(), default);
        assert!(operation_deadline(Some("2026-05-31"), None, default, now).is_err());
        assert!(operation_deadline(None, Some(0), default, now).is_err());
        assert!(operation_deadline(Some("June 2"), None, default, now).is_err());
    }
}
