#!/usr/bin/env bash
# Durability's price: scripts/bench-capf-target.sh with the data folder on disk, then on tmpfs
# (/dev/shm), ROUNDS times in turn so that both see the same machine; prints every run, the best
# of each, and disk's share of tmpfs (issue 15's target: at least 90%).
#
# Usage: scripts/bench-durability.sh [N] [CONCURRENCY] [ROUNDS]     (defaults 1000, 64 and 3)
# Environment: as scripts/bench-capf-target.sh (PROFILE, OPENCAPF, CAPF_KEY); DISK_ROOT (default
# target/bench-data) and TMPFS_ROOT (default /dev/shm).
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-1000}"
concurrency="${2:-64}"
rounds="${3:-3}"
profile="${PROFILE:-release}"
if [ -z "${OPENCAPF:-}" ]; then
    cargo build -q --profile "$profile" -p opencapf
    OPENCAPF="target/$([ "$profile" = dev ] && echo debug || echo "$profile")/opencapf"
fi
export OPENCAPF

# One run: its report on stderr, its sessions/s on stdout.
run() {
    local out
    out="$(DATA_ROOT="$1" JSON='' scripts/bench-capf-target.sh "$n" "$concurrency")" || echo "$2: the run failed" >&2
    echo "$2: $out" >&2
    sed -n 's/.*: *\([0-9.]*\) sessions\/s.*/\1/p' <<<"$out" | head -1
}

disk=()
tmpfs=()
for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds" >&2
    disk+=("$(run "${DISK_ROOT:-target/bench-data}" disk)")
    tmpfs+=("$(run "${TMPFS_ROOT:-/dev/shm}" tmpfs)")
done
best() { printf '%s\n' "$@" | sort -g | tail -1; }
d="$(best "${disk[@]}")"
t="$(best "${tmpfs[@]}")"
echo "disk:  ${disk[*]} sessions/s (best $d)"
echo "tmpfs: ${tmpfs[*]} sessions/s (best $t)"
awk -v d="$d" -v t="$t" -v n="$n" -v c="$concurrency" \
    'BEGIN { printf "disk/tmpfs: %.0f%% (best of each, %d sessions, %d at once)\n", 100 * d / t, n, c }'
