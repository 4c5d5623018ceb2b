//! The roles ("functions") a certificate plays for a phone: the record tag 4 of an ITL/CTL and
//! the role bytes of a TVS answer use the same numbers (capf-protocol.md §3.3, §4.4).

use std::fmt;

use serde::{Serialize, Serializer};

/// What a phone trusts a certificate for. The ITL writes the code as a u16, TVS as a u8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// System Administrator Security Token: may sign trust lists (ITLRecovery).
    Sast,
    /// CallManager: SIP/SCCP over TLS.
    Ccm,
    /// CallManager that also signs configuration files (the TFTP node).
    CcmTftp,
    /// Signs configuration files.
    Tftp,
    Capf,
    /// XML services, Tomcat.
    AppServer,
    /// Trust Verification Service.
    Tvs,
}

impl Role {
    pub const ALL: [Role; 7] =
        [Role::Sast, Role::Ccm, Role::CcmTftp, Role::Tftp, Role::Capf, Role::AppServer, Role::Tvs];

    pub fn code(self) -> u16 {
        match self {
            Role::Sast => 0,
            Role::Ccm => 1,
            Role::CcmTftp => 2,
            Role::Tftp => 3,
            Role::Capf => 4,
            Role::AppServer => 7,
            Role::Tvs => 21,
        }
    }

    /// `None` for the codes whose meaning is unknown (5, 6, 8–20, above 21).
    pub fn from_code(code: u16) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The name `show itl` and tvsd print.
    pub fn name(self) -> &'static str {
        match self {
            Role::Sast => "SAST",
            Role::Ccm => "CCM",
            Role::CcmTftp => "CCM+TFTP",
            Role::Tftp => "TFTP",
            Role::Capf => "CAPF",
            Role::AppServer => "APP-SERVER",
            Role::Tvs => "TVS",
        }
    }

    /// May this role sign configuration files (`.sgn`)?
    pub fn signs_files(self) -> bool {
        matches!(self, Role::CcmTftp | Role::Tftp)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code(5), None);
        assert_eq!(Role::Tvs.code(), 21);
        assert_eq!(Role::CcmTftp.to_string(), "CCM+TFTP");
    }
}
