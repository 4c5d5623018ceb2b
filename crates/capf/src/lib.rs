//! OpenCAPF's implementation of Cisco's CAPF protocol (Certificate Authority
//! Proxy Function, TCP 3804 inside TLS), the exchange through which a phone
//! authenticates and gets, uploads or deletes its locally significant
//! certificate (LSC).
//!
//! The protocol layer, written from
//! `docs/capf-protocol.md` §1:
//! - [`proto::frame`]: the 8-byte header, whole-message encoding (one TLS
//!   write per message) and a bounded async reader;
//! - [`proto::element`]: the TLV elements of a body;
//! - [`proto::message`]: typed messages and their enumerations;
//! - [`proto::auth`]: the signed content of certificate authentication and
//!   the strict signature checks;
//! - `server` (private): the CAPF server (TLS, sessions, timeouts, limits), recording every
//!   outcome through `opencapf_cluster::session`; its API is [`CapfServer`], [`CapfConfig`] and
//!   [`ServerError`], re-exported here;
//! - [`client`]: the phone side of a session, as a real phone runs it (used by the
//!   phone simulator and the benchmarks).
//!
//! [`proto`] and [`client`] stay public modules: `proto` is the protocol's vocabulary (dozens of
//! message, element and enumeration types, named as the protocol document names them), and
//! `client` is a whole second API (the phone's end: [`client::Credentials`],
//! [`client::Operation`], [`client::SessionEvent`], [`client::tls`], ...) whose names read
//! right only beside the module's name; flattening either into the crate root would mix the two
//! ends of the protocol.

pub mod client;
pub mod proto;
mod server;

pub use server::{CapfConfig, CapfServer, ServerError};

/// The server's checks that the protocol types do not reach, for the fuzz targets only (`fuzz/`).
#[doc(hidden)]
pub mod fuzzing {
    use opencapf_pki::CertificateInfo;

    use crate::proto::message::HashId;

    /// A phone's signature over `content` checked with the certificate it presented, as "By
    /// Existing Certificate" checks it (the RSA block rebuilt whole, or ECDSA): `hash` is the
    /// element's hash id.
    pub fn check_signature(certificate: &[u8], hash: u8, content: &[u8], signature: &[u8]) -> Result<(), String> {
        let info = CertificateInfo::parse(certificate).map_err(|e| e.to_string())?;
        crate::server::auth::check_with(&info, HashId::from(hash), content, signature)
    }
}
