//! What kind of certificate a phone holds: LSC of this cluster, LSC of another cluster, MIC, other.
//!
//! This is the reading a TAC engineer does on a capture (seed rule 8): an issuer `CN=CAPF-xxxxxxxx`
//! means an LSC; an issuer such as "Cisco Manufacturing CA SHA2" means a MIC. It is the one
//! classifier: CAPF, CallManager, `cert inspect` and `diagnose` all call [`classify`].

use std::fmt;

use serde::Serialize;

use opencapf_model::CertKind;

use crate::profiles::{LAB_MFG_CA_CN, LAB_MFG_SHA1_CA_CN};
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
    LAB_MFG_SHA1_CA_CN,
];

/// Roots above the MIC issuers: with the issuers, the "manufacturing anchors" of CUCM's default CA list.
pub const MANUFACTURING_ROOTS: &[&str] =
    &["Cisco Root CA 2048", "Cisco Root CA M2", "Cisco Root CA M1", "Cisco Root CA 2099", "Cisco ECC Root CA"];

/// What a certificate is, as a phone's. The JSON tokens (`lsc-this-cluster`, `lsc-other-cluster`,
/// `lsc`, `mic`, `other`) are those of `cert inspect --json` and `diagnose pcap --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateKind {
    /// Issued by a current or retired CAPF certificate of this cluster.
    LscThisCluster,
    /// Issuer `CN=CAPF-xxxxxxxx` that is not one of ours: a phone moved from another cluster.
    LscOtherCluster,
    /// Issuer `CN=CAPF-xxxxxxxx`, with no cluster known to tell whose.
    Lsc,
    /// Issued by a manufacturing CA.
    Mic,
    Other,
}

impl CertificateKind {
    pub fn is_lsc(self) -> bool {
        matches!(self, CertificateKind::LscThisCluster | CertificateKind::LscOtherCluster | CertificateKind::Lsc)
    }

    /// The two-way split: `None` for a certificate that is neither an LSC nor a MIC.
    pub fn cert_kind(self) -> Option<CertKind> {
        match self {
            k if k.is_lsc() => Some(CertKind::Lsc),
            CertificateKind::Mic => Some(CertKind::Mic),
            _ => None,
        }
    }

    /// How a server treats the certificate a phone presents: anything that is not an LSC is the
    /// phone's manufacturer's certificate, and is judged (and refused) as a MIC.
    pub fn presented_as(self) -> CertKind {
        self.cert_kind().unwrap_or(CertKind::Mic)
    }
}

impl fmt::Display for CertificateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateKind::LscThisCluster => "LSC (this cluster)",
            CertificateKind::LscOtherCluster => "LSC (another cluster)",
            CertificateKind::Lsc => "LSC",
            CertificateKind::Mic => "MIC",
            CertificateKind::Other => "other",
        })
    }
}

/// Whether `cert` was issued by `ca`: same name, and same key identifier when both carry one.
pub fn issued_by(cert: &CertificateInfo, ca: &CertificateInfo) -> bool {
    issuer_is(&cert.issuer_der, cert.authority_key_id.as_deref(), ca)
}

/// [`issued_by`] for a certificate known only by its issuer's DER name and its hex authority key
/// identifier, as the store keeps a device's LSC.
pub fn issuer_is(issuer_der: &[u8], authority_key_id: Option<&str>, ca: &CertificateInfo) -> bool {
    issuer_der == ca.subject_der
        && match (authority_key_id, &ca.subject_key_id) {
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
/// and retired; `None` when no cluster is known, and an LSC is then only [`CertificateKind::Lsc`].
/// [`crate::TrustSnapshot::classify`] passes its own.
pub fn classify(cert: &CertificateInfo, cluster_capfs: Option<&[CertificateInfo]>) -> CertificateKind {
    if cert.is_ca {
        return CertificateKind::Other;
    }
    if cluster_capfs.is_some_and(|capfs| capfs.iter().any(|capf| issued_by(cert, capf))) {
        return CertificateKind::LscThisCluster;
    }
    let issuer_cn = cert.issuer_cn.as_deref().unwrap_or("");
    if is_capf_name(issuer_cn) {
        return if cluster_capfs.is_some() { CertificateKind::LscOtherCluster } else { CertificateKind::Lsc };
    }
    if MIC_ISSUERS.contains(&issuer_cn) {
        return CertificateKind::Mic;
    }
    CertificateKind::Other
}

/// `CAPF-` followed by 8 hex digits, CUCM's CAPF common name: the one rule for "an LSC issuer".
///
/// CUCM names every CAPF certificate so (the digits come from the cluster), and a phone holds no
/// other `CAPF-` issuer; taking any `CAPF-…` would call a lab or third-party CA named `CAPF-lab`
/// an LSC issuer, and its certificates LSCs that no CUCM could have issued.
pub fn is_capf_name(cn: &str) -> bool {
    cn.strip_prefix("CAPF-").is_some_and(|h| h.len() == 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
}
