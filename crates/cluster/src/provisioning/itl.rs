//! The ITL (capf-protocol.md §4, cucm-reference.md §2): signed by ITLRecovery (SAST), with the
//! CallManager certificate (CCM+TFTP: it also signs configuration files), every CAPF
//! certificate phones still need, and TVS.

use std::collections::HashSet;

use opencapf_model::{Role, Service, ServiceCertificate, TrustStore};
use opencapf_pki::{build_itl, FileHash, FileSigner, SignerVersion};
use opencapf_store::{devices, service, trust, Db};

use super::unix_seconds;
use crate::{Cluster, Error, Result};

/// The name every ITL carries in its header, whatever name it was asked for by (§4.1).
pub const ITL_FILE: &str = "ITLFile.tlv";

impl Cluster {
    /// The cluster's ITL, as served as `ITLFile.tlv` and `ITLSEP<MAC>.tlv`.
    pub async fn itl_file(&self) -> Result<Vec<u8>> {
        let mut db = self.store.read().await?;
        let records = itl_certificates(&mut db).await?;
        let version = if ec_in_use(&mut db).await? { SignerVersion::V1_1 } else { SignerVersion::V1_0 };
        drop(db);
        // The first record is the signer: ITLRecovery, as SAST.
        let recovery = &records[0].1;
        let key = self.key_of(recovery).await?;
        let signer = FileSigner { certificate: &recovery.der, key: &key };
        let list: Vec<(Role, &[u8])> = records.iter().map(|(role, c)| (*role, c.der.as_slice())).collect();
        // The newest certificate's creation: the time the list last changed, stable between
        // requests.
        let at = records.iter().map(|(_, c)| unix_seconds(&c.created_at)).max().unwrap_or(0);
        build_itl(&signer, &list, ITL_FILE, version, FileHash::Sha1, at).map_err(|e| Error::Invalid(e.to_string()))
    }
}

/// The ITL's records, in the order CUCM writes them: SAST, CCM+TFTP, CAPF (active, then
/// retired ones still trusted), TVS.
async fn itl_certificates(db: &mut Db) -> Result<Vec<(Role, ServiceCertificate)>> {
    let mut out = vec![
        (Role::Sast, service::require_active(db, Service::ItlRecovery).await?),
        (Role::CcmTftp, service::require_active(db, Service::CallManager).await?),
    ];
    // A retired CAPF certificate stays while either store still trusts it: phones holding its
    // LSCs still run CAPF sessions (re-key by existing LSC) and must accept the server.
    let trusted: HashSet<String> = trust::list(db, None)
        .await?
        .into_iter()
        .filter(|e| TrustStore::PHONE_CERTIFICATES.contains(&e.store))
        .map(|e| e.fingerprint)
        .collect();
    let mut capfs = service::all(db, Service::Capf).await?;
    capfs.sort_by_key(|c| !c.is_active());
    for c in capfs.into_iter().filter(|c| c.is_active() || trusted.contains(&c.fingerprint)) {
        out.push((Role::Capf, c));
    }
    out.push((Role::Tvs, service::require_active(db, Service::Tvs).await?));
    Ok(out)
}

/// Signer version 1.1 turns EC on in phones (phone-boot.md §1.4): needed when the CAPF key is EC
/// or a device's Key Order lets CAPF ask it for an EC key. (A phone still holding an EC LSC after
/// its Key Order went back to RSA Only is not looked for: its next re-key makes it RSA.)
async fn ec_in_use(db: &mut Db) -> Result<bool> {
    let capf = service::require_active(db, Service::Capf).await?;
    Ok(!capf.key_algorithm.is_rsa() || devices::any_ec_key_order(db).await?)
}
