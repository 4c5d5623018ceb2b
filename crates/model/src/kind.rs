//! The one "LSC or MIC".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// A phone's certificate: the LSC a CAPF issued it, or the MIC its manufacturer installed.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CertKind {
    #[serde(rename = "LSC")]
    Lsc,
    #[serde(rename = "MIC")]
    Mic,
}

impl CertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CertKind::Lsc => "LSC",
            CertKind::Mic => "MIC",
        }
    }
}

impl fmt::Display for CertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CertKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.to_ascii_lowercase().as_str() {
            "lsc" => Ok(CertKind::Lsc),
            "mic" => Ok(CertKind::Mic),
            _ => Err(ModelError::Invalid(format!("'{s}' is neither LSC nor MIC"))),
        }
    }
}
