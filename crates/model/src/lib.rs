//! The vocabulary of OpenCAPF, shared by every crate, with no I/O.
//!
//! - `names`: [`DeviceName`] and [`TrustStore`].
//! - `cucm`: CUCM's enums as the administration pages name them ([`Protocol`], [`SecurityMode`],
//!   [`CertificateOperation`], [`AuthMode`], [`KeyOrder`], [`Service`]), the status values and the
//!   "Certificate Operation Status" wording ([`Failure`], [`success_status`], [`failure_status`]).
//! - `key`: [`KeyAlgorithm`], a key spec (generation lives in `opencapf-pki`).
//! - `kind`: [`CertKind`], the one "LSC or MIC".
//! - `phone_models`: [`KNOWN_MODELS`], the models an import checks against.
//! - `line`: [`DirectoryNumber`], a line's number.
//! - `records`: what the cluster holds, as callers see it ([`Device`], [`TrustEntry`],
//!   [`ServiceCertificate`], [`AuditEntry`], [`UnknownRequest`], ...), [`SubjectFields`] and the
//!   firmware load id check ([`parse_load_information`]).
//! - `registration`: phone registrations to CallManager ([`Registration`], [`NewRegistration`],
//!   [`RegistrationResult`], [`RefusalCount`], [`Transport`]).
//! - `tls`: legacy TLS ([`TlsVersion`], [`TlsEngine`], the `tls.*` settings [`TlsSettings`], a
//!   session's [`TlsSession`] and [`is_legacy_tls`]).
//! - `node`: a node of the cluster ([`Node`], [`NodeAddresses`]) and its [`NodeState`] from the
//!   age of its heartbeat.
//! - `role`: [`Role`], what a phone trusts a certificate for (ITL records, TVS answers).
//! - `accounts`: who may use the admin pages and the API ([`Account`], [`ApiToken`], [`AccountRole`]).
//! - `audit`: the audit log's hash chain as `audit verify` reports it ([`AuditChain`]).
//! - `values` (feature `clap`): `clap::ValueEnum` for the enums the CLI takes.
//! - `text`: outside text made safe for a terminal ([`printable`]) or for XML ([`xml_escape`]).
//! - `json`: [`empty_as_null`], absent values as `null` in `--json`.
//! - `json_tokens`: [`add_tokens`], the `<field>_token` siblings of the CLI's and the API's JSON.
//! - `schema` (feature `utoipa`): OpenAPI schemas of the values that serialise as text.
//! - `stamp`: timestamps as the cluster writes them (RFC 3339 UTC, whole seconds): [`now`],
//!   [`ts`], [`parse_ts`].
//!
//! The modules are private; what they define is re-exported here, so callers write
//! `opencapf_model::DeviceName`, never a module path.

mod accounts;
mod audit;
mod cucm;
mod json;
mod json_tokens;
mod key;
mod kind;
mod line;
mod names;
mod node;
mod phone_models;
mod records;
mod registration;
mod role;
#[cfg(feature = "utoipa")]
mod schema;
mod stamp;
mod text;
mod tls;
#[cfg(feature = "clap")]
mod values;

pub use accounts::{Account, AccountRole, ApiToken};
pub use audit::{AuditBreak, AuditChain};
pub use cucm::{
    failure_status, operation_word, status, success_status, AuthMode, CertificateOperation, Failure, KeyOrder,
    Protocol, SecurityMode, Service,
};
pub use json::empty_as_null;
pub use json_tokens::add_tokens;
pub use key::KeyAlgorithm;
pub use kind::CertKind;
pub use line::DirectoryNumber;
pub use names::{DeviceName, TrustStore};
pub use node::{Node, NodeAddresses, NodeState, MISSED_HEARTBEATS};
pub use phone_models::{is_known_model, model_from_device_type, KNOWN_MODELS};
pub use records::{
    parse_load_information, AuditEntry, CapfInfo, CapfUpdate, ClusterSettings, Device, DeviceLsc, HistoryEntry,
    IssuedCertificateRecord, KeyDefaults, LscState, NewDevice, ServiceCertificate, SubjectFields, TrustAdded,
    TrustEntry, UnknownRequest, UploadedCertificate, LOAD_INFORMATION_MAX,
};
pub use registration::{NewRegistration, RefusalCount, Registration, RegistrationResult, Transport};
pub use role::Role;
pub use stamp::{now, operation_deadline, parse_date, parse_ts, ts};
pub use text::{printable, printable_text, xml_escape};
pub use tls::{is_legacy_suite, is_legacy_tls, TlsEngine, TlsSession, TlsSettings, TlsVersion};

/// A value that does not name anything in the vocabulary. Messages are written for the
/// administrator who will read them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{0}")]
    DeviceName(String),
    #[error("unknown trust store '{0}': use CallManager-trust, CAPF-trust or Phone-SAST-trust")]
    UnknownStore(String),
    #[error("{0}")]
    Invalid(String),
}
