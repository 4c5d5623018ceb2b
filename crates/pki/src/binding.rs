//! Which device a certificate names: the one rule CAPF, CallManager, `cert inspect` and the
//! diagnostics apply.
//!
//! The CN is the device name (`SEP2C3124C9F8E1`: older LSCs; or `CSFJSMITH`, `ATA…`: any form
//! [`DeviceName`] accepts), or ends with `-` and the name
//! (`CP-8861-SEP2C3124C9F8E1`): the manufacturer prefixes the model in a MIC, and CUCM does the
//! same in the LSCs it issues (cucm-reference §4). LSCs and MICs therefore follow one rule; a CN
//! that merely ends with the name (`XSEP…`) names no device. Compared without case.

use opencapf_model::{CertKind, DeviceName};

use crate::CertificateInfo;

/// The rule in words, for refusals: every caller says it the same way.
pub const DEVICE_CN_RULE: &str = "the CN must be the device name, or end with '-' and it (CP-8861-SEP…)";

/// Whether `cert`, held as `kind`, names `device`: its CN is `device` or `<model>-<device>`.
/// Both kinds take both forms today; `kind` stays so a kind-specific rule has its one place.
pub fn names_device(cert: &CertificateInfo, kind: CertKind, device: &DeviceName) -> bool {
    let cn = cert.subject_cn.as_deref().unwrap_or("").to_ascii_uppercase();
    match kind {
        CertKind::Lsc | CertKind::Mic => cn_names(&cn, device.as_str()),
    }
}

fn cn_names(cn: &str, name: &str) -> bool {
    cn == name || cn.strip_suffix(name).is_some_and(|p| p.ends_with('-'))
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
    use super::{cn_names, named_in};

    #[test]
    fn the_name_is_the_cn_or_what_follows_its_last_dash() {
        let name = |cn: &str| named_in(cn).map(|d| d.to_string());
        assert_eq!(name("SEP2C3124C9F8E1").as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(name("CP-8861-sep2c3124c9f8e1").as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(name("SEP2C3124C9F8E1A"), None);
        assert_eq!(name("CAPF-1a2b3c4d"), None);
        assert_eq!(name("XSEP2C3124C9F8E1"), None);
        // CUCM's other device names: Jabber clients and analog adaptors.
        assert_eq!(name("CSFJSMITH").as_deref(), Some("CSFJSMITH"));
        assert_eq!(name("ATA-191-ATA2C3124C9F8E1").as_deref(), Some("ATA2C3124C9F8E1"));
    }

    #[test]
    fn a_cn_names_the_device_bare_or_after_a_model_and_a_dash() {
        let dev = "SEP2C3124C9F8E1";
        assert!(cn_names("SEP2C3124C9F8E1", dev));
        assert!(cn_names("CP-8861-SEP2C3124C9F8E1", dev));
        assert!(cn_names("CP-7962G-SEP2C3124C9F8E1", dev));
        assert!(!cn_names("XSEP2C3124C9F8E1", dev));
        assert!(!cn_names("CP-8861-SEP2C3124C9F8E2", dev));
        assert!(!cn_names("CP-8861-SEP2C3124C9F8E1-X", dev));
    }
}
