//! What the diagnostics need to know about a cluster: its CAPF certificates (active and retired)
//! and its two trust stores, loaded once so that a capture of many connections needs no database.

use opencapf_cluster::Cluster;
use opencapf_model::Service;
use opencapf_pki::classify::{is_capf_name, issued_by, MIC_ISSUERS};
use opencapf_pki::{verify, Anchor, CertificateInfo, TrustStore, Verification};
use serde::Serialize;
use time::OffsetDateTime;

/// One certificate of a trust store, parsed.
#[derive(Debug, Clone)]
pub struct StoreEntry {
    pub info: CertificateInfo,
    pub anchor: Anchor,
}

/// A CAPF certificate of the cluster.
#[derive(Debug, Clone)]
pub struct CapfCertificate {
    pub info: CertificateInfo,
    pub active: bool,
}

/// The cluster as the diagnostics see it.
#[derive(Debug, Clone, Default)]
pub struct ClusterView {
    pub capfs: Vec<CapfCertificate>,
    pub callmanager_trust: Vec<StoreEntry>,
    pub capf_trust: Vec<StoreEntry>,
}

impl ClusterView {
    /// Reads the CAPF certificates and both trust stores of `store`.
    pub async fn load(store: &Cluster) -> Result<ClusterView, crate::DiagnoseError> {
        let mut capfs = Vec::new();
        for c in store.certificates(Service::Capf).await? {
            capfs.push(CapfCertificate { info: CertificateInfo::parse(&c.der)?, active: c.is_active() });
        }
        let mut view = ClusterView { capfs, ..Default::default() };
        for kind in TrustStore::ALL {
            let mut entries = Vec::new();
            for a in store.anchors(kind).await? {
                if let Ok(info) = CertificateInfo::parse(&a.der) {
                    entries.push(StoreEntry { info, anchor: a });
                }
            }
            *view.store_mut(kind) = entries;
        }
        Ok(view)
    }

    pub fn store(&self, kind: TrustStore) -> &[StoreEntry] {
        match kind {
            TrustStore::CallManager => &self.callmanager_trust,
            TrustStore::Capf => &self.capf_trust,
        }
    }

    fn store_mut(&mut self, kind: TrustStore) -> &mut Vec<StoreEntry> {
        match kind {
            TrustStore::CallManager => &mut self.callmanager_trust,
            TrustStore::Capf => &mut self.capf_trust,
        }
    }

    pub fn capf_infos(&self) -> Vec<CertificateInfo> {
        self.capfs.iter().map(|c| c.info.clone()).collect()
    }

    pub fn active_capf(&self) -> Option<&CapfCertificate> {
        self.capfs.iter().find(|c| c.active)
    }

    /// The CAPF certificate of this cluster (active or retired) that issued `cert`.
    pub fn capf_issuer_of(&self, cert: &CertificateInfo) -> Option<&CapfCertificate> {
        self.capfs.iter().find(|c| issued_by(cert, &c.info))
    }

    /// The entry of `kind` that issued `cert` (by name and key identifier), if any.
    pub fn issuer_in(&self, kind: TrustStore, cert: &CertificateInfo) -> Option<&StoreEntry> {
        self.store(kind).iter().find(|e| issued_by(cert, &e.info))
    }

    /// Whether `cert` itself is in the store `kind`.
    pub fn contains(&self, kind: TrustStore, cert: &CertificateInfo) -> bool {
        self.store(kind).iter().any(|e| e.info.fingerprint == cert.fingerprint)
    }

    /// Verifies a client chain (device certificate first) against both stores at `at`.
    pub fn check(&self, chain: &[Vec<u8>], at: OffsetDateTime) -> Vec<StoreVerdict> {
        let leaf = chain.first().and_then(|d| CertificateInfo::parse(d).ok());
        let kind = leaf.as_ref().map(|l| CertKind::of(l, Some(self))).unwrap_or(CertKind::Other);
        TrustStore::ALL
            .into_iter()
            .map(|store| {
                let anchors: Vec<Anchor> = self.store(store).iter().map(|e| e.anchor.clone()).collect();
                let verification = match verify(chain, &anchors, at) {
                    Ok(v) => v,
                    Err(e) => Verification::Invalid { detail: e.to_string() },
                };
                let message = match (&verification, &leaf) {
                    (Verification::UnknownCa { .. }, Some(l)) => {
                        format!("issuer {} is not in {store}", l.issuer_cn.clone().unwrap_or_else(|| l.issuer.clone()))
                    }
                    (v, _) => v.to_string(),
                };
                let consequence = if verification.is_trusted() { String::new() } else { consequence(store, kind) };
                StoreVerdict { store, trusted: verification.is_trusted(), verification, message, consequence }
            })
            .collect()
    }
}

/// What happens when a device certificate is not trusted by a store.
pub fn consequence(store: TrustStore, kind: CertKind) -> String {
    match store {
        TrustStore::CallManager => {
            "CallManager refuses this phone's TLS connection (SIP 5061 / SCCP 2443) with a fatal unknown CA alert: \
             it will not register securely"
                .into()
        }
        TrustStore::Capf => match kind {
            CertKind::Mic => "By Existing Certificate (Precedence to MIC) operations fail with 'Invalid MIC'".into(),
            _ => "By Existing Certificate (Precedence to LSC) operations fail with 'Invalid LSC'".into(),
        },
    }
}

/// The verdict of one trust store on a device certificate.
#[derive(Debug, Clone, Serialize)]
pub struct StoreVerdict {
    pub store: TrustStore,
    pub trusted: bool,
    pub verification: Verification,
    /// E.g. "issuer CAPF-1a2b3c4d is not in CallManager-trust".
    pub message: String,
    /// What fails because of it; empty when trusted.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub consequence: String,
}

/// What a device certificate is, as the seed reads it on a capture (rule 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertKind {
    /// Issuer `CN=CAPF-…`, with no cluster to tell whose.
    Lsc,
    /// Issued by a CAPF certificate (active or retired) of this cluster.
    LscThisCluster,
    /// Issuer `CN=CAPF-…` that is none of this cluster's CAPF certificates.
    LscOtherCluster,
    /// Issued by a manufacturing CA ("Cisco Manufacturing CA SHA2", …).
    Mic,
    Other,
}

impl CertKind {
    /// Classifies a device certificate; `cluster` tells this cluster's LSCs from others'.
    pub fn of(cert: &CertificateInfo, cluster: Option<&ClusterView>) -> CertKind {
        if cert.is_ca {
            return CertKind::Other;
        }
        if let Some(c) = cluster {
            if c.capf_issuer_of(cert).is_some() {
                return CertKind::LscThisCluster;
            }
        }
        let issuer_cn = cert.issuer_cn.as_deref().unwrap_or("");
        if is_capf_name(issuer_cn) || (issuer_cn.starts_with("CAPF-") && issuer_cn.len() > 5) {
            return if cluster.is_some() { CertKind::LscOtherCluster } else { CertKind::Lsc };
        }
        if MIC_ISSUERS.contains(&issuer_cn) {
            return CertKind::Mic;
        }
        CertKind::Other
    }

    pub fn is_lsc(self) -> bool {
        matches!(self, CertKind::Lsc | CertKind::LscThisCluster | CertKind::LscOtherCluster)
    }
}

impl std::fmt::Display for CertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CertKind::Lsc => "LSC",
            CertKind::LscThisCluster => "LSC of this cluster",
            CertKind::LscOtherCluster => "LSC of another cluster",
            CertKind::Mic => "MIC",
            CertKind::Other => "other",
        })
    }
}
