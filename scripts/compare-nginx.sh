#!/usr/bin/env bash
# Puts OpenCAPF's SIP-over-TLS registrations/s beside nginx's mTLS requests/s, on the same client
# (`opencapf bench register`: one TLS connection with a client certificate per phone, one request
# on it) and the same machine:
#
#   - nginx (Debian's) on 127.0.0.1, TLS 1.3 only, `ssl_verify_client on` against a CA made here
#     with openssl (EC P-256, as the cluster's CAPF in the benchmark), an RSA-2048 server key (as
#     CallManager's), answering `200 ok` to every request;
#   - `opencapf bench register --mode http` against it; then `opencapf bench register` (SIP
#     REGISTER to an `opencapf serve` child) with the same phones and concurrency.
#
# Usage: scripts/compare-nginx.sh   (needs nginx: apt-get install -y nginx)
# Environment: PHONES (default 5000), CONCURRENCY (default 64), PROFILE (cargo profile, default
# release), OPENCAPF (a built opencapf binary to use instead of building one), PORT (default 18443).
set -euo pipefail
cd "$(dirname "$0")/.."

phones="${PHONES:-5000}"
concurrency="${CONCURRENCY:-64}"
port="${PORT:-18443}"
profile="${PROFILE:-release}"
dir="$([ "$profile" = dev ] && echo debug || echo "$profile")"
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx" ] || { echo "nginx is not installed (apt-get install -y nginx)" >&2; exit 1; }
bin="${OPENCAPF:-}"
if [ -z "$bin" ]; then
    cargo build -q --profile "$profile" -p opencapf
    bin="target/$dir/opencapf"
fi
bin="$(realpath "$bin")"

work="$(mktemp -d)"
nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The CA, the server certificate and one client certificate.
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj "/CN=compare-nginx CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
# X.509 v3 (rustls refuses v1 certificates, which `openssl x509 -req` makes without extensions).
printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n' > server.ext
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
    -out server.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr \
    -subj "/CN=SEP000000000001" 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext \
    -out client.pem 2>/dev/null

mkdir -p logs
cat > nginx.conf <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_protocols TLSv1.3;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        ssl_client_certificate $work/ca.pem;
        ssl_verify_client on;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / { return 200 "ok\n"; }
    }
}
CONF
"$nginx" -p "$work" -c "$work/nginx.conf" -g "daemon off;" &
nginx_pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

echo "nginx mTLS (TLS 1.3, client certificate), $phones connections, $concurrency at once:"
"$bin" bench register --mode http --target "127.0.0.1:$port" --trust server.pem --cert client.pem \
    --key client.key --phones "$phones" --concurrency "$concurrency" --json > nginx.json
echo "OpenCAPF SIP REGISTER over TLS, $phones phones, $concurrency at once:"
"$bin" bench register --phones "$phones" --concurrency "$concurrency" --hold 0 --json > sip.json

python3 - <<'PY'
import json
n = json.load(open("nginx.json"))
if n["first_failure"]: print("nginx first failure:", n["first_failure"])
s = json.load(open("sip.json"))
if s["first_failure"]: print("OpenCAPF first failure:", s["first_failure"])
print(f"nginx:    {n['ok']}/{n['requests']} requests, {n['requests_per_second']:.0f} requests/s (p50 {n['p50_ms']:.1f} ms, p95 {n['p95_ms']:.1f} ms)")
print(f"OpenCAPF: {s['registered']}/{s['phones']} registered, {s['registrations_per_second']:.0f} registrations/s (p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms)")
print(f"ratio registrations/s : nginx mTLS requests/s = {s['registrations_per_second'] / n['requests_per_second']:.2f}")
PY
