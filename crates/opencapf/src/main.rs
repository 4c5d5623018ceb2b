//! `opencapf`: one binary that wires the OpenCAPF crates together (the code is in the library,
//! `src/lib.rs`).
//!
//! Exit codes: 0 success, 1 failure (one `error:` line on standard error), 2 usage error.

fn main() {
    opencapf::main();
}
