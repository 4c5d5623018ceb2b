//! What a trust export holds: the cluster's CAPF certificates a store still trusts (active, then
//! retired), the issuers of an enterprise-signed one found in that store, and the CRL of each
//! CAPF certificate. Also the short-lived LSC `consumer check` presents.

use opencapf_model::{now, KeyAlgorithm, Service, TrustStore};
use opencapf_pki::{CertificateInfo, IssuedCertificate, PrivateKey};
use opencapf_store::{audit, service, trust};
use serde::Serialize;

use crate::{Cluster, CrlSummary, Error, Result};

/// What a certificate of a bundle is to the phones.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundleRole {
    /// The CAPF certificate that issues new LSCs.
    ActiveCapf,
    /// A retired CAPF certificate the store still trusts: phones may still hold its LSCs.
    RetiredCapf,
    /// An issuer of an enterprise-signed CAPF certificate: the chain needs it.
    Issuer,
}

/// One certificate of a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct BundleCertificate {
    pub role: BundleRole,
    pub info: CertificateInfo,
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// What `trust export STORE --for …` writes, whatever the format.
#[derive(Debug, Clone, Serialize)]
pub struct TrustBundle {
    pub store: TrustStore,
    pub certificates: Vec<BundleCertificate>,
    /// The CRL of each CAPF certificate of the bundle whose key the cluster holds.
    pub crls: Vec<CrlSummary>,
}

impl TrustBundle {
    /// The CRLs of the bundle's CAPF certificates, in the certificates' order.
    pub fn crl_of(&self, capf_fingerprint: &str) -> Option<&CrlSummary> {
        self.crls.iter().find(|c| c.capf_fingerprint == capf_fingerprint)
    }
}

/// How long the LSC of `consumer check` lives: one attempt, with room for a slow server.
pub const CHECK_LSC_MINUTES: i64 = 10;

impl Cluster {
    /// The certificates a consumer needs to judge phones' LSCs as `store` does: the cluster's
    /// CAPF certificates in it (active first, then retired ones), then the issuers of those
    /// found in it, and a freshly signed CRL of each CAPF certificate.
    pub async fn trust_bundle(&self, store: TrustStore) -> Result<TrustBundle> {
        if !TrustStore::PHONE_CERTIFICATES.contains(&store) {
            return Err(Error::Invalid(format!(
                "{store} judges no phone certificate: export CAPF-trust (or CallManager-trust) for a consumer"
            )));
        }
        let mut db = self.store.read().await?;
        let entries = trust::list(&mut db, Some(store)).await?;
        let mut capfs = service::all(&mut db, Service::Capf).await?;
        drop(db);
        capfs.sort_by_key(|c| !c.is_active());
        let mut certificates = Vec::new();
        for c in capfs.iter().filter(|c| entries.iter().any(|e| e.fingerprint == c.fingerprint)) {
            let role = if c.is_active() { BundleRole::ActiveCapf } else { BundleRole::RetiredCapf };
            certificates.push(BundleCertificate { role, info: CertificateInfo::parse(&c.der)?, der: c.der.clone() });
        }
        if certificates.is_empty() {
            return Err(Error::Refused(format!(
                "{store} holds none of the cluster's CAPF certificates: a consumer given it would refuse every LSC"
            )));
        }
        // The chains of enterprise-signed CAPF certificates, from the same store.
        let mut i = 0;
        while i < certificates.len() {
            let up = &certificates[i].info;
            if !up.self_issued {
                let issuer_dn = hex::encode(&up.issuer_der);
                for e in entries.iter().filter(|e| e.subject_dn == issuer_dn) {
                    if !certificates.iter().any(|c| c.info.fingerprint == e.fingerprint) {
                        let info = CertificateInfo::parse(&e.der)?;
                        certificates.push(BundleCertificate { role: BundleRole::Issuer, info, der: e.der.clone() });
                    }
                }
            }
            i += 1;
        }
        let mut crls = self.capf_crls(true).await?;
        crls.retain(|crl| certificates.iter().any(|c| c.info.fingerprint == crl.capf_fingerprint));
        crls.sort_by_key(|crl| certificates.iter().position(|c| c.info.fingerprint == crl.capf_fingerprint));
        Ok(TrustBundle { store, certificates, crls })
    }

    /// A short-lived LSC from the active CAPF certificate for no device ([`CHECK_LSC_MINUTES`]),
    /// and its key, for `consumer check`: audited with its serial, as every certificate the CAPF
    /// key signs is. The key is the caller's to keep private and to drop.
    pub async fn check_lsc(&self, consumer: &str, actor: &str) -> Result<(IssuedCertificate, PrivateKey)> {
        let signer = self.signer(Service::Capf).await?;
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
        let cert = opencapf_pki::profiles::check_lsc(&signer, key.public_key_der(), now(), CHECK_LSC_MINUTES)?;
        let mut db = self.store.write().await?;
        audit::record(
            &mut db,
            actor,
            "consumer.check.lsc",
            consumer,
            &format!(
                "serial {} from {} until {}",
                cert.info.serial,
                cert.info.issuer_cn.as_deref().unwrap_or("?"),
                opencapf_model::ts(cert.info.not_after)
            ),
        )
        .await?;
        db.commit().await?;
        Ok((cert, key))
    }

    /// Records the outcome of a live check of a consumer (audited); a success confirms its last
    /// export, as `consumer confirm` does.
    pub async fn record_consumer_check(&self, consumer: &str, passed: bool, detail: &str, actor: &str) -> Result<()> {
        let exported =
            opencapf_store::consumers::latest_export(&mut self.store.read().await?, consumer, false).await?.is_some();
        if passed && exported {
            self.confirm_consumer(consumer, &format!("live check: {detail}"), actor).await?;
            return Ok(());
        }
        let action = if passed { "consumer.check.passed" } else { "consumer.check.failed" };
        let mut db = self.store.write().await?;
        audit::record(&mut db, actor, action, consumer, detail).await?;
        db.commit().await?;
        Ok(())
    }
}
