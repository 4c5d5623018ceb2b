//! What kind of certificate a phone holds: LSC of this cluster, LSC of another cluster, MIC, other.
//!
//! This is the reading a TAC engineer does on a capture (seed rule 8): an issuer `CN=CAPF-…` means
//! an LSC; an issuer such as "Cisco Manufacturing CA SHA2" means a MIC.

use std::fmt;

use serde::Serialize;

use crate::profiles::LAB_MFG_CA_CN;
use crate::CertificateInfo;

/// Issuers of MICs: Cisco's manufacturing CAs and the lab manufacturer.
pub const MIC_ISSUERS: &[&str] = &[
    "Cisco Manufacturing CA SHA2",
    "Cisco Manufacturing CA",
    "Cisco Manufacturing CA III",
    "CAP-RTP-001",
    "CAP-RTP-002",
    "ACT2 SUDI CA",
    "ACT2 ECC SUDI CA",
    "High Assurance SUDI CA",
    LAB_MFG_CA_CN,
];

/// Roots above the MIC issuers: with the issuers, the "manufacturing anchors" of CUCM's default CA list.
pub const MANUFACTURING_ROOTS: &[&str] =
    &["Cisco Root CA 2048", "Cisco Root CA M2", "Cisco Root CA M1", "Cisco Root CA 2099", "Cisco ECC Root CA"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateKind {
    /// Issued by a current or retired CAPF certificate of this cluster.
    LscThisCluster,
    /// Issuer `CN=CAPF-xxxxxxxx` that is not one of ours: a phone moved from another cluster.
    LscOtherCluster,
    /// Issued by a manufacturing CA.
    Mic,
    Other,
}

impl fmt::Display for CertificateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateKind::LscThisCluster => "LSC (this cluster)",
            CertificateKind::LscOtherCluster => "LSC (another cluster)",
            CertificateKind::Mic => "MIC",
            CertificateKind::Other => "other",
        })
    }
}

/// Whether `cert` was issued by `ca`: same name, and same key identifier when both carry one.
pub fn issued_by(cert: &CertificateInfo, ca: &CertificateInfo) -> bool {
    cert.issuer_der == ca.subject_der
        && match (&cert.authority_key_id, &ca.subject_key_id) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => true,
        }
}

/// Whether a CA certificate is a manufacturing anchor (a MIC issuer or one of their roots).
pub fn is_manufacturing_ca(ca: &CertificateInfo) -> bool {
    ca.is_ca
        && ca.subject_cn.as_deref().is_some_and(|cn| MIC_ISSUERS.contains(&cn) || MANUFACTURING_ROOTS.contains(&cn))
}

/// Classifies a device certificate. `cluster_capfs` are this cluster's CAPF certificates, current
/// and retired.
pub fn classify(cert: &CertificateInfo, cluster_capfs: &[CertificateInfo]) -> CertificateKind {
    if cert.is_ca {
        return CertificateKind::Other;
    }
    if cluster_capfs.iter().any(|capf| issued_by(cert, capf)) {
        return CertificateKind::LscThisCluster;
    }
    let issuer_cn = cert.issuer_cn.as_deref().unwrap_or("");
    if is_capf_name(issuer_cn) {
        return CertificateKind::LscOtherCluster;
    }
    if MIC_ISSUERS.contains(&issuer_cn) {
        return CertificateKind::Mic;
    }
    CertificateKind::Other
}

/// `CAPF-` followed by 8 hex digits, CUCM's CAPF common name.
pub fn is_capf_name(cn: &str) -> bool {
    cn.strip_prefix("CAPF-").is_some_and(|h| h.len() == 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
}
