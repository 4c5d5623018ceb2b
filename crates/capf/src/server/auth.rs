//! Checking a phone's credentials against the device's Authentication Mode (§1.8).
//!
//! - By Authentication String: checked by the cluster against the string's keyed hash, in the
//!   write transaction that also counts failures (`Cluster::check_authentication_string`).
//! - By Null String: nothing to check.
//! - By Existing Certificate: both signatures checked strictly (the whole RSA block rebuilt, in
//!   the raw form phones use or the standard DigestInfo form;
//!   ECDSA for EC keys; the SHA-512 form required, the SHA-1 form checked when present), the
//!   certificate verified against CAPF-trust now, and bound to the device by pki's one rule
//!   ([`opencapf_pki::names_device`]: an LSC's or a MIC's CN is the device name or ends with `-`
//!   and it, `CP-8861-SEP…`). An optional SudiData record is checked the same way, its
//!   signatures covering this session's id; with `capf.require_sudi` it is required, so that an
//!   AuthResponse captured in another session cannot be replayed. An LSC of this cluster must
//!   then be the device's installed one (`Cluster::lsc_standing`, checked by the session):
//!   a failed, superseded, deleted or revoked one is "Invalid LSC" with the reason why.

use opencapf_model::{AuthMode, CertKind, Device, Failure};
use opencapf_pki::{
    names_device, rsa_public_bits, rsa_public_raw, CertificateInfo, DeviceName, TrustSnapshot, TrustStore,
};
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::stop::Refusal;
use crate::proto::auth::{signed_content, sudi_signed_content, verify_ecdsa, verify_rsa_signature};
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
    pub snapshot: std::sync::Arc<TrustSnapshot>,
    pub now: OffsetDateTime,
}

impl TrustContext {
    /// LSC or MIC, as CAPF treats a certificate a phone presents (pki's one classifier).
    pub(super) fn kind_of(&self, info: &CertificateInfo) -> CertKind {
        self.snapshot.classify(info).presented_as()
    }

    /// Whether CAPF-trust trusts `der` now.
    pub(super) fn capf_trusts(&self, der: &[u8]) -> bool {
        self.snapshot.verify(TrustStore::Capf, &[der.to_vec()], self.now).is_ok_and(|v| v.is_trusted())
    }
}

/// Checks the AuthResponse against the device's Authentication Mode (the string mode excepted:
/// the session has the cluster check it). Returns the certificate the phone authenticated with,
/// for the certificate modes. `require_sudi`: the setting `capf.require_sudi`.
pub(crate) fn authenticate(
    device: &Device,
    response: &AuthResponse,
    session_id: u32,
    trust: &TrustContext,
    require_sudi: bool,
) -> Result<Option<Presented>, Refusal> {
    match device.capf.auth_mode {
        AuthMode::NullString | AuthMode::AuthenticationString => Ok(None),
        mode @ (AuthMode::ExistingCertificateLsc | AuthMode::ExistingCertificateMic) => {
            check_certificate(&device.name, mode, response, session_id, trust, require_sudi).map(Some)
        }
    }
}

fn check_certificate(
    device: &DeviceName,
    mode: AuthMode,
    response: &AuthResponse,
    session_id: u32,
    trust: &TrustContext,
    require_sudi: bool,
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

    if require_sudi && response.sudi.is_none() {
        let detail = "capf.require_sudi is on and the phone sent no SudiData (the signature bound to this session): \
                      refused, as a replayed AuthResponse would be";
        return Err(Refusal::new(failure, detail));
    }
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

/// One signature over `content` with the certificate's key: for RSA the PKCS#1 type-1 block
/// rebuilt whole, raw (as phones sign) or with DigestInfo (as capfc-style tools sign); ECDSA for EC.
pub(crate) fn check_with(info: &CertificateInfo, hash: HashId, content: &[u8], signature: &[u8]) -> Result<(), String> {
    if info.key.starts_with("RSA") {
        let bits = rsa_public_bits(&info.public_key_der).map_err(|e| e.to_string())?;
        let modulus_len = bits.div_ceil(8) as usize;
        let recovered = rsa_public_raw(&info.public_key_der, signature).map_err(|e| format!("{hash:?}: {e}"))?;
        return verify_rsa_signature(&recovered, modulus_len, hash, content)
            .map(|_form| ())
            .map_err(|e| format!("{hash:?}: {e}"));
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
