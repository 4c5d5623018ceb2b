//! Cisco's CA certificates from `shared/data/cisco-ca`, read in place (never copied).

use std::path::Path;

/// The folder of Cisco's CA certificates, beside the project.
pub const CISCO_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/cisco-ca");

/// The DER of the one certificate in a Cisco CA file, e.g. `Cisco_Root_CA_M2.pem`.
pub fn cisco_ca(file: &str) -> Vec<u8> {
    let path = Path::new(CISCO_CA).join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut certs = opencapf_pki::pem::parse_certificates(&bytes).unwrap();
    assert_eq!(certs.len(), 1, "{file}");
    certs.remove(0)
}

/// The manufacturing CAs a real cluster trusts for MICs: both generations, with their roots.
pub fn cisco_manufacturer_cas() -> Vec<Vec<u8>> {
    ["Cisco_Manufacturing_CA.pem", "Cisco_Root_CA_2048.pem", "Cisco_Manufacturing_CA_SHA2.pem", "Cisco_Root_CA_M2.pem"]
        .into_iter()
        .map(cisco_ca)
        .collect()
}
