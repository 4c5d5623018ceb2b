//! The certificates of a CUCM-style phone PKI, with no I/O.
//!
//! Modules are private and their items re-exported here; two stay public namespaces.
//!
//! - `keys`: RSA 1024–4096 and EC P-256/384/521 keys ([`PrivateKey`], AWS-LC).
//! - [`profiles`] (public): the CAPF, CallManager, ITLRecovery, TVS, tomcat (admin HTTPS), LSC and
//!   lab-manufacturer (MIC) certificate profiles and the CSRs for an enterprise CA; a namespace of one function per profile and their defaults
//!   (`profiles::callmanager_certificate`, `profiles::CAPF_DEFAULT_DAYS`, ...), with
//!   [`CaSigner`], [`LscRequest`] and [`IssuedCertificate`] re-exported here.
//! - `cert`: what a certificate says, parsed once ([`CertificateInfo`], [`fingerprint`],
//!   [`dns_names`]).
//! - `classify`: LSC of this cluster, LSC of another cluster, MIC, other: the one classifier
//!   ([`classify()`], [`CertificateKind`], [`issued_by`], [`issuer_is`], [`is_capf_name`],
//!   [`is_manufacturing_ca`], [`MIC_ISSUERS`], [`MANUFACTURING_ROOTS`]).
//! - `binding`: the one rule for "the device a certificate names" (LSC and MIC CNs, `SEP…` or
//!   `CP-8861-SEP…`): [`names_device`], [`device_named_by`], [`DEVICE_CN_RULE`].
//! - `snapshot`: [`TrustSnapshot`], the cluster's CAPF certificates and trust anchors read once,
//!   shared by CAPF, CallManager, `cert inspect` and the diagnostics ([`CapfCertificate`],
//!   [`StoreEntry`]).
//! - `verify`: verification against one trust store, with a precise [`Verification`] outcome
//!   ([`verify()`], [`Anchor`]); [`verify_server`] for a TLS server certificate (tomcat).
//! - `reasons`: every reason a certificate fails in a store, most fundamental first, beside the
//!   primary outcome ([`verify_all`], [`Verdict`]).
//! - [`CertKind`], [`DeviceName`], [`TrustStore`], [`KeyAlgorithm`], [`SubjectFields`] and [`Role`] come from `opencapf-model`
//!   and are re-exported because this crate's functions take them.
//! - `signature`: one certificate's signature checked against one issuer key (SHA-1 included,
//!   under a policy), outside path building ([`check_issued_by`], [`SignatureFailure`]).
//! - `rawkey`: the AWS-LC calls aws-lc-rs does not expose: RSA keys below 2048 bits and raw
//!   PKCS#1 type-1 signatures, as the CAPF protocol uses them ([`rsa_sign_raw_pkcs1`],
//!   [`rsa_public_raw`], [`rsa_public_bits`]); the crate's only unsafe code.
//! - [`pem`] (public): PEM in and out; a namespace because its two functions (`pem::encode`,
//!   `pem::parse_certificates`) name the format only through the module.
//! - `resign`: SHA-1 certificates for the older manufacturing CAs, which rcgen cannot sign
//!   ([`resign_sha1`]).
//! - `crl`: a CAPF certificate's CRL ([`signed_crl`], [`RevokedSerial`]).
//! - `csr`: PKCS#10 requests devices send to EST, read with their signature verified
//!   ([`SigningRequest`]), and made for the simulator ([`device_csr`]).
//! - `itl`: ITL/CTL `.tlv` trust lists and `.sgn` signed files, read, verified and built
//!   ([`Itl`], [`SignedFile`], [`build_itl`], [`build_sgn`], [`FileHeader`], [`ItlRecord`],
//!   [`FileSigner`], [`FileHash`], [`SignerVersion`], [`ItlError`]).

mod binding;
mod cert;
mod classify;
mod crl;
mod csr;
mod itl;
mod keys;
pub mod pem;
pub mod profiles;
mod rawkey;
mod reasons;
mod resign;
mod signature;
mod snapshot;
mod verify;

pub use binding::{device_named_by, names_device, DEVICE_CN_RULE};
pub use cert::{dns_names, fingerprint, CertificateInfo};
pub use classify::{
    classify, is_capf_name, is_manufacturing_ca, issued_by, issuer_is, CertificateKind, MANUFACTURING_ROOTS,
    MIC_ISSUERS,
};
pub use crl::{signed_crl, RevokedSerial};
pub use csr::{device_csr, SigningRequest, MAX_CSR_BYTES};
pub use itl::{
    build_itl, build_sgn, FileHash, FileHeader, FileSigner, Itl, ItlError, ItlRecord, SignedFile, SignerVersion,
    MAX_FILE_BYTES, MAX_ITL_BYTES, MAX_RECORDS,
};
pub use keys::PrivateKey;
pub use opencapf_model::{CertKind, DeviceName, KeyAlgorithm, Role, SubjectFields, TrustStore};
pub use profiles::{CaSigner, IssuedCertificate, LscRequest};
pub use rawkey::{rsa_public_bits, rsa_public_raw, rsa_sign_raw_pkcs1};
pub use reasons::{verify_all, Verdict};
pub use resign::resign_sha1;
pub use signature::{check_issued_by, SignatureFailure};
pub use snapshot::{CapfCertificate, StoreEntry, TrustSnapshot};
pub use verify::{verify, verify_server, Anchor, Verification};

/// Errors of the PKI layer. Messages are written for the administrator who will read them.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Parse(String),
    #[error("{0}")]
    Profile(String),
    #[error("{0}")]
    Signature(String),
    /// A name or spec that is not valid (device name, trust store, key type, subject field).
    #[error(transparent)]
    Model(#[from] opencapf_model::ModelError),
}

/// `n` random decimal digits, for authentication strings (uniform: no modulo bias).
pub fn random_digits(n: usize) -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut b = [0u8; 1];
        rng.fill(&mut b).expect("system RNG");
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    out
}
