//! Names from the domain: device names and the two trust stores.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// A phone's device name: `SEP` followed by the 12 hex digits of its MAC address, kept uppercase
/// as CUCM shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceName(String);

impl DeviceName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DeviceName {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        let upper = s.trim().to_ascii_uppercase();
        let ok = upper.len() == 15 && upper.starts_with("SEP") && upper[3..].chars().all(|c| c.is_ascii_hexdigit());
        if ok {
            Ok(DeviceName(upper))
        } else {
            Err(ModelError::DeviceName(format!(
                "'{s}' is not a device name: expected SEP followed by the 12 hex digits of the MAC, e.g. SEP2C3124C9F8E1"
            )))
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

/// The two trust stores of the seed. CallManager-trust accepts phones in TLS; CAPF-trust backs
/// CAPF's "By Existing Certificate" authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrustStore {
    #[serde(rename = "CallManager-trust")]
    CallManager,
    #[serde(rename = "CAPF-trust")]
    Capf,
}

impl TrustStore {
    pub const ALL: [TrustStore; 2] = [TrustStore::CallManager, TrustStore::Capf];

    pub fn name(self) -> &'static str {
        match self {
            TrustStore::CallManager => "CallManager-trust",
            TrustStore::Capf => "CAPF-trust",
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
        for bad in ["SEP2C3124C9F8E", "SEP2C3124C9F8E1A", "CSF2C3124C9F8E1", "SEP2C3124C9F8G1", ""] {
            assert!(bad.parse::<DeviceName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn store_names_are_cucm_names() {
        assert_eq!("CallManager-trust".parse::<TrustStore>().unwrap(), TrustStore::CallManager);
        assert_eq!("capf-trust".parse::<TrustStore>().unwrap(), TrustStore::Capf);
        assert!("Phone-SAST-trust".parse::<TrustStore>().is_err());
        assert_eq!(TrustStore::Capf.to_string(), "CAPF-trust");
    }
}
