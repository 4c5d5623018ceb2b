//! CUCM's enums with the names its administration pages show, the status values written before
//! any CAPF session, and the wording of "Certificate Operation Status".

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::ModelError;

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
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, ModelError> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.token().eq_ignore_ascii_case(s) || v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let tokens: Vec<&str> = $name::ALL.iter().map(|v| v.token()).collect();
                        ModelError::Invalid(format!(
                            "'{}' is not a valid {}: use one of {}",
                            s,
                            stringify!($name),
                            tokens.join(", ")
                        ))
                    })
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::schema::names(&[$($display),+])
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::ToSchema for $name {}

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
    /// The services whose certificates the cluster holds. ITLRecovery is the SAST that signs the
    /// ITL (long-lived, never regenerated with the others); TVS answers phones about certificates
    /// not in their ITL; tomcat is the admin web service's HTTPS certificate (CUCM's name for it).
    Service {
        Capf => "CAPF", "capf";
        CallManager => "CallManager", "callmanager";
        LabManufacturer => "LabManufacturer", "lab-manufacturer";
        ItlRecovery => "ITLRecovery", "itlrecovery";
        Tvs => "TVS", "tvs";
        Tomcat => "tomcat", "tomcat";
    }
);

/// CUCM's "Certificate Operation Status" values used before any CAPF session.
pub mod status {
    pub const NONE: &str = "None";
    pub const PENDING: &str = "Operation Pending";
}

/// Why an operation failed: the reasons of CUCM's "Certificate Operation Status"
/// (`<Op> Failed: <reason>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    InvalidAuthenticationString,
    InvalidLsc,
    InvalidMic,
    /// No usable credentials at all (By Existing Certificate and no certificate).
    InvalidCredentials,
    PhoneCommunication,
    KeyGeneration,
    /// "Operation Completes By" has passed.
    Late,
    /// "EC Only" for a phone that does not speak CAPF version 3.
    NoEcSupport,
    /// The phone answered that it did not do it, or CAPF could not: plain "`<Op> Failed`", with
    /// the cause in the history detail.
    Unspecified,
}

impl Failure {
    /// The reason part of the status, as CUCM words it.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Failure::InvalidAuthenticationString => Some("Invalid Authentication String"),
            Failure::InvalidLsc => Some("Invalid LSC"),
            Failure::InvalidMic => Some("Invalid MIC"),
            Failure::InvalidCredentials => Some("Invalid Credentials"),
            Failure::PhoneCommunication => Some("Phone Communication Failure"),
            Failure::KeyGeneration => Some("Key Generation Failed/Timeout"),
            Failure::Late => Some("User Initiated Request Late/Timedout"),
            Failure::NoEcSupport => Some("No Support for EC only in CAPF version 3"),
            Failure::Unspecified => None,
        }
    }
}

/// The word CUCM puts before "Success" / "Failed" for an operation.
pub fn operation_word(op: CertificateOperation) -> &'static str {
    match op {
        CertificateOperation::InstallUpgrade => "Upgrade",
        CertificateOperation::Delete => "Delete",
        CertificateOperation::Troubleshoot => "Troubleshoot",
        CertificateOperation::NoPendingOperation => "Operation",
    }
}

/// "Upgrade Success", "Delete Success", "Troubleshoot Success".
pub fn success_status(op: CertificateOperation) -> String {
    format!("{} Success", operation_word(op))
}

/// "Upgrade Failed: Invalid LSC", or "Delete Failed" for [`Failure::Unspecified`].
pub fn failure_status(op: CertificateOperation, failure: Failure) -> String {
    match failure.reason() {
        Some(reason) => format!("{} Failed: {reason}", operation_word(op)),
        None => format!("{} Failed", operation_word(op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_are_cucm_s() {
        use CertificateOperation::*;
        assert_eq!(success_status(InstallUpgrade), "Upgrade Success");
        assert_eq!(success_status(Troubleshoot), "Troubleshoot Success");
        assert_eq!(failure_status(InstallUpgrade, Failure::InvalidLsc), "Upgrade Failed: Invalid LSC");
        assert_eq!(failure_status(Delete, Failure::InvalidMic), "Delete Failed: Invalid MIC");
        assert_eq!(
            failure_status(Troubleshoot, Failure::Late),
            "Troubleshoot Failed: User Initiated Request Late/Timedout"
        );
        assert_eq!(
            failure_status(InstallUpgrade, Failure::NoEcSupport),
            "Upgrade Failed: No Support for EC only in CAPF version 3"
        );
        assert_eq!(failure_status(Delete, Failure::Unspecified), "Delete Failed");
        assert_eq!(
            failure_status(InstallUpgrade, Failure::KeyGeneration),
            "Upgrade Failed: Key Generation Failed/Timeout"
        );
    }
}
