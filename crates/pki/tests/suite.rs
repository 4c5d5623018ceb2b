//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf-pki --test suite FILE::`.

mod classify;
mod itl;
mod profiles;
mod sha1_mfg;
mod verify;
