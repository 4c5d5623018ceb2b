//! Checking a phone's credentials against the device's Authentication Mode (§1.8).
//!
//! - By Authentication String: the string, compared in constant time (on digests, so its
//!   length is not revealed either). It is single-use: the store clears it on success.
//! - By Null String: nothing to check.
//! - By Existing Certificate: both signatures checked strictly (the whole RSA block rebuilt;
//!   ECDSA for EC keys; the SHA-512 form required, the SHA-1 form checked when present), the
//!   certificate verified against CAPF-trust now, and bound to the device by pki's one rule
//!   ([`opencapf_pki::names_device`]: an LSC's CN is the device name, a MIC's is the name or ends
//!   with `-` and it, `CP-8861-SEP…`). An optional SudiData record is
//!   checked the same way, its signatures covering this session's id.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{digest, SHA256};
use opencapf_model::{AuthMode, CertKind, Device, Failure};
use opencapf_pki::{names_device, rawkey, CertificateInfo, DeviceName, TrustSnapshot, TrustStore};
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::stop::Refusal;
use crate::proto::auth::{signed_content, sudi_signed_content, verify_ecdsa, verify_rsa_block};
use crate::proto::message::{AuthResponse, Curve, HashId, SignatureRecord};

/// The failure CUCM reports when a certificate of this kind is refused.
fn refused_as(kind: CertKind) -> Failure {
    match kind {
        CertKind::Lsc => Failure::InvalidLsc,
        CertKind::Mic => Failure::InvalidMic,
    }
}

/// A certificate the phone authenticated with.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    pub kind: CertKind,
    pub info: CertificateInfo,
}

/// What the checks need from the cluster, read once per session.
pub(crate) struct TrustContext {
    pub snapshot: TrustSnapshot,
    pub now: OffsetDateTime,
}

impl TrustContext {
    /// LSC or MIC, as CAPF treats a certificate a phone presents (pki's one classifier).
    pub fn kind_of(&self, info: &CertificateInfo) -> CertKind {
        self.snapshot.classify(info).presented_as()
    }

    /// Whether CAPF-trust trusts `der` now.
    pub fn capf_trusts(&self, der: &[u8]) -> bool {
        self.snapshot.verify(TrustStore::Capf, &[der.to_vec()], self.now).is_ok_and(|v| v.is_trusted())
    }
}

/// Checks the AuthResponse against the device's Authentication Mode. Returns the certificate
/// the phone authenticated with, for the certificate modes.
pub(crate) fn authenticate(
    device: &Device,
    response: &AuthResponse,
    session_id: u32,
    trust: &TrustContext,
) -> Result<Option<Presented>, Refusal> {
    match device.capf.auth_mode {
        AuthMode::NullString => Ok(None),
        AuthMode::AuthenticationString => {
            check_string(device.capf.auth_string.as_deref(), response.password.as_deref()).map(|()| None)
        }
        mode @ (AuthMode::ExistingCertificateLsc | AuthMode::ExistingCertificateMic) => {
            check_certificate(&device.name, mode, response, session_id, trust).map(Some)
        }
    }
}

fn check_string(expected: Option<&str>, presented: Option<&str>) -> Result<(), Refusal> {
    let refuse = |detail: &str| Err(Refusal::new(Failure::InvalidAuthenticationString, detail));
    let Some(expected) = expected else {
        return refuse("no authentication string is set for the device (it is single-use and was already used)");
    };
    let Some(presented) = presented.filter(|p| !p.is_empty()) else {
        return refuse("the phone sent no authentication string");
    };
    let a = digest(&SHA256, expected.as_bytes());
    let b = digest(&SHA256, presented.as_bytes());
    match verify_slices_are_equal(a.as_ref(), b.as_ref()) {
        Ok(()) => Ok(()),
        Err(_) => refuse("the phone sent a wrong authentication string"),
    }
}

fn check_certificate(
    device: &DeviceName,
    mode: AuthMode,
    response: &AuthResponse,
    session_id: u32,
    trust: &TrustContext,
) -> Result<Presented, Refusal> {
    let Some(package) = &response.certificate else {
        let failure =
            if mode == AuthMode::ExistingCertificateMic { Failure::InvalidMic } else { Failure::InvalidCredentials };
        return Err(Refusal::new(failure, "the phone sent no certificate (neither LSC nor MIC)"));
    };
    let unreadable = if mode == AuthMode::ExistingCertificateMic { Failure::InvalidMic } else { Failure::InvalidLsc };
    let info = CertificateInfo::parse(&package.der)
        .map_err(|e| Refusal::new(unreadable, format!("the certificate is unreadable: {e}")))?;
    let kind = trust.kind_of(&info);
    let failure = refused_as(kind);
    if mode == AuthMode::ExistingCertificateMic && kind == CertKind::Lsc {
        return Err(Refusal::new(
            Failure::InvalidMic,
            format!("the phone presented an LSC ({}), Precedence to MIC needs its MIC", info.subject),
        ));
    }
    let content = signed_content(&response.device_name, &package.der);
    check_signatures(&info, &content, response.signed_data_sha1.as_deref(), response.sha2_signed_data.as_ref())
        .map_err(|e| Refusal::new(failure, format!("{} signature: {e}", kind.as_str())))?;
    check_trusted_and_bound(kind, &info, &package.der, device, trust).map_err(|e| Refusal::new(failure, e))?;

    if let Some(sudi) = &response.sudi {
        let sudi_info = CertificateInfo::parse(&sudi.certificate)
            .map_err(|e| Refusal::new(failure, format!("the SUDI certificate is unreadable: {e}")))?;
        let sudi_kind = trust.kind_of(&sudi_info);
        let sudi_failure = refused_as(sudi_kind);
        let content = sudi_signed_content(session_id, &sudi.certificate);
        // The second record is SHA-1 (capfc tags it 1; capfd ignores the tag).
        let second_hash = match sudi.sha1.hash {
            HashId::Unknown(_) => HashId::Sha1,
            known => known,
        };
        check_signatures(&sudi_info, &content, None, Some(&sudi.sha512))
            .and_then(|()| check_with(&sudi_info, second_hash, &content, &sudi.sha1.signature))
            .map_err(|e| Refusal::new(sudi_failure, format!("SUDI signature: {e}")))?;
        check_trusted_and_bound(sudi_kind, &sudi_info, &sudi.certificate, device, trust)
            .map_err(|e| Refusal::new(sudi_failure, format!("SUDI: {e}")))?;
    }
    Ok(Presented { kind, info })
}

fn check_trusted_and_bound(
    kind: CertKind,
    info: &CertificateInfo,
    der: &[u8],
    device: &DeviceName,
    trust: &TrustContext,
) -> Result<(), String> {
    let verdict = trust
        .snapshot
        .verify(TrustStore::Capf, &[der.to_vec()], trust.now)
        .map_err(|e| format!("{} cannot be verified: {e}", kind.as_str()))?;
    if !verdict.is_trusted() {
        return Err(format!("{} {} is not trusted by CAPF-trust: {verdict}", kind.as_str(), info.subject));
    }
    if !names_device(info, kind, device) {
        let cn = info.subject_cn.as_deref().unwrap_or("(none)");
        return Err(format!("{} CN {cn} does not name device {device}", kind.as_str()));
    }
    Ok(())
}

/// Element 20 (SHA-512) is required; element 6 (SHA-1) is checked when present.
fn check_signatures(
    info: &CertificateInfo,
    content: &[u8],
    sha1: Option<&[u8]>,
    sha2: Option<&SignatureRecord>,
) -> Result<(), String> {
    let sha2 = sha2.ok_or("no SHA-512 signature (element 20)")?;
    if sha2.hash != HashId::Sha512 {
        return Err(format!("element 20 uses {:?}, SHA-512 is required", sha2.hash));
    }
    check_with(info, HashId::Sha512, content, &sha2.signature)?;
    if let Some(sig) = sha1 {
        check_with(info, HashId::Sha1, content, sig)?;
    }
    Ok(())
}

/// One signature over `content` with the certificate's key: the raw PKCS#1 type-1 block
/// rebuilt whole for RSA, ECDSA for EC.
fn check_with(info: &CertificateInfo, hash: HashId, content: &[u8], signature: &[u8]) -> Result<(), String> {
    if info.key.starts_with("RSA") {
        let bits = rawkey::rsa_public_bits(&info.public_key_der).map_err(|e| e.to_string())?;
        let modulus_len = bits.div_ceil(8) as usize;
        let recovered =
            rawkey::rsa_public_raw(&info.public_key_der, signature).map_err(|e| format!("{hash:?}: {e}"))?;
        return verify_rsa_block(&recovered, modulus_len, hash, content).map_err(|e| format!("{hash:?}: {e}"));
    }
    let curve = match info.key.as_str() {
        "EC P-256" => Curve::P256,
        "EC P-384" => Curve::P384,
        "EC P-521" => Curve::P521,
        other => return Err(format!("unsupported key {other}")),
    };
    let (_, spki) = SubjectPublicKeyInfo::from_der(&info.public_key_der).map_err(|e| format!("bad public key: {e}"))?;
    verify_ecdsa(curve, hash, &spki.subject_public_key.data, content, signature).map_err(|e| format!("{hash:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_compare_whole() {
        assert!(check_string(Some("123456"), Some("123456")).is_ok());
        for (expected, presented) in [
            (Some("123456"), Some("12345")),
            (Some("123456"), Some("1234567")),
            (Some("123456"), None),
            (None, Some("1")),
        ] {
            let refusal = check_string(expected, presented).unwrap_err();
            assert_eq!(refusal.failure, Failure::InvalidAuthenticationString);
        }
        assert!(check_string(Some("1234"), Some("")).is_err());
    }
}
