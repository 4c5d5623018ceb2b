//! The `opencapf` command, end to end: every command, its output, and its refusals.

mod common;

mod accounts;
mod admin;
mod capf;
mod cert_mfg;
mod device;
mod errors;
mod hygiene;
mod identities;
mod init_status;
mod json;
mod key_defaults;
mod search;
mod service;
mod tls_settings;
mod trust;
mod web_identity;
