//! Where each device of a migration stands, from this cluster's own records (the device, the LSC
//! it holds, its pending operation, its newest registration) and the old cluster's newest bundle.

use std::collections::HashMap;
use std::fmt;

use opencapf_model::{AuthMode, CertificateOperation, Device, Registration, RegistrationResult};
use opencapf_pki::CertificateInfo;
use serde::Serialize;

use super::bundle::BundleDevice;
use crate::lsc::issued_by_cluster;

/// A device's state in the migration, from the furthest it has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceState {
    /// Not a device of this cluster (yet): `migrate start` adds it.
    NotHere,
    /// A device here, but the phone still holds the old cluster's LSC and is on the old cluster.
    OnOldCluster,
    /// The old cluster deleted its LSC (its newest bundle says so): the phone presents its MIC.
    OldLscDeleted,
    /// Its operation is scheduled here, the phone has not come yet.
    Scheduled,
    /// Its last CAPF operation here failed.
    Failed,
    /// Registered here with its MIC, no LSC of this cluster yet.
    RegisteredWithMic,
    /// It holds an LSC of this cluster, not registered here with it yet.
    LscInstalled,
    /// It holds an LSC of this cluster and its newest registration here is a success with it.
    Migrated,
}

impl DeviceState {
    pub const ALL: [DeviceState; 8] = [
        DeviceState::NotHere,
        DeviceState::OnOldCluster,
        DeviceState::OldLscDeleted,
        DeviceState::Scheduled,
        DeviceState::Failed,
        DeviceState::RegisteredWithMic,
        DeviceState::LscInstalled,
        DeviceState::Migrated,
    ];

    pub fn token(self) -> &'static str {
        match self {
            DeviceState::NotHere => "not-here",
            DeviceState::OnOldCluster => "on-old-cluster",
            DeviceState::OldLscDeleted => "old-lsc-deleted",
            DeviceState::Scheduled => "scheduled",
            DeviceState::Failed => "failed",
            DeviceState::RegisteredWithMic => "registered-with-mic",
            DeviceState::LscInstalled => "lsc-installed",
            DeviceState::Migrated => "migrated",
        }
    }
}

impl fmt::Display for DeviceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// The newest registration of a device here, as the migration reads it.
#[derive(Debug, Clone, Serialize)]
pub struct SeenRegistration {
    pub at: String,
    pub result: RegistrationResult,
    pub cert_kind: Option<String>,
    pub issuer_cn: Option<String>,
    pub serial: Option<String>,
}

/// One device of the migration.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceProgress {
    pub name: String,
    pub state: DeviceState,
    /// The device exists on this cluster.
    pub exists_here: bool,
    /// The old cluster's newest bundle lists an LSC of the old cluster for it.
    pub old_cluster_lsc: Option<String>,
    /// This cluster records an LSC of the old cluster as the one it holds (and no LSC of its own):
    /// removing the old CAPF from CAPF-trust would make its By Existing Certificate fail.
    pub holds_old_lsc: bool,
    /// Serial of the LSC of this cluster it holds.
    pub lsc_here: Option<String>,
    pub operation: Option<CertificateOperation>,
    pub auth_mode: Option<AuthMode>,
    pub status: Option<String>,
    pub last_registration: Option<SeenRegistration>,
}

/// What the progress of one device is read from.
pub(super) struct Records<'a> {
    pub devices: HashMap<&'a str, &'a Device>,
    pub registrations: HashMap<&'a str, &'a Registration>,
    /// This cluster's CAPF certificates, current and retired.
    pub here_capfs: &'a [CertificateInfo],
    /// The old cluster's.
    pub old_capfs: &'a [CertificateInfo],
}

impl Records<'_> {
    pub(super) fn progress(&self, b: &BundleDevice) -> DeviceProgress {
        let name = b.name.as_str();
        let old_cluster_lsc = b.lsc.as_ref().filter(|l| l.issued_by_cluster).map(|l| l.serial.clone());
        let Some(d) = self.devices.get(name) else {
            return DeviceProgress {
                name: name.to_owned(),
                state: DeviceState::NotHere,
                exists_here: false,
                old_cluster_lsc,
                holds_old_lsc: false,
                lsc_here: None,
                operation: None,
                auth_mode: None,
                status: None,
                last_registration: None,
            };
        };
        let lsc_here = d.lsc.as_ref().filter(|l| issued_by_cluster(l, self.here_capfs)).map(|l| l.serial.clone());
        let holds_old_lsc = d.lsc.as_ref().is_some_and(|l| issued_by_cluster(l, self.old_capfs));
        let reg = self.registrations.get(name).map(|r| SeenRegistration {
            at: r.at.clone(),
            result: r.event.result,
            cert_kind: r.event.cert_kind.clone(),
            issuer_cn: r.event.issuer_cn.clone(),
            serial: r.event.serial.clone(),
        });
        let registered = reg.as_ref().filter(|r| r.result == RegistrationResult::Registered);
        let pending = d.capf.operation != CertificateOperation::NoPendingOperation;
        let state = if let Some(serial) = &lsc_here {
            // Registered with this LSC, or without a certificate (a Non Secure profile).
            let with_it = registered.is_some_and(|r| r.cert_kind.is_none() || r.serial.as_deref() == Some(serial));
            if with_it {
                DeviceState::Migrated
            } else {
                DeviceState::LscInstalled
            }
        } else if d.capf.status.contains("Failed") {
            DeviceState::Failed
        } else if registered.is_some_and(|r| r.cert_kind.as_deref() == Some("MIC")) {
            DeviceState::RegisteredWithMic
        } else if pending {
            DeviceState::Scheduled
        } else if old_cluster_lsc.is_none() && !holds_old_lsc {
            DeviceState::OldLscDeleted
        } else {
            DeviceState::OnOldCluster
        };
        DeviceProgress {
            name: name.to_owned(),
            state,
            exists_here: true,
            old_cluster_lsc,
            holds_old_lsc: holds_old_lsc && lsc_here.is_none(),
            lsc_here,
            operation: Some(d.capf.operation),
            auth_mode: Some(d.capf.auth_mode),
            status: Some(d.capf.status.clone()),
            last_registration: reg,
        }
    }
}
