//! A device as `device show` and `GET /api/v1/devices/{name}` give it: the record, its LSC state,
//! its MIC, history, issued LSCs, registrations and each line's registration.

use opencapf_model::{
    CertificateOperation, Device, DeviceName, DirectoryNumber, HistoryEntry, IssuedCertificateRecord, LscState,
    Registration,
};
use opencapf_pki::CertificateInfo;
use serde::Serialize;

use crate::{lsc_state, Cluster, Result, CREDENTIAL_SPENT};

/// How many history entries and registrations a device's details carry.
const RECENT_HISTORY: i64 = 20;
const RECENT_REGISTRATIONS: i64 = 10;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct DeviceDetails {
    #[serde(flatten)]
    pub device: Device,
    pub lsc_state: LscState,
    /// The last LSC was sent but not stored: a retry needs a new schedule.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub credential_spent: bool,
    /// The manufacturer's certificate the phone last presented, read (`null` before it did).
    pub mic: Option<CertificateInfo>,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
    pub issued_certificates: Vec<IssuedCertificateRecord>,
    /// Newest first.
    pub registrations: Vec<Registration>,
    /// Each line with its registration, in button order.
    pub line_registrations: Vec<LineRegistration>,
}

/// A line and its registration.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LineRegistration {
    /// 1 for line 1.
    pub button: usize,
    pub dn: DirectoryNumber,
    /// `registered`, `refused`, `unregistered`, or `none` (never seen).
    pub registration: String,
    /// When that happened.
    pub at: Option<String>,
}

impl Cluster {
    /// Everything known of one device.
    pub async fn device_details(&self, name: &DeviceName) -> Result<DeviceDetails> {
        let device = self.device(name).await?;
        let capfs = self.capf_infos().await?;
        let history = self.history(name, RECENT_HISTORY).await?;
        let credential_spent = device.capf.operation == CertificateOperation::NoPendingOperation
            && history.first().is_some_and(|h| h.detail.contains(CREDENTIAL_SPENT));
        let registrations = self.registrations(Some(name), RECENT_REGISTRATIONS).await?;
        let mic = device.mic_der.as_deref().map(CertificateInfo::parse).transpose()?;
        Ok(DeviceDetails {
            lsc_state: lsc_state(&device, &capfs, opencapf_model::now()),
            credential_spent,
            mic,
            history,
            issued_certificates: self.issued_for(name).await?,
            line_registrations: line_registrations(&device.lines, &registrations),
            registrations,
            device,
        })
    }
}

/// Each line's registration: the newest record that names the line (a Cisco SIP phone registers
/// each line, or all of them in one bulk REGISTER), or else the newest that names no line (an
/// SCCP registration, or a REGISTER in the device's own name, covers every line).
pub fn line_registrations(lines: &[DirectoryNumber], newest_first: &[Registration]) -> Vec<LineRegistration> {
    lines
        .iter()
        .enumerate()
        .map(|(i, dn)| {
            let latest = newest_first.iter().find(|r| r.lines.is_empty() || r.lines.contains(dn));
            LineRegistration {
                button: i + 1,
                dn: dn.clone(),
                registration: latest.map(|r| r.result.to_string()).unwrap_or_else(|| "none".into()),
                at: latest.map(|r| r.at.clone()),
            }
        })
        .collect()
}
