//! The dashboard's reads: the LSCs devices hold, by issuer and by month of expiry, and
//! registrations and refusals over time. Counted here so that the pages, the API and any other
//! caller draw the same numbers.

use std::collections::BTreeMap;

use opencapf_model::{now, parse_ts, RegistrationResult};
use opencapf_store::{devices, registrations, service};
use serde::Serialize;
use time::{Date, Duration, Month, OffsetDateTime};

use crate::lsc::{issued_by_cluster, lsc_expiring, lsc_state};
use crate::{Cluster, Error, Result};

/// Months of expiry shown one by one, from this month; the rest are "later".
pub const EXPIRY_MONTHS: u32 = 24;
/// The narrowest timeline bucket and the most buckets one timeline has: the caller's numbers
/// stay bounded (a day by the minute is 1,440).
pub const MIN_BUCKET: Duration = Duration::minutes(1);
pub const MAX_BUCKETS: i64 = 10_000;

/// The LSCs the cluster's devices hold.
#[derive(Debug, Clone, Serialize)]
pub struct LscOverview {
    /// Devices that hold an LSC (of any issuer).
    pub total: u64,
    /// Of those, valid LSCs of this cluster ending within [`crate::LSC_EXPIRING_DAYS`].
    pub expiring: u64,
    /// Most first, then by issuer.
    pub by_issuer: Vec<IssuerCount>,
    /// "expired", then each of the next [`EXPIRY_MONTHS`] months ("YYYY-MM", this month first,
    /// zero counts included so a chart's axis has no gaps), then "later".
    pub by_expiry: Vec<ExpiryCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerCount {
    /// The issuer's common name, else its whole name.
    pub issuer: String,
    /// One of this cluster's CAPF certificates (current or retired) issued them.
    pub this_cluster: bool,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiryCount {
    /// "expired", "YYYY-MM" or "later".
    pub month: String,
    pub count: u64,
}

/// Registration events in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineBucket {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    pub registered: u64,
    pub unregistered: u64,
    /// Refused attempts (an aggregated row counts each attempt it stands for).
    pub refused: u64,
    /// Refused attempts by the reason an administrator reads.
    pub refused_by_reason: BTreeMap<String, u64>,
}

impl Cluster {
    /// The dashboard's LSC pictures: LSCs by issuer and by month of expiry.
    pub async fn lsc_overview(&self) -> Result<LscOverview> {
        let mut db = self.store.read().await?;
        let capfs = service::capf_infos(&mut db).await?;
        let list = devices::list(&mut db).await?;
        let at = now();
        let months = month_keys(at.date());
        let mut by_expiry: Vec<ExpiryCount> = std::iter::once("expired".to_owned())
            .chain(months.iter().cloned())
            .chain(std::iter::once("later".to_owned()))
            .map(|month| ExpiryCount { month, count: 0 })
            .collect();
        let mut by_issuer: BTreeMap<(String, bool), u64> = BTreeMap::new();
        let (mut total, mut expiring) = (0, 0);
        for d in &list {
            let Some(l) = &d.lsc else { continue };
            total += 1;
            let state = lsc_state(d, &capfs, at);
            expiring += u64::from(lsc_expiring(state, Some(l.not_after), at));
            let issuer = l.issuer_cn.clone().unwrap_or_else(|| l.issuer.clone());
            *by_issuer.entry((issuer, issued_by_cluster(l, &capfs))).or_default() += 1;
            let slot = if l.not_after < at {
                0
            } else {
                months.iter().position(|m| *m == month_key(l.not_after.date())).map_or(by_expiry.len() - 1, |i| i + 1)
            };
            by_expiry[slot].count += 1;
        }
        let mut by_issuer: Vec<IssuerCount> = by_issuer
            .into_iter()
            .map(|((issuer, this_cluster), count)| IssuerCount { issuer, this_cluster, count })
            .collect();
        by_issuer.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.issuer.cmp(&b.issuer)));
        Ok(LscOverview { total, expiring, by_issuer, by_expiry })
    }

    /// Registrations, unregistrations and refusals (by reason) per `bucket` from `since` to now,
    /// oldest first; empty when `since` is not in the past.
    pub async fn registration_timeline(&self, since: OffsetDateTime, bucket: Duration) -> Result<Vec<TimelineBucket>> {
        if bucket < MIN_BUCKET {
            return Err(Error::Invalid(format!("a timeline bucket is at least {MIN_BUCKET}")));
        }
        let end = now();
        if since >= end {
            return Ok(Vec::new());
        }
        let n = ((end - since).whole_seconds() + bucket.whole_seconds() - 1) / bucket.whole_seconds();
        if n > MAX_BUCKETS {
            return Err(Error::Invalid(format!("{n} timeline buckets: ask for at most {MAX_BUCKETS}")));
        }
        let mut buckets: Vec<TimelineBucket> = (0..n)
            .map(|i| {
                let start = since + bucket * (i as i32);
                TimelineBucket {
                    start,
                    end: start + bucket,
                    registered: 0,
                    unregistered: 0,
                    refused: 0,
                    refused_by_reason: BTreeMap::new(),
                }
            })
            .collect();
        let events = registrations::counts_since(&mut self.store.read().await?, since).await?;
        for e in events {
            let (Ok(at), Ok(result)) = (parse_ts(&e.at), e.result.parse::<RegistrationResult>()) else { continue };
            let i = (at - since).whole_seconds() / bucket.whole_seconds();
            let Some(b) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) else { continue };
            let count = u64::try_from(e.count).unwrap_or(0);
            match result {
                RegistrationResult::Registered => b.registered += count,
                RegistrationResult::Unregistered => b.unregistered += count,
                RegistrationResult::Refused => {
                    b.refused += count;
                    *b.refused_by_reason.entry(e.reason).or_default() += count;
                }
            }
        }
        Ok(buckets)
    }
}

fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// "YYYY-MM" of the month of `today` and the [`EXPIRY_MONTHS`] - 1 after it.
fn month_keys(today: Date) -> Vec<String> {
    let (mut year, mut month) = (today.year(), today.month());
    let mut keys = Vec::new();
    for _ in 0..EXPIRY_MONTHS {
        keys.push(format!("{year:04}-{:02}", u8::from(month)));
        if month == Month::December {
            year += 1;
        }
        month = month.next();
    }
    keys
}
