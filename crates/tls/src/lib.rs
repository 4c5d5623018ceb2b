//! The TLS policy of OpenCAPF: every rustls configuration of the project is built here, so the
//! CAPF server, the CAPF client, CallManager and the phone simulator offer the same versions and
//! suites, and every listener follows the store's certificate the same way.
//!
//! | module | what it holds |
//! |---|---|
//! | `policy` | the provider (AWS-LC, every suite it has), [`TlsVersions`], the phone's suite order |
//! | `server` | [`server_config`]: one certificate, with or without a client-certificate verifier ([`server_config_with_versions`] for test peers) |
//! | `client` | [`client_config`]: a custom server verifier (trust list), an optional client certificate |
//! | `trust` | [`TrustListVerifier`]: a phone's check of a server, its certificate byte for byte against a trust list |
//! | `resolver` | [`CertResolver`]: the certificate to serve, keyed by the stored fingerprint, through [`IdentitySource`] |
//! | `legacy` | RSA PKCS#1 v1.5 from 1024 bits, verifying (CallManager) and signing (phones) |
//! | `names` | versions, suites and alerts as OpenSSL and rustls spell them ([`version_name`], [`cipher_name`], [`suite_name`], [`iana_name`], [`alert_name`]) |
//! | `hello` | [`peek_client_hello`]: the ClientHello, read without consuming it, as a [`ClientHelloSummary`] |
//! | `choose` | [`choose`]: rustls, OpenSSL or a [`Refusal`], from the hello and the cluster's [`LegacyPolicy`] |
//! | `openssl_engine` | [`LegacyAcceptor`]: OpenSSL for TLS 1.0-1.2 CBC and NULL-SHA; [`LegacyClientVerifier`] checks client certificates |
//! | `accept` | [`accept`]: peek, choose, handshake under one timeout, into a [`ServerTls`] of either engine ([`SessionInfo`]) |
//! | `legacy_client` | [`connect_legacy`]: OpenSSL's client side, for simulated legacy phones |
//!
//! Two engines on one port: rustls serves every client it can (TLS 1.2 and 1.3, ECDHE with
//! AES-GCM or ChaCha20-Poly1305). OpenSSL serves only what rustls will never have and the
//! cluster allows: TLS 1.0/1.1 and the AES-CBC-SHA and NULL-SHA suites of older phones (79xx,
//! 89xx/99xx, SCCP over TLS, Authenticated devices), as CUCM still does.

mod accept;
mod choose;
mod client;
mod hello;
mod legacy;
mod legacy_client;
mod names;
mod openssl_engine;
mod policy;
mod resolver;
mod server;
mod trust;

pub use accept::{accept, AcceptError, Engine, ServerTls, SessionInfo};
pub use choose::{choose, version_label, LegacyPolicy, MinVersion, Refusal, Route, CBC_SUITES, NULL_SHA};
pub use hello::{peek_client_hello, ClientHelloSummary, HelloError, MAX_HELLO_RECORD};
pub use legacy_client::{connect_legacy, LegacyClientConfig, LegacyConnectError, ServerCheck};
pub use openssl_engine::{LegacyAcceptor, LegacyAlert, LegacyClientVerifier, LegacyError};

pub use client::{certified_key, client_config};
pub use legacy::{legacy_signing_key, phone_signature_algorithms};
pub use names::{alert_name, cipher_name, iana_name, suite_name, version_name, NAMED_ALERTS};
pub use policy::{phone_provider, provider, TlsVersions};
pub use resolver::{CertResolver, Identity, IdentitySource, Served, SourceError};
pub use server::{server_config, server_config_with_versions};
pub use trust::{PresentedCertificate, TrustListVerifier};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused the configuration (a key that does not match, no usable version...).
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
    /// The identity source could not say which certificate to serve.
    #[error(transparent)]
    Source(SourceError),
    /// The key cannot sign TLS handshakes.
    #[error("the key cannot sign in TLS: {0}")]
    Key(String),
}
