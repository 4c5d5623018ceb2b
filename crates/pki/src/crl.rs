//! A CAPF certificate's CRL (RFC 5280 v2): the serials it issued that are no device's current
//! LSC any more, signed by its key, for RADIUS servers and firewalls that check LSCs (CUCM's CAPF
//! publishes none; CallManager and CAPF here read the states from the database instead).

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber};
use time::OffsetDateTime;

use crate::profiles::{rcgen_err, CaSigner};
use crate::PkiError;

/// One serial a CRL lists.
#[derive(Debug, Clone)]
pub struct RevokedSerial {
    /// Lowercase hex, as [`crate::CertificateInfo::serial`].
    pub serial: String,
    /// When it stopped being the device's LSC.
    pub at: OffsetDateTime,
    /// `superseded` (RFC 5280's reason), or `None` for revoked, deleted and failed (unspecified:
    /// the reason is in the cluster's records).
    pub superseded: bool,
}

/// Signs a CRL with number `number`, valid from `this_update` to `next_update`.
pub fn signed_crl(
    capf: &CaSigner,
    number: u64,
    revoked: &[RevokedSerial],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<Vec<u8>, PkiError> {
    let mut revoked_certs = Vec::with_capacity(revoked.len());
    for r in revoked {
        let bytes = hex::decode(&r.serial).map_err(|e| PkiError::Parse(format!("serial {}: {e}", r.serial)))?;
        revoked_certs.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&bytes),
            revocation_time: whole_seconds(r.at),
            reason_code: r.superseded.then_some(RevocationReason::Superseded),
            invalidity_date: None,
        });
    }
    // The CRL's authority key identifier must be the CAPF certificate's own SKI, whatever
    // method made it, or verifiers do not match the CRL to the certificate.
    let key_identifier_method = match capf.info().subject_key_id.as_deref().map(hex::decode) {
        Some(Ok(ski)) => KeyIdMethod::PreSpecified(ski),
        _ => KeyIdMethod::Sha256,
    };
    let params = CertificateRevocationListParams {
        this_update: whole_seconds(this_update),
        next_update: whole_seconds(next_update),
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method,
    };
    Ok(params.signed_by(&capf.issuer()?).map_err(rcgen_err)?.der().to_vec())
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}
