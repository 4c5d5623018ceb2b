//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf-phone --test suite FILE::`.

mod boot;
mod capf;
mod folder;
mod legacy;
