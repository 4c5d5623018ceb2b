//! The records of the cluster, as callers see them, with CUCM's names for every value a user sees.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    AuthMode, CertKind, CertificateOperation, DeviceName, DirectoryNumber, KeyAlgorithm, KeyOrder, ModelError,
    Protocol, SecurityMode, Service, TrustStore,
};

/// The "CAPF Information" block of a device.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Clone, Serialize)]
pub struct CapfInfo {
    pub operation: CertificateOperation,
    pub auth_mode: AuthMode,
    /// The digits, only for the CAPF server and an explicit reveal; never serialised.
    #[serde(skip)]
    pub auth_string: Option<String>,
    pub auth_string_set: bool,
    pub key_order: KeyOrder,
    pub rsa_bits: u32,
    pub ec_bits: u32,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub completes_by: Option<OffsetDateTime>,
    pub status: String,
    pub status_at: Option<String>,
}

impl fmt::Debug for CapfInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapfInfo")
            .field("operation", &self.operation)
            .field("auth_mode", &self.auth_mode)
            .field("auth_string", &self.auth_string.as_ref().map(|_| "<redacted>"))
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The LSC a device holds, as recorded.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DeviceLsc {
    #[serde(skip)]
    pub der: Vec<u8>,
    pub serial: String,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    #[serde(skip)]
    pub issuer_dn: String,
    #[serde(skip)]
    pub authority_key_id: Option<String>,
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub name: DeviceName,
    pub model: String,
    pub protocol: Protocol,
    pub security_mode: SecurityMode,
    pub description: String,
    pub created_at: String,
    pub capf: CapfInfo,
    pub lsc: Option<DeviceLsc>,
    #[serde(skip)]
    pub mic_der: Option<Vec<u8>>,
    /// Its directory numbers, in button order (line 1 first).
    pub lines: Vec<DirectoryNumber>,
    /// The firmware load its configuration file names (`loadInformation`), if any.
    pub load_information: Option<String>,
}

/// A device to add.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub name: DeviceName,
    pub model: String,
    pub protocol: Protocol,
    pub security_mode: SecurityMode,
    pub description: String,
    /// Directory numbers, in button order.
    pub lines: Vec<DirectoryNumber>,
    /// The firmware load id (`sip88xx.14-2-1-0001-14`), checked by [`parse_load_information`].
    pub load_information: Option<String>,
}

/// The longest load id accepted: CUCM's "Phone Load Name" field holds 64 characters [U: the
/// documented limit of the administration page, not a phone limit].
pub const LOAD_INFORMATION_MAX: usize = 64;

/// A firmware load id as typed (`sip88xx.14-2-1-0001-14`): printable ASCII, no spaces, at most
/// [`LOAD_INFORMATION_MAX`] characters. A trailing `.loads` (the file the phone fetches) is
/// dropped, as the configuration file names the load without it.
pub fn parse_load_information(s: &str) -> Result<String, ModelError> {
    let t = s.trim();
    let id = match t.len().checked_sub(6) {
        Some(cut) if t.is_char_boundary(cut) && t[cut..].eq_ignore_ascii_case(".loads") => &t[..cut],
        _ => t,
    };
    if id.is_empty() || id.len() > LOAD_INFORMATION_MAX || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ModelError::Invalid(format!(
            "load '{}' must be 1 to {LOAD_INFORMATION_MAX} printable ASCII characters without spaces, e.g. \
             sip88xx.14-2-1-0001-14",
            crate::printable(s)
        )));
    }
    Ok(id.to_owned())
}

/// A configuration-file request from a device the cluster does not know (CUCM's
/// auto-registration list): one row per device name, updated on each request.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct UnknownRequest {
    pub device: DeviceName,
    pub first_at: String,
    pub last_at: String,
    pub count: i64,
    /// The address of the last request.
    pub last_source: String,
    /// The file it asked for last (`SEP<MAC>.cnf.xml`...), as printable text.
    pub last_file: String,
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TrustEntry {
    pub id: i64,
    pub store: TrustStore,
    pub fingerprint: String,
    pub subject: String,
    pub common_name: Option<String>,
    #[serde(skip)]
    pub subject_dn: String,
    #[serde(skip)]
    pub key_id: Option<String>,
    #[serde(skip)]
    pub der: Vec<u8>,
    pub not_after: String,
    pub legacy_sha1: bool,
    pub added_at: String,
    pub added_by: String,
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ServiceCertificate {
    pub id: i64,
    pub service: Service,
    pub state: String,
    pub common_name: String,
    pub subject: String,
    pub fingerprint: String,
    #[serde(skip)]
    pub der: Vec<u8>,
    pub key_file: String,
    pub key_algorithm: KeyAlgorithm,
    pub not_before: String,
    pub not_after: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

impl ServiceCertificate {
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub operation: String,
    pub auth_mode: String,
    pub status: String,
    pub detail: String,
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCertificateRecord {
    pub serial: String,
    pub device: String,
    pub issuer_fingerprint: String,
    pub subject: String,
    pub not_before: String,
    pub not_after: String,
    pub state: String,
    pub issued_at: String,
    pub state_at: String,
}

/// Cluster-wide settings (CUCM service and enterprise parameters).
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSettings {
    pub hostname: String,
    pub subject: SubjectFields,
    /// "CAPF Operation Expires in (days)".
    pub capf_operation_expires_days: u32,
    /// "Duration of Certificate Validity (days)" for LSCs.
    pub lsc_validity_days: u32,
    /// The key a new device's CAPF settings start with.
    pub key_defaults: KeyDefaults,
}

/// Key Order and sizes of a new device's CAPF settings: CUCM's defaults unless the administrator
/// chose others (`settings set device.key_order ec`), so that a fleet needs no `device set` each.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyDefaults {
    pub key_order: KeyOrder,
    pub rsa_bits: u32,
    pub ec_bits: u32,
}

impl Default for KeyDefaults {
    fn default() -> Self {
        KeyDefaults { key_order: KeyOrder::RsaOnly, rsa_bits: 2048, ec_bits: 256 }
    }
}

/// The O, OU, L, ST and C of the cluster (CUCM's `set web-security` values), copied into the CAPF
/// and CallManager subjects and from there into every LSC.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectFields {
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
    pub locality: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

impl SubjectFields {
    pub fn validate(&self) -> Result<(), ModelError> {
        if let Some(c) = &self.country {
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(ModelError::Invalid(format!("country '{c}' must be a two-letter ISO code, e.g. FR")));
            }
        }
        for v in [&self.organization, &self.organizational_unit, &self.locality, &self.state].into_iter().flatten() {
            if v.is_empty() || v.len() > 64 {
                return Err(ModelError::Invalid(format!("subject field '{v}' must be 1 to 64 characters")));
            }
        }
        Ok(())
    }
}

/// A change to the "CAPF Information" block.
#[derive(Debug, Clone)]
pub struct CapfUpdate {
    pub operation: CertificateOperation,
    pub auth_mode: AuthMode,
    pub auth_string: Option<String>,
    pub key_order: KeyOrder,
    pub rsa_bits: u32,
    pub ec_bits: u32,
    pub completes_by: Option<OffsetDateTime>,
}

/// The state of a device's LSC, as `device list --lsc` filters it.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LscState {
    None,
    Valid,
    Expired,
    /// Issued by a CAPF that is not (and never was) this cluster's.
    Foreign,
}

impl fmt::Display for LscState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LscState::None => "none",
            LscState::Valid => "valid",
            LscState::Expired => "expired",
            LscState::Foreign => "foreign",
        })
    }
}

impl std::str::FromStr for LscState {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(LscState::None),
            "valid" => Ok(LscState::Valid),
            "expired" => Ok(LscState::Expired),
            "foreign" => Ok(LscState::Foreign),
            _ => Err(ModelError::Invalid(format!("'{s}' is not an LSC state: use none, valid, expired or foreign"))),
        }
    }
}

/// A certificate a phone uploaded, as stored.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct UploadedCertificate {
    pub id: i64,
    pub device: String,
    pub kind: CertKind,
    #[serde(skip)]
    pub der: Vec<u8>,
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_after: String,
    pub uploaded_at: String,
}

/// Outcome of adding a certificate: added, or already there (adding is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustAdded {
    Added,
    AlreadyPresent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_ids_are_printable_without_spaces_and_lose_dot_loads() {
        assert_eq!(parse_load_information(" sip88xx.14-2-1-0001-14 ").unwrap(), "sip88xx.14-2-1-0001-14");
        assert_eq!(parse_load_information("sip88xx.14-2-1-0001-14.loads").unwrap(), "sip88xx.14-2-1-0001-14");
        assert_eq!(parse_load_information(&"a".repeat(64)).unwrap().len(), 64);
        for bad in ["", ".loads", "sip 88xx", "sipé", "a\u{1b}[2J", &"a".repeat(65)] {
            assert!(parse_load_information(bad).is_err(), "{bad:?}");
        }
    }
}
