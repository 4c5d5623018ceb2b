//! Crash safety of Install/Upgrade (issue 15): what becomes of an LSC that was recorded
//! (`issued`, credential spent) and sent, but whose session never recorded how it ended because
//! the CAPF service stopped.
//!
//! - [`Cluster::recover_interrupted`] (at start and periodically): every `issued` LSC whose
//!   session no longer holds its device's claim becomes `failed`, marked [`UNCONFIRMED_BY`]; the
//!   device's history and audit log say so once. The credential stays spent (issue 9): the
//!   administrator schedules the operation again. An LSC whose device is still claimed by a live
//!   session (on any node) is left alone.
//! - Claims carry the node and the process's boot ([`Node`]): a node that starts releases the
//!   claims of its own earlier boots, which no process can still hold, instead of waiting for
//!   them to expire. One `serve` runs per data folder (its control socket refuses a second), so
//!   the node is named by host and data folder.
//! - [`Cluster::confirm_late`]: a phone that later proves it holds such an LSC (it authenticates
//!   a CAPF session with it, or a TLS connection to CallManager) gets it recorded as installed,
//!   once, unless its device has a newer installed LSC.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use opencapf_model::{success_status, CertificateOperation, DeviceName};
use opencapf_pki::{fingerprint, CertificateInfo};
use opencapf_store::{audit, credentials, devices, issued, Db};
use serde::Serialize;
use time::OffsetDateTime;

use crate::crl::refresh_crls;
use crate::session::{millis, ACTOR, CREDENTIAL_SPENT};
use crate::{Cluster, Result};

/// The `state_by` of an LSC failed by recovery: what makes it confirmable later.
pub const UNCONFIRMED_BY: &str = "capf recovery";

/// Why such an LSC failed, as its history row, audit record and refusal say it.
pub const UNCONFIRMED: &str = "the CAPF service stopped before the phone confirmed storing it";

/// This process on this node: what its claims carry.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// `<host>:<data folder>`, stable across restarts.
    name: Arc<str>,
    /// Random, one per process.
    boot: &'static str,
}

impl Node {
    pub(crate) fn new(data_dir: &Path) -> Node {
        Node::named(&crate::system_hostname(), data_dir)
    }

    /// The node named `name` (unique among the live nodes of a cluster) in this data folder.
    pub(crate) fn named(name: &str, data_dir: &Path) -> Node {
        let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
        Node { name: format!("{name}:{}", dir.display()).into(), boot: boot_id() }
    }

    /// The suffix every claim of this process ends with.
    pub(crate) fn claim_suffix(&self) -> String {
        format!(" [node {} boot {}]", self.name, self.boot)
    }

    /// Whether `claim` was made by an earlier boot of this node.
    fn earlier_boot(&self, claim: &str) -> bool {
        let mine = format!(" [node {} boot ", self.name);
        claim.ends_with(']') && claim.contains(&mine) && !claim.ends_with(&self.claim_suffix())
    }
}

/// The node name a claim carries (` [node NAME:FOLDER boot ID]`; node names have no colon).
fn claim_node(claim: &str) -> Option<&str> {
    let at = claim.rfind(" [node ")? + " [node ".len();
    claim[at..].split(':').next()
}

fn boot_id() -> &'static str {
    static BOOT: OnceLock<String> = OnceLock::new();
    BOOT.get_or_init(|| {
        let mut b = [0u8; 8];
        aws_lc_rs::rand::fill(&mut b).expect("the system random generator works");
        hex::encode(b)
    })
}

/// One LSC recovery failed, also the `--json` shape.
#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    pub device: String,
    pub serial: String,
    /// The status written, or `None` when the device's status already tells a later story
    /// (an operation scheduled again, or a newer LSC).
    pub status: Option<String>,
}

/// An LSC recorded as installed because the phone proved it holds it.
#[derive(Debug, Clone, Serialize)]
pub struct LateConfirmation {
    pub device: String,
    pub serial: String,
}

impl Cluster {
    /// Releases the claims of this node's earlier boots, then fails every `issued` LSC whose
    /// device is not claimed by a live session (see the module doc). One transaction.
    pub async fn recover_interrupted(&self, now: OffsetDateTime) -> Result<Vec<Recovered>> {
        let mut db = self.store.write().await?;
        // Nodes that stopped or stopped answering (several nodes on one database): their
        // sessions are gone, so their claims are dead before they expire.
        let gone: std::collections::HashSet<String> = opencapf_store::nodes::list(&mut db)
            .await?
            .into_iter()
            .filter(|n| n.state(now) != opencapf_model::NodeState::Running)
            .map(|n| n.name)
            .collect();
        let mut live = std::collections::HashSet::new();
        for (device, claim, expires) in credentials::claims(&mut db).await? {
            let name = device.parse::<DeviceName>()?;
            if self.node.earlier_boot(&claim) || claim_node(&claim).is_some_and(|n| gone.contains(n)) {
                credentials::release(&mut db, &name, &claim).await?;
            } else if expires > millis(now) {
                live.insert(device);
            }
        }
        let mut recovered = Vec::new();
        for rec in issued::waiting(&mut db).await? {
            if live.contains(&rec.device) {
                continue;
            }
            if let Some(r) = fail_unconfirmed(&mut db, &rec).await? {
                recovered.push(r);
            }
        }
        if !recovered.is_empty() {
            refresh_crls(&mut db, self.data_dir()).await?;
        }
        db.commit().await?;
        Ok(recovered)
    }
}

async fn fail_unconfirmed(db: &mut Db, rec: &issued::IssuedRecord) -> Result<Option<Recovered>> {
    if !issued::fail_by(db, &rec.serial, UNCONFIRMED_BY).await? {
        return Ok(None);
    }
    let name = rec.device.parse::<DeviceName>()?;
    let device = devices::get(db, &name).await?;
    let info = CertificateInfo::parse(&rec.der)?;
    let op = CertificateOperation::InstallUpgrade;
    // "Upgrade Failed", the cause in the detail: CAPF could not finish ([U] CUCM's wording
    // after a CAPF restart is not documented; this is its generic failure).
    let status = opencapf_model::failure_status(op, opencapf_model::Failure::Unspecified);
    let detail = format!(
        "{UNCONFIRMED}; not installed LSC serial {} issuer {}; {CREDENTIAL_SPENT} (a phone that stored it gets \
         it recorded when it next authenticates or registers with it)",
        rec.serial, info.issuer
    );
    // The status tells the latest story only: not over an operation scheduled since, nor over
    // what a newer LSC's session recorded.
    let latest = issued::latest_serial(db, &name).await?.is_some_and(|s| s == rec.serial);
    let write_status = latest && device.capf.operation == CertificateOperation::NoPendingOperation;
    if write_status {
        devices::set_status(db, &name, &status, false).await?;
    }
    devices::add_history(db, &name, op.as_str(), device.capf.auth_mode.as_str(), &status, &detail).await?;
    audit::record(db, ACTOR, "capf.lsc.unconfirmed", name.as_str(), &format!("{status}; {detail}")).await?;
    Ok(Some(Recovered {
        device: rec.device.clone(),
        serial: rec.serial.clone(),
        status: write_status.then_some(status),
    }))
}

impl Cluster {
    /// A phone proved it holds `info` (the certificate it authenticated with). When that is an
    /// LSC of this cluster failed by recovery, and its device has no newer installed LSC, it is
    /// recorded as the device's installed LSC (the previous one superseded), once, audited.
    /// `None`: nothing to confirm (the caller's refusal stands).
    pub async fn confirm_late(&self, info: &CertificateInfo) -> Result<Option<LateConfirmation>> {
        let mut db = self.store.write().await?;
        let Some(rec) = issued::record(&mut db, &info.serial).await? else { return Ok(None) };
        if fingerprint(&rec.der) != info.fingerprint
            || rec.state != "failed"
            || rec.state_by.as_deref() != Some(UNCONFIRMED_BY)
        {
            return Ok(None);
        }
        let name = rec.device.parse::<DeviceName>()?;
        if issued::newer_installed(&mut db, &name, &rec.serial).await?.is_some() {
            return Ok(None);
        }
        issued::end_installed(&mut db, &name, "superseded").await?;
        if !issued::install_failed_by(&mut db, &rec.serial, UNCONFIRMED_BY).await? {
            return Ok(None);
        }
        devices::set_lsc(&mut db, &name, Some(&rec.der)).await?;
        let device = devices::get(&mut db, &name).await?;
        let op = CertificateOperation::InstallUpgrade;
        let status = success_status(op);
        if device.capf.operation == CertificateOperation::NoPendingOperation {
            devices::set_status(&mut db, &name, &status, false).await?;
        }
        let detail = format!(
            "the phone proved it holds LSC serial {} issuer {}, which was recorded as not installed ({UNCONFIRMED}): \
             now its installed LSC",
            rec.serial, info.issuer
        );
        devices::add_history(&mut db, &name, op.as_str(), device.capf.auth_mode.as_str(), &status, &detail).await?;
        audit::record(&mut db, ACTOR, "capf.lsc.confirmed", name.as_str(), &format!("{status}; {detail}")).await?;
        refresh_crls(&mut db, self.data_dir()).await?;
        db.commit().await?;
        Ok(Some(LateConfirmation { device: rec.device, serial: rec.serial }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_knows_the_claims_of_its_earlier_boots_only() {
        let node = Node { name: "host:/var/lib/opencapf".into(), boot: "00aa" };
        let claim = |node: &str, boot: &str| format!("session 1 from 10.0.0.1:5000 (ff) [node {node} boot {boot}]");
        assert!(node.earlier_boot(&claim("host:/var/lib/opencapf", "11bb")));
        assert_eq!(claim_node(&claim("node-a:/var/lib/opencapf", "11bb")), Some("node-a"));
        assert_eq!(claim_node("session 1 from 10.0.0.1:5000 (ff)"), None, "a claim from before node names");
        assert!(!node.earlier_boot(&claim("host:/var/lib/opencapf", "00aa")), "its own boot's claims are live");
        assert!(!node.earlier_boot(&claim("other:/var/lib/opencapf", "11bb")), "another node's are not its to judge");
        assert!(!node.earlier_boot(&claim("host:/var/lib/opencapf2", "11bb")));
        assert!(!node.earlier_boot("session 1 from 10.0.0.1:5000 (ff)"), "an older version's claim expires");
        assert!(node.claim_suffix().ends_with("boot 00aa]"));
    }
}
