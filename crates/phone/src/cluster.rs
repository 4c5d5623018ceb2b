//! What a new phone takes from a cluster: its trust list (the active CAPF and CallManager
//! certificates, as the cluster's ITL would carry them) and a MIC from the lab manufacturer.

use opencapf_pki::profiles::CaSigner;
use opencapf_store::{cluster, service, Service, Store};

use crate::Result;

/// The active CAPF certificate and the CallManager certificate, as DER, in that order.
pub async fn trust_list(store: &Store) -> Result<Vec<Vec<u8>>> {
    let mut conn = store.pool().acquire().await.map_err(opencapf_store::StoreError::from)?;
    let capf = service::require_active(&mut conn, Service::Capf).await?;
    let callmanager = service::require_active(&mut conn, Service::CallManager).await?;
    Ok(vec![capf.der, callmanager.der])
}

/// The trust list as a PEM bundle (what `opencapf trust export-phone` writes).
pub fn trust_list_pem(certs: &[Vec<u8>]) -> String {
    certs.iter().map(|der| opencapf_pki::pem::encode("CERTIFICATE", der)).collect()
}

/// The cluster's lab manufacturer, to issue MICs (`opencapf mfg init` creates it).
pub async fn lab_manufacturer(store: &Store) -> Result<CaSigner> {
    Ok(cluster::signer(store, Service::LabManufacturer).await?)
}
