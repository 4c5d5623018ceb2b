//! What a server or a diagnosis needs to know of the cluster's trust, read once: the CAPF
//! certificates (active and retired, what makes an LSC "ours") and the anchors of the two stores
//! that judge phone certificates ([`TrustStore::PHONE_CERTIFICATES`]), and EST-trust (the makers'
//! CAs of devices that enrol over EST, [`TrustSnapshot::with_est`]). Phone-SAST-trust judges no
//! phone certificate: it is not in the snapshot and reads as empty.
//! CAPF reads one per session, CallManager one per TLS connection, `diagnose` one per run.

use opencapf_model::TrustStore;
use time::OffsetDateTime;

use crate::classify::{classify, issued_by, CertificateKind};
use crate::{verify, verify_all, Anchor, CertificateInfo, PkiError, Verdict, Verification};

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

/// The cluster's trust at one moment.
#[derive(Debug, Clone, Default)]
pub struct TrustSnapshot {
    capfs: Vec<CapfCertificate>,
    /// The same, unflagged, as [`classify()`] takes them.
    capf_infos: Vec<CertificateInfo>,
    callmanager_trust: Vec<StoreEntry>,
    capf_trust: Vec<StoreEntry>,
    /// Every anchor as stored, readable or not: what `verify` is given.
    callmanager_anchors: Vec<Anchor>,
    capf_anchors: Vec<Anchor>,
    est_trust: Vec<StoreEntry>,
    est_anchors: Vec<Anchor>,
}

fn entries(anchors: &[Anchor]) -> Vec<StoreEntry> {
    anchors
        .iter()
        .filter_map(|a| CertificateInfo::parse(&a.der).ok().map(|info| StoreEntry { info, anchor: a.clone() }))
        .collect()
}

impl TrustSnapshot {
    /// Builds a snapshot; anchors that cannot be parsed are kept for verification only.
    pub fn new(capfs: Vec<CapfCertificate>, callmanager: Vec<Anchor>, capf: Vec<Anchor>) -> TrustSnapshot {
        TrustSnapshot {
            capf_infos: capfs.iter().map(|c| c.info.clone()).collect(),
            capfs,
            callmanager_trust: entries(&callmanager),
            capf_trust: entries(&capf),
            callmanager_anchors: callmanager,
            capf_anchors: capf,
            est_trust: Vec::new(),
            est_anchors: Vec::new(),
        }
    }

    /// The same snapshot with the anchors of EST-trust.
    pub fn with_est(mut self, est: Vec<Anchor>) -> TrustSnapshot {
        self.est_trust = entries(&est);
        self.est_anchors = est;
        self
    }

    /// The CAPF certificates, active first, then retired.
    pub fn capfs(&self) -> &[CapfCertificate] {
        &self.capfs
    }

    /// The parsed entries of a store.
    pub fn store(&self, kind: TrustStore) -> &[StoreEntry] {
        match kind {
            TrustStore::CallManager => &self.callmanager_trust,
            TrustStore::Capf => &self.capf_trust,
            TrustStore::Est => &self.est_trust,
            TrustStore::PhoneSast => &[],
        }
    }

    /// The anchors of a store, for [`verify()`].
    pub fn anchors(&self, kind: TrustStore) -> &[Anchor] {
        match kind {
            TrustStore::CallManager => &self.callmanager_anchors,
            TrustStore::Capf => &self.capf_anchors,
            TrustStore::Est => &self.est_anchors,
            TrustStore::PhoneSast => &[],
        }
    }

    pub fn capf_infos(&self) -> &[CertificateInfo] {
        &self.capf_infos
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

    /// [`classify()`] with this cluster's CAPF certificates.
    pub fn classify(&self, cert: &CertificateInfo) -> CertificateKind {
        classify(cert, Some(&self.capf_infos))
    }

    /// Verifies a chain (device certificate first) against the store `kind` at `at`.
    pub fn verify(&self, kind: TrustStore, chain: &[Vec<u8>], at: OffsetDateTime) -> Result<Verification, PkiError> {
        verify(chain, self.anchors(kind), at)
    }

    /// [`TrustSnapshot::verify`] with every reason it is not trusted ([`verify_all`]).
    pub fn verify_all(&self, kind: TrustStore, chain: &[Vec<u8>], at: OffsetDateTime) -> Result<Verdict, PkiError> {
        verify_all(chain, self.anchors(kind), at)
    }
}
