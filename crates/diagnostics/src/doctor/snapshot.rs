//! The cluster as the checks read it: the view, the devices and their parsed certificates, and
//! the time window; plus the small helpers every check shares.

use opencapf_pki::{CertificateInfo, TrustStore};
use time::{Duration, OffsetDateTime};

use super::{Device, DoctorOptions};
use crate::cluster::ClusterView;
use crate::finding::{Finding, Severity};

/// One check: the findings it makes on a snapshot, in the order it reports them.
pub(super) type Check = fn(&Snapshot<'_>) -> Vec<Finding>;

/// Everything a check reads, parsed once.
pub(super) struct Snapshot<'a> {
    pub(super) view: &'a ClusterView,
    pub(super) devices: &'a [Device],
    /// The devices whose LSC parses, with it.
    pub(super) lscs: Vec<(&'a Device, CertificateInfo)>,
    /// The devices whose MIC parses, with it.
    pub(super) mics: Vec<(&'a Device, CertificateInfo)>,
    pub(super) now: OffsetDateTime,
    /// The end of the expiry window: what ends before it is reported.
    pub(super) window: OffsetDateTime,
    pub(super) expiry_days: u32,
}

impl<'a> Snapshot<'a> {
    pub(super) fn new(view: &'a ClusterView, devices: &'a [Device], opts: &DoctorOptions) -> Snapshot<'a> {
        let parsed = |der: Option<&Vec<u8>>| der.and_then(|der| CertificateInfo::parse(der).ok());
        Snapshot {
            view,
            devices,
            lscs: devices.iter().filter_map(|d| parsed(d.lsc.as_ref().map(|l| &l.der)).map(|i| (d, i))).collect(),
            mics: devices.iter().filter_map(|d| parsed(d.mic_der.as_ref()).map(|i| (d, i))).collect(),
            now: opts.now,
            window: opts.now + Duration::days(i64::from(opts.expiry_days)),
            expiry_days: opts.expiry_days,
        }
    }

    pub(super) fn days_left(&self, t: OffsetDateTime) -> i64 {
        (t - self.now).whole_days()
    }

    /// The parsed LSC of the device `name`.
    pub(super) fn lsc_of(&self, name: &str) -> Option<&CertificateInfo> {
        self.lscs.iter().find(|(d, _)| d.name.as_str() == name).map(|(_, l)| l)
    }

    /// Whether the device `name` holds an LSC that is still valid and that CallManager trusts: it
    /// no longer needs its MIC.
    pub(super) fn has_valid_lsc(&self, name: &str) -> bool {
        self.lscs.iter().any(|(d, l)| {
            d.name.as_str() == name
                && l.not_after >= self.now
                && self.view.issuer_in(TrustStore::CallManager, l).is_some()
        })
    }
}

pub(super) fn name(d: &Device) -> String {
    d.name.to_string()
}

/// An error about phones that cannot get anywhere without an LSC, with the one remedy for them.
pub(super) fn needs_lsc(id: &'static str, summary: String, detail: &'static str) -> Finding {
    Finding::new(Severity::Error, id, summary).detail(detail).remedy(
        "Give them an LSC By Authentication String (`opencapf device set NAMES --operation install --auth string \
         --generate-auth-string`) or By Null String",
    )
}

/// The finding `finding(count)` about `devices`, or none when there are none.
pub(super) fn about(devices: Vec<String>, finding: impl FnOnce(usize) -> Finding) -> Vec<Finding> {
    if devices.is_empty() {
        return Vec::new();
    }
    vec![finding(devices.len()).devices(devices)]
}
