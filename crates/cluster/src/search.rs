//! Find and List Phones: devices by name, model, line, LSC state and issuer, operation and its
//! status; sorted and paged. One read of the devices (with their lines) and of each device's
//! newest registration, then filtering and sorting in memory: O(n) plus the sort, which keeps
//! thousands of devices fast without a query per filter.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use opencapf_model::{now, parse_ts, CertificateOperation, Device, LscState, RegistrationResult};
use opencapf_pki::CertificateInfo;
use opencapf_store::{devices, registrations, service, Db};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::lsc::{lsc_expiring, lsc_state};
use crate::{Cluster, Error, Result};

/// The page size when none is asked for, and the largest one served.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 1000;

/// Which LSCs a search keeps; the same classification as [`lsc_state`] (and `lsc_state` in the
/// JSON), plus "expiring".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LscFilter {
    /// No LSC.
    None,
    /// A valid LSC of this cluster (`lsc_state` "valid").
    ThisCluster,
    /// An LSC from another cluster's CAPF (`lsc_state` "foreign").
    OtherCluster,
    /// A valid LSC of this cluster ending within [`crate::LSC_EXPIRING_DAYS`].
    Expiring,
    /// An LSC of this cluster past its end.
    Expired,
}

impl LscFilter {
    pub const ALL: [LscFilter; 5] =
        [LscFilter::None, LscFilter::ThisCluster, LscFilter::Expired, LscFilter::OtherCluster, LscFilter::Expiring];

    /// The word the CLI and the API take: the `lsc_state` values, so that a filter reads like
    /// the state it keeps ("this" and "other" are accepted too).
    pub fn token(self) -> &'static str {
        match self {
            LscFilter::None => "none",
            LscFilter::ThisCluster => "valid",
            LscFilter::OtherCluster => "foreign",
            LscFilter::Expiring => "expiring",
            LscFilter::Expired => "expired",
        }
    }

    fn keeps(self, state: LscState, expiring: bool) -> bool {
        match self {
            LscFilter::None => state == LscState::None,
            LscFilter::ThisCluster => state == LscState::Valid,
            LscFilter::OtherCluster => state == LscState::Foreign,
            LscFilter::Expired => state == LscState::Expired,
            LscFilter::Expiring => expiring,
        }
    }
}

impl FromStr for LscFilter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "this" => Ok(LscFilter::ThisCluster),
            "other" => Ok(LscFilter::OtherCluster),
            _ => LscFilter::ALL.into_iter().find(|f| f.token() == s).ok_or_else(|| {
                Error::Invalid(format!(
                    "'{}' is not an LSC filter: use none, valid (this), foreign (other), expiring or expired",
                    opencapf_model::printable(&s)
                ))
            }),
        }
    }
}

impl fmt::Display for LscFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

impl Serialize for LscFilter {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.token())
    }
}

/// The column a search sorts on; ties go by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSort {
    #[default]
    Name,
    Model,
    /// Certificate Operation Status.
    Status,
    /// When the LSC ends; devices without one come last either way.
    LscExpiry,
    /// The newest registration event; devices never seen come last either way.
    LastRegistration,
}

impl DeviceSort {
    pub const ALL: [DeviceSort; 5] =
        [DeviceSort::Name, DeviceSort::Model, DeviceSort::Status, DeviceSort::LscExpiry, DeviceSort::LastRegistration];

    pub fn token(self) -> &'static str {
        match self {
            DeviceSort::Name => "name",
            DeviceSort::Model => "model",
            DeviceSort::Status => "status",
            DeviceSort::LscExpiry => "lsc-expiry",
            DeviceSort::LastRegistration => "last-registration",
        }
    }
}

impl FromStr for DeviceSort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        DeviceSort::ALL.into_iter().find(|v| v.token() == s).ok_or_else(|| {
            Error::Invalid(format!(
                "'{}' is not a sort: use name, model, status, lsc-expiry or last-registration",
                opencapf_model::printable(&s)
            ))
        })
    }
}

impl Serialize for DeviceSort {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.token())
    }
}

/// A Find and List Phones search. Text filters match case-insensitively; every filter given
/// must match. `Default` finds every device, by name, the first [`DEFAULT_PAGE_SIZE`].
#[derive(Debug, Clone, Serialize)]
pub struct DeviceQuery {
    /// A part of the device name.
    pub name: Option<String>,
    /// The model (Device Type), whole: `CP-8861` is not `CP-8861-K9`, so that a bulk change by
    /// model touches only that model.
    pub model: Option<String>,
    /// A part of one of its directory numbers.
    pub line: Option<String>,
    pub lsc: Option<LscFilter>,
    /// A part of the LSC issuer's common name or subject.
    pub issuer: Option<String>,
    /// LSCs ending before this time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lsc_expires_before: Option<OffsetDateTime>,
    /// A part of the Certificate Operation Status ("Pending", "Failed").
    pub status: Option<String>,
    pub operation: Option<CertificateOperation>,
    pub sort: DeviceSort,
    pub descending: bool,
    pub offset: u64,
    /// Page size, 1 to [`MAX_PAGE_SIZE`] (values outside are brought inside).
    pub limit: u64,
}

impl Default for DeviceQuery {
    fn default() -> Self {
        DeviceQuery {
            name: None,
            model: None,
            line: None,
            lsc: None,
            issuer: None,
            lsc_expires_before: None,
            status: None,
            operation: None,
            sort: DeviceSort::Name,
            descending: false,
            offset: 0,
            limit: DEFAULT_PAGE_SIZE,
        }
    }
}

/// The newest registration event of a device.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct LastRegistration {
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub result: RegistrationResult,
    pub peer: String,
}

/// One device as Find and List Phones shows it: the device as `device list --json` always gave
/// it (its fields, `capf`, `lsc`, `lines`), its `lsc_state`, and its newest registration.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRow {
    #[serde(flatten)]
    pub device: Device,
    pub lsc_state: LscState,
    /// A valid LSC of this cluster that ends within [`crate::LSC_EXPIRING_DAYS`].
    pub lsc_expiring: bool,
    pub last_registration: Option<LastRegistration>,
}

/// One page of a search.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DevicePage {
    /// How many devices match, over all pages.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    pub devices: Vec<DeviceRow>,
}

impl Cluster {
    /// Find and List Phones: one page of the devices `q` matches.
    pub async fn search_devices(&self, q: &DeviceQuery) -> Result<DevicePage> {
        let all = self.matching_devices(q).await?;
        let limit = q.limit.clamp(1, MAX_PAGE_SIZE);
        let total = all.len() as u64;
        let start = usize::try_from(q.offset.min(total)).unwrap_or(usize::MAX);
        let devices = all.into_iter().skip(start).take(limit as usize).collect();
        Ok(DevicePage { total, offset: q.offset, limit, devices })
    }

    /// How many devices the cluster has (what a search's `total` is out of).
    pub async fn device_count(&self) -> Result<u64> {
        devices::count(&mut self.store.read().await?).await
    }

    /// Every device `q` matches, sorted, without paging (`device list`, its CSV, bulk changes).
    pub async fn matching_devices(&self, q: &DeviceQuery) -> Result<Vec<DeviceRow>> {
        matching(&mut self.store.read().await?, q).await
    }
}

/// The devices `q` matches, sorted, read within `db` (so a bulk change selects and writes in one
/// transaction).
pub(crate) async fn matching(db: &mut Db, q: &DeviceQuery) -> Result<Vec<DeviceRow>> {
    let capfs = service::capf_infos(db).await?;
    let list = devices::list(db).await?;
    let mut newest: HashMap<String, LastRegistration> = HashMap::new();
    for r in registrations::newest_per_device(db).await? {
        // A timestamp this store wrote always parses; a bad one only hides that registration.
        if let (Some(device), Ok(at)) = (r.device.clone(), parse_ts(&r.at)) {
            newest.insert(device, LastRegistration { at, result: r.result, peer: r.peer.clone() });
        }
    }
    let mut rows = filter(list, &capfs, newest, q, now());
    sort(&mut rows, q.sort, q.descending);
    Ok(rows)
}

fn filter(
    list: Vec<Device>,
    capfs: &[CertificateInfo],
    mut newest: HashMap<String, LastRegistration>,
    q: &DeviceQuery,
    at: OffsetDateTime,
) -> Vec<DeviceRow> {
    let lower = |s: &Option<String>| s.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let (name, line, issuer, status) = (lower(&q.name), lower(&q.line), lower(&q.issuer), lower(&q.status));
    let model = lower(&q.model);
    let has = |hay: &str, needle: &str| hay.to_lowercase().contains(needle);
    list.into_iter()
        .filter_map(|d| {
            let state = lsc_state(&d, capfs, at);
            let not_after = d.lsc.as_ref().map(|l| l.not_after);
            let expiring = lsc_expiring(state, not_after, at);
            let keep = name.as_deref().is_none_or(|n| has(d.name.as_str(), n))
                && model.as_deref().is_none_or(|m| d.model.to_lowercase() == m)
                && line.as_deref().is_none_or(|l| d.lines.iter().any(|dn| has(dn.as_str(), l)))
                && q.lsc.is_none_or(|f| f.keeps(state, expiring))
                && issuer.as_deref().is_none_or(|i| {
                    d.lsc
                        .as_ref()
                        .is_some_and(|l| has(&l.issuer, i) || l.issuer_cn.as_deref().is_some_and(|cn| has(cn, i)))
                })
                && q.lsc_expires_before.is_none_or(|b| not_after.is_some_and(|t| t < b))
                && status.as_deref().is_none_or(|s| has(&d.capf.status, s))
                && q.operation.is_none_or(|o| d.capf.operation == o);
            keep.then(|| {
                let last_registration = newest.remove(d.name.as_str());
                DeviceRow { device: d, lsc_state: state, lsc_expiring: expiring, last_registration }
            })
        })
        .collect()
}

/// Sorts on `by`, then by name; devices without the value (no LSC, never registered) last.
fn sort(rows: &mut [DeviceRow], by: DeviceSort, descending: bool) {
    fn optional<T: Ord>(a: Option<T>, b: Option<T>, descending: bool) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) if descending => b.cmp(&a),
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let flip = |o: Ordering| if descending { o.reverse() } else { o };
    rows.sort_by(|a, b| {
        let (x, y) = (&a.device, &b.device);
        let primary = match by {
            DeviceSort::Name => Ordering::Equal,
            DeviceSort::Model => flip(x.model.to_lowercase().cmp(&y.model.to_lowercase())),
            DeviceSort::Status => flip(x.capf.status.cmp(&y.capf.status)),
            DeviceSort::LscExpiry => {
                optional(x.lsc.as_ref().map(|l| l.not_after), y.lsc.as_ref().map(|l| l.not_after), descending)
            }
            DeviceSort::LastRegistration => optional(
                a.last_registration.as_ref().map(|r| r.at),
                b.last_registration.as_ref().map(|r| r.at),
                descending,
            ),
        };
        let by_name = x.name.as_str().cmp(y.name.as_str());
        primary.then(if by == DeviceSort::Name { flip(by_name) } else { by_name })
    });
}
