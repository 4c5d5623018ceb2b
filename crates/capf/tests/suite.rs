//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf-capf --test suite FILE::`.

mod client_support;
mod common;
mod server_common;

mod auth_examples;
mod client_install;
mod client_operations;
mod client_refusals;
mod ecdsa_openssl;
mod framing_vectors;
mod fuzz;
mod hostile;
mod read_message;
mod server_capfc_signatures;
mod server_credentials;
mod server_hostile;
mod server_operations;
mod server_recovery;
mod server_refusals;
