#!/usr/bin/env bash
# Fuzzes every parser that reads network input or a user's file (the targets of fuzz/, one
# workspace): builds once, then runs each target for SECONDS (default 60), one after the other,
# from a copy of its seeds (fuzz/seeds/TARGET) in a temporary folder, so runs do not grow the
# repository. Fails on any crash, panic, leak, out-of-memory (an allocation above the target's
# limit included) or timeout, naming the target and its reproducer (under fuzz/artifacts/).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 20, scripts/fuzz.sh 300 sip_stream
#   FUZZ_RUNS=1000000 scripts/fuzz.sh 0 pcap  a number of executions instead of a time
#   FUZZ_BUILD=dev scripts/fuzz.sh 5          an unoptimised build (CI's): it builds in half the
#                                             release build's time, and runs slower
#   scripts/fuzz.sh build                     only the build (CI starts it beside the tests')
#   FUZZ_JOBS=2 scripts/fuzz.sh 5             two targets at a time (one per core)
#
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz --version 0.13.1`), a C++ compiler (for
# libFuzzer) and libssl-dev; runs on the stable toolchain with RUSTC_BOOTSTRAP=1 (the sanitizer
# flags cargo-fuzz passes are nightly-only otherwise).
# Reproduce a failure with (debug/ for a dev build):
#   fuzz/target/x86_64-unknown-linux-gnu/release/TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
# The system's OpenSSL (libssl-dev) rather than the vendored one the tls crate builds: compiling
# OpenSSL from source again for this workspace would be most of its build time, and no target
# fuzzes OpenSSL.
export OPENSSL_NO_VENDOR=1

# Per target: the longest input (bytes), the slowest one input may take (s), the memory limit
# (MiB; a single allocation above it fails too). The stream and file targets get room for a few
# messages or records; datagram targets their protocol's size.
declare -A MAX_LEN=(
    [capf_stream]=16384 [capf_elements]=8192 [sip_message]=20000 [sip_stream]=20000 [sip_headers]=8192
    [sccp]=4096 [tftp_packet]=1024 [tvs_request]=8192 [itl]=8192 [sgn]=8192 [phone_itl]=8192
    [device_config]=8192 [console_log]=16384 [device_csv]=8192 [config]=8192 [request]=4096
    [pcap]=65536 [client_hello]=4096 [certificates]=8192
)
declare -A TIMEOUT=([pcap]=20 [itl]=20 [phone_itl]=20 [sgn]=20 [capf_elements]=20)
declare -A RSS=([pcap]=1536)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "error: cargo-fuzz is not installed: cargo install --locked cargo-fuzz --version 0.13.1" >&2
    exit 1
fi

# One build for all targets: release (or dev), debug assertions on (overflow checks),
# AddressSanitizer.
case "${FUZZ_BUILD:-release}" in
    release) build=(-a) profile=release ;;
    dev) build=(-D -a) profile=debug ;;
    *) echo "error: FUZZ_BUILD is release or dev, not ${FUZZ_BUILD}" >&2; exit 2 ;;
esac
(cd fuzz && cargo fuzz build "${build[@]}")
[ "$seconds" = build ] && exit 0
bin=fuzz/target/x86_64-unknown-linux-gnu/$profile

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One target from a copy of its seeds; prints its line of the table, and its failure if any
# (then returns 1).
run_target() {
    local t=$1 corpus="$work/$1" log="$work/$1.log" start elapsed runs status=0 reproducer
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    if [ -d "fuzz/seeds/$t" ]; then
        cp fuzz/seeds/"$t"/* "$corpus"/
    fi
    local limit=(-max_total_time="$seconds")
    if [ -n "${FUZZ_RUNS:-}" ]; then
        limit=(-runs="$FUZZ_RUNS")
    fi
    start=$(date +%s)
    "$bin/$t" "$corpus" "${limit[@]}" -print_final_stats=1 \
        -max_len="${MAX_LEN[$t]:-4096}" -timeout="${TIMEOUT[$t]:-10}" -rss_limit_mb="${RSS[$t]:-1024}" \
        -malloc_limit_mb="${RSS[$t]:-1024}" -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    printf '%-16s %12s %8s %10s\n' "$t" "${runs:-?}" "$elapsed" "$(( ${runs:-0} / (elapsed > 0 ? elapsed : 1) ))"
    if [ "$status" -ne 0 ] || grep -qE '^==[0-9]+==ERROR|^SUMMARY: (Address|Leak)Sanitizer|ERROR: libFuzzer' "$log"; then
        reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        {
            echo "FAILED: $t (exit $status); reproducer: ${reproducer:-none written}"
            grep -E 'panicked|ERROR|SUMMARY|Sanitizer|timeout|out-of-memory|leak' "$log" | head -20 || true
        } >&2
        cp "$log" "fuzz/artifacts/$t/last-run.log"
        return 1
    fi
}

# FUZZ_JOBS targets at a time (default 1; CI runs two, one per core).
jobs=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
    [ -x "$bin/$t" ] || { echo "error: no fuzz target $t" >&2; exit 1; }
done
printf '%-16s %12s %8s %10s\n' target executions seconds exec/s
declare -A pids=()
failed=()
for t in "${targets[@]}"; do
    while [ ${#pids[@]} -ge "$jobs" ]; do
        # wait -n says which job ended: note its failure, then forget it.
        wait -n -p done_pid "${!pids[@]}" || failed+=("${pids[$done_pid]}")
        unset "pids[$done_pid]"
    done
    run_target "$t" &
    pids[$!]=$t
done
for pid in "${!pids[@]}"; do
    wait "$pid" || failed+=("${pids[$pid]}")
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "error: fuzz targets failed: ${failed[*]} (logs and reproducers in fuzz/artifacts/)" >&2
    exit 1
fi
each="$seconds s"
[ -n "${FUZZ_RUNS:-}" ] && each="$FUZZ_RUNS executions"
echo "all ${#targets[@]} fuzz targets ran $each each without a failure"
