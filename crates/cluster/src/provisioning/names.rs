//! Which file a phone asks for. Names are matched as CUCM's TFTP service matches them: exact
//! file names, the device part case-insensitive (`SEPc80084aa8743.cnf.xml` is the same device).

use opencapf_model::DeviceName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// `ITLFile.tlv`, or `ITL<device>.tlv` (the same ITL, phone-boot.md §1.3 #2).
    Itl(Option<DeviceName>),
    /// `CTLFile.tlv` or `CTL<device>.tlv`.
    Ctl(Option<DeviceName>),
    /// `<device>.cnf.xml`, or `<device>.cnf.xml.sgn` when `signed`.
    Config {
        device: DeviceName,
        signed: bool,
    },
    Other,
}

impl Requested {
    pub fn parse(name: &str) -> Requested {
        match name {
            "ITLFile.tlv" => return Requested::Itl(None),
            "CTLFile.tlv" => return Requested::Ctl(None),
            _ => {}
        }
        if let Some(device) = name.strip_prefix("ITL").and_then(|n| n.strip_suffix(".tlv")).and_then(device) {
            return Requested::Itl(Some(device));
        }
        if let Some(device) = name.strip_prefix("CTL").and_then(|n| n.strip_suffix(".tlv")).and_then(device) {
            return Requested::Ctl(Some(device));
        }
        if let Some(device) = name.strip_suffix(".cnf.xml.sgn").and_then(device) {
            return Requested::Config { device, signed: true };
        }
        if let Some(device) = name.strip_suffix(".cnf.xml").and_then(device) {
            return Requested::Config { device, signed: false };
        }
        Requested::Other
    }
}

/// A device name exactly as written (no surrounding spaces, which `DeviceName` would trim).
fn device(s: &str) -> Option<DeviceName> {
    if s.trim() != s {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_phones_ask_for() {
        let sep: DeviceName = "SEPC80084AA8743".parse().unwrap();
        assert_eq!(Requested::parse("ITLFile.tlv"), Requested::Itl(None));
        assert_eq!(Requested::parse("ITLSEPC80084AA8743.tlv"), Requested::Itl(Some(sep.clone())));
        assert_eq!(Requested::parse("CTLSEPC80084AA8743.tlv"), Requested::Ctl(Some(sep.clone())));
        assert_eq!(
            Requested::parse("SEPC80084AA8743.cnf.xml.sgn"),
            Requested::Config { device: sep.clone(), signed: true }
        );
        assert_eq!(Requested::parse("SEPc80084aa8743.cnf.xml"), Requested::Config { device: sep, signed: false });
        for other in ["XMLDefault.cnf.xml", "ITLFile.tlv.sgn", "../ITLFile.tlv", "SEP12.cnf.xml", "", "Ringlist.xml"] {
            assert_eq!(Requested::parse(other), Requested::Other, "{other}");
        }
    }
}
