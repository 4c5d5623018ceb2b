//! `diagnose pcap` on a generated capture of at least 100 MiB (override with OPENCAPF_BENCH_MIB):
//! throughput, and peak memory, which must stay far below the capture's size.
//!
//! `cargo bench -p opencapf-diagnostics --bench pcap`; set OPENCAPF_BENCH_KEEP=FILE to keep the
//! capture (e.g. for scripts/compare-tshark.sh).

use std::time::Instant;

use opencapf_diagnostics::pcap::{self, PcapOptions};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then run a small size.
    let benching = std::env::args().any(|a| a == "--bench");
    let mib: u64 =
        std::env::var("OPENCAPF_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(if benching { 128 } else { 4 });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var("OPENCAPF_BENCH_KEEP") {
        Ok(p) => std::path::PathBuf::from(p),
        Err(_) => dir.path().join("bench.pcap"),
    };
    let t = Instant::now();
    let file = std::fs::File::create(&path).expect("create capture");
    let gen = opencapf_diagnostics::synth::bench_capture(file, mib << 20).expect("write capture");
    println!(
        "generated {:.1} MiB, {} frames, {} connections in {:.1?}",
        gen.bytes as f64 / 1048576.0,
        gen.frames,
        gen.connections,
        t.elapsed()
    );
    let before = vm_hwm_kib();
    let mut best = f64::MAX;
    let runs = if benching { 3 } else { 1 };
    for run in 0..runs {
        let t = Instant::now();
        let report = pcap::analyze_file(&path, &PcapOptions::default()).expect("analyze");
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        let with_cert = report.connections.iter().filter(|c| !c.client_certificates.is_empty()).count();
        println!(
            "run {}: {:.2} s, {:.0} MiB/s, {:.2} M frames/s; {} TLS connections ({} with a client certificate), {} findings",
            run + 1,
            secs,
            gen.bytes as f64 / 1048576.0 / secs,
            gen.frames as f64 / 1e6 / secs,
            report.connections.len(),
            with_cert,
            report.findings.len()
        );
        assert_eq!(report.connections.len() as u64, gen.connections);
    }
    let after = vm_hwm_kib();
    println!(
        "diagnose pcap: best {:.2} s = {:.0} MiB/s; peak RSS {} KiB before analysis, {} KiB after (capture {:.0} MiB)",
        best,
        gen.bytes as f64 / 1048576.0 / best,
        before.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        after.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        gen.bytes as f64 / 1048576.0
    );
}
