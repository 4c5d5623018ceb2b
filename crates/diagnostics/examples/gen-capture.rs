//! Writes a large synthetic capture (TLS 1.2/1.3 phone connections with LSCs and MICs), for the
//! benchmark and `scripts/compare-tshark.sh`.
//!
//! `cargo run --release -p opencapf-diagnostics --example gen-capture -- FILE [MIB]`

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: gen-capture FILE [MIB (default 128)]");
        std::process::exit(2);
    };
    let mib: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(128);
    let file = std::fs::File::create(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    match opencapf_diagnostics::synth::bench_capture(file, mib << 20) {
        Ok(s) => println!("{path}: {} bytes, {} frames, {} connections", s.bytes, s.frames, s.connections),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1)
        }
    }
}
