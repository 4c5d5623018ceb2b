//! The cluster bundle (`opencapf cluster export-bundle`): what a destination cluster needs to know
//! of the cluster its phones come from, in one JSON file with the certificates as PEM. Public
//! material only: no private key is ever read for it, and a file holding one is refused.
//!
//! ```text
//! {
//!   "format": "opencapf-cluster-bundle", "version": 1,
//!   "cluster": "cucm-old.example.com",          // the CallManager certificate's CN
//!   "exported_at": "2026-12-01T08:00:00Z",
//!   "certificates": [                            // CAPF (active and retired), CallManager, ITLRecovery, TVS
//!     {"service": "CAPF", "state": "active", "common_name": "CAPF-1a2b3c4d", "fingerprint": "…",
//!      "not_after": "…", "pem": "-----BEGIN CERTIFICATE-----…"}, …],
//!   "trust": [                                   // CallManager-trust and CAPF-trust, as they stand
//!     {"store": "CallManager-trust", "common_name": "…", "fingerprint": "…", "pem": "…"}, …],
//!   "devices": [
//!     {"name": "SEP2C3124C9F8E1", "model": "CP-8861", "protocol": "SIP", "security_mode": "Encrypted",
//!      "description": "", "lines": ["2222"], "key_order": "RSA Only", "rsa_bits": 2048, "ec_bits": 256,
//!      "lsc": {"serial": "…", "issuer": "…", "issuer_cn": "CAPF-1a2b3c4d", "not_after": "…",
//!              "issued_by_cluster": true, "pem": "…"},        // null: no LSC
//!      "mic": true, "mic_pem": "…"}, …]           // mic_pem null when the cluster never saw it
//! }
//! ```
//!
//! Enumerations are written with CUCM's names and read with them or the command-line tokens.
//! Reading is bounded ([`MAX_BUNDLE_BYTES`], [`MAX_DEVICES`]) and checks every field: a PEM that
//! is not one certificate, a device name twice, an unknown format or version are refused with the
//! device or certificate named.

use std::collections::HashSet;
use std::fmt::Display;
use std::str::FromStr;

use opencapf_model::{DeviceName, DirectoryNumber, KeyOrder, Protocol, SecurityMode, Service, TrustStore};
use opencapf_pki::CertificateInfo;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::{Error, Result};

pub const BUNDLE_FORMAT: &str = "opencapf-cluster-bundle";
pub const BUNDLE_VERSION: u32 = 1;
/// The largest bundle read: some 20,000 devices with an LSC and a MIC each.
pub const MAX_BUNDLE_BYTES: usize = 64 << 20;
/// The most devices one bundle may list.
pub const MAX_DEVICES: usize = 100_000;
/// Certificates and trust entries one bundle may carry.
const MAX_CERTIFICATES: usize = 10_000;

/// A cluster bundle, as written and read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterBundle {
    pub format: String,
    pub version: u32,
    /// The old cluster's name: its CallManager certificate's common name (its host name).
    pub cluster: String,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    pub certificates: Vec<BundleServiceCert>,
    pub trust: Vec<BundleTrustEntry>,
    pub devices: Vec<BundleDevice>,
}

/// One of the old cluster's own certificates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleServiceCert {
    #[serde(serialize_with = "shown", deserialize_with = "parsed")]
    pub service: Service,
    /// `active`, or `retired` for an older CAPF certificate.
    pub state: String,
    pub common_name: String,
    pub fingerprint: String,
    pub not_after: String,
    pub pem: String,
}

/// One entry of the old cluster's CallManager-trust or CAPF-trust.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleTrustEntry {
    pub store: TrustStore,
    pub common_name: Option<String>,
    pub fingerprint: String,
    pub pem: String,
}

/// One device of the old cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleDevice {
    pub name: DeviceName,
    pub model: String,
    #[serde(serialize_with = "shown", deserialize_with = "parsed")]
    pub protocol: Protocol,
    #[serde(serialize_with = "shown", deserialize_with = "parsed")]
    pub security_mode: SecurityMode,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub lines: Vec<DirectoryNumber>,
    #[serde(serialize_with = "shown", deserialize_with = "parsed")]
    pub key_order: KeyOrder,
    pub rsa_bits: u32,
    pub ec_bits: u32,
    /// The LSC the old cluster records for it; `None`: none.
    pub lsc: Option<BundleLsc>,
    /// The old cluster saw the device's MIC.
    pub mic: bool,
    pub mic_pem: Option<String>,
}

/// A device's LSC as the old cluster records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleLsc {
    pub serial: String,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    pub not_after: String,
    /// Issued by one of the old cluster's CAPF certificates (not by a third cluster's).
    pub issued_by_cluster: bool,
    pub pem: String,
}

fn shown<T: Display, S: Serializer>(v: &T, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn parsed<'de, T, D>(d: D) -> std::result::Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// One certificate from a PEM field, checked to be exactly one certificate.
pub(crate) fn pem_der(pem: &str, what: &str) -> Result<Vec<u8>> {
    let mut certs = opencapf_pki::pem::parse_certificates(pem.as_bytes())
        .map_err(|e| Error::Invalid(format!("bundle: {what}: {e}")))?;
    if certs.len() != 1 {
        return Err(Error::Invalid(format!("bundle: {what}: {} certificates where one is expected", certs.len())));
    }
    Ok(certs.remove(0))
}

impl ClusterBundle {
    /// Reads and checks a bundle file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<ClusterBundle> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(Error::Invalid(format!(
                "bundle: {} bytes, more than the {} MiB a bundle may hold",
                bytes.len(),
                MAX_BUNDLE_BYTES >> 20
            )));
        }
        // Refused before anything else: a bundle never carries a private key, so one that does
        // was not made by export-bundle and must not be stored.
        if bytes.windows(11).any(|w| w == b"PRIVATE KEY") {
            return Err(Error::Invalid(
                "bundle: it holds a private key; a cluster bundle carries certificates only, refusing it".into(),
            ));
        }
        let b: ClusterBundle = serde_json::from_slice(bytes).map_err(|e| {
            Error::Invalid(format!("bundle: not a cluster bundle (opencapf cluster export-bundle): {e}"))
        })?;
        b.check()?;
        Ok(b)
    }

    /// The bundle as its file holds it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a bundle serializes")
    }

    fn check(&self) -> Result<()> {
        if self.format != BUNDLE_FORMAT {
            return Err(Error::Invalid(format!("bundle: format '{}' is not {BUNDLE_FORMAT}", self.format)));
        }
        if self.version != BUNDLE_VERSION {
            return Err(Error::Invalid(format!(
                "bundle: version {} is not supported (this OpenCAPF reads version {BUNDLE_VERSION})",
                self.version
            )));
        }
        if self.cluster.trim().is_empty() || self.cluster.len() > 255 {
            return Err(Error::Invalid("bundle: the cluster's name must be 1 to 255 characters".into()));
        }
        if self.devices.len() > MAX_DEVICES {
            return Err(Error::Invalid(format!("bundle: {} devices, more than {MAX_DEVICES}", self.devices.len())));
        }
        if self.certificates.len() + self.trust.len() > MAX_CERTIFICATES {
            return Err(Error::Invalid(format!("bundle: more than {MAX_CERTIFICATES} certificates")));
        }
        for c in &self.certificates {
            pem_der(&c.pem, &format!("{} certificate {}", c.service, c.common_name))?;
            if !matches!(c.state.as_str(), "active" | "retired") {
                return Err(Error::Invalid(format!(
                    "bundle: {} state '{}' is not active or retired",
                    c.service, c.state
                )));
            }
        }
        if !self.certificates.iter().any(|c| c.service == Service::Capf && c.state == "active") {
            return Err(Error::Invalid("bundle: no active CAPF certificate".into()));
        }
        for t in &self.trust {
            pem_der(&t.pem, &format!("{} entry {}", t.store, t.fingerprint))?;
        }
        let mut seen = HashSet::new();
        for d in &self.devices {
            if !seen.insert(&d.name) {
                return Err(Error::Invalid(format!("bundle: device {} is listed twice", d.name)));
            }
            let model = d.model.trim();
            if model.is_empty() || model.len() > 32 {
                return Err(Error::Invalid(format!("bundle: device {}: model must be 1 to 32 characters", d.name)));
            }
            if let Some(lsc) = &d.lsc {
                pem_der(&lsc.pem, &format!("device {} LSC", d.name))?;
            }
            if let Some(mic) = &d.mic_pem {
                pem_der(mic, &format!("device {} MIC", d.name))?;
            }
        }
        Ok(())
    }

    /// The old cluster's CAPF certificates (active first), parsed.
    pub fn capf_certificates(&self) -> Vec<(Vec<u8>, CertificateInfo)> {
        self.certificates_of(Service::Capf)
    }

    /// The old cluster's certificates of one service, parsed.
    pub fn certificates_of(&self, svc: Service) -> Vec<(Vec<u8>, CertificateInfo)> {
        self.certificates
            .iter()
            .filter(|c| c.service == svc)
            .filter_map(|c| {
                let der = pem_der(&c.pem, "").ok()?;
                let info = CertificateInfo::parse(&der).ok()?;
                Some((der, info))
            })
            .collect()
    }

    /// The DER of each entry of one of the old cluster's stores.
    pub fn trust_ders(&self, store: TrustStore) -> Vec<Vec<u8>> {
        self.trust.iter().filter(|t| t.store == store).filter_map(|t| pem_der(&t.pem, "").ok()).collect()
    }
}

impl BundleDevice {
    pub fn lsc_der(&self) -> Option<Vec<u8>> {
        self.lsc.as_ref().and_then(|l| pem_der(&l.pem, "").ok())
    }

    pub fn mic_der(&self) -> Option<Vec<u8>> {
        self.mic_pem.as_deref().and_then(|p| pem_der(p, "").ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(devices: &str) -> String {
        // Any certificate stands for the CAPF one here: the reading checks form, not roles.
        let der = opencapf_testkit::cisco_ca("Cisco_Root_CA_M2.pem");
        let pem = serde_json::to_string(&opencapf_pki::pem::encode("CERTIFICATE", &der)).unwrap();
        format!(
            r#"{{"format":"{BUNDLE_FORMAT}","version":1,"cluster":"cucm-old.lab","exported_at":"2026-12-01T08:00:00Z",
            "certificates":[{{"service":"CAPF","state":"active","common_name":"CAPF-0a0b0c0d","fingerprint":"f",
            "not_after":"2030-01-01T00:00:00Z","pem":{pem}}}],"trust":[],"devices":[{devices}]}}"#
        )
    }

    const DEVICE: &str = r#"{"name":"SEP00000000A001","model":"CP-8861","protocol":"sip","security_mode":"Encrypted",
        "key_order":"ec-rsa","rsa_bits":2048,"ec_bits":256,"lsc":null,"mic":false,"mic_pem":null}"#;

    #[test]
    fn a_bundle_reads_back_with_cucm_names_or_tokens() {
        let b = ClusterBundle::parse(minimal(DEVICE).as_bytes()).unwrap();
        assert_eq!(b.devices[0].security_mode, SecurityMode::Encrypted);
        assert_eq!(b.devices[0].key_order, KeyOrder::EcPreferredRsaBackup);
        assert_eq!(b.capf_certificates().len(), 1);
        let again = ClusterBundle::parse(b.to_json().as_bytes()).unwrap();
        assert!(again.to_json().contains("\"EC Preferred, RSA Backup\""));
    }

    #[test]
    fn bad_bundles_are_refused_with_the_reason() {
        let twice = minimal(&format!("{DEVICE},{DEVICE}"));
        let refused = |text: &str| ClusterBundle::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(refused(&twice).contains("SEP00000000A001 is listed twice"));
        assert!(refused(&minimal(DEVICE).replace("\"version\":1", "\"version\":2")).contains("version 2"));
        assert!(refused(&minimal(DEVICE).replace("Encrypted", "Secret")).contains("Secret"));
        assert!(refused("{}").contains("not a cluster bundle"));
        let key = minimal(DEVICE).replace("cucm-old.lab", "-----BEGIN PRIVATE KEY-----");
        assert!(refused(&key).contains("private key"));
        let bad_pem = minimal(&DEVICE.replace("\"mic_pem\":null", "\"mic_pem\":\"not a certificate\""));
        assert!(refused(&bad_pem).contains("device SEP00000000A001 MIC"));
    }
}
