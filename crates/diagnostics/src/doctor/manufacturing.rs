//! Manufacturing CAs, in the stores or known Cisco chains, and the devices whose MIC depends on
//! them: expired, expiring, or a dependency to know about.

use std::collections::BTreeMap;

use opencapf_pki::is_manufacturing_ca;
use opencapf_pki::{CertificateInfo, TrustStore};
use time::OffsetDateTime;

use super::snapshot::{name, Snapshot};
use crate::cluster::ClusterView;
use crate::date;
use crate::finding::{Finding, Severity};

/// Known Cisco manufacturing chains, for MICs whose CAs are not in the stores: issuer CN, root CN,
/// root end date.
const CISCO_CHAINS: &[(&str, &str, (i32, u8, u8))] = &[
    ("Cisco Manufacturing CA", "Cisco Root CA 2048", (2029, 5, 14)),
    ("ACT2 SUDI CA", "Cisco Root CA 2048", (2029, 5, 14)),
    ("Cisco Manufacturing CA SHA2", "Cisco Root CA M2", (2037, 11, 12)),
];

/// A manufacturing CA as the doctor sees it.
#[derive(Default)]
struct CaUse {
    /// Its end date, when known.
    end: Option<OffsetDateTime>,
    /// The devices whose (valid) MIC depends on it.
    devices: Vec<String>,
    /// The stores holding it.
    stores: Vec<String>,
}

pub(super) fn cas(s: &Snapshot<'_>) -> Vec<Finding> {
    uses(s).into_iter().filter_map(|(cn, ca)| finding(s, &cn, ca)).collect()
}

/// The manufacturing CAs by name: those in the stores, then those valid MICs depend on.
fn uses(s: &Snapshot<'_>) -> BTreeMap<String, CaUse> {
    let mut cas: BTreeMap<String, CaUse> = BTreeMap::new();
    for store in TrustStore::PHONE_CERTIFICATES {
        for e in s.view.store(store).iter().filter(|e| is_manufacturing_ca(&e.info)) {
            let cn = e.info.subject_cn.clone().unwrap_or_else(|| e.info.subject.clone());
            let ca = cas.entry(cn).or_insert_with(|| CaUse { end: Some(e.info.not_after), ..CaUse::default() });
            push_new(&mut ca.stores, store.name().to_owned());
        }
    }
    // An expired MIC depends on nothing any more (it is reported by the MIC checks).
    for (d, mic) in s.mics.iter().filter(|(_, m)| m.not_after >= s.now) {
        for (cn, end) in mic_chain(s.view, mic) {
            let ca = cas.entry(cn).or_insert_with(|| CaUse { end, ..CaUse::default() });
            ca.end = ca.end.or(end);
            push_new(&mut ca.devices, name(d));
        }
    }
    cas
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn finding(s: &Snapshot<'_>, cn: &str, ca: CaUse) -> Option<Finding> {
    let end = ca.end?;
    let deps = ca.devices;
    let stranded = deps.iter().filter(|n| !s.has_valid_lsc(n)).count();
    let where_ = if ca.stores.is_empty() { String::new() } else { format!(" (in {})", ca.stores.join(", ")) };
    let f = if end < s.now {
        Finding::new(
            if stranded == 0 { Severity::Warning } else { Severity::Error },
            "manufacturing-ca-expired",
            format!("The manufacturing CA {cn}{where_} expired on {}", date(end)),
        )
        .detail(format!(
            "MICs under it are no longer trusted; {stranded} of the {} device(s) depending on it have no valid LSC",
            deps.len()
        ))
        .remedy("Give every phone depending on it an LSC By Authentication String or By Null String")
    } else if end <= s.window {
        Finding::new(
            Severity::Warning,
            "manufacturing-ca-expiring",
            format!("The manufacturing CA {cn}{where_} expires on {} ({} days)", date(end), s.days_left(end)),
        )
        .detail(format!("{} device(s) depend on it for their MIC, {stranded} of them without a valid LSC", deps.len()))
        .remedy("Give them LSCs before that date: their MICs become useless and cannot be re-issued")
    } else if !deps.is_empty() {
        Finding::new(
            Severity::Info,
            "manufacturing-ca-dependency",
            format!("{} device(s) depend on {cn} for their MIC: it ends on {}", deps.len(), date(end)),
        )
        .detail(format!("{stranded} of them have no valid LSC; after that date their MIC is useless"))
        .remedy("Give them LSCs well before that date (Install/Upgrade)")
    } else {
        return None;
    };
    Some(f.devices(deps))
}

/// The CAs a MIC depends on: its issuer and the issuer's issuer, from the stores, else from the
/// known Cisco chains.
fn mic_chain(view: &ClusterView, mic: &CertificateInfo) -> Vec<(String, Option<OffsetDateTime>)> {
    let mut out = Vec::new();
    let issuer_cn = mic.issuer_cn.clone().unwrap_or_else(|| mic.issuer.clone());
    let in_store = TrustStore::PHONE_CERTIFICATES.into_iter().find_map(|s| view.issuer_in(s, mic));
    match in_store {
        Some(ca) => {
            out.push((issuer_cn.clone(), Some(ca.info.not_after)));
            if !ca.info.self_issued {
                let root = TrustStore::PHONE_CERTIFICATES.into_iter().find_map(|s| view.issuer_in(s, &ca.info));
                match root {
                    Some(r) => out.push((r.info.subject_cn.clone().unwrap_or_default(), Some(r.info.not_after))),
                    None => out.extend(known_root(&issuer_cn)),
                }
            }
        }
        None => {
            out.push((issuer_cn.clone(), None));
            out.extend(known_root(&issuer_cn));
        }
    }
    out
}

fn known_root(issuer_cn: &str) -> Option<(String, Option<OffsetDateTime>)> {
    CISCO_CHAINS.iter().find(|(i, _, _)| *i == issuer_cn).map(|(_, root, (y, m, d))| {
        let end = time::Date::from_calendar_date(*y, time::Month::try_from(*m).unwrap_or(time::Month::January), *d)
            .ok()
            .map(|date| date.with_hms(20, 25, 42).unwrap_or(date.midnight()).assume_utc());
        ((*root).to_owned(), end)
    })
}
