//! Lab certificates made without a cluster: a CAPF or lab-manufacturer CA, an ITLRecovery (SAST),
//! LSCs and MICs.

use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{CaSigner, DeviceName, IssuedCertificate, KeyAlgorithm, PrivateKey, SubjectFields};
use time::OffsetDateTime;

/// A certificate with its key: a CAPF, a lab manufacturer root, or an ITLRecovery.
pub struct Ca {
    pub der: Vec<u8>,
    pub key: PrivateKey,
}

impl Ca {
    /// A CAPF certificate with a new `alg` key, valid `days` from `now`.
    pub fn capf(alg: KeyAlgorithm, subject: &SubjectFields, days: u32, now: OffsetDateTime) -> Ca {
        let key = PrivateKey::generate(alg).unwrap();
        let cert = profiles::capf_certificate(&key, subject, days, now).unwrap();
        Ca { der: cert.der, key }
    }

    /// The lab manufacturer's root (the stand-in for Cisco Manufacturing CA) with a new `alg` key.
    pub fn lab_manufacturer(alg: KeyAlgorithm, now: OffsetDateTime) -> Ca {
        let key = PrivateKey::generate(alg).unwrap();
        let cert = profiles::lab_manufacturer_root(&key, now).unwrap();
        Ca { der: cert.der, key }
    }

    /// An ITLRecovery certificate (the SAST that signs an ITL), RSA 2048 as CUCM's.
    pub fn itl_recovery(now: OffsetDateTime) -> Ca {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let cert = profiles::itl_recovery_certificate(&key, "cucm.lab", &SubjectFields::default(), 365, now).unwrap();
        Ca { der: cert.der, key }
    }

    pub fn signer(&self) -> CaSigner {
        CaSigner::new(&self.der, &self.key).unwrap()
    }
}

/// A phone's key pair, EC P-256 as most tests want it.
pub fn phone_key() -> PrivateKey {
    PrivateKey::generate(KeyAlgorithm::Ec256).unwrap()
}

/// An LSC for `device` and its `public_key_der`, signed by `capf` as CAPF issues it (no PID/SN).
pub fn lsc(capf: &CaSigner, device: &str, public_key_der: &[u8], days: u32, now: OffsetDateTime) -> IssuedCertificate {
    let device: DeviceName = device.parse().unwrap();
    let req = LscRequest { device: &device, public_key_der, model: None, pid_sn: None, validity_days: days, now };
    profiles::lsc(capf, &req).unwrap()
}

/// A lab MIC of a CP-8861 named `device`, with a random serial, from `manufacturer`.
pub fn mic(manufacturer: &CaSigner, device: &str, public_key_der: &[u8], now: OffsetDateTime) -> IssuedCertificate {
    let device: DeviceName = device.parse().unwrap();
    let serial = profiles::random_mic_serial();
    profiles::lab_mic(manufacturer, &device, "CP-8861", &serial, public_key_der, now).unwrap()
}
