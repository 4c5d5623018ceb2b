//! One CRL per CAPF certificate (active and retired), signed by that certificate's key, for
//! ISE, FreeRADIUS or an ASA that check LSCs themselves. CUCM's CAPF publishes none.
//!
//! **What it lists:** every LSC of that issuer that is no device's installed one: `revoked`,
//! `superseded`, `deleted` and `failed` (RFC 5280 reason `superseded` for the superseded ones).
//! A verifier outside the cluster can only ask "is this serial listed?", so listing only
//! `revoked` would let a superseded or never-installed LSC keep working there for its whole
//! validity, which is exactly what CallManager and CAPF refuse here; one rule everywhere.
//! (`issued` ones, sent but not yet confirmed, are left out: they may become installed.)
//!
//! Each change (revoke, an install completing or failing, a delete, a CAPF regeneration) signs
//! every CAPF certificate's CRL again with the next CRL number, valid [`CRL_DAYS`] days; the
//! latest DER is stored per CAPF certificate.

use std::path::Path;

use opencapf_model::{now, Service};
use opencapf_pki::{signed_crl, CaSigner, RevokedSerial};
use opencapf_store::{issued, keyfile, service, Db};
use serde::Serialize;
use time::Duration;

use crate::{Cluster, Result};

/// thisUpdate to nextUpdate: a verifier that caches a CRL fetches a new one within a week.
pub const CRL_DAYS: i64 = 7;

/// One CAPF certificate's latest CRL.
#[derive(Debug, Clone, Serialize)]
pub struct CrlSummary {
    pub capf_fingerprint: String,
    pub capf_subject: String,
    /// Whether it is the active CAPF certificate (else retired).
    pub active: bool,
    pub number: i64,
    pub revoked: usize,
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// Signs every CAPF certificate's CRL again, in the caller's transaction. A CAPF certificate
/// whose key is not in the data folder (imported without it) keeps its previous CRL.
pub(crate) async fn refresh_crls(db: &mut Db, data_dir: &Path) -> Result<Vec<CrlSummary>> {
    let mut out = Vec::new();
    for capf in service::all(db, Service::Capf).await? {
        let Ok(key) = keyfile::read(data_dir, &capf.key_file) else { continue };
        let signer = CaSigner::new(&capf.der, &key)?;
        let ended = issued::ended_by_issuer(db, &capf.fingerprint).await?;
        let revoked: Vec<RevokedSerial> = ended
            .iter()
            .map(|r| RevokedSerial { serial: r.serial.clone(), at: r.state_at, superseded: r.state == "superseded" })
            .collect();
        let number = issued::latest_crl(db, &capf.fingerprint).await?.map_or(1, |(n, _)| n + 1);
        let this_update = now();
        let next_update = this_update + Duration::days(CRL_DAYS);
        let der = signed_crl(&signer, number.unsigned_abs(), &revoked, this_update, next_update)?;
        issued::put_crl(db, &capf.fingerprint, number, this_update, next_update, &der).await?;
        out.push(CrlSummary {
            capf_fingerprint: capf.fingerprint.clone(),
            capf_subject: capf.subject.clone(),
            active: capf.is_active(),
            number,
            revoked: revoked.len(),
            der,
        });
    }
    Ok(out)
}

impl Cluster {
    /// The latest CRL of every CAPF certificate, signed now when one has none yet (or when
    /// `regenerate`).
    pub async fn capf_crls(&self, regenerate: bool) -> Result<Vec<CrlSummary>> {
        let mut db = self.store.read().await?;
        let mut missing = regenerate;
        for capf in service::all(&mut db, Service::Capf).await? {
            missing |= issued::latest_crl(&mut db, &capf.fingerprint).await?.is_none();
        }
        drop(db);
        if missing {
            let mut db = self.store.write().await?;
            let crls = refresh_crls(&mut db, self.data_dir()).await?;
            db.commit().await?;
            return Ok(crls);
        }
        let mut db = self.store.read().await?;
        let mut out = Vec::new();
        for capf in service::all(&mut db, Service::Capf).await? {
            let Some((number, der)) = issued::latest_crl(&mut db, &capf.fingerprint).await? else { continue };
            let revoked = issued::ended_by_issuer(&mut db, &capf.fingerprint).await?.len();
            out.push(CrlSummary {
                capf_fingerprint: capf.fingerprint.clone(),
                capf_subject: capf.subject.clone(),
                active: capf.is_active(),
                number,
                revoked,
                der,
            });
        }
        Ok(out)
    }
}
