//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf-callmanager --test suite FILE::`. `metrics.rs` is a binary of its own:
//! the metrics recorder is process-wide.

mod common;

mod cisco_sip;
mod fuzz_regressions;
mod openssl;
mod registration;
mod revocation;
mod sccp_dialogue;
