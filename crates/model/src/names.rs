//! Names from the domain: device names and the trust stores.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// A device name as CUCM accepts it, kept uppercase as CUCM shows it: `SEP` + the 12 hex digits
/// of a phone's MAC address, `ATA` or `AN` + 12 hex digits (analog telephone adaptors), or a
/// Jabber prefix (`CSF`, `BOT`, `TCT`, `TAB`) + 1 to 12 letters or digits.
/// [U] The ATA/AN and Jabber forms follow CUCM's documented patterns, not every release's checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceName(String);

/// Prefixes followed by a MAC address (12 hex digits).
const MAC_PREFIXES: [&str; 3] = ["SEP", "ATA", "AN"];
/// Jabber prefixes, followed by 1 to 12 letters or digits [U].
const JABBER_PREFIXES: [&str; 4] = ["CSF", "BOT", "TCT", "TAB"];

impl DeviceName {
    /// The forms a device name takes, for messages.
    pub const RULE: &'static str = "SEP followed by the 12 hex digits of the MAC (e.g. SEP2C3124C9F8E1), ATA or AN \
                                    followed by 12 hex digits, or CSF, BOT, TCT or TAB followed by 1 to 12 letters \
                                    or digits";

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_valid(upper: &str) -> bool {
        let mac = MAC_PREFIXES.iter().any(|p| {
            upper.strip_prefix(p).is_some_and(|rest| rest.len() == 12 && rest.chars().all(|c| c.is_ascii_hexdigit()))
        });
        let jabber = JABBER_PREFIXES.iter().any(|p| {
            upper
                .strip_prefix(p)
                .is_some_and(|rest| (1..=12).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_alphanumeric()))
        });
        mac || jabber
    }
}

impl FromStr for DeviceName {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        let upper = s.trim().to_ascii_uppercase();
        if DeviceName::is_valid(&upper) {
            Ok(DeviceName(upper))
        } else {
            Err(ModelError::DeviceName(format!("'{s}' is not a device name: expected {}", DeviceName::RULE)))
        }
    }
}

impl TryFrom<String> for DeviceName {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        s.parse()
    }
}

impl From<DeviceName> for String {
    fn from(d: DeviceName) -> String {
        d.0
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The trust stores. CallManager-trust accepts phones in TLS; CAPF-trust backs CAPF's "By
/// Existing Certificate" authentication; Phone-SAST-trust holds other clusters' ITLRecovery (SAST)
/// certificates that this cluster's TVS vouches for, so that phones can move to that cluster.
/// EST-trust holds the CAs of devices that enrol over EST (RFC 7030) with a certificate of their
/// maker (an IDevID) when that maker is not in CAPF-trust.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrustStore {
    #[serde(rename = "CallManager-trust")]
    CallManager,
    #[serde(rename = "CAPF-trust")]
    Capf,
    #[serde(rename = "Phone-SAST-trust")]
    PhoneSast,
    #[serde(rename = "EST-trust")]
    Est,
}

impl TrustStore {
    /// Every store, as `trust list` shows them.
    pub const ALL: [TrustStore; 4] =
        [TrustStore::CallManager, TrustStore::Capf, TrustStore::PhoneSast, TrustStore::Est];
    /// The stores that judge phone certificates (LSCs and MICs): the CAPF certificate and the
    /// manufacturing CAs go into these.
    pub const PHONE_CERTIFICATES: [TrustStore; 2] = [TrustStore::CallManager, TrustStore::Capf];

    pub fn name(self) -> &'static str {
        match self {
            TrustStore::CallManager => "CallManager-trust",
            TrustStore::Capf => "CAPF-trust",
            TrustStore::PhoneSast => "Phone-SAST-trust",
            TrustStore::Est => "EST-trust",
        }
    }
}

impl fmt::Display for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TrustStore {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.to_ascii_lowercase().as_str() {
            "callmanager-trust" | "callmanager" => Ok(TrustStore::CallManager),
            "capf-trust" | "capf" => Ok(TrustStore::Capf),
            "phone-sast-trust" | "phone-sast" => Ok(TrustStore::PhoneSast),
            "est-trust" | "est" => Ok(TrustStore::Est),
            _ => Err(ModelError::UnknownStore(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_are_sep_and_twelve_hex_digits() {
        assert_eq!("sep2c3124c9f8e1".parse::<DeviceName>().unwrap().as_str(), "SEP2C3124C9F8E1");
        for good in ["CSFJSMITH", "botjsmith", "TCT1", "TABJSMITH12345", "ATA2C3124C9F8E1", "AN2C3124C9F8E1"] {
            assert!(good.parse::<DeviceName>().is_ok(), "{good}");
        }
        for bad in [
            "SEP2C3124C9F8E",
            "SEP2C3124C9F8E1A",
            "SEP2C3124C9F8G1",
            "",
            "CSF",
            "CSFJSMITH1234567",
            "CSFJ.SMITH",
            "ATA2C3124C9F8G1",
            "AN2C3124C9F8E",
            "XYZ2C3124C9F8E1",
        ] {
            assert!(bad.parse::<DeviceName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn store_names_are_cucm_names() {
        assert_eq!("CallManager-trust".parse::<TrustStore>().unwrap(), TrustStore::CallManager);
        assert_eq!("capf-trust".parse::<TrustStore>().unwrap(), TrustStore::Capf);
        assert_eq!("Phone-SAST-trust".parse::<TrustStore>().unwrap(), TrustStore::PhoneSast);
        assert_eq!("phone-sast".parse::<TrustStore>().unwrap(), TrustStore::PhoneSast);
        assert!("sast".parse::<TrustStore>().is_err());
        assert_eq!(TrustStore::PhoneSast.to_string(), "Phone-SAST-trust");
        assert_eq!(TrustStore::Capf.to_string(), "CAPF-trust");
        assert_eq!("est-trust".parse::<TrustStore>().unwrap(), TrustStore::Est);
        assert_eq!(TrustStore::Est.to_string(), "EST-trust");
    }
}
