//! Verifying a device certificate against one trust store, with a precise outcome.
//!
//! As in CUCM, every entry of a store is a trust anchor. End-entity certificates go through
//! rustls-webpki; SHA-1 signatures are offered to it only through anchors whose legacy-SHA-1 policy
//! is on; CA certificates (which webpki will not take as a leaf) get a one-step check.

use std::fmt;

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use serde::Serialize;
use time::OffsetDateTime;

use crate::signature::{check_issued_by, RsaPkcs1Sha1Legacy, SignatureFailure};
use crate::{CertificateInfo, PkiError};

/// One entry of a trust store, as the verifier sees it.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub der: Vec<u8>,
    /// Accept SHA-1 signatures made by this anchor (or by CAs under it).
    pub legacy_sha1: bool,
}

/// The outcome of verifying a certificate in one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Verification {
    Trusted { anchor: String, anchor_fingerprint: String },
    UnknownCa { issuer: String },
    Expired { subject: String, not_after: String },
    NotYetValid { subject: String, not_before: String },
    BadSignature { issuer: String },
    WrongKeyUsage { detail: String },
    LegacySha1Refused { issuer: String },
    Invalid { detail: String },
}

impl Verification {
    pub fn is_trusted(&self) -> bool {
        matches!(self, Verification::Trusted { .. })
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verification::Trusted { anchor, .. } => write!(f, "trusted, by anchor {anchor}"),
            Verification::UnknownCa { issuer } => write!(f, "unknown CA: issuer {issuer} is not in the store"),
            Verification::Expired { subject, not_after } => write!(f, "expired: {subject} ended {not_after}"),
            Verification::NotYetValid { subject, not_before } => {
                write!(f, "not yet valid: {subject} starts {not_before}")
            }
            Verification::BadSignature { issuer } => {
                write!(f, "bad signature: not signed by the key of {issuer} found in the store")
            }
            Verification::WrongKeyUsage { detail } => write!(f, "wrong key usage: {detail}"),
            Verification::LegacySha1Refused { issuer } => {
                write!(f, "SHA-1 signature refused: the store's legacy-SHA-1 policy is off for {issuer}")
            }
            Verification::Invalid { detail } => write!(f, "invalid: {detail}"),
        }
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

pub(crate) fn validity(info: &CertificateInfo, at: OffsetDateTime) -> Option<Verification> {
    if at > info.not_after {
        Some(Verification::Expired { subject: info.subject.clone(), not_after: rfc3339(info.not_after) })
    } else if at < info.not_before {
        Some(Verification::NotYetValid { subject: info.subject.clone(), not_before: rfc3339(info.not_before) })
    } else {
        None
    }
}

fn trusted(anchor: &CertificateInfo, at: OffsetDateTime) -> Verification {
    // webpki does not look at an anchor's own dates; CUCM stores do expire their entries.
    validity(anchor, at).unwrap_or_else(|| Verification::Trusted {
        anchor: anchor.subject.clone(),
        anchor_fingerprint: anchor.fingerprint.clone(),
    })
}

/// Verifies `chain` (the device certificate first, then any intermediates) against `anchors` at `at`.
pub fn verify(chain: &[Vec<u8>], anchors: &[Anchor], at: OffsetDateTime) -> Result<Verification, PkiError> {
    let leaf_der = chain.first().ok_or_else(|| PkiError::Parse("no certificate to verify".into()))?;
    let leaf = CertificateInfo::parse(leaf_der)?;
    let parsed: Vec<(CertificateInfo, &Anchor)> =
        anchors.iter().filter_map(|a| CertificateInfo::parse(&a.der).ok().map(|i| (i, a))).collect();

    if let Some((info, _)) = parsed.iter().find(|(i, _)| i.fingerprint == leaf.fingerprint) {
        return Ok(validity(&leaf, at).unwrap_or_else(|| trusted(info, at)));
    }
    if let Some(v) = validity(&leaf, at) {
        return Ok(v);
    }
    // Name the intermediate that is out of its dates (webpki's error would not say which).
    for der in &chain[1..] {
        if let Some(v) = CertificateInfo::parse(der).ok().and_then(|i| validity(&i, at)) {
            return Ok(v);
        }
    }
    if leaf.is_ca {
        return ca_one_step(&leaf, leaf_der, &parsed, at);
    }
    if !leaf.allows_digital_signature() {
        return Ok(Verification::WrongKeyUsage {
            detail: format!("key usage is '{}', without Digital Signature", leaf.key_usage.join(", ")),
        });
    }

    let modern: Vec<&dyn SignatureVerificationAlgorithm> = webpki::ALL_VERIFICATION_ALGS.to_vec();
    match run_webpki(chain, &parsed, |_| true, &modern, at, Purpose::Client)? {
        Ok(anchor) => Ok(trusted(anchor, at)),
        Err(e) if is_sig_alg_error(&e) => {
            let mut with_sha1 = modern.clone();
            with_sha1.push(&RsaPkcs1Sha1Legacy);
            match run_webpki(chain, &parsed, |a| a.legacy_sha1, &with_sha1, at, Purpose::Client)? {
                Ok(anchor) => Ok(trusted(anchor, at)),
                // Only anchors with the legacy policy were offered: a path that needs SHA-1
                // through any other anchor ends here.
                Err(e2) if chain_has_sha1(chain) && (e2 == webpki::Error::UnknownIssuer || is_sig_alg_error(&e2)) => {
                    Ok(Verification::LegacySha1Refused { issuer: leaf.issuer.clone() })
                }
                Err(e2) if chain_has_sha1(chain) => Ok(map_error(e2, &leaf, Purpose::Client)),
                // No SHA-1 in the chain: the second pass had nothing to add (and, offered only the
                // legacy anchors, would say UnknownIssuer); the first pass's answer stands.
                Err(_) => Ok(map_error(e, &leaf, Purpose::Client)),
            }
        }
        Err(e) => Ok(map_error(e, &leaf, Purpose::Client)),
    }
}

/// Verifies a TLS server certificate `chain` (leaf first) against `anchors` at `at`, for the
/// purpose a browser checks (EKU serverAuth), without the legacy SHA-1 policy: browsers refuse
/// SHA-1. For the admin web service's certificate (`tomcat`) an enterprise CA signed.
pub fn verify_server(chain: &[Vec<u8>], anchors: &[Anchor], at: OffsetDateTime) -> Result<Verification, PkiError> {
    let leaf_der = chain.first().ok_or_else(|| PkiError::Parse("no certificate to verify".into()))?;
    let leaf = CertificateInfo::parse(leaf_der)?;
    let parsed: Vec<(CertificateInfo, &Anchor)> =
        anchors.iter().filter_map(|a| CertificateInfo::parse(&a.der).ok().map(|i| (i, a))).collect();
    for der in chain {
        if let Some(v) = CertificateInfo::parse(der).ok().and_then(|i| validity(&i, at)) {
            return Ok(v);
        }
    }
    let algs: Vec<&dyn SignatureVerificationAlgorithm> = webpki::ALL_VERIFICATION_ALGS.to_vec();
    Ok(match run_webpki(chain, &parsed, |_| true, &algs, at, Purpose::Server)? {
        Ok(anchor) => trusted(anchor, at),
        Err(e) => map_error(e, &leaf, Purpose::Server),
    })
}

/// What the leaf is verified for: a phone's certificate is a TLS client's, tomcat a server's.
#[derive(Clone, Copy)]
enum Purpose {
    Client,
    Server,
}

impl Purpose {
    fn usage(self) -> webpki::KeyUsage {
        match self {
            Purpose::Client => webpki::KeyUsage::client_auth(),
            Purpose::Server => webpki::KeyUsage::server_auth(),
        }
    }

    /// The EKU's name as `openssl x509 -text` prints it.
    fn eku_name(self) -> &'static str {
        match self {
            Purpose::Client => "TLS Web Client Authentication",
            Purpose::Server => "TLS Web Server Authentication",
        }
    }
}

fn chain_has_sha1(chain: &[Vec<u8>]) -> bool {
    chain.iter().any(|c| CertificateInfo::parse(c).is_ok_and(|i| i.sha1_signed))
}

#[allow(deprecated)] // webpki still returns the unit variants in some paths
fn is_sig_alg_error(e: &webpki::Error) -> bool {
    use webpki::Error::*;
    matches!(
        e,
        UnsupportedSignatureAlgorithm
            | UnsupportedSignatureAlgorithmContext(_)
            | UnsupportedSignatureAlgorithmForPublicKey
            | UnsupportedSignatureAlgorithmForPublicKeyContext(_)
    )
}

fn run_webpki<'a>(
    chain: &[Vec<u8>],
    anchors: &'a [(CertificateInfo, &Anchor)],
    keep: impl Fn(&Anchor) -> bool,
    algs: &[&dyn SignatureVerificationAlgorithm],
    at: OffsetDateTime,
    purpose: Purpose,
) -> Result<Result<&'a CertificateInfo, webpki::Error>, PkiError> {
    let ders: Vec<CertificateDer<'_>> = anchors.iter().map(|(_, a)| CertificateDer::from(a.der.as_slice())).collect();
    let mut tas: Vec<(TrustAnchor<'_>, &CertificateInfo)> = Vec::new();
    for (der, (info, a)) in ders.iter().zip(anchors) {
        if keep(a) {
            if let Ok(ta) = webpki::anchor_from_trusted_cert(der) {
                tas.push((ta, info));
            }
        }
    }
    let only: Vec<TrustAnchor<'_>> = tas.iter().map(|(t, _)| t.clone()).collect();
    let leaf = CertificateDer::from(chain[0].as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf).map_err(|e| PkiError::Parse(webpki_words(&e)))?;
    let intermediates: Vec<CertificateDer<'_>> =
        chain[1..].iter().map(|c| CertificateDer::from(c.as_slice())).collect();
    let secs = u64::try_from(at.unix_timestamp()).unwrap_or(0);
    let result = ee.verify_for_usage(
        algs,
        &only,
        &intermediates,
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
        purpose.usage(),
        None,
        None,
    );
    Ok(result.map(|path| {
        let used = path.anchor();
        tas.iter()
            .find(|(t, _)| t.subject == used.subject && t.subject_public_key_info == used.subject_public_key_info)
            .map(|(_, info)| *info)
            .expect("webpki returns one of the anchors it was given")
    }))
}

#[allow(deprecated)]
fn map_error(e: webpki::Error, leaf: &CertificateInfo, purpose: Purpose) -> Verification {
    use webpki::Error::*;
    match e {
        UnknownIssuer => Verification::UnknownCa { issuer: leaf.issuer.clone() },
        CertExpired { not_after, .. } => Verification::Expired {
            subject: "an intermediate certificate".into(),
            not_after: unix_date(not_after.as_secs()),
        },
        CertNotValidYet { not_before, .. } => Verification::NotYetValid {
            subject: "an intermediate certificate".into(),
            not_before: unix_date(not_before.as_secs()),
        },
        InvalidSignatureForPublicKey => Verification::BadSignature { issuer: leaf.issuer.clone() },
        // An ECDSA signature checked with an RSA key, or the other way round: that key did not make it.
        UnsupportedSignatureAlgorithmForPublicKeyContext(cx) if other_key_kind(&cx) => {
            Verification::BadSignature { issuer: leaf.issuer.clone() }
        }
        RequiredEkuNotFound | RequiredEkuNotFoundContext(_) => Verification::WrongKeyUsage {
            detail: format!("extended key usage '{}' lacks {}", leaf.extended_key_usage.join(", "), purpose.eku_name()),
        },
        other => Verification::Invalid { detail: webpki_words(&other) },
    }
}

/// A webpki error in words (its Display is its Debug, type names included).
#[allow(deprecated)]
fn webpki_words(e: &webpki::Error) -> String {
    use webpki::Error::*;
    match e {
        BadDer | BadDerTime | TrailingData(_) => "the certificate's DER encoding is malformed".into(),
        UnsupportedCriticalExtension => "it carries a critical extension that is not supported".into(),
        CaUsedAsEndEntity => "a CA certificate is presented as the device certificate".into(),
        EndEntityUsedAsCa => "a device certificate is used as a CA in the chain".into(),
        PathLenConstraintViolated => "the chain is longer than a CA's path length constraint allows".into(),
        NameConstraintViolation => "a name is outside a CA's name constraints".into(),
        UnsupportedCertVersion => "the certificate is not X.509 version 3".into(),
        MaximumSignatureChecksExceeded | MaximumPathBuildCallsExceeded | MaximumPathDepthExceeded => {
            "the chain is too long or too complex to check".into()
        }
        _ => "the certificate chain cannot be validated".into(),
    }
}

/// webpki's seconds since 1970, as the RFC 3339 date the other outcomes carry.
fn unix_date(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(|| format!("{secs}s after 1970"), rfc3339)
}

/// Whether the signature is RSA and the key not, or the reverse (webpki's ids start with the OID).
fn other_key_kind(cx: &webpki::UnsupportedSignatureAlgorithmForPublicKeyContext) -> bool {
    const PKCS1_OID_PREFIX: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    cx.signature_algorithm_id.starts_with(PKCS1_OID_PREFIX) != cx.public_key_algorithm_id.starts_with(PKCS1_OID_PREFIX)
}

/// A CA certificate (say, "Cisco Manufacturing CA SHA2") checked against the anchors one step up.
fn ca_one_step(
    leaf: &CertificateInfo,
    leaf_der: &[u8],
    anchors: &[(CertificateInfo, &Anchor)],
    at: OffsetDateTime,
) -> Result<Verification, PkiError> {
    let candidates: Vec<_> = anchors.iter().filter(|(i, _)| i.subject_der == leaf.issuer_der).collect();
    if candidates.is_empty() {
        return Ok(Verification::UnknownCa { issuer: leaf.issuer.clone() });
    }
    let mut refused_sha1 = false;
    let mut unsupported = None;
    // Every same-named anchor is tried, as webpki does for end-entity certificates.
    for (info, anchor) in candidates {
        match check_issued_by(leaf_der, &info.public_key_der, anchor.legacy_sha1)? {
            Ok(()) => return Ok(trusted(info, at)),
            Err(SignatureFailure::Sha1Refused) => refused_sha1 = true,
            Err(SignatureFailure::Unsupported(alg)) => unsupported = Some(alg),
            Err(SignatureFailure::Mismatch) => {}
        }
    }
    Ok(if refused_sha1 {
        Verification::LegacySha1Refused { issuer: leaf.issuer.clone() }
    } else if let Some(alg) = unsupported {
        Verification::Invalid { detail: format!("unsupported signature algorithm {alg}") }
    } else {
        Verification::BadSignature { issuer: leaf.issuer.clone() }
    })
}
