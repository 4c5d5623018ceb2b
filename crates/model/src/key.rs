//! Key specs: the algorithms and sizes CUCM offers. Generating a key is `opencapf-pki`'s job.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// A key algorithm and size, as the CLI and the CAPF "Key Order" fields name them.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAlgorithm {
    Rsa1024,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    Ec256,
    Ec384,
    Ec521,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 7] =
        [Self::Rsa1024, Self::Rsa2048, Self::Rsa3072, Self::Rsa4096, Self::Ec256, Self::Ec384, Self::Ec521];

    /// Keys a CAPF certificate may use: CUCM needs an RSA CAPF key for older phones, EC for v3.
    pub const CAPF: [KeyAlgorithm; 5] = [Self::Rsa2048, Self::Rsa3072, Self::Rsa4096, Self::Ec256, Self::Ec384];

    pub fn rsa(bits: u32) -> Option<Self> {
        match bits {
            1024 => Some(Self::Rsa1024),
            2048 => Some(Self::Rsa2048),
            3072 => Some(Self::Rsa3072),
            4096 => Some(Self::Rsa4096),
            _ => None,
        }
    }

    pub fn ec(bits: u32) -> Option<Self> {
        match bits {
            256 => Some(Self::Ec256),
            384 => Some(Self::Ec384),
            521 => Some(Self::Ec521),
            _ => None,
        }
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa1024 | Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096)
    }

    pub fn bits(self) -> u32 {
        match self {
            Self::Rsa1024 => 1024,
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            Self::Rsa4096 => 4096,
            Self::Ec256 => 256,
            Self::Ec384 => 384,
            Self::Ec521 => 521,
        }
    }

    /// The token used on the command line: `rsa2048`, `ec256`.
    pub fn token(self) -> &'static str {
        match self {
            Self::Rsa1024 => "rsa1024",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
            Self::Rsa4096 => "rsa4096",
            Self::Ec256 => "ec256",
            Self::Ec384 => "ec384",
            Self::Ec521 => "ec521",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            k if k.is_rsa() => write!(f, "RSA {}", k.bits()),
            k => write!(f, "EC P-{}", k.bits()),
        }
    }
}

impl FromStr for KeyAlgorithm {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        let t = s.trim().to_ascii_lowercase().replace(['-', '_', ' '], "");
        Self::ALL
            .into_iter()
            .find(|k| k.token() == t || (t.starts_with("ecp") && k.token() == t.replacen("ecp", "ec", 1)))
            .ok_or_else(|| {
                ModelError::Invalid(format!(
                    "unknown key type '{s}': use one of rsa1024, rsa2048, rsa3072, rsa4096, ec256, ec384, ec521"
                ))
            })
    }
}
