#!/usr/bin/env bash
# `opencapf bench capf --target` against an `opencapf serve` in another process: a throw-away
# cluster with N devices scheduled for Install/Upgrade By Null String, Key Order EC Only (the
# phones' EC P-256 keys are made before the clock starts), served on 127.0.0.1, then
# driven by the load tool with CONCURRENCY phones at once. Prints the tool's report, with the
# server's CPU per session beside the crypto floor of a session (--server-pid).
#
# Usage: scripts/bench-capf-target.sh [N] [CONCURRENCY]     (defaults 1000 and 32)
# Environment: PROFILE (cargo profile, default release), OPENCAPF (a built opencapf binary to use
# instead of building one), CAPF_KEY (the cluster's CAPF key, default rsa2048: the one phones accept), JSON=1 for --json,
# DATA_ROOT (the folder the throw-away cluster is made in, default target/bench-data on the
# repository's disk; DATA_ROOT=/dev/shm puts the data folder on tmpfs).
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-1000}"
concurrency="${2:-32}"
profile="${PROFILE:-release}"
dir="$([ "$profile" = dev ] && echo debug || echo "$profile")"
bin="${OPENCAPF:-}"
if [ -z "$bin" ]; then
    cargo build -q --profile "$profile" -p opencapf
    bin="target/$dir/opencapf"
fi
bin="$(realpath "$bin")"

data_root="${DATA_ROOT:-target/bench-data}"
mkdir -p "$data_root"
work="$(mktemp -d "$(realpath "$data_root")/capf.XXXXXX")"
echo "data folder on $(stat -f -c %T "$work") ($work)" >&2
serve_pid=""
cleanup() {
    local status=$?
    if [ -n "$serve_pid" ]; then
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
oc() { "$bin" --data-dir "$work/data" "$@"; }

oc init --hostname bench.lab --capf-key "${CAPF_KEY:-rsa2048}" >/dev/null 2>&1
{
    echo "name,model,protocol,security,description,lines"
    for i in $(seq 0 $((n - 1))); do printf 'SEP%012X,CP-8861,sip,encrypted,,\n' $((0xB00000000000 + i)); done
} >"$work/devices.csv"
oc device import "$work/devices.csv" >/dev/null
oc device set --all --operation install --auth null --key-order ec >/dev/null 2>&1
cut -d, -f1 "$work/devices.csv" | tail -n +2 >"$work/devices.txt"
oc cert own capf --out "$work/capf.pem" >/dev/null 2>&1

# Only CAPF listens; the per-source limit stays above the phones at once (all from 127.0.0.1).
# The binary itself in the background (not the `oc` function, whose subshell would outlive a kill).
"$bin" --data-dir "$work/data" serve --capf-listen 127.0.0.1:0 --sip-tls-listen off --sip-tcp-listen off --sip-udp-listen off \
    --sccp-tls-listen off --sccp-tcp-listen off --http-listen off --tftp-listen off --tvs-listen off \
    --admin-listen off --est-listen off --max-per-source $((concurrency * 2)) >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -qs '^Ready' "$work/serve.out" && break; sleep 0.1; done
addr="$(sed -n 's/^CAPF listening on \([^ ]*\).*/\1/p' "$work/serve.out")"
[ -n "$addr" ] || { echo "serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

json=()
[ "${JSON:-}" = 1 ] && json=(--json)
"$bin" "${json[@]}" bench capf --target "$addr" --trust "$work/capf.pem" --devices "$work/devices.txt" \
    --null-string --concurrency "$concurrency" --server-pid "$serve_pid"
