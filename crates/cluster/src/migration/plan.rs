//! The guided plan of a migration: the steps of the chosen remedy, in order, each with the exact
//! commands (here and on the old cluster) and the CUCM action, whether it is done, and whether it
//! is safe now: whether doing it leaves every phone able to register on the cluster it is on.

use serde::Serialize;

use super::progress::{DeviceProgress, DeviceState};
use super::Remedy;

/// Where a step is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// On the cluster the phones leave.
    OldCluster,
    /// On this cluster, the destination.
    ThisCluster,
    /// On the phones (their TFTP server, a reset).
    Phones,
}

impl Side {
    pub fn words(self) -> &'static str {
        match self {
            Side::OldCluster => "old cluster",
            Side::ThisCluster => "this cluster",
            Side::Phones => "phones",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStepState {
    Done,
    InProgress,
    ToDo,
}

impl PlanStepState {
    pub fn words(self) -> &'static str {
        match self {
            PlanStepState::Done => "done",
            PlanStepState::InProgress => "in progress",
            PlanStepState::ToDo => "to do",
        }
    }
}

/// One step of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    pub number: usize,
    /// Its name, as `migrate confirm` takes it for old-cluster steps.
    pub id: &'static str,
    pub side: Side,
    pub title: String,
    /// The commands, in order; each says where it runs when that is not this cluster.
    pub commands: Vec<String>,
    /// The same on a CUCM cluster.
    pub cucm: Option<String>,
    pub state: PlanStepState,
    /// Doing it now leaves every phone able to register on the cluster it is on.
    pub safe: bool,
    /// Why it is safe, or what must come first.
    pub why: String,
}

/// What the steps' states and safety are judged from.
pub(super) struct Facts<'a> {
    pub remedy: Remedy,
    pub started: bool,
    pub finished: bool,
    pub devices: &'a [DeviceProgress],
    /// The old cluster's CAPF certificates (common names) and how many are in CAPF-trust here.
    pub old_capfs: Vec<String>,
    pub old_capfs_trusted: usize,
    /// `migrate confirm itl`, or a device already registered here with this cluster's LSC.
    pub itl_confirmed: bool,
    /// Devices whose MIC this cluster's CallManager-trust and CAPF-trust do not both trust (known
    /// MICs), or `None` when no MIC is known and the stores hold none of the old cluster's
    /// manufacturing CAs.
    pub mic_untrusted_here: Option<Vec<String>>,
    /// Devices whose MIC the old cluster's CallManager-trust does not trust (from the bundle).
    pub mic_untrusted_old: Option<Vec<String>>,
    /// Names of the old cluster's manufacturing CAs (the bundle's CallManager-trust).
    pub old_manufacturers: Vec<String>,
}

/// At most this many names in a sentence.
const SHOWN: usize = 10;

pub(super) fn names(list: &[&str]) -> String {
    let shown: Vec<&str> = list.iter().take(SHOWN).copied().collect();
    let more = if list.len() > SHOWN { format!(" and {} more", list.len() - SHOWN) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

impl Facts<'_> {
    fn with(&self, f: impl Fn(&DeviceProgress) -> bool) -> Vec<&str> {
        self.devices.iter().filter(|d| f(d)).map(|d| d.name.as_str()).collect()
    }

    fn not_migrated(&self) -> Vec<&str> {
        self.with(|d| d.state != DeviceState::Migrated)
    }

    fn total(&self) -> usize {
        self.devices.len()
    }

    pub(super) fn steps(&self) -> Vec<PlanStep> {
        let mut steps = vec![self.export(), self.start()];
        match self.remedy {
            Remedy::TrustOldCapf => {
                steps.push(self.itl());
                steps.push(self.trust_old_capf());
                steps.push(self.schedule());
                steps.push(self.move_phones());
                steps.push(self.untrust_old_capf());
            }
            Remedy::DeleteAndEnrol => {
                steps.push(self.trust_manufacturers());
                steps.push(self.itl());
                steps.push(self.delete_old_lscs());
                steps.push(self.schedule());
                steps.push(self.move_phones());
            }
        }
        steps.push(self.finish());
        for (i, s) in steps.iter_mut().enumerate() {
            s.number = i + 1;
        }
        steps
    }

    fn step(&self, id: &'static str, side: Side, title: &str, commands: &[&str], cucm: Option<&str>) -> PlanStep {
        PlanStep {
            number: 0,
            id,
            side,
            title: title.to_owned(),
            commands: commands.iter().map(|c| c.to_string()).collect(),
            cucm: cucm.map(str::to_owned),
            state: PlanStepState::ToDo,
            safe: true,
            why: String::new(),
        }
    }

    fn export(&self) -> PlanStep {
        let mut s = self.step(
            "export",
            Side::OldCluster,
            "Export the old cluster's certificates and devices",
            &["on the old cluster: opencapf cluster export-bundle --out bundle.json"],
            Some(
                "OS Administration > Security > Certificate Management: download the CAPF, CallManager and \
                 ITLRecovery certificates; Bulk Administration > Phones > Export Phones",
            ),
        );
        s.state = PlanStepState::Done;
        s.why = "read only: nothing changes on either cluster".into();
        s
    }

    fn start(&self) -> PlanStep {
        let cmd = format!("opencapf migrate start --from bundle.json --remedy {}", self.remedy.token());
        let mut s = self.step("start", Side::ThisCluster, "Start the migration here", &[&cmd], None);
        let missing = self.with(|d| !d.exists_here).len();
        s.state = if self.started { PlanStepState::Done } else { PlanStepState::ToDo };
        s.why = format!(
            "adds the {missing} device(s) not yet here (name, model, protocol, security profile, lines, key order) and \
             records the LSC and MIC each holds; the phones stay on the old cluster, nothing changes for them"
        );
        s
    }

    fn itl(&self) -> PlanStep {
        let mut s = self.step(
            "itl",
            Side::OldCluster,
            "Let the phones accept this cluster's files (ITL)",
            &[
                "here: opencapf cert own itlrecovery --out new-itlrecovery.pem",
                "here: opencapf cert own callmanager --out new-callmanager.pem",
                "on the old cluster: opencapf trust add Phone-SAST-trust new-itlrecovery.pem",
                "on the old cluster: opencapf trust add CallManager-trust new-callmanager.pem",
                "here: opencapf migrate confirm itl",
            ],
            Some(
                "OS Administration > Security > Bulk Certificate Management: Export on both clusters, Consolidate, \
                 Import on the old cluster, so that its TVS vouches for this cluster's certificates",
            ),
        );
        s.state = if self.itl_confirmed { PlanStepState::Done } else { PlanStepState::ToDo };
        s.why = "the old cluster's TVS vouches for more certificates; its phones' files do not change. Without it \
                 the phones keep the old ITL and refuse this cluster's signed files (Reason:14)"
            .into();
        s
    }

    fn trust_old_capf(&self) -> PlanStep {
        let cmd_eq = format!(
            "(the same as: opencapf trust add CAPF-trust FILE, with {})",
            if self.old_capfs.is_empty() { "the old CAPF certificate".to_owned() } else { self.old_capfs.join(", ") }
        );
        let mut s = self.step(
            "trust-old-capf",
            Side::ThisCluster,
            "Trust the old cluster's CAPF in CAPF-trust, for the time of the migration",
            &["opencapf migrate trust-old-capf", &cmd_eq],
            Some("OS Administration > Security > Certificate Management > Upload Certificate: CAPF-trust"),
        );
        let all_trusted = !self.old_capfs.is_empty() && self.old_capfs_trusted == self.old_capfs.len();
        s.state = if all_trusted || (self.started && self.not_migrated().is_empty()) {
            PlanStepState::Done
        } else {
            PlanStepState::ToDo
        };
        s.why = "CAPF-trust only gains a CA: By Existing Certificate (Precedence to LSC) then accepts the phones' old \
                 LSCs; CallManager-trust does not change"
            .into();
        s
    }

    fn trust_manufacturers(&self) -> PlanStep {
        let mut s = self.step(
            "trust-manufacturers",
            Side::ThisCluster,
            "Trust the phones' manufacturing CAs in CallManager-trust and CAPF-trust",
            &["opencapf migrate trust-manufacturers"],
            Some(
                "OS Administration > Security > Certificate Management > Upload Certificate: the Cisco \
                 Manufacturing CAs into CallManager-trust and CAPF-trust",
            ),
        );
        let shown = if self.old_manufacturers.is_empty() {
            "the old cluster's bundle names none".to_owned()
        } else {
            self.old_manufacturers.join(", ")
        };
        s.state = match &self.mic_untrusted_here {
            Some(list) if list.is_empty() => PlanStepState::Done,
            _ => PlanStepState::ToDo,
        };
        s.why = format!(
            "the stores only gain CAs ({shown}): phones then register here with their MIC and enrol By Existing \
             Certificate (Precedence to MIC)"
        );
        s
    }

    fn delete_old_lscs(&self) -> PlanStep {
        let mut s = self.step(
            "delete-old-lscs",
            Side::OldCluster,
            "Delete the old cluster's LSCs (the phones then present their MIC)",
            &[
                "on the old cluster: opencapf device set NAME... --operation delete --auth null",
                "on the old cluster: opencapf device reset --restart NAME... (the phones run the Delete)",
                "on the old cluster: opencapf cluster export-bundle --out bundle-2.json",
                "here: opencapf migrate refresh --from bundle-2.json",
            ],
            Some(
                "Bulk Administration > Phones > Update Phones: Certificate Operation Delete; Apply Config; then export \
                 the bundle again",
            ),
        );
        let left = self.with(|d| d.old_cluster_lsc.is_some() && d.lsc_here.is_none());
        s.state = if left.is_empty() {
            PlanStepState::Done
        } else if left.len() < self.total() {
            PlanStepState::InProgress
        } else {
            PlanStepState::ToDo
        };
        match &self.mic_untrusted_old {
            Some(untrusted) if !untrusted.is_empty() => {
                s.safe = false;
                s.why = format!(
                    "{} device(s) have a MIC the old cluster's CallManager-trust does not trust ({}): without their \
                     LSC they could not register there (unknown CA). Add their manufacturing CA to the old \
                     cluster's CallManager-trust first",
                    untrusted.len(),
                    names(&untrusted.iter().map(String::as_str).collect::<Vec<_>>())
                );
            }
            Some(_) => {
                s.why = "the old cluster's CallManager-trust trusts every device's MIC: without their LSC they \
                         register there with it"
                    .into()
            }
            None if self.old_manufacturers.is_empty() => {
                s.safe = false;
                s.why = "the old cluster's CallManager-trust holds no manufacturing CA: without their LSC the phones \
                         could not register there with their MIC (unknown CA)"
                    .into();
            }
            None => {
                s.why = format!(
                    "no MIC is known, but the old cluster's CallManager-trust holds {}: without their LSC the \
                     phones register there with their MIC",
                    self.old_manufacturers.join(", ")
                )
            }
        }
        if !left.is_empty() {
            s.why.push_str(&format!("; {} device(s) still hold the old LSC", left.len()));
        }
        s
    }

    fn schedule(&self) -> PlanStep {
        let (auth, eq) = match self.remedy {
            Remedy::TrustOldCapf => ("lsc", "By Existing Certificate (Precedence to LSC)"),
            Remedy::DeleteAndEnrol => ("mic", "By Existing Certificate (Precedence to MIC)"),
        };
        let cmd = format!("(the same as: opencapf device set NAME... --operation install --auth {auth})");
        let mut s = self.step(
            "schedule",
            Side::ThisCluster,
            &format!("Schedule Install/Upgrade {eq} for the devices"),
            &["opencapf migrate schedule", &cmd],
            Some("Bulk Administration > Phones > Update Phones: Certificate Operation Install/Upgrade"),
        );
        let waiting = self.with(|d| d.lsc_here.is_none());
        let unscheduled = self.with(|d| d.lsc_here.is_none() && !scheduled(d));
        s.state = if !self.started || (unscheduled.len() == waiting.len() && !waiting.is_empty()) {
            PlanStepState::ToDo
        } else if unscheduled.is_empty() {
            PlanStepState::Done
        } else {
            PlanStepState::InProgress
        };
        s.why = "the operation waits for each phone to come to this cluster; nothing changes for the phones until then"
            .into();
        s
    }

    fn move_phones(&self) -> PlanStep {
        let mut s = self.step(
            "move",
            Side::Phones,
            "Point the phones at this cluster and reset them",
            &[
                "the phones' DHCP scope: option 150 (TFTP server) = this cluster",
                "on the old cluster: opencapf device reset --restart NAME...",
                "here: opencapf migrate status (each phone: ITL, CAPF, then registered with its new LSC)",
            ],
            Some("change DHCP option 150, then Device > Phone > Reset on the old cluster"),
        );
        let done = self.with(|d| d.state == DeviceState::Migrated).len();
        s.state = if done == self.total() && self.total() > 0 {
            PlanStepState::Done
        } else if done > 0 {
            PlanStepState::InProgress
        } else {
            PlanStepState::ToDo
        };
        let mut blockers = Vec::new();
        if !self.started {
            blockers.push("the migration is not started here (`opencapf migrate start`)".to_owned());
        }
        let missing = self.with(|d| !d.exists_here);
        if self.started && !missing.is_empty() {
            blockers.push(format!("{} device(s) do not exist here ({})", missing.len(), names(&missing)));
        }
        if !self.itl_confirmed {
            blockers.push(
                "the old cluster's TVS does not vouch for this cluster yet (step itl): the phones would refuse this \
                 cluster's files"
                    .into(),
            );
        }
        match self.remedy {
            Remedy::TrustOldCapf => {
                if self.old_capfs_trusted < self.old_capfs.len() {
                    blockers.push(
                        "the old CAPF is not in CAPF-trust (step trust-old-capf): the re-key by the old LSC would \
                         fail with 'Invalid LSC' and the phones could not register here (unknown CA)"
                            .into(),
                    );
                }
                let unscheduled = self.with(|d| d.exists_here && d.lsc_here.is_none() && !scheduled(d));
                if !unscheduled.is_empty() {
                    blockers.push(format!(
                        "{} device(s) have no Install/Upgrade scheduled (step schedule): they would present the \
                         old LSC to CallManager and fail with unknown CA ({})",
                        unscheduled.len(),
                        names(&unscheduled)
                    ));
                }
            }
            Remedy::DeleteAndEnrol => {
                match &self.mic_untrusted_here {
                    Some(list) if list.is_empty() => {}
                    Some(list) => blockers.push(format!(
                        "{} device(s) have a MIC this cluster's CallManager-trust or CAPF-trust does not trust \
                         (step trust-manufacturers): {}",
                        list.len(),
                        names(&list.iter().map(String::as_str).collect::<Vec<_>>())
                    )),
                    None => blockers.push(
                        "this cluster trusts none of the old cluster's manufacturing CAs (step \
                         trust-manufacturers): the phones' MICs would fail with unknown CA"
                            .into(),
                    ),
                }
                let left = self.with(|d| d.lsc_here.is_none() && (d.old_cluster_lsc.is_some() || d.holds_old_lsc));
                if !left.is_empty() {
                    blockers.push(format!(
                        "{} device(s) still hold the old cluster's LSC (step delete-old-lscs): they would present \
                         it here and fail with unknown CA ({})",
                        left.len(),
                        names(&left)
                    ));
                }
            }
        }
        if blockers.is_empty() {
            s.why = format!(
                "every phone that comes takes this cluster's ITL, gets its LSC here and registers with it; {done} of \
                 {} migrated",
                self.total()
            );
        } else {
            s.safe = false;
            s.why = format!("not yet: {}", blockers.join("; "));
        }
        s
    }

    fn untrust_old_capf(&self) -> PlanStep {
        let cmd_eq = format!(
            "(the same as: opencapf trust remove CAPF-trust {})",
            self.old_capfs.first().map(String::as_str).unwrap_or("CAPF-…")
        );
        let mut s = self.step(
            "untrust-old-capf",
            Side::ThisCluster,
            "Remove the old cluster's CAPF from CAPF-trust",
            &["opencapf migrate untrust-old-capf", &cmd_eq],
            Some("OS Administration > Security > Certificate Management: delete the old CAPF from CAPF-trust"),
        );
        let stranded = self.with(|d| d.holds_old_lsc || (d.lsc_here.is_none() && d.old_cluster_lsc.is_some()));
        s.state = if self.started && self.old_capfs_trusted == 0 && stranded.is_empty() {
            PlanStepState::Done
        } else {
            PlanStepState::ToDo
        };
        if stranded.is_empty() {
            s.why = "no device holds only an LSC of the old cluster any more".into();
        } else {
            s.safe = false;
            s.why = format!(
                "{} device(s) still hold only an LSC of the old cluster ({}): their re-key By Existing Certificate \
                 would fail with 'Invalid LSC'",
                stranded.len(),
                names(&stranded)
            );
        }
        s
    }

    fn finish(&self) -> PlanStep {
        let mut s = self.step("finish", Side::ThisCluster, "Finish the migration", &["opencapf migrate finish"], None);
        s.state = if self.finished { PlanStepState::Done } else { PlanStepState::ToDo };
        let left = self.not_migrated();
        let mut blockers = Vec::new();
        if !left.is_empty() {
            blockers.push(format!("{} device(s) are not migrated yet ({})", left.len(), names(&left)));
        }
        if self.remedy == Remedy::TrustOldCapf && self.old_capfs_trusted > 0 {
            blockers.push("the old CAPF is still in CAPF-trust (step untrust-old-capf)".into());
        }
        if blockers.is_empty() {
            s.why = "every device holds an LSC of this cluster and registered here with it".into();
        } else {
            s.safe = false;
            s.why = format!("not yet: {}", blockers.join("; "));
        }
        s
    }
}

/// An Install/Upgrade is pending for the device.
fn scheduled(d: &DeviceProgress) -> bool {
    d.operation == Some(opencapf_model::CertificateOperation::InstallUpgrade)
}
