//! What the diagnostics need to know about a cluster: pki's [`TrustSnapshot`] (CAPF certificates
//! active and retired, the two stores that judge phone certificates), loaded once by
//! `Cluster::trust_snapshot()` so that a capture of many connections needs no database; and the
//! verdicts of those stores on a chain.

pub(crate) use opencapf_pki::{CapfCertificate, TrustSnapshot};
use opencapf_pki::{CertificateInfo, CertificateKind, TrustStore, Verification};
use serde::Serialize;
use time::OffsetDateTime;

/// The cluster as the diagnostics see it: the one trust snapshot.
pub type ClusterView = TrustSnapshot;

/// Verifies a client chain (device certificate first) against the phone-certificate stores of
/// `view` at `at`.
pub(crate) fn check(view: &TrustSnapshot, chain: &[Vec<u8>], at: OffsetDateTime) -> Vec<StoreVerdict> {
    let leaf = chain.first().and_then(|d| CertificateInfo::parse(d).ok());
    let kind = leaf.as_ref().map(|l| view.classify(l)).unwrap_or(CertificateKind::Other);
    TrustStore::PHONE_CERTIFICATES
        .into_iter()
        .map(|store| {
            let (verification, reasons) = match view.verify_all(store, chain, at) {
                Ok(v) => (v.outcome, v.reasons),
                Err(e) => (Verification::Invalid { detail: e.to_string() }, Vec::new()),
            };
            let message = message(store, &verification, &reasons, leaf.as_ref());
            let consequence = if verification.is_trusted() { String::new() } else { consequence(store, kind) };
            StoreVerdict { store, trusted: verification.is_trusted(), verification, reasons, message, consequence }
        })
        .collect()
}

/// The verdict in words: every reason, most fundamental first ("issuer CAPF-1a2b3c4d is not in
/// CallManager-trust; expired: …").
fn message(
    store: TrustStore,
    primary: &Verification,
    reasons: &[Verification],
    leaf: Option<&CertificateInfo>,
) -> String {
    let shown = if reasons.is_empty() { std::slice::from_ref(primary) } else { reasons };
    let parts: Vec<String> = shown
        .iter()
        .map(|v| match (v, leaf) {
            (Verification::UnknownCa { .. }, Some(l)) => {
                let own = if l.self_issued { " (self-signed)" } else { "" };
                format!("issuer {} is not in {store}{own}", l.issuer_cn.clone().unwrap_or_else(|| l.issuer.clone()))
            }
            (v, _) => v.to_string(),
        })
        .collect();
    parts.join("; ")
}

/// What happens when a device certificate is not trusted by a store.
pub(crate) fn consequence(store: TrustStore, kind: CertificateKind) -> String {
    match store {
        TrustStore::CallManager => {
            "CallManager refuses this phone's TLS connection (SIP 5061 / SCCP 2443) with a fatal unknown CA alert: \
             it will not register securely"
                .into()
        }
        TrustStore::Capf => match kind {
            CertificateKind::Mic => {
                "By Existing Certificate (Precedence to MIC) operations fail with 'Invalid MIC'".into()
            }
            _ => "By Existing Certificate (Precedence to LSC) operations fail with 'Invalid LSC'".into(),
        },
        // Not one of the stores `check` asks: Phone-SAST-trust judges no phone certificate.
        TrustStore::PhoneSast | TrustStore::Est => String::new(),
    }
}

/// The verdict of one trust store on a device certificate.
#[derive(Debug, Clone, Serialize)]
pub struct StoreVerdict {
    pub store: TrustStore,
    pub trusted: bool,
    /// The primary outcome (where the verifier stopped).
    pub verification: Verification,
    /// Every reason it is not trusted, most fundamental first; empty when trusted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Verification>,
    /// E.g. "issuer CAPF-1a2b3c4d is not in CallManager-trust".
    pub message: String,
    /// What fails because of it; empty when trusted.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub consequence: String,
}

/// How a capture report names a certificate's kind ("LSC of this cluster"; `cert inspect` says
/// "LSC (this cluster)" for the same value).
pub(crate) fn kind_label(kind: CertificateKind) -> &'static str {
    match kind {
        CertificateKind::Lsc => "LSC",
        CertificateKind::LscThisCluster => "LSC of this cluster",
        CertificateKind::LscOtherCluster => "LSC of another cluster",
        CertificateKind::Mic => "MIC",
        CertificateKind::Other => "other",
    }
}
