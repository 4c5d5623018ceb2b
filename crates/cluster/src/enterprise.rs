//! Service certificates signed by an enterprise CA, as CUCM allows: the request for the service's
//! key (`capf csr`, `cert csr tomcat`) and the import of what the CA signed (`capf import-signed`,
//! `cert import-signed tomcat`), the key kept. The checks and the swap are shared here; what only
//! CAPF needs (a CA certificate, both trust stores) stays in its use case.

use opencapf_model::{now, Service, ServiceCertificate, TrustStore};
use opencapf_pki::profiles::capf_csr;
use opencapf_pki::{verify, Anchor, CertificateInfo, IssuedCertificate, PkiError, PrivateKey, Verification};
use opencapf_store::{audit, service, trust, Db, Topic};
use serde::Serialize;

use crate::crl::refresh_crls;
use crate::{Cluster, Error, Result};

/// What `capf import-signed` did.
#[derive(Debug, Serialize)]
pub struct ImportedCapf {
    pub capf: ServiceCertificate,
    /// Who signed it (the subject of the issuing CA).
    pub issuer: String,
    /// The certificate it replaced (self-signed or an earlier import): retired, still in both stores.
    pub replaced_fingerprint: String,
    /// The issuer certificates, added to both trust stores.
    pub issuers: Vec<String>,
}

impl Cluster {
    /// The active certificate of `svc` and its private key (read from its 0600 key file).
    pub(crate) async fn active_with_key(&self, svc: Service) -> Result<(ServiceCertificate, PrivateKey)> {
        let active = service::require_active(&mut self.store.read().await?, svc).await?;
        let key = self.private_key(&active.key_file).await?;
        Ok((active, key))
    }

    /// A PKCS#10 request (PEM) for the active CAPF key, with the active certificate's subject.
    pub async fn capf_csr(&self) -> Result<String> {
        let (active, key) = self.active_with_key(Service::Capf).await?;
        Ok(capf_csr(&key, &active.der)?)
    }

    /// Makes `signed` the active CAPF certificate: it must carry the active CAPF key, be a CA, and
    /// be signed by one of `issuers` (which must be valid today). The key is kept; the certificate
    /// and its issuers enter both trust stores, so LSCs verify through either.
    pub async fn import_signed_capf(&self, signed: &[u8], issuers: &[Vec<u8>], actor: &str) -> Result<ImportedCapf> {
        let mut db = self.store.write().await?;
        let active = service::require_active(&mut db, Service::Capf).await?;
        let cert = check_signed(&active, signed, issuers, "opencapf capf csr", verify, |info| {
            if info.is_ca {
                return Ok(());
            }
            Err(Error::Invalid(format!(
                "{} is not a CA certificate (basicConstraints CA:TRUE): it could not sign LSCs",
                info.subject
            )))
        })?;
        // The certificate it replaces is retired like a regenerated one (its LSCs stay "ours" and
        // `capf reissue` moves them to the new chain).
        replace_active(&mut db, &active, &cert).await?;
        let mut names = Vec::new();
        for der in std::iter::once(signed).chain(issuers.iter().map(Vec::as_slice)) {
            for s in TrustStore::PHONE_CERTIFICATES {
                trust::add(&mut db, s, der, false, "capf import-signed").await?;
            }
            names.push(CertificateInfo::parse(der)?.subject);
        }
        let detail = format!("signed by {}; replaced {}", cert.info.issuer, active.fingerprint);
        audit::record(&mut db, actor, "capf.import_signed", &active.common_name, &detail).await?;
        refresh_crls(&mut db, self.data_dir()).await?;
        db.commit().await?;
        self.changed(&[Topic::Identities, Topic::Trust]);
        let capf = service::require_active(&mut self.store.read().await?, Service::Capf).await?;
        names.remove(0);
        Ok(ImportedCapf { capf, issuer: cert.info.issuer, replaced_fingerprint: active.fingerprint, issuers: names })
    }
}

/// How a service's certificate is verified: `verify` (CAPF, a CA) or `verify_server` (tomcat).
pub(crate) type Verifier = fn(&[Vec<u8>], &[Anchor], time::OffsetDateTime) -> Result<Verification, PkiError>;

/// The checks every imported service certificate passes: it carries the key of `active` (the CA
/// signed the request of `csr_command`), passes the service's own check `fits`, and chains to one
/// of `issuers`, valid today, by the service's `verifier`.
pub(crate) fn check_signed(
    active: &ServiceCertificate,
    signed: &[u8],
    issuers: &[Vec<u8>],
    csr_command: &str,
    verifier: Verifier,
    fits: impl FnOnce(&CertificateInfo) -> Result<()>,
) -> Result<IssuedCertificate> {
    let info = CertificateInfo::parse(signed)?;
    let active_info = CertificateInfo::parse(&active.der)?;
    if info.public_key_der != active_info.public_key_der {
        return Err(Error::Invalid(format!(
            "{} does not carry the {} key of {}: sign the request of `{csr_command}`",
            info.subject, active.service, active.common_name
        )));
    }
    fits(&info)?;
    if issuers.is_empty() {
        return Err(Error::Invalid(format!(
            "no issuer certificate for {}: add them to the file or give --chain FILE",
            info.issuer
        )));
    }
    let anchors: Vec<Anchor> = issuers.iter().map(|der| Anchor { der: der.clone(), legacy_sha1: false }).collect();
    let verdict = verifier(&[signed.to_vec()], &anchors, now())?;
    if !verdict.is_trusted() {
        return Err(Error::Invalid(format!(
            "the signed {} certificate does not chain to its issuers: {verdict}",
            active.service
        )));
    }
    Ok(IssuedCertificate { der: signed.to_vec(), info })
}

/// Retires `active` and makes `cert` its service's active certificate; both rows name the one key
/// file, which is kept.
pub(crate) async fn replace_active(db: &mut Db, active: &ServiceCertificate, cert: &IssuedCertificate) -> Result<()> {
    service::retire(db, active.id).await?;
    service::insert_active(db, active.service, cert, &active.key_file, active.key_algorithm).await
}
