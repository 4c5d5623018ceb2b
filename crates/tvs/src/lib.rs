//! TVS, the Trust Verification Service (TCP 2445 inside TLS): a phone asks the TVS of the
//! cluster it trusts whether a certificate that is not in its ITL is trusted, and for which
//! roles (`docs/capf-protocol.md` §3; phone-boot.md §1.4). One request per connection.
//!
//! | module | what it holds |
//! |---|---|
//! | `proto` | the codec: [`Header`], [`VerifyRequest`], [`VerifyResponse`] and its [`Answer`], [`Request`], [`ProtoError`]; pure and bounded |
//! | `server` | [`TvsServer`], an [`opencapf_net::Service`]: TLS with the cluster's TVS certificate (an [`opencapf_tls::IdentitySource`]; rustls, or OpenSSL for the legacy phones of [`Directory::tls_settings`]), one request, the answer of a [`Directory`] |
//! | `client` | [`verify`]: what a phone does, trusting the server only if its certificate is one of the ITL's TVS certificates, byte for byte; [`verify_over`] the same over a TLS session the caller checked (a legacy phone's OpenSSL client) |

mod client;
mod proto;
mod server;

pub use client::{verify, verify_over, TvsError, DEFAULT_PORT};
pub use proto::{
    Answer, Command, Header, ProtoError, Request, VerifyRequest, VerifyResponse, HEADER_LEN, MAX_CERTIFICATE,
    MAX_DEVICE_NAME, MAX_REQUEST_BODY, PROTOCOL_ID, VERSION,
};
pub use server::{Directory, ServerError, TvsOptions, TvsServer};
