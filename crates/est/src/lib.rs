//! EST (Enrollment over Secure Transport, RFC 7030): the second way into the cluster, for
//! devices that do not speak CAPF (softphones, gateways, headsets, 802.1X supplicants,
//! non-Cisco phones). It issues the same LSCs as CAPF; every rule (who may enrol, what a
//! request must hold, what is recorded) is `opencapf_cluster`'s ([`opencapf_cluster::EstRequest`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`codec`] (public) | the bodies as pure functions with typed errors and size limits: [`codec::read_csr_body`], certs-only PKCS#7, csrattrs, Basic credentials, the serverkeygen multipart |
//! | `server` | [`EstServer`]: the listener's [`opencapf_net::Service`]: TLS with the web certificate, an optional client certificate, the channel binding ([`TlsPeer`]), HTTP/1.1 |
//! | `routes` | `/.well-known/est/[lsc/]{cacerts,csrattrs,simpleenroll,simplereenroll,serverkeygen}` and their status codes |
//! | `client` | [`EstClient`]: one connection to an EST server, for the phone simulator |
//!
//! `serve --est-listen ADDR|off` (default `0.0.0.0:8444`) runs it.

pub mod codec;

mod client;
mod routes;
mod server;

pub use client::{ClientError, Connected, EstClient};
pub use routes::CA_LABEL;
pub use server::{EstConfig, EstError, EstServer, TlsPeer, CHANNEL_BINDING_LABEL, CHANNEL_BINDING_LEN};
