//! `opencapf doctor`: one pass over the cluster's own state. Every finding says how bad it is, how
//! many devices it concerns (and which), and what to do.
//!
//! [`run`] reads the cluster (the only database access); [`check`] runs a list of small checks,
//! each a pure function over a `Snapshot` of it: `capf` (the active and retired CAPF
//! certificates), `lsc` (issuers and expiry), `mic`, `secure` (secure phones with no certificate to
//! register with), `manufacturing` (the CAs MICs depend on), `anchors` (expired trust entries) and
//! `operations` (pending CAPF operations); `audit` turns a broken audit hash chain into a finding,
//! `legacy` the phones whose newest registration was legacy TLS into another.

mod anchors;
mod audit;
mod capf;
mod legacy;
mod lsc;
mod manufacturing;
mod mic;
mod operations;
mod secure;
mod snapshot;

use std::fmt::Write as _;

use opencapf_cluster::Cluster;
use opencapf_model::{status, AuthMode, Device};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cluster::ClusterView;
use crate::finding::{Finding, Summary};
use crate::DiagnoseError;
use snapshot::{Check, Snapshot};

#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// LSCs, MICs, CAs and the CAPF certificate ending within this many days are reported.
    pub expiry_days: u32,
    pub now: OffsetDateTime,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        DoctorOptions { expiry_days: 30, now: OffsetDateTime::now_utc() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub checked_at: String,
    pub expiry_days: u32,
    pub devices: usize,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

impl DoctorReport {
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// Drops the device names (kept: the counts), for output without `--verbose`.
    pub fn without_names(mut self) -> DoctorReport {
        for f in &mut self.findings {
            f.devices.clear();
        }
        self
    }

    pub fn render(&self, verbose: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Cluster check at {} ({} devices, expiry window {} days)\n",
            self.checked_at, self.devices, self.expiry_days
        );
        for f in &self.findings {
            f.render(&mut s, verbose);
        }
        let _ = writeln!(
            s,
            "\n{} error(s), {} warning(s), {} info{}",
            self.summary.errors,
            self.summary.warnings,
            self.summary.infos,
            if verbose || self.findings.iter().all(|f| f.devices_affected == 0) {
                ""
            } else {
                " (--verbose names the devices)"
            }
        );
        s
    }
}

/// Runs the doctor on an open cluster.
pub async fn run(store: &Cluster, opts: &DoctorOptions) -> Result<DoctorReport, DiagnoseError> {
    let view = store.trust_snapshot().await?;
    let devices = store.devices().await?;
    let chain = store.verify_audit().await?;
    let registrations = store.newest_registrations().await?;
    let mut report = check(&view, &devices, opts);
    if let Some(finding) = audit::chain(&chain) {
        report.findings.insert(0, finding);
    }
    if let Some(finding) = legacy::newest(&registrations) {
        // After the errors, before warnings and infos: it is about the fleet, not one certificate.
        let at = report.findings.iter().take_while(|f| f.severity > finding.severity).count();
        report.findings.insert(at, finding);
    }
    report.summary = Summary::of(&report.findings);
    Ok(report)
}

/// The checks in the order they report; the report then puts errors first, keeping this order
/// within a severity.
const CHECKS: &[Check] = &[
    capf::active,
    lsc::issuers,
    capf::retired,
    lsc::expired,
    lsc::expiring,
    mic::expired_without_lsc,
    secure::without_certificate,
    mic::expired,
    mic::expiring,
    manufacturing::cas,
    anchors::expired,
    operations::overdue,
    operations::auth_string_unused,
    operations::will_fail_invalid_lsc,
];

/// The checks, on a cluster already read.
pub fn check(view: &ClusterView, devices: &[Device], opts: &DoctorOptions) -> DoctorReport {
    let snapshot = Snapshot::new(view, devices, opts);
    let mut out: Vec<Finding> = CHECKS.iter().flat_map(|check| check(&snapshot)).collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    DoctorReport {
        checked_at: crate::pcap::rfc3339_public(opts.now),
        expiry_days: opts.expiry_days,
        devices: devices.len(),
        summary: Summary::of(&out),
        findings: out,
    }
}
