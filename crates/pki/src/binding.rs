//! Which device a certificate names: the one rule CAPF, CallManager and the diagnostics apply.
//!
//! An LSC's CN is the device name (`SEP2C3124C9F8E1`: CAPF wrote it so). A MIC's CN is the name,
//! or ends with `-` and the name (`CP-8861-SEP2C3124C9F8E1`): the manufacturer prefixes the model;
//! a CN that merely ends with the name (`XSEP…`) names no device. Compared without case.

use opencapf_model::{CertKind, DeviceName};

use crate::CertificateInfo;

/// Whether `cert`, held as `kind`, names `device`.
pub fn names_device(cert: &CertificateInfo, kind: CertKind, device: &DeviceName) -> bool {
    let cn = cert.subject_cn.as_deref().unwrap_or("").to_ascii_uppercase();
    let name = device.as_str();
    match kind {
        CertKind::Lsc => cn == name,
        CertKind::Mic => cn == name || cn.strip_suffix(name).is_some_and(|p| p.ends_with('-')),
    }
}

/// The device a certificate names, whatever its kind: its CN, or what follows the CN's last `-`.
pub fn device_named_by(cert: &CertificateInfo) -> Option<DeviceName> {
    let cn = cert.subject_cn.as_deref()?;
    cn.rsplit('-').next()?.parse().ok()
}
