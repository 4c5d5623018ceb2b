//! Every reason a certificate fails in a store, most fundamental first, beside the one primary
//! [`Verification`] that [`verify()`] gives: an administrator fixing only the first reason shown
//! would otherwise meet the next one after the fix.

use serde::Serialize;
use time::OffsetDateTime;

use crate::signature::{check_issued_by, SignatureFailure};
use crate::verify::{validity, verify, Anchor, Verification};
use crate::{CertificateInfo, PkiError};

/// The outcome of verifying a certificate in one store, with every reason it is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What [`verify()`] says: the reason the verifier stopped at.
    #[serde(flatten)]
    pub outcome: Verification,
    /// Every reason, most fundamental first (not issued by anything in the store, then the
    /// signature, then dates, then usage); empty when trusted.
    pub reasons: Vec<Verification>,
    /// The certificate names itself as its issuer (a self-signed certificate from an unknown party).
    pub self_signed: bool,
}

impl Verdict {
    pub fn is_trusted(&self) -> bool {
        self.outcome.is_trusted()
    }
}

/// [`verify()`], plus every other reason the certificate fails in `anchors`.
pub fn verify_all(chain: &[Vec<u8>], anchors: &[Anchor], at: OffsetDateTime) -> Result<Verdict, PkiError> {
    let outcome = verify(chain, anchors, at)?;
    let leaf = CertificateInfo::parse(&chain[0])?;
    let self_signed = leaf.self_issued;
    if outcome.is_trusted() {
        return Ok(Verdict { outcome, reasons: Vec::new(), self_signed });
    }
    let mut reasons = vec![outcome.clone()];
    let top_der = chain.last().expect("verify refused an empty chain");
    let top = CertificateInfo::parse(top_der)?;
    let parsed: Vec<(CertificateInfo, &Anchor)> =
        anchors.iter().filter_map(|a| CertificateInfo::parse(&a.der).ok().map(|i| (i, a))).collect();
    let in_store = parsed.iter().any(|(i, _)| i.fingerprint == leaf.fingerprint);
    let issuers: Vec<&(CertificateInfo, &Anchor)> =
        parsed.iter().filter(|(i, _)| i.subject_der == top.issuer_der).collect();
    if !in_store && issuers.is_empty() {
        reasons.push(Verification::UnknownCa { issuer: top.issuer.clone() });
    }
    if !in_store && !issuers.is_empty() {
        reasons.extend(signature_reason(&top, top_der, &issuers)?);
    }
    for der in chain {
        reasons.extend(CertificateInfo::parse(der).ok().and_then(|i| validity(&i, at)));
    }
    reasons.extend(issuers.iter().filter_map(|(i, _)| validity(i, at)));
    reasons.extend(usage_reasons(&leaf));
    reasons.sort_by_key(rank);
    // One "not issued by anything in the store", however the verifier named the issuer.
    reasons.dedup_by(|a, b| a == b || (rank(a) == 1 && rank(b) == 1));
    Ok(Verdict { outcome, reasons, self_signed })
}

/// A bad signature, when no same-named anchor's key made it (none is checked once one did).
fn signature_reason(
    top: &CertificateInfo,
    der: &[u8],
    issuers: &[&(CertificateInfo, &Anchor)],
) -> Result<Option<Verification>, PkiError> {
    let mut refused_sha1 = false;
    for (info, anchor) in issuers {
        match check_issued_by(der, &info.public_key_der, anchor.legacy_sha1)? {
            Ok(()) | Err(SignatureFailure::Unsupported(_)) => return Ok(None),
            Err(SignatureFailure::Sha1Refused) => refused_sha1 = true,
            Err(SignatureFailure::Mismatch) => {}
        }
    }
    Ok(Some(if refused_sha1 {
        Verification::LegacySha1Refused { issuer: top.issuer.clone() }
    } else {
        Verification::BadSignature { issuer: top.issuer.clone() }
    }))
}

/// What a phone's certificate must allow for TLS client authentication.
fn usage_reasons(leaf: &CertificateInfo) -> Vec<Verification> {
    let mut out = Vec::new();
    if leaf.is_ca {
        return out;
    }
    if !leaf.allows_digital_signature() {
        out.push(Verification::WrongKeyUsage {
            detail: format!("key usage is '{}', without Digital Signature", leaf.key_usage.join(", ")),
        });
    }
    let eku = &leaf.extended_key_usage;
    if !eku.is_empty() && !eku.iter().any(|e| e == "clientAuth") {
        out.push(Verification::WrongKeyUsage {
            detail: format!("extended key usage '{}' lacks TLS Web Client Authentication", eku.join(", ")),
        });
    }
    out
}

/// Most fundamental first: who issued it, whether they did, when, and for what.
fn rank(v: &Verification) -> u8 {
    match v {
        Verification::Trusted { .. } => 0,
        Verification::UnknownCa { .. } => 1,
        Verification::BadSignature { .. } | Verification::LegacySha1Refused { .. } => 2,
        Verification::Expired { .. } | Verification::NotYetValid { .. } => 3,
        Verification::WrongKeyUsage { .. } => 4,
        Verification::Invalid { .. } => 5,
    }
}
