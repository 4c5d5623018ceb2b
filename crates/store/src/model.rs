//! The records of the cluster database, with CUCM's names for every value a user sees.

use std::fmt;
use std::str::FromStr;

use opencapf_pki::DeviceName;
use serde::Serialize;
use time::OffsetDateTime;

use crate::StoreError;

/// Declares an enum whose values have a CUCM display name and a short CLI token.
macro_rules! cucm_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $display:literal, $token:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The name CUCM shows.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $display),+ }
            }
            /// The short form the command line takes.
            pub fn token(self) -> &'static str {
                match self { $($name::$variant => $token),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.token().eq_ignore_ascii_case(s) || v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let tokens: Vec<&str> = $name::ALL.iter().map(|v| v.token()).collect();
                        StoreError::Invalid(format!(
                            "'{}' is not a valid {}: use one of {}",
                            s,
                            stringify!($name),
                            tokens.join(", ")
                        ))
                    })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use cucm_enum;

cucm_enum!(
    /// Call-control protocol of a phone.
    Protocol { Sip => "SIP", "sip"; Sccp => "SCCP", "sccp"; }
);

cucm_enum!(
    /// Device Security Mode of the Phone Security Profile.
    SecurityMode {
        NonSecure => "Non Secure", "non-secure";
        Authenticated => "Authenticated", "authenticated";
        Encrypted => "Encrypted", "encrypted";
    }
);

cucm_enum!(
    /// CAPF "Certificate Operation".
    CertificateOperation {
        InstallUpgrade => "Install/Upgrade", "install";
        Delete => "Delete", "delete";
        Troubleshoot => "Troubleshoot", "troubleshoot";
        NoPendingOperation => "No Pending Operation", "none";
    }
);

cucm_enum!(
    /// CAPF "Authentication Mode".
    AuthMode {
        AuthenticationString => "By Authentication String", "string";
        NullString => "By Null String", "null";
        ExistingCertificateLsc => "By Existing Certificate (Precedence to LSC)", "lsc";
        ExistingCertificateMic => "By Existing Certificate (Precedence to MIC)", "mic";
    }
);

cucm_enum!(
    /// CAPF "Key Order".
    KeyOrder {
        RsaOnly => "RSA Only", "rsa";
        EcOnly => "EC Only", "ec";
        EcPreferredRsaBackup => "EC Preferred, RSA Backup", "ec-rsa";
    }
);

cucm_enum!(
    /// The services whose certificates the cluster holds.
    Service {
        Capf => "CAPF", "capf";
        CallManager => "CallManager", "callmanager";
        LabManufacturer => "LabManufacturer", "lab-manufacturer";
    }
);

/// CUCM's "Certificate Operation Status" values used before any CAPF session.
pub mod status {
    pub const NONE: &str = "None";
    pub const PENDING: &str = "Operation Pending";
}

/// The "CAPF Information" block of a device.
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
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

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
}

/// A device to add.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub name: DeviceName,
    pub model: String,
    pub protocol: Protocol,
    pub security_mode: SecurityMode,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustEntry {
    pub id: i64,
    pub store: opencapf_pki::TrustStore,
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
    pub key_algorithm: String,
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

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub operation: String,
    pub auth_mode: String,
    pub status: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

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
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSettings {
    pub hostname: String,
    pub subject: opencapf_pki::SubjectFields,
    /// "CAPF Operation Expires in (days)".
    pub capf_operation_expires_days: u32,
    /// "Duration of Certificate Validity (days)" for LSCs.
    pub lsc_validity_days: u32,
}
