//! Certificates and keys from users' files and from peers: a PEM bundle (`trust import`,
//! `--ca-chain`, `capf import-signed`), each DER certificate as the cluster reads it (subject,
//! issuer, key, validity, SANs, the certificate kind), and a private key in PEM or DER
//! (`capf import-signed --key`). Any bytes give values or typed errors, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use opencapf_pki::pem::parse_certificates;
use opencapf_pki::{dns_names, CertificateInfo, PrivateKey};

fn certificate(der: &[u8]) {
    if let Ok(info) = CertificateInfo::parse(der) {
        let _ = info.allows_digital_signature();
        let _ = info.is_valid_at(time::OffsetDateTime::UNIX_EPOCH);
        let _ = opencapf_pki::classify(&info, None);
        let _ = opencapf_pki::rsa_public_bits(&info.public_key_der);
        let _ = opencapf_pki::rsa_public_raw(&info.public_key_der, der);
    }
    let _ = dns_names(der);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(ders) = parse_certificates(data) {
        for der in &ders {
            certificate(der);
        }
    }
    certificate(data);
    let _ = PrivateKey::from_pem(data);
    let _ = PrivateKey::from_der(data);
});
