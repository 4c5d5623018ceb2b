//! Find and List Phones in a query string (`GET /devices?model=CP-8861&lsc=none`) or a JSON
//! filter (`POST /capf/bulk`), read into the cluster's [`DeviceQuery`]. Every value is text
//! here and parsed by the model's and the cluster's own parsers, so that a wrong one is a 400
//! naming the parameter and its valid values, worded as the CLI words it.

use opencapf_cluster::{parse_date, DeviceQuery, DeviceSort, LscFilter, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use opencapf_model::CertificateOperation;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::Problem;

/// Which devices: every filter given must match (text filters case-insensitively).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceFilter {
    /// A part of the device name.
    pub(crate) name: Option<String>,
    /// The model (Device Type), whole: `CP-8861`.
    pub(crate) model: Option<String>,
    /// A part of one of its directory numbers.
    pub(crate) line: Option<String>,
    /// The LSC state: `none`, `valid`, `foreign`, `expiring` or `expired`.
    pub(crate) lsc: Option<String>,
    /// A part of the LSC issuer's common name or subject.
    pub(crate) issuer: Option<String>,
    /// LSCs ending before this date (`YYYY-MM-DD` or RFC 3339).
    pub(crate) lsc_expires_before: Option<String>,
    /// A part of the Certificate Operation Status (`Pending`, `Failed`).
    pub(crate) status: Option<String>,
    /// The pending Certificate Operation: `none`, `install`, `delete` or `troubleshoot`.
    pub(crate) operation: Option<String>,
}

/// The search of `GET /devices`: the filter, a sort and a page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeviceSearch {
    /// A part of the device name.
    name: Option<String>,
    /// The model (Device Type), whole: `CP-8861`.
    model: Option<String>,
    /// A part of one of its directory numbers.
    line: Option<String>,
    /// The LSC state: `none`, `valid`, `foreign`, `expiring` or `expired`.
    lsc: Option<String>,
    /// A part of the LSC issuer's common name or subject.
    issuer: Option<String>,
    /// LSCs ending before this date (`YYYY-MM-DD` or RFC 3339).
    lsc_expires_before: Option<String>,
    /// A part of the Certificate Operation Status (`Pending`, `Failed`).
    status: Option<String>,
    /// The pending Certificate Operation: `none`, `install`, `delete` or `troubleshoot`.
    operation: Option<String>,
    /// `name` (default), `model`, `status`, `lsc-expiry` or `last-registration`.
    sort: Option<String>,
    /// `true` for descending order.
    desc: Option<String>,
    /// The first device of the page, from 0.
    offset: Option<String>,
    /// The page size, 1 to 1000 (default 50).
    limit: Option<String>,
}

fn bad(parameter: &str, e: impl std::fmt::Display) -> Problem {
    Problem::bad_request(format!("parameter {parameter}: {e}"))
}

impl DeviceFilter {
    /// No filter given (which would select every device).
    pub(crate) fn is_empty(&self) -> bool {
        [
            &self.name,
            &self.model,
            &self.line,
            &self.lsc,
            &self.issuer,
            &self.lsc_expires_before,
            &self.status,
            &self.operation,
        ]
        .iter()
        .all(|f| f.is_none())
    }

    /// The cluster's query (its paging left at the defaults).
    pub(crate) fn query(&self) -> Result<DeviceQuery, Problem> {
        Ok(DeviceQuery {
            name: self.name.clone(),
            model: self.model.clone(),
            line: self.line.clone(),
            lsc: self.lsc.as_deref().map(str::parse::<LscFilter>).transpose().map_err(|e| bad("lsc", e))?,
            issuer: self.issuer.clone(),
            lsc_expires_before: self
                .lsc_expires_before
                .as_deref()
                .map(parse_date)
                .transpose()
                .map_err(|e| bad("lsc_expires_before", e))?,
            status: self.status.clone(),
            operation: self
                .operation
                .as_deref()
                .map(str::parse::<CertificateOperation>)
                .transpose()
                .map_err(|e| bad("operation", e))?,
            ..DeviceQuery::default()
        })
    }
}

impl DeviceSearch {
    pub(crate) fn query(self) -> Result<DeviceQuery, Problem> {
        let filter = DeviceFilter {
            name: self.name,
            model: self.model,
            line: self.line,
            lsc: self.lsc,
            issuer: self.issuer,
            lsc_expires_before: self.lsc_expires_before,
            status: self.status,
            operation: self.operation,
        };
        let number = |p: &str, v: Option<String>, default: u64| -> Result<u64, Problem> {
            v.map_or(Ok(default), |v| v.trim().parse().map_err(|_| bad(p, "use a whole number from 0")))
        };
        let limit = number("limit", self.limit, DEFAULT_PAGE_SIZE)?;
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(bad("limit", format!("{limit}: use 1 to {MAX_PAGE_SIZE}")));
        }
        Ok(DeviceQuery {
            sort: self
                .sort
                .as_deref()
                .map(str::parse::<DeviceSort>)
                .transpose()
                .map_err(|e| bad("sort", e))?
                .unwrap_or_default(),
            descending: match self.desc.as_deref() {
                None | Some("false" | "0" | "") => false,
                Some("true" | "1") => true,
                Some(_) => return Err(bad("desc", "use true or false")),
            },
            offset: number("offset", self.offset, 0)?,
            limit,
            ..filter.query()?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(q: &str) -> Result<DeviceQuery, Problem> {
        let uri: axum::http::Uri = format!("/api/v1/devices?{q}").parse().unwrap();
        let axum::extract::Query(s) =
            axum::extract::Query::<DeviceSearch>::try_from_uri(&uri).map_err(|e| bad("?", e))?;
        s.query()
    }

    #[test]
    fn a_search_reads_every_parameter() {
        let q = search("name=sep&model=CP-8861&lsc=none&operation=install&sort=lsc-expiry&desc=true&offset=5&limit=10")
            .unwrap();
        assert_eq!(q.model.as_deref(), Some("CP-8861"));
        assert_eq!(q.lsc, Some(LscFilter::None));
        assert_eq!(q.operation, Some(CertificateOperation::InstallUpgrade));
        assert_eq!((q.sort, q.descending, q.offset, q.limit), (DeviceSort::LscExpiry, true, 5, 10));
    }

    #[test]
    fn a_wrong_value_names_its_parameter_and_the_valid_ones() {
        let e = search("lsc=maybe").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.starts_with("parameter lsc:") && e.detail.contains("expiring"), "{}", e.detail);
        assert!(search("sort=colour").unwrap_err().detail.contains("last-registration"));
        assert!(search("limit=0").unwrap_err().detail.contains("1 to 1000"));
        assert!(search("offset=-1").unwrap_err().detail.starts_with("parameter offset"));
        assert!(search("operation=reboot").unwrap_err().detail.contains("install"));
        assert!(search("modle=CP-8861").is_err(), "a misspelled filter must not select every device");
    }
}
