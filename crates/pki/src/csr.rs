//! PKCS#10 certification requests (RFC 2986) a device sends (EST's `simpleenroll`): read with
//! their self-signature verified, and made for the phone simulator. Nothing in a request is
//! trusted beyond what the signature proves (the sender holds the key).

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::oid_registry::OID_PKCS1_SHA1WITHRSA;
use x509_parser::prelude::FromDer;

use crate::cert::{first_cn, key_description};
use crate::signature::algorithm_for;
use crate::{PkiError, PrivateKey};

/// The largest request read (a 16384-bit RSA key and a few attributes fit well within).
pub const MAX_CSR_BYTES: usize = 16 * 1024;

/// A certification request whose signature verified with its own public key.
#[derive(Debug, Clone)]
pub struct SigningRequest {
    pub der: Vec<u8>,
    /// The subject as text (`CN=SEP…, O=…`).
    pub subject: String,
    pub subject_cn: Option<String>,
    /// The DER SubjectPublicKeyInfo.
    pub public_key_der: Vec<u8>,
    /// `RSA 2048`, `EC P-256`, as [`crate::CertificateInfo::key`] names keys.
    pub key: String,
    /// The challengePassword attribute (RFC 2985), when present: EST's proof of possession
    /// bound to the TLS channel.
    pub challenge_password: Option<String>,
}

impl SigningRequest {
    /// Reads a DER request and verifies its signature. Refused: trailing bytes, SHA-1 or an
    /// algorithm OpenCAPF does not verify, a signature its own key did not make.
    pub fn parse(der: &[u8]) -> Result<SigningRequest, PkiError> {
        if der.len() > MAX_CSR_BYTES {
            return Err(PkiError::Parse(format!("the request is {} bytes, more than {MAX_CSR_BYTES}", der.len())));
        }
        let (rest, csr) = X509CertificationRequest::from_der(der)
            .map_err(|e| PkiError::Parse(format!("not a PKCS#10 certification request: {e}")))?;
        if !rest.is_empty() {
            return Err(PkiError::Parse("trailing bytes after the certification request".into()));
        }
        let info = &csr.certification_request_info;
        let sig_oid = &csr.signature_algorithm.algorithm;
        if *sig_oid == OID_PKCS1_SHA1WITHRSA {
            return Err(PkiError::Signature("the request is signed with SHA-1: sign it with SHA-256 or better".into()));
        }
        let alg = algorithm_for(sig_oid, &info.subject_pki).map_err(|f| {
            PkiError::Signature(format!("the request's signature algorithm cannot be verified ({f:?})"))
        })?;
        aws_lc_rs::signature::UnparsedPublicKey::new(alg, info.subject_pki.subject_public_key.data.as_ref())
            .verify(info.raw, csr.signature_value.data.as_ref())
            .map_err(|_| PkiError::Signature("the request's signature does not match its public key".into()))?;
        let challenge_password = info.attributes().iter().find_map(|a| match a.parsed_attribute() {
            ParsedCriAttribute::ChallengePassword(p) => Some(p.0.clone()),
            _ => None,
        });
        Ok(SigningRequest {
            der: der.to_vec(),
            subject: info.subject.to_string(),
            subject_cn: first_cn(&info.subject),
            public_key_der: info.subject_pki.raw.to_vec(),
            key: key_description(&info.subject_pki),
            challenge_password,
        })
    }
}

/// challengePassword (RFC 2985 §5.4.1).
const CHALLENGE_PASSWORD: &[u64] = &[1, 2, 840, 113549, 1, 9, 7];

/// A DER request for `key` with subject `CN=<common_name>`, and a challengePassword (UTF8String)
/// when given: what a device sends to EST.
pub fn device_csr(key: &PrivateKey, common_name: &str, challenge_password: Option<&str>) -> Result<Vec<u8>, PkiError> {
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let mut attributes = Vec::new();
    if let Some(pw) = challenge_password {
        let value = pw.as_bytes();
        let len = u8::try_from(value.len())
            .ok()
            .filter(|l| *l < 0x80)
            .ok_or_else(|| PkiError::Profile("a challenge password of 127 bytes at most".into()))?;
        // SET { UTF8String } with short-form lengths.
        let mut values = vec![0x31, len + 2, 0x0c, len];
        values.extend_from_slice(value);
        attributes.push(rcgen::Attribute { oid: CHALLENGE_PASSWORD, values });
    }
    let csr = p
        .serialize_request_with_attributes(&key.signer()?, attributes)
        .map_err(|e| PkiError::Profile(format!("making the certification request: {e}")))?;
    Ok(csr.der().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;

    #[test]
    fn a_request_reads_back_with_its_key_and_challenge() {
        for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::Ec256, KeyAlgorithm::Ec384] {
            let key = PrivateKey::generate(alg).unwrap();
            let der = device_csr(&key, "SEP001122334455", Some("cGFzc3dvcmQ=")).unwrap();
            let csr = SigningRequest::parse(&der).unwrap();
            assert_eq!(csr.subject_cn.as_deref(), Some("SEP001122334455"));
            assert_eq!(csr.key, alg.to_string());
            assert_eq!(csr.public_key_der, key.public_key_der());
            assert_eq!(csr.challenge_password.as_deref(), Some("cGFzc3dvcmQ="));
            let plain = SigningRequest::parse(&device_csr(&key, "SEP001122334455", None).unwrap()).unwrap();
            assert_eq!(plain.challenge_password, None);
        }
    }

    #[test]
    fn a_changed_or_cut_request_is_refused() {
        let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let der = device_csr(&key, "SEP001122334455", None).unwrap();
        // A changed byte of the subject's CN: the signature no longer matches.
        let at = der.windows(3).position(|w| w == b"SEP").unwrap();
        let mut changed = der.clone();
        changed[at] = b'X';
        assert!(matches!(SigningRequest::parse(&changed), Err(PkiError::Signature(_))), "changed");
        assert!(matches!(SigningRequest::parse(&der[..der.len() - 1]), Err(PkiError::Parse(_))), "cut");
        let mut longer = der.clone();
        longer.push(0);
        assert!(SigningRequest::parse(&longer).is_err(), "trailing");
        assert!(SigningRequest::parse(b"").is_err());
        assert!(SigningRequest::parse(&vec![0x30; MAX_CSR_BYTES + 1]).is_err());
    }
}
