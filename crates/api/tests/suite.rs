//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf-api --test suite FILE::`.

mod support;

mod auth;
mod contract;
mod nodes;
mod pages_certificates;
mod pages_phones;
mod pages_tools;
mod rest;
