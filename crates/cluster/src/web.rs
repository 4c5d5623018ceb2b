//! The admin web service's certificate, CUCM's `tomcat`: what the HTTPS server hands to rustls
//! ([`Cluster::web_identity`]), its regeneration, and its enterprise-CA flow (`cert csr tomcat`,
//! `cert import-signed tomcat`, shared with CAPF's in `enterprise`). Nothing here touches the
//! CAPF, CallManager, ITLRecovery or TVS certificates: phones never see tomcat in an ITL.

use opencapf_model::{now, KeyAlgorithm, Service, ServiceCertificate};
use opencapf_pki::profiles::{tomcat_certificate, tomcat_csr, TOMCAT_DEFAULT_DAYS};
use opencapf_pki::{dns_names, verify_server, CertificateInfo, PrivateKey};
use opencapf_store::{audit, keyfile, service, settings, Topic};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::capf::discard_key_on_error;
use crate::enterprise::{check_signed, replace_active};
use crate::{Cluster, Error, Result};

/// What the admin HTTPS server presents: the tomcat certificate chain and its key.
pub struct WebIdentity {
    /// DER certificates, leaf first, then its issuers (nearest first) when an enterprise CA signed it.
    pub chain: Vec<Vec<u8>>,
    /// The private key, PKCS#8 DER, wiped when dropped.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for WebIdentity {
    // The key never reaches a log, even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebIdentity").field("chain", &self.chain.len()).finish_non_exhaustive()
    }
}

/// What `cert import-signed tomcat` did.
#[derive(Debug, Serialize)]
pub struct ImportedWeb {
    pub tomcat: ServiceCertificate,
    /// Who signed it (the subject of the issuing CA).
    pub issuer: String,
    /// The certificate it replaced (self-signed or an earlier import), now retired.
    pub replaced_fingerprint: String,
    /// The issuer certificates served after it, nearest first.
    pub issuers: Vec<String>,
}

impl Cluster {
    /// The active tomcat certificate, its kept issuers, and its key.
    pub async fn web_identity(&self) -> Result<WebIdentity> {
        let mut db = self.store.read().await?;
        let active = service::require_active(&mut db, Service::Tomcat).await?;
        let issuers = service::issuers(&mut db, active.id).await?;
        drop(db);
        let key = self.private_key(&active.key_file).await?;
        let chain = std::iter::once(active.der).chain(issuers).collect();
        Ok(WebIdentity { chain, key_pkcs8: Zeroizing::new(key.pkcs8_der().to_vec()) })
    }

    /// A new RSA 2048 key and self-signed tomcat certificate for the cluster's hostname; the old
    /// one (self-signed or enterprise-signed) is retired. Audited as `cert.regenerate`.
    pub async fn regenerate_web(&self, actor: &str) -> Result<ServiceCertificate> {
        let mut db = self.store.read().await?;
        let old = service::require_active(&mut db, Service::Tomcat).await?;
        let cluster = settings::load(&mut db).await?;
        drop(db);
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
        let cert = tomcat_certificate(&key, &cluster.hostname, &cluster.subject, TOMCAT_DEFAULT_DAYS, now())?;
        let name = format!("{}-{}", Service::Tomcat.token(), &cert.info.fingerprint[..12]);
        let key_file = keyfile::write(self.store.data_dir(), &name, &key)?;
        let outcome = async {
            let mut db = self.store.write().await?;
            service::retire(&mut db, old.id).await?;
            service::insert_active(&mut db, Service::Tomcat, &cert, &key_file, KeyAlgorithm::Rsa2048).await?;
            self.keyring.seal_file(&mut db, self.data_dir(), &key_file).await?;
            let detail = format!("new {}; retired {}", cert.info.fingerprint, old.fingerprint);
            audit::record(&mut db, actor, "cert.regenerate", Service::Tomcat.as_str(), &detail).await?;
            db.commit().await?;
            self.changed(&[Topic::Identities]);
            Ok::<_, Error>(())
        }
        .await;
        discard_key_on_error(self.data_dir(), &key_file, outcome)?;
        service::require_active(&mut self.store.read().await?, Service::Tomcat).await
    }

    /// A PKCS#10 request (PEM) for the active tomcat key: its subject, SAN the cluster's hostname.
    pub async fn web_csr(&self) -> Result<String> {
        let (active, key) = self.active_with_key(Service::Tomcat).await?;
        let hostname = settings::load(&mut self.store.read().await?).await?.hostname;
        Ok(tomcat_csr(&key, &active.der, &hostname)?)
    }

    /// Makes `signed` the active tomcat certificate: it must carry the active tomcat key, name the
    /// cluster's hostname (SAN dNSName or CN), and chain to one of `issuers`, valid today. The key
    /// is kept; the issuers are kept with it and served after it. Audited as `cert.import_signed`.
    pub async fn import_signed_web(&self, signed: &[u8], issuers: &[Vec<u8>], actor: &str) -> Result<ImportedWeb> {
        let mut db = self.store.write().await?;
        let hostname = settings::load(&mut db).await?.hostname;
        let active = service::require_active(&mut db, Service::Tomcat).await?;
        let cert = check_signed(&active, signed, issuers, "opencapf cert csr tomcat", verify_server, |info| {
            names_host(signed, info, &hostname)
        })?;
        let ordered = nearest_first(&cert.info, issuers)?;
        replace_active(&mut db, &active, &cert).await?;
        let new = service::require_active(&mut db, Service::Tomcat).await?;
        service::set_issuers(&mut db, new.id, &ordered).await?;
        let detail = format!("signed by {}; replaced {}", cert.info.issuer, active.fingerprint);
        audit::record(&mut db, actor, "cert.import_signed", Service::Tomcat.as_str(), &detail).await?;
        db.commit().await?;
        self.changed(&[Topic::Identities]);
        let issuers = ordered.iter().map(|der| Ok(CertificateInfo::parse(der)?.subject)).collect::<Result<_>>()?;
        Ok(ImportedWeb { tomcat: new, issuer: cert.info.issuer, replaced_fingerprint: active.fingerprint, issuers })
    }
}

/// A browser checks the SAN dNSNames (CN only when there are none); either naming the cluster's
/// hostname is accepted, as CUCM accepts a CA-signed tomcat whose CN or SAN names the node.
fn names_host(der: &[u8], info: &CertificateInfo, hostname: &str) -> Result<()> {
    let sans = dns_names(der)?;
    let cn = info.subject_cn.as_deref();
    if sans.iter().any(|n| n.eq_ignore_ascii_case(hostname)) || cn.is_some_and(|cn| cn.eq_ignore_ascii_case(hostname)) {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "{} does not name the cluster's hostname {hostname} (CN or subjectAltName DNS): browsers would refuse it",
        info.subject
    )))
}

/// The issuers in chain order: the one that signed the leaf, then the one that signed it, and so
/// on (by subject name); any left over (a cross-signed root, say) follow in the order given.
fn nearest_first(leaf: &CertificateInfo, issuers: &[Vec<u8>]) -> Result<Vec<Vec<u8>>> {
    let mut rest: Vec<(CertificateInfo, &Vec<u8>)> =
        issuers.iter().map(|der| Ok((CertificateInfo::parse(der)?, der))).collect::<Result<_>>()?;
    let mut out = Vec::new();
    let mut wanted = leaf.issuer_der.clone();
    let mut last_self_issued = leaf.self_issued;
    while !last_self_issued {
        let Some(i) = rest.iter().position(|(info, _)| info.subject_der == wanted) else { break };
        let (info, der) = rest.remove(i);
        wanted = info.issuer_der.clone();
        last_self_issued = info.self_issued;
        out.push(der.clone());
    }
    out.extend(rest.into_iter().map(|(_, der)| der.clone()));
    Ok(out)
}
