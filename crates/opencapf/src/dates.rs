//! Dates typed on the command line.

use anyhow::{bail, Context as _};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

/// `YYYY-MM-DD` (the start of that day, UTC), or a full RFC 3339 time.
pub(crate) fn parse_date(s: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let d = Date::parse(s, format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("'{s}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"))?;
    Ok(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc())
}

/// "Operation Completes By": a date means the end of that day (UTC); it must be in the future.
pub(crate) fn completes_by(
    date: Option<&str>,
    days: Option<u32>,
    default: OffsetDateTime,
) -> anyhow::Result<OffsetDateTime> {
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
        (None, Some(0)) => bail!("--expires-in-days must be at least 1"),
        (None, Some(n)) => now + Duration::days(i64::from(n)),
        (None, None) => default,
    };
    if t <= now {
        bail!("Operation Completes By ({}) is in the past", opencapf_model::ts(t));
    }
    Ok(t)
}
