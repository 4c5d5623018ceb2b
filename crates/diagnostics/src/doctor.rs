//! `opencapf doctor`: one pass over the cluster's own state. Every finding says how bad it is, how
//! many devices it concerns (and which), and what to do.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use opencapf_cluster::Cluster;
use opencapf_model::{status, AuthMode, Device};
use opencapf_pki::classify::{is_capf_name, is_manufacturing_ca, issued_by};
use opencapf_pki::{CertificateInfo, TrustStore};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::cluster::ClusterView;
use crate::finding::{Finding, Severity, Summary};
use crate::{date, remedies, DiagnoseError};

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
    let view = ClusterView::load(store).await?;
    let devices = store.devices().await?;
    Ok(check(&view, &devices, opts))
}

/// Known Cisco manufacturing chains, for MICs whose CAs are not in the stores: issuer CN, root CN,
/// root end date.
const CISCO_CHAINS: &[(&str, &str, (i32, u8, u8))] = &[
    ("Cisco Manufacturing CA", "Cisco Root CA 2048", (2029, 5, 14)),
    ("ACT2 SUDI CA", "Cisco Root CA 2048", (2029, 5, 14)),
    ("Cisco Manufacturing CA SHA2", "Cisco Root CA M2", (2037, 11, 12)),
];

struct Lsc {
    info: CertificateInfo,
}

/// The checks, on a cluster already read.
pub fn check(view: &ClusterView, devices: &[Device], opts: &DoctorOptions) -> DoctorReport {
    let now = opts.now;
    let window = now + Duration::days(i64::from(opts.expiry_days));
    let mut out: Vec<Finding> = Vec::new();
    let lscs: Vec<(&Device, Lsc)> = devices
        .iter()
        .filter_map(|d| d.lsc.as_ref().and_then(|l| CertificateInfo::parse(&l.der).ok()).map(|info| (d, Lsc { info })))
        .collect();
    let name = |d: &Device| d.name.to_string();
    let days_left = |t: OffsetDateTime| (t - now).whole_days();

    // The active CAPF certificate.
    match view.active_capf() {
        Some(capf) => {
            let cn = capf.info.subject_cn.clone().unwrap_or_default();
            let end = capf.info.not_after;
            if end < now {
                out.push(
                    Finding::new(
                        Severity::Error,
                        "capf-expired",
                        format!("The CAPF certificate {cn} expired on {}", date(end)),
                    )
                    .detail("CAPF cannot issue LSCs with an expired certificate")
                    .remedy(
                        "Regenerate it (`opencapf capf regenerate`), then reissue LSCs (`opencapf capf reissue`) \
                                 before removing the old one from the stores (rule 9)",
                    ),
                );
            } else if end <= window {
                out.push(
                    Finding::new(
                        Severity::Warning,
                        "capf-expiring",
                        format!("The CAPF certificate {cn} expires on {} ({} days)", date(end), days_left(end)),
                    )
                    .detail("LSCs it issues cannot outlive it")
                    .remedy(
                        "Regenerate it now (`opencapf capf regenerate`), reissue LSCs (`opencapf capf reissue`), and \
                             keep the old certificate in both stores until every phone has a new LSC (rule 9)",
                    ),
                );
            } else {
                out.push(Finding::new(
                    Severity::Info,
                    "capf-valid",
                    format!("The CAPF certificate {cn} is valid until {} ({} days)", date(end), days_left(end)),
                ));
            }
            for store in TrustStore::ALL {
                if !view.contains(store, &capf.info) {
                    let effect = match store {
                        TrustStore::CallManager => "phones with its new LSCs will fail TLS to CallManager (unknown CA)",
                        TrustStore::Capf => {
                            "By Existing Certificate (Precedence to LSC) will fail with 'Invalid LSC' for \
                                             phones holding its LSCs"
                        }
                    };
                    out.push(
                        Finding::new(
                            Severity::Error,
                            "active-capf-not-trusted",
                            format!("The active CAPF certificate {cn} is not in {store}"),
                        )
                        .detail(effect)
                        .remedy(format!(
                            "Add it back: `opencapf capf show` gives it, then `opencapf trust add {store} CAPF.pem`"
                        )),
                    );
                }
            }
        }
        None => out.push(Finding::new(Severity::Error, "no-capf", "The cluster has no active CAPF certificate")),
    }

    // Devices whose LSC issuer is missing from one store or both.
    let mut groups: BTreeMap<(u8, String), Vec<String>> = BTreeMap::new();
    for (d, lsc) in &lscs {
        let in_cm = view.issuer_in(TrustStore::CallManager, &lsc.info).is_some();
        let in_capf = view.issuer_in(TrustStore::Capf, &lsc.info).is_some();
        let ours = view.capf_issuer_of(&lsc.info).is_some();
        let issuer = lsc.info.issuer_cn.clone().unwrap_or_else(|| lsc.info.issuer.clone());
        let category = match (in_cm, in_capf, ours) {
            (true, true, _) => continue,
            (false, false, true) => 0,
            (false, false, false) => 1,
            (false, true, _) => 2,
            (true, false, _) => 3,
        };
        groups.entry((category, issuer)).or_default().push(name(d));
    }
    for ((category, issuer), names) in groups {
        let n = names.len();
        let f = match category {
            0 => {
                let mut f = Finding::new(
                    Severity::Error,
                    "lsc-issuer-in-no-store",
                    format!("{n} device(s) hold an LSC issued by {issuer}, which is in neither CallManager-trust nor CAPF-trust"),
                )
                .detail("They cannot register securely (CallManager answers unknown CA) nor renew By Existing Certificate \
                         (Invalid LSC): the CAPF certificate was removed before their LSCs were replaced (rule 9)");
                for s in remedies::CAPF_REMOVED {
                    f = f.remedy(*s);
                }
                f
            }
            1 => {
                let other = if is_capf_name(&issuer) { "another cluster's CAPF" } else { "an issuer that is no CAPF of this cluster" };
                let mut f = Finding::new(
                    Severity::Error,
                    "lsc-from-other-cluster",
                    format!("{n} device(s) hold an LSC issued by {issuer}, {other}, trusted by neither store"),
                )
                .detail("They fail TLS to CallManager with unknown CA (rule 5)");
                for s in remedies::OTHER_CLUSTER {
                    f = f.remedy(*s);
                }
                f
            }
            2 => Finding::new(
                Severity::Error,
                "lsc-issuer-not-in-callmanager-trust",
                format!("{n} device(s) hold an LSC issued by {issuer}, which is not in CallManager-trust"),
            )
            .detail("CallManager refuses them with a fatal unknown CA alert: they cannot register securely (rule 2)")
            .remedy(format!("Add {issuer} back to CallManager-trust (`opencapf trust add CallManager-trust {issuer}.pem`; \
                             it applies to the next connection), or give them LSCs of the active CAPF \
                             (`opencapf capf reissue`)")),
            _ => Finding::new(
                Severity::Warning,
                "lsc-issuer-not-in-capf-trust",
                format!("{n} device(s) hold an LSC issued by {issuer}, which is not in CAPF-trust"),
            )
            .detail("They register, but By Existing Certificate (Precedence to LSC) operations fail with 'Invalid LSC' (rule 3)")
            .remedy(format!("Add {issuer} to CAPF-trust, or run their next operation By Authentication String, By Null \
                             String or By Existing Certificate (Precedence to MIC)")),
        };
        out.push(f.devices(names));
    }

    // Retired CAPF certificates: still needed, or safe to remove.
    for capf in view.capfs.iter().filter(|c| !c.active) {
        let cn = capf.info.subject_cn.clone().unwrap_or_default();
        let backed: Vec<String> =
            lscs.iter().filter(|(_, l)| issued_by(&l.info, &capf.info)).map(|(d, _)| name(d)).collect();
        let stores: Vec<&str> =
            TrustStore::ALL.into_iter().filter(|s| view.contains(*s, &capf.info)).map(|s| s.name()).collect();
        if !backed.is_empty() {
            out.push(
                Finding::new(
                    Severity::Warning,
                    "retired-capf-still-needed",
                    format!("The retired CAPF certificate {cn} still issued the active LSC of {} device(s)", backed.len()),
                )
                .detail(format!(
                    "Keep it in CallManager-trust and CAPF-trust (now in: {}), and on the 802.1x server and VPN head-end, \
                     until they have new LSCs (rule 9)",
                    if stores.is_empty() { "none".to_owned() } else { stores.join(", ") }
                ))
                .remedy("Schedule new LSCs: `opencapf capf reissue`; remove the certificate only when `opencapf doctor` \
                         says it is safe")
                .devices(backed),
            );
        } else if !stores.is_empty() {
            let mut f = Finding::new(
                Severity::Info,
                "retired-capf-removable",
                format!("The retired CAPF certificate {cn} backs no device's LSC: safe to remove from {}", stores.join(" and ")),
            )
            .detail("Remove it also from the 802.1x server (ISE, FreeRADIUS) and the VPN head-end (ASA) if it was uploaded there");
            for s in &stores {
                f = f.remedy(format!("`opencapf trust remove {s} {cn}`"));
            }
            out.push(f);
        }
    }

    // LSC expiry.
    let expired: Vec<String> = lscs.iter().filter(|(_, l)| l.info.not_after < now).map(|(d, _)| name(d)).collect();
    if !expired.is_empty() {
        out.push(
            Finding::new(Severity::Error, "lsc-expired", format!("{} device(s) hold an expired LSC", expired.len()))
                .detail("An expired LSC is refused in TLS (registration rejected on secure phones) and cannot authenticate \
                         By Existing Certificate (Precedence to LSC)")
                .remedy("Install/Upgrade By Authentication String or By Null String (or Precedence to MIC): `opencapf \
                         device set NAMES --operation install --auth null`")
                .devices(expired),
        );
    }
    let mut expiring: Vec<(OffsetDateTime, String)> = lscs
        .iter()
        .filter(|(_, l)| l.info.not_after >= now && l.info.not_after <= window)
        .map(|(d, l)| (l.info.not_after, name(d)))
        .collect();
    expiring.sort();
    if let Some((first, _)) = expiring.first() {
        out.push(
            Finding::new(
                Severity::Warning,
                "lsc-expiring",
                format!(
                    "{} device(s) hold an LSC that expires within {} days (first on {})",
                    expiring.len(),
                    opts.expiry_days,
                    date(*first)
                ),
            )
            .remedy(
                "Renew them while they are valid: `opencapf device set NAMES --operation install --auth lsc` (By \
                     Existing Certificate, Precedence to LSC)",
            )
            .devices(expiring.into_iter().map(|(_, n)| n).collect()),
        );
    }

    // MICs.
    let has_valid_lsc = |d: &Device| {
        lscs.iter().any(|(x, l)| {
            x.name == d.name && l.info.not_after >= now && view.issuer_in(TrustStore::CallManager, &l.info).is_some()
        })
    };
    let mics: Vec<(&Device, CertificateInfo)> = devices
        .iter()
        .filter_map(|d| d.mic_der.as_ref().and_then(|m| CertificateInfo::parse(m).ok()).map(|i| (d, i)))
        .collect();
    let (mut mic_stranded, mut mic_expired, mut mic_expiring) = (Vec::new(), Vec::new(), Vec::new());
    for (d, mic) in &mics {
        if mic.not_after < now {
            if has_valid_lsc(d) {
                mic_expired.push(name(d));
            } else {
                mic_stranded.push(name(d));
            }
        } else if mic.not_after <= window {
            mic_expiring.push(name(d));
        }
    }
    if !mic_stranded.is_empty() {
        out.push(
            Finding::new(
                Severity::Error,
                "mic-expired-no-lsc",
                format!("{} device(s) have an expired MIC and no valid LSC", mic_stranded.len()),
            )
            .detail(
                "A MIC cannot be re-issued: these phones can neither register securely nor authenticate by certificate",
            )
            .remedy(
                "Give them an LSC By Authentication String (`opencapf device set NAMES --operation install --auth \
                     string --generate-auth-string`) or By Null String",
            )
            .devices(mic_stranded),
        );
    }
    if !mic_expired.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "mic-expired",
                format!("{} device(s) have an expired MIC", mic_expired.len()),
            )
            .detail(
                "They work on their LSC; By Existing Certificate (Precedence to MIC) fails, and deleting the LSC \
                         would strand them",
            )
            .remedy("Renew their LSCs with Precedence to LSC, never with Precedence to MIC")
            .devices(mic_expired),
        );
    }
    if !mic_expiring.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "mic-expiring",
                format!("{} device(s) have a MIC that expires within {} days", mic_expiring.len(), opts.expiry_days),
            )
            .remedy("Give them an LSC before the MIC expires: a MIC cannot be re-issued")
            .devices(mic_expiring),
        );
    }

    // Manufacturing CAs, and the devices whose MIC depends on them.
    // Name → (end, devices depending on it, stores holding it).
    type CaUse = (Option<OffsetDateTime>, Vec<String>, Vec<String>);
    let mut cas: BTreeMap<String, CaUse> = BTreeMap::new();
    for store in TrustStore::ALL {
        for e in view.store(store) {
            if is_manufacturing_ca(&e.info) {
                let cn = e.info.subject_cn.clone().unwrap_or_else(|| e.info.subject.clone());
                let entry = cas.entry(cn).or_insert((Some(e.info.not_after), Vec::new(), Vec::new()));
                if !entry.2.contains(&store.name().to_owned()) {
                    entry.2.push(store.name().to_owned());
                }
            }
        }
    }
    // An expired MIC depends on nothing any more (it is reported above).
    for (d, mic) in mics.iter().filter(|(_, m)| m.not_after >= now) {
        for (cn, end) in mic_chain(view, mic) {
            let entry = cas.entry(cn).or_insert((end, Vec::new(), Vec::new()));
            if entry.0.is_none() {
                entry.0 = end;
            }
            if !entry.1.contains(&name(d)) {
                entry.1.push(name(d));
            }
        }
    }
    for (cn, (end, deps, stores)) in cas {
        let Some(end) = end else { continue };
        let stranded: Vec<String> = deps
            .iter()
            .filter(|n| !devices.iter().any(|d| d.name.as_str() == n.as_str() && has_valid_lsc(d)))
            .cloned()
            .collect();
        let where_ = if stores.is_empty() { String::new() } else { format!(" (in {})", stores.join(", ")) };
        if end < now {
            let severity = if stranded.is_empty() { Severity::Warning } else { Severity::Error };
            out.push(
                Finding::new(
                    severity,
                    "manufacturing-ca-expired",
                    format!("The manufacturing CA {cn}{where_} expired on {}", date(end)),
                )
                .detail(format!(
                    "MICs under it are no longer trusted; {} of the {} device(s) depending on it have no valid LSC",
                    stranded.len(),
                    deps.len()
                ))
                .remedy("Give every phone depending on it an LSC By Authentication String or By Null String")
                .devices(deps),
            );
        } else if end <= window {
            out.push(
                Finding::new(
                    Severity::Warning,
                    "manufacturing-ca-expiring",
                    format!("The manufacturing CA {cn}{where_} expires on {} ({} days)", date(end), days_left(end)),
                )
                .detail(format!(
                    "{} device(s) depend on it for their MIC, {} of them without a valid LSC",
                    deps.len(),
                    stranded.len()
                ))
                .remedy("Give them LSCs before that date: their MICs become useless and cannot be re-issued")
                .devices(deps),
            );
        } else if !deps.is_empty() {
            out.push(
                Finding::new(
                    Severity::Info,
                    "manufacturing-ca-dependency",
                    format!("{} device(s) depend on {cn} for their MIC: it ends on {}", deps.len(), date(end)),
                )
                .detail(format!("{} of them have no valid LSC; after that date their MIC is useless", stranded.len()))
                .remedy("Give them LSCs well before that date (Install/Upgrade)")
                .devices(deps),
            );
        }
    }

    // Operations.
    let pending: Vec<&Device> = devices.iter().filter(|d| d.capf.status == status::PENDING).collect();
    let overdue: Vec<String> =
        pending.iter().filter(|d| d.capf.completes_by.is_some_and(|t| t < now)).map(|d| name(d)).collect();
    if !overdue.is_empty() {
        out.push(
            Finding::new(
                Severity::Warning,
                "operation-overdue",
                format!("{} operation(s) are pending past their Operation Completes By", overdue.len()),
            )
            .detail("They will end 'Upgrade Failed: User Initiated Request Late/Timedout' when the phone next contacts CAPF")
            .remedy("Set a new deadline (`opencapf device set NAMES --operation install --expires-in-days 10`) or cancel \
                     them (`--operation none`)")
            .devices(overdue),
        );
    }
    let unused: Vec<String> = pending
        .iter()
        .filter(|d| d.capf.auth_mode == AuthMode::AuthenticationString && d.capf.auth_string_set)
        .map(|d| name(d))
        .collect();
    if !unused.is_empty() {
        out.push(
            Finding::new(
                Severity::Info,
                "auth-string-unused",
                format!("{} device(s) wait for their authentication string to be typed on the phone", unused.len()),
            )
            .detail("By Authentication String operations start only when someone enters the string on the phone")
            .remedy(
                "On each phone: Settings > Security Configuration > **# > LSC > Update, then the string (`opencapf \
                     device show NAME --reveal-auth-string`); or switch to By Null String",
            )
            .devices(unused),
        );
    }
    let mut will_fail: Vec<String> = Vec::new();
    for d in &pending {
        if d.capf.auth_mode != AuthMode::ExistingCertificateLsc {
            continue;
        }
        if let Some((_, l)) = lscs.iter().find(|(x, _)| x.name == d.name) {
            if l.info.not_after < now || view.issuer_in(TrustStore::Capf, &l.info).is_none() {
                will_fail.push(name(d));
            }
        }
    }
    if !will_fail.is_empty() {
        out.push(
            Finding::new(
                Severity::Error,
                "pending-will-fail-invalid-lsc",
                format!(
                    "{} pending operation(s) By Existing Certificate (Precedence to LSC) will fail with 'Invalid LSC'",
                    will_fail.len()
                ),
            )
            .detail("The LSC they would authenticate with is expired or its issuer is not in CAPF-trust")
            .remedy(remedies::INVALID_LSC)
            .devices(will_fail),
        );
    }

    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    DoctorReport {
        checked_at: crate::pcap::rfc3339_public(now),
        expiry_days: opts.expiry_days,
        devices: devices.len(),
        summary: Summary::of(&out),
        findings: out,
    }
}

/// The CAs a MIC depends on: its issuer and the issuer's issuer, from the stores, else from the
/// known Cisco chains.
fn mic_chain(view: &ClusterView, mic: &CertificateInfo) -> Vec<(String, Option<OffsetDateTime>)> {
    let mut out = Vec::new();
    let issuer_cn = mic.issuer_cn.clone().unwrap_or_else(|| mic.issuer.clone());
    let in_store = TrustStore::ALL.into_iter().find_map(|s| view.issuer_in(s, mic));
    match in_store {
        Some(ca) => {
            out.push((issuer_cn.clone(), Some(ca.info.not_after)));
            if !ca.info.self_issued {
                let root = TrustStore::ALL.into_iter().find_map(|s| view.issuer_in(s, &ca.info));
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
