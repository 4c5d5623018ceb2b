#!/usr/bin/env bash
# Times `opencapf diagnose pcap` beside tshark reading the same capture's certificates:
#
#   tshark -r FILE -Y tls.handshake.certificate -T fields -e x509sat.uTF8String
#
# Usage: scripts/compare-tshark.sh [CAPTURE]
#   Without CAPTURE, a synthetic capture of SIZE_MIB (default 128) MiB is generated
#   (TLS 1.2/1.3 phone connections with LSCs and MICs) and removed afterwards.
# Environment: SIZE_MIB, PROFILE (cargo profile, default release), OPENCAPF (a built opencapf
# binary to use instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."

size="${SIZE_MIB:-128}"
profile="${PROFILE:-release}"
dir="$([ "$profile" = dev ] && echo debug || echo "$profile")"
command -v tshark >/dev/null || { echo "tshark is not installed (apt-get install tshark)" >&2; exit 1; }

file="${1:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "$file" ]; then
    file="$work/generated.pcap"
    cargo run -q --profile "$profile" -p opencapf-diagnostics --example gen-capture -- "$file" "$size"
fi
bin="${OPENCAPF:-}"
if [ -z "$bin" ]; then
    cargo build -q --profile "$profile" -p opencapf
    bin="target/$dir/opencapf"
fi

bytes=$(stat -c %s "$file")
echo "capture: $file ($((bytes / 1048576)) MiB)"

measure() { # name, output file, command...
    local name=$1 out=$2
    shift 2
    local start end
    start=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%M" -o "$out.rss" "$@" >"$out"
    else
        "$@" >"$out"
        echo "?" >"$out.rss"
    fi
    end=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
    printf "%-22s %8.2f s  %8.0f MiB/s  peak RSS %s KiB\n" "$name" "$secs" \
        "$(awk -v n="$bytes" -v s="$secs" 'BEGIN { print n / 1048576 / s }')" "$(cat "$out.rss")"
}

measure "tshark" "$work/tshark.txt" tshark -r "$file" -Y tls.handshake.certificate -T fields -e x509sat.uTF8String
measure "opencapf diagnose pcap" "$work/opencapf.json" "$bin" --data-dir "$work/no-cluster" --json diagnose pcap "$file"

echo "tshark: $(grep -c . "$work/tshark.txt" || true) packets with certificates"
python3 - "$work/opencapf.json" <<'PY' || true
import json, sys
r = json.load(open(sys.argv[1]))
c = r["connections"]
print(f"opencapf: {len(c)} TLS connections, {sum(1 for x in c if x['client_certificates'])} with a client certificate, "
      f"{sum(1 for x in c if x['client_certificate'] == 'hidden-by-tls13')} hidden by TLS 1.3, {len(r['findings'])} findings")
PY
