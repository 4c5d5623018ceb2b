//! Dates typed on the command line: the model's rules (the API and the pages take the same),
//! with the CLI's wording for the days flag.

use time::OffsetDateTime;

/// `YYYY-MM-DD` (the start of that day, UTC), or a full RFC 3339 time.
pub(crate) fn parse_date(s: &str) -> anyhow::Result<OffsetDateTime> {
    Ok(opencapf_model::parse_date(s)?)
}

/// "Operation Completes By": a date means the end of that day (UTC); it must be in the future.
pub(crate) fn completes_by(
    date: Option<&str>,
    days: Option<u32>,
    default: OffsetDateTime,
) -> anyhow::Result<OffsetDateTime> {
    if date.is_none() && days == Some(0) {
        anyhow::bail!("--expires-in-days must be at least 1");
    }
    Ok(opencapf_model::operation_deadline(date, days, default, opencapf_model::now())?)
}
