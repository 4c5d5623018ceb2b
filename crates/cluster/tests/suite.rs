//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf-cluster --test suite FILE::`.

mod accounts;
mod credentials;
mod expiry;
mod identities;
mod init;
mod kept;
mod keyring;
mod provisioning;
mod rollover;
mod search;
mod web_sessions;
