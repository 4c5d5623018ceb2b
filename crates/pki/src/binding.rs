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
    named_in(cert.subject_cn.as_deref()?)
}

fn named_in(cn: &str) -> Option<DeviceName> {
    cn.rsplit('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::named_in;

    #[test]
    fn the_name_is_the_cn_or_what_follows_its_last_dash() {
        let name = |cn: &str| named_in(cn).map(|d| d.to_string());
        assert_eq!(name("SEP2C3124C9F8E1").as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(name("CP-8861-sep2c3124c9f8e1").as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(name("SEP2C3124C9F8E1A"), None);
        assert_eq!(name("CAPF-1a2b3c4d"), None);
        assert_eq!(name("XSEP2C3124C9F8E1"), None);
    }
}
