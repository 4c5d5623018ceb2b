//! TLS of the registration listeners: a client certificate that is required and verified against
//! CallManager-trust. The configuration itself (versions, suites, no resumption, the CallManager
//! certificate followed in the store) is [`opencapf_tls`]'s.
//!
//! - **One verifier per connection.** Before each handshake the anchors of CallManager-trust are
//!   taken from the cluster, which `serve` keeps until the store's change feed reports a change
//!   (from this node, another node or the CLI), so a change applies to the next connection with
//!   no restart (CUCM needs a restart of the Cisco CallManager service for the same). The verifier keeps what
//!   it found, so a refused handshake is recorded with its reason.
//! - **Same verdict as the CLI.** The chain goes through [`opencapf_pki::verify_all()`], with each
//!   anchor's legacy-SHA-1 policy, exactly as `opencapf cert inspect` judges it.
//! - **Only the installed LSC.** A trusted LSC of this cluster that is not its device's installed
//!   one (failed, superseded, deleted, revoked: [`opencapf_cluster::not_current`]) is refused
//!   with `certificate_revoked`: each is in its CAPF certificate's CRL, so a verifier outside the
//!   cluster refuses it the same way. The refusals are taken with the anchors, per connection.
//! - **Alerts.** Unknown issuer → `unknown_ca`; expired or not yet valid → `certificate_expired`;
//!   bad signature or a SHA-1 signature the store's policy refuses → `decrypt_error`; wrong key
//!   usage → `unsupported_certificate`; an unreadable certificate → `bad_certificate`; no
//!   certificate → `certificate_required` (TLS 1.3) or `handshake_failure` (TLS 1.2).
//! - **RSA keys from 1024 bits.** CUCM issues LSCs with 1024-bit RSA keys (older profiles default
//!   to it), which rustls' own algorithms refuse below 2048 bits. In TLS 1.2 the phone's
//!   CertificateVerify (RSA PKCS#1 with SHA-256 or SHA-512) is checked with AWS-LC's
//!   1024-to-8192-bit algorithms instead ([`opencapf_tls::phone_signature_algorithms`]); TLS 1.3
//!   (RSA-PSS) still needs 2048 bits.
//! - **No resumption.** Neither session ids nor tickets: each connection verifies its certificate
//!   against the store of that moment.
//! - **Two engines, one judgement.** rustls serves TLS 1.2 and 1.3 with ECDHE and AES-GCM or
//!   ChaCha20-Poly1305. Phones that offer only TLS 1.0, the AES-SHA suites (79xx, SCCP over TLS)
//!   or NULL-SHA (the Authenticated profile) are served by OpenSSL, as far as the cluster's
//!   `tls.*` settings allow ([`opencapf_tls::accept`] chooses). OpenSSL's verify callback calls
//!   the same [`PhoneVerifier::judge`] ([`LegacyClientVerifier`]), and each verdict is sent as
//!   the same alert ([`legacy_alert`] beside [`alert_error`]).

use std::sync::{Arc, Mutex};

use opencapf_cluster::{LscRefusals, NotCurrent};
use opencapf_pki::{verify_all, Anchor, CertificateInfo, Verdict, Verification};
use opencapf_tls::{LegacyAlert, LegacyClientVerifier};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use time::OffsetDateTime;

/// What the verifier made of the certificate a phone presented.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// The phone's certificate, when it could be parsed.
    pub info: Option<CertificateInfo>,
    /// The verdict of CallManager-trust, or why there is none.
    pub verdict: Result<Verdict, String>,
    /// A trusted LSC of this cluster that is not its device's installed one, and why.
    pub not_current: Option<NotCurrent>,
}

/// A client-certificate verifier over a snapshot of CallManager-trust, for one connection.
#[derive(Debug)]
pub(crate) struct PhoneVerifier {
    anchors: Vec<Anchor>,
    refusals: Arc<LscRefusals>,
    hints: Vec<DistinguishedName>,
    checked: Mutex<Option<Checked>>,
}

impl PhoneVerifier {
    /// `refusals`: the cluster's LSCs that are not current ([`opencapf_cluster::Cluster::lsc_refusals`]).
    pub(crate) fn new(anchors: Vec<Anchor>, refusals: Arc<LscRefusals>) -> Self {
        // The store's names go in the CertificateRequest, as CUCM sends them.
        let hints = anchors
            .iter()
            .filter_map(|a| CertificateInfo::parse(&a.der).ok())
            .map(|i| DistinguishedName::from(i.subject_der))
            .collect();
        PhoneVerifier { anchors, refusals, hints, checked: Mutex::new(None) }
    }

    /// What the last judgement found (`None`: the phone sent no certificate).
    pub(crate) fn checked(&self) -> Option<Checked> {
        self.checked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn remember(&self, c: Checked) {
        *self.checked.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
    }
}

/// The rustls error, hence the TLS alert, for a verdict that is not "trusted".
pub(crate) fn alert_error(v: &Verification) -> rustls::Error {
    let e = match v {
        Verification::Trusted { .. } => return rustls::Error::General("trusted".into()),
        Verification::UnknownCa { .. } => CertificateError::UnknownIssuer,
        Verification::Expired { .. } => CertificateError::Expired,
        Verification::NotYetValid { .. } => CertificateError::NotValidYet,
        Verification::BadSignature { .. } => CertificateError::BadSignature,
        Verification::LegacySha1Refused { .. } => CertificateError::UnsupportedSignatureAlgorithmContext {
            // sha1WithRSAEncryption, the algorithm the store's policy refused.
            signature_algorithm_id: vec![0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00],
            supported_algorithms: Vec::new(),
        },
        Verification::WrongKeyUsage { .. } => CertificateError::InvalidPurpose,
        Verification::Invalid { .. } => CertificateError::BadEncoding,
    };
    rustls::Error::InvalidCertificate(e)
}

fn to_offset(now: UnixTime) -> OffsetDateTime {
    i64::try_from(now.as_secs())
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// The verdict on a phone's chain, whichever engine serves the connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Judgement {
    Trusted,
    /// Trusted, but not its device's installed LSC.
    Revoked,
    /// Not trusted: the most fundamental reason.
    Untrusted(Verification),
    Unreadable,
}

impl PhoneVerifier {
    /// The one judgement of both engines: the chain (the phone's certificate first) against
    /// CallManager-trust and the cluster's LSCs; what was found is remembered for the records.
    pub(crate) fn judge(&self, chain: &[Vec<u8>], now: OffsetDateTime) -> Judgement {
        let info = chain.first().and_then(|c| CertificateInfo::parse(c).ok());
        match verify_all(chain, &self.anchors, now) {
            Ok(v) => {
                let not_current =
                    info.as_ref().filter(|_| v.is_trusted()).and_then(|i| self.refusals.refusal(i)).cloned();
                let judgement = match (&not_current, v.is_trusted()) {
                    // Failed only because CAPF stopped before the phone confirmed storing it:
                    // the connection confirms it (`connection::confirm_late`), or is refused.
                    (Some(n), true) if n.late_confirmable => Judgement::Trusted,
                    (Some(_), _) => Judgement::Revoked,
                    (None, true) => Judgement::Trusted,
                    (None, false) => Judgement::Untrusted(v.outcome.clone()),
                };
                self.remember(Checked { info, verdict: Ok(v), not_current });
                judgement
            }
            Err(e) => {
                let verdict = Err(format!("unreadable certificate: {e}"));
                self.remember(Checked { info, verdict, not_current: None });
                Judgement::Unreadable
            }
        }
    }
}

/// The alert OpenSSL sends for a verdict that is not "trusted": the same as rustls'
/// ([`alert_error`]), so a phone logs the same line whichever engine served it.
pub(crate) fn legacy_alert(v: &Verification) -> LegacyAlert {
    match v {
        // Not called for a trusted verdict; fail closed all the same.
        Verification::Trusted { .. } => LegacyAlert::HandshakeFailure,
        Verification::UnknownCa { .. } => LegacyAlert::UnknownCa,
        Verification::Expired { .. } | Verification::NotYetValid { .. } => LegacyAlert::CertificateExpired,
        Verification::BadSignature { .. } | Verification::LegacySha1Refused { .. } => LegacyAlert::DecryptError,
        Verification::WrongKeyUsage { .. } => LegacyAlert::UnsupportedCertificate,
        Verification::Invalid { .. } => LegacyAlert::BadCertificate,
    }
}

impl LegacyClientVerifier for PhoneVerifier {
    fn verify(&self, chain: &[Vec<u8>]) -> Result<(), LegacyAlert> {
        match self.judge(chain, OffsetDateTime::now_utc()) {
            Judgement::Trusted => Ok(()),
            Judgement::Revoked => Err(LegacyAlert::CertificateRevoked),
            Judgement::Untrusted(v) => Err(legacy_alert(&v)),
            Judgement::Unreadable => Err(LegacyAlert::BadCertificate),
        }
    }
}

impl ClientCertVerifier for PhoneVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.to_vec()];
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        match self.judge(&chain, to_offset(now)) {
            Judgement::Trusted => Ok(ClientCertVerified::assertion()),
            Judgement::Revoked => Err(rustls::Error::InvalidCertificate(CertificateError::Revoked)),
            Judgement::Untrusted(v) => Err(alert_error(&v)),
            Judgement::Unreadable => Err(rustls::Error::InvalidCertificate(CertificateError::BadEncoding)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, opencapf_tls::phone_signature_algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, opencapf_tls::phone_signature_algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        opencapf_tls::phone_signature_algorithms().supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::AlertDescription;

    fn alert(v: Verification) -> AlertDescription {
        match alert_error(&v) {
            rustls::Error::InvalidCertificate(e) => AlertDescription::from(e),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verdicts_map_to_the_alerts_phones_log() {
        assert_eq!(alert(Verification::UnknownCa { issuer: "x".into() }), AlertDescription::UnknownCA);
        let expired = Verification::Expired { subject: "x".into(), not_after: "y".into() };
        assert_eq!(alert(expired), AlertDescription::CertificateExpired);
        let early = Verification::NotYetValid { subject: "x".into(), not_before: "y".into() };
        assert_eq!(alert(early), AlertDescription::CertificateExpired);
        assert_eq!(alert(Verification::BadSignature { issuer: "x".into() }), AlertDescription::DecryptError);
        assert_eq!(alert(Verification::LegacySha1Refused { issuer: "x".into() }), AlertDescription::DecryptError);
        let usage = Verification::WrongKeyUsage { detail: "x".into() };
        assert_eq!(alert(usage), AlertDescription::UnsupportedCertificate);
        assert_eq!(alert(Verification::Invalid { detail: "x".into() }), AlertDescription::BadCertificate);
    }
}
