//! `cert inspect` and `POST /api/v1/cert/inspect`: what a certificate is, the device it names,
//! and whether each trust store accepts it (with every reason when not).

use opencapf_model::TrustStore;
use opencapf_pki::{classify, device_named_by, CertificateInfo, CertificateKind, DeviceName, Verdict};
use serde::Serialize;

use crate::{Cluster, Error, Result};

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub certificate: CertificateInfo,
    pub kind: CertificateKind,
    /// The device the CN names (`SEP…`, `CP-8861-SEP…`), by pki's one rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    pub intermediates: usize,
    pub verification: Vec<StoreVerdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One store's verdict.
#[derive(Debug, Serialize)]
pub struct StoreVerdict {
    pub store: TrustStore,
    #[serde(flatten)]
    pub result: Verdict,
}

impl Inspection {
    /// A chain (leaf first) read without a cluster: an LSC cannot be told ours or theirs, and no
    /// store is checked; `note` says why.
    pub fn unchecked(chain: &[Vec<u8>], note: String) -> Result<Inspection> {
        let info = leaf(chain)?;
        Ok(Inspection {
            kind: classify(&info, None),
            device: device_named_by(&info),
            certificate: info,
            intermediates: chain.len() - 1,
            verification: Vec::new(),
            note: Some(note),
        })
    }

    /// The certificate is of no use where it was checked.
    pub fn untrusted_everywhere(&self) -> bool {
        !self.verification.is_empty() && self.verification.iter().all(|v| !v.result.is_trusted())
    }
}

fn leaf(chain: &[Vec<u8>]) -> Result<CertificateInfo> {
    let first = chain.first().ok_or_else(|| Error::Invalid("no certificate given".into()))?;
    Ok(CertificateInfo::parse(first)?)
}

impl Cluster {
    /// Reads a chain (leaf first) and checks it against the phone-certificate stores (or `only`).
    pub async fn inspect_certificate(&self, chain: &[Vec<u8>], only: Option<TrustStore>) -> Result<Inspection> {
        let info = leaf(chain)?;
        let trust = self.trust_snapshot().await?;
        let mut verification = Vec::new();
        for store in TrustStore::PHONE_CERTIFICATES.into_iter().filter(|s| only.is_none_or(|o| o == *s)) {
            verification.push(StoreVerdict { store, result: trust.verify_all(store, chain, opencapf_model::now())? });
        }
        Ok(Inspection {
            kind: trust.classify(&info),
            device: device_named_by(&info),
            certificate: info,
            intermediates: chain.len() - 1,
            verification,
            note: None,
        })
    }
}
