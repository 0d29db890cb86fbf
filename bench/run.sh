#!/usr/bin/env bash
# Side-by-side load test on loopback: (a) the upstream directly, (b) nginx as a plain reverse
# proxy, (c) portcullis proxying over plain HTTP, (d) portcullis with TLS, (e) nginx with TLS
# for reference, (f) portcullis with JWT (ES256) authentication + a rate limit + a Cedar
# policy + the firewall on the query, and (g) portcullis with only the firewall on (default
# settings) inspecting a query string, (h) portcullis with JWT (ES256) authentication only, and
# (i) the plain route of (c) sent the same request as (h), bearer token included (so h/i is the
# cost of authentication itself, h/c adds the cost of the larger request).
# Same machine, same run, alternating rounds. Prints
# requests/s, p50, p99 and the ratios; writes the table to bench/results/latest.md.
#
#   bench/run.sh                 # defaults: 64 connections, 10 s per run, 3 rounds
#   CONNS=64 DURATION=10s ROUNDS=3 THREADS=2 bench/run.sh
#
# Needs wrk and nginx (Debian packages; installed when missing and running as root) and a
# release build of portcullis (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
WORK=$(mktemp -d /tmp/portcullis-bench.XXXXXX)
UP_PORT=18080 NGX_PORT=18081 NGX_TLS_PORT=18444 PC_PORT=18082 PC_TLS_PORT=18443 ADMIN_PORT=18901

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
  else
    echo "install wrk and nginx (Debian: apt-get install wrk nginx-light)" >&2; exit 1
  fi
fi
# Always (re)build: a stale binary from an older commit would be measured otherwise.
cargo build --release --locked -p portcullis
cargo build --release --locked -q -p portcullis-auth --example mint_jwt

cleanup() {
  [ -n "${PC_PID:-}" ] && kill "$PC_PID" 2>/dev/null || true
  nginx -p "$WORK" -c "$WORK/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A certificate for nginx's TLS listener (portcullis makes its own dev certificate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

cat > "$WORK/nginx.conf" <<NGX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:$UP_PORT; keepalive 256; }
  # (a) the upstream: a small fixed JSON answer.
  server {
    listen 127.0.0.1:$UP_PORT;
    location / { default_type application/json; return 200 '{"ok":true,"service":"bench-upstream"}'; }
  }
  # (b) nginx as a plain reverse proxy, and (e) with TLS.
  server {
    listen 127.0.0.1:$NGX_PORT;
    listen 127.0.0.1:$NGX_TLS_PORT ssl;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }
}
NGX
nginx -p "$WORK" -c "$WORK/nginx.conf"

# An identity provider key for (f), and a token for the load generator.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/idp-key.pem" 2>/dev/null
openssl pkey -in "$WORK/idp-key.pem" -pubout -out "$WORK/idp.pem" 2>/dev/null
TOKEN=$(target/release/examples/mint_jwt "$WORK/idp-key.pem" https://idp.bench api bench-user '{"scope":"items:read","plan":"bench"}')
cat > "$WORK/policy.cedar" <<CEDAR
@id("items-read")
permit (principal, action in Portcullis::Action::"secure", resource)
when { principal.scopes.contains("items:read") && context.ip.isInRange(ip("127.0.0.0/8")) };
CEDAR

cat > "$WORK/portcullis.yaml" <<PCY
listeners:
  - id: plain
    address: 127.0.0.1:$PC_PORT
    plain_http: serve
  - id: https
    address: 127.0.0.1:$PC_TLS_PORT
    tls: {}
admin:
  address: 127.0.0.1:$ADMIN_PORT
logging:
  level: warn
  access_log: false
upstreams:
  - id: app
    targets: ["http://127.0.0.1:$UP_PORT"]
policies:
  files: [$WORK/policy.cedar]
routes:
  - id: app
    path: /
    methods: [GET]
    upstream: app
    public: true
    firewall: { mode: off }
  - id: secure
    path: /secure/
    methods: [GET]
    upstream: app
    auth:
      jwt:
        issuer: https://idp.bench
        audiences: [api]
        keys_file: $WORK/idp.pem
    authorize:
      scopes: { all_of: [items:read] }
      policy: true
    rate_limits:
      - { rate: 100000000/s, key: [consumer] }
  - id: jwt-only
    path: /jwt/
    methods: [GET]
    upstream: app
    auth:
      jwt:
        issuer: https://idp.bench
        audiences: [api]
        keys_file: $WORK/idp.pem
    authorize: { any_authenticated: true }
    firewall: { mode: off }
  - id: inspected
    path: /inspected/
    methods: [GET]
    upstream: app
    public: true
data_dir: $WORK/data
PCY
target/release/portcullis serve --config "$WORK/portcullis.yaml" >"$WORK/portcullis.log" 2>&1 &
PC_PID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PC_PORT/" && break
  sleep 0.1
done

declare -A URL=(
  [a_upstream]="http://127.0.0.1:$UP_PORT/api/items"
  [b_nginx]="http://127.0.0.1:$NGX_PORT/api/items"
  [c_portcullis]="http://127.0.0.1:$PC_PORT/api/items"
  [d_portcullis_tls]="https://127.0.0.1:$PC_TLS_PORT/api/items"
  [e_nginx_tls]="https://127.0.0.1:$NGX_TLS_PORT/api/items"
  [f_portcullis_jwt_limit_policy]="http://127.0.0.1:$PC_PORT/secure/items?q=green+tea&page=2"
  [g_portcullis_firewall]="http://127.0.0.1:$PC_PORT/inspected/items?q=green+tea&page=2&sort=price"
  [h_portcullis_jwt_only]="http://127.0.0.1:$PC_PORT/jwt/items"
  [i_portcullis_plain_same_request]="http://127.0.0.1:$PC_PORT/api/items"
)
declare -A HDR=([f_portcullis_jwt_limit_policy]="Authorization: Bearer $TOKEN" [h_portcullis_jwt_only]="Authorization: Bearer $TOKEN" [i_portcullis_plain_same_request]="Authorization: Bearer $TOKEN")
ORDER=(a_upstream b_nginx c_portcullis d_portcullis_tls e_nginx_tls f_portcullis_jwt_limit_policy g_portcullis_firewall h_portcullis_jwt_only i_portcullis_plain_same_request)
# Every secured request must pass (a 401/403/429 would make the numbers meaningless).
code=$(curl -s -o /dev/null -w '%{http_code}' -H "${HDR[f_portcullis_jwt_limit_policy]}" "${URL[f_portcullis_jwt_limit_policy]}")
[ "$code" = 200 ] || { echo "secured route answered $code"; cat "$WORK/portcullis.log"; exit 1; }

# wrk latency values like 512.00us / 1.20ms / 2.00s → milliseconds.
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v }'; }

declare -A RPS P50 P99
for name in "${ORDER[@]}"; do RPS[$name]=0; P50[$name]=""; P99[$name]=""; done
for round in $(seq 1 "$ROUNDS"); do
  for name in "${ORDER[@]}"; do
    if [ -n "${HDR[$name]:-}" ]; then
      out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "${HDR[$name]}" "${URL[$name]}")
    else
      out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${URL[$name]}")
    fi
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')")
    p99=$(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    echo "round $round $name: ${rps} req/s p50 ${p50} ms p99 ${p99} ms ${non2xx:+non-2xx: $non2xx}"
    RPS[$name]=$(awk -v a="${RPS[$name]}" -v b="$rps" 'BEGIN{print a+b}')
    P50[$name]="${P50[$name]} $p50"
    P99[$name]="${P99[$name]} $p99"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
mkdir -p bench/results
{
  echo "| setup | req/s (mean of $ROUNDS) | p50 ms (median) | p99 ms (median) | req/s vs nginx |"
  echo "|---|---:|---:|---:|---:|"
  nginx_rps=$(awk -v a="${RPS[b_nginx]}" -v n="$ROUNDS" 'BEGIN{print a/n}')
  for name in "${ORDER[@]}"; do
    mean=$(awk -v a="${RPS[$name]}" -v n="$ROUNDS" 'BEGIN{printf "%.0f", a/n}')
    ratio=$(awk -v a="$mean" -v b="$nginx_rps" 'BEGIN{printf "%.2f", a/b}')
    echo "| $name | $mean | $(echo "${P50[$name]}" | median) | $(echo "${P99[$name]}" | median) | ${ratio}x |"
  done
  echo
  up99=$(echo "${P99[a_upstream]}" | median)
  pc99=$(echo "${P99[c_portcullis]}" | median)
  ng99=$(echo "${P99[b_nginx]}" | median)
  plain=$(awk -v a="${RPS[c_portcullis]}" 'BEGIN{print a}')
  for name in f_portcullis_jwt_limit_policy g_portcullis_firewall h_portcullis_jwt_only; do
    echo "$name vs plain portcullis: $(awk -v a="${RPS[$name]}" -v b="$plain" 'BEGIN{printf "%.2f", a/b}')x"
  done
  echo "h_portcullis_jwt_only vs the same request on the plain route (i): $(awk -v a="${RPS[h_portcullis_jwt_only]}" -v b="${RPS[i_portcullis_plain_same_request]}" 'BEGIN{printf "%.2f", a/b}')x"
  echo
  echo "p99 added over the upstream: portcullis $(awk -v a="$pc99" -v b="$up99" 'BEGIN{printf "%.2f", a-b}') ms, nginx $(awk -v a="$ng99" -v b="$up99" 'BEGIN{printf "%.2f", a-b}') ms"
  echo
  echo "wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS alternating rounds, $(nproc) cores, $(date -u +%Y-%m-%d), nginx $(nginx -v 2>&1 | sed 's|.*/||'), portcullis $(target/release/portcullis --version | awk '{print $2}')"
} | tee bench/results/latest.md
