//! This crate's integration tests, one module per file, in one test binary: one link instead
//! of one per file keeps the build's time and disk small. Run one file's tests with
//! `cargo test -p opencapf --test suite FILE::`.

mod support;
mod webdriver;

mod admin_service;
mod bench_register;
mod bench_target;
mod browser;
mod capf_e2e;
mod change_feed;
#[path = "cli/main.rs"]
mod cli;
mod crash_safety;
mod device_reset;
mod diagnose_captures;
mod diagnostics;
mod est;
mod fuzz_seeds;
mod kinds_agree;
mod legacy_capf;
mod legacy_tls;
mod migration;
mod phone_register;
mod provisioning_fleet;
mod provisioning_move;
mod provisioning_peers;
mod readme;
mod real_peers;
mod resource_limits;
mod seed_stories;
mod terminal_escapes;
mod trust_consumers;
mod two_nodes;
