#!/usr/bin/env bash
# The API firewall against nginx + ModSecurity + OWASP CRS 3.3 (Debian packages), on the same
# machine in the same run, alternating rounds. Every setup proxies a 10 KB JSON POST to the
# same small upstream:
#
#   (a) nginx, plain reverse proxy (reference)
#   (b) nginx + ModSecurity v3 + CRS 3.3, paranoia level 1, blocking (SecRuleEngine On),
#       request bodies inspected, response bodies not (as portcullis here)
#   (c) portcullis, plain proxy (firewall off, no spec)
#   (d) portcullis with the OpenAPI contract (strict, body validated by JSON Schema) and the
#       detection engine at its defaults (blocking)
#
# Before measuring, both firewalls are shown to pass the benign body and to block the same
# body with an SQL injection in a free-text field. Prints requests/s, p50, p99 and the ratio
# (d)/(b); writes the table to bench/results/firewall-latest.md.
#
#   bench/firewall.sh                       # 64 connections, 10 s per run, 3 rounds
#   CONNS=64 DURATION=10s ROUNDS=3 THREADS=2 bench/firewall.sh
#
# Needs wrk, nginx, libnginx-mod-http-modsecurity and modsecurity-crs (installed when missing
# and running as root) and a release build of portcullis (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
WORK=$(mktemp -d /tmp/portcullis-fwbench.XXXXXX)
UP_PORT=18180 NGX_PORT=18181 MSC_PORT=18182 PC_PORT=18183 ADMIN_PORT=18902

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx || [ ! -f /usr/lib/nginx/modules/ngx_http_modsecurity_module.so ] \
  || [ ! -d /usr/share/modsecurity-crs/rules ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      wrk nginx libnginx-mod-http-modsecurity modsecurity-crs >/dev/null
  else
    echo "install wrk nginx libnginx-mod-http-modsecurity modsecurity-crs (Debian)" >&2; exit 1
  fi
fi
# Always (re)build: a stale binary from an older commit would be measured otherwise.
cargo build --release --locked -p portcullis

cleanup() {
  [ -n "${PC_PID:-}" ] && kill "$PC_PID" 2>/dev/null || true
  nginx -p "$WORK" -c "$WORK/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the request: an order of 24 line items, about 10 KB of JSON -------------------------
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
notes = ["Please leave the parcel with the neighbour at number 12 if nobody answers.",
         "Gift wrap this one, it's for my sister's birthday next week.",
         "Colour should match the photo on the product page, dark green.",
         "Deliver between 9am and 5pm; the gate code is on the account."]
items = []
for i in range(24):
    items.append({
        "sku": f"SKU-{1000 + i}",
        "name": f"Ceramic tea cup, hand glazed, model {i}",
        "quantity": 1 + i % 3,
        "unit_price": 12.5 + i,
        "note": notes[i % len(notes)] + " Thanks a lot for the quick service!",
        "tags": ["kitchen", "gift", "ceramic"],
    })
order = {"customer": {"name": "Zoë O'Neill", "email": "zoe.oneill@example.com",
                      "phone": "+44 20 7946 0958"},
         "shipping": {"street": "12 Rue de l'Église", "city": "Montréal", "postcode": "H2X 1Y4",
                      "country": "CA"},
         "items": items, "comment": "Second order this month, keep up the good work."}
body = json.dumps(order)
pad = 10240 - len(body)
if pad > 0:
    order["comment"] += " " + ("Lovely shop. " * (pad // 13))
body = json.dumps(order)
open(f"{work}/body.json", "w").write(body)
attack = dict(order); attack["comment"] = "1' OR '1'='1' UNION SELECT password FROM users--"
open(f"{work}/attack.json", "w").write(json.dumps(attack))
print(f"request body: {len(body)} bytes", file=sys.stderr)
PY
cat > "$WORK/openapi.yaml" <<'OAS'
openapi: 3.0.3
info: { title: orders, version: "1" }
paths:
  /orders:
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Order" }
      responses: { "200": { description: ok } }
components:
  schemas:
    Order:
      type: object
      additionalProperties: false
      required: [customer, items]
      properties:
        customer:
          type: object
          additionalProperties: false
          properties:
            name: { type: string, maxLength: 200 }
            email: { type: string, format: email }
            phone: { type: string, maxLength: 32 }
        shipping:
          type: object
          additionalProperties: false
          properties:
            street: { type: string, maxLength: 200 }
            city: { type: string, maxLength: 100 }
            postcode: { type: string, maxLength: 16 }
            country: { type: string, pattern: "^[A-Z]{2}$" }
        items:
          type: array
          maxItems: 100
          items:
            type: object
            additionalProperties: false
            required: [sku, quantity]
            properties:
              sku: { type: string, pattern: "^SKU-[0-9]+$" }
              name: { type: string, maxLength: 200 }
              quantity: { type: integer, minimum: 1, maximum: 100 }
              unit_price: { type: number, minimum: 0 }
              note: { type: string, maxLength: 500 }
              tags: { type: array, items: { type: string, maxLength: 32 } }
        comment: { type: string, maxLength: 16384 }
OAS

# --- nginx, and nginx + ModSecurity + CRS -------------------------------------------------
sed -e 's/^SecRuleEngine .*/SecRuleEngine On/' \
    -e 's/^SecResponseBodyAccess .*/SecResponseBodyAccess Off/' \
    -e 's/^SecAuditEngine .*/SecAuditEngine Off/' \
    -e "s|^SecAuditLog .*|SecAuditLog $WORK/modsec_audit.log|" \
    /etc/nginx/modsecurity.conf > "$WORK/modsecurity.conf"
cp /etc/nginx/unicode.mapping "$WORK/unicode.mapping"
cat > "$WORK/modsec-main.conf" <<MSC
Include $WORK/modsecurity.conf
Include /etc/modsecurity/crs/crs-setup.conf
Include /usr/share/modsecurity-crs/rules/*.conf
MSC
cat > "$WORK/nginx.conf" <<NGX
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_max_body_size 1m;
  client_body_buffer_size 64k;
  upstream backend { server 127.0.0.1:$UP_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$UP_PORT;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
  server {
    listen 127.0.0.1:$NGX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  server {
    listen 127.0.0.1:$MSC_PORT;
    modsecurity on;
    modsecurity_rules_file $WORK/modsec-main.conf;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGX
nginx -p "$WORK" -c "$WORK/nginx.conf"

# --- portcullis --------------------------------------------------------------------------
cat > "$WORK/portcullis.yaml" <<PCY
listeners:
  - id: plain
    address: 127.0.0.1:$PC_PORT
    plain_http: serve
admin:
  address: 127.0.0.1:$ADMIN_PORT
logging:
  level: warn
  access_log: false
upstreams:
  - id: app
    targets: ["http://127.0.0.1:$UP_PORT"]
routes:
  - id: proxy
    path: /plain/
    methods: [POST]
    upstream: app
    public: true
    firewall: { mode: off }
  - id: orders
    path: /orders
    methods: [POST]
    upstream: app
    public: true
    openapi: { file: $WORK/openapi.yaml, base_path: "" }
data_dir: $WORK/data
PCY
target/release/portcullis serve --config "$WORK/portcullis.yaml" >"$WORK/portcullis.log" 2>&1 &
PC_PID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$ADMIN_PORT/healthz" && break
  sleep 0.1
done

declare -A URL=(
  [a_nginx]="http://127.0.0.1:$NGX_PORT/orders"
  [b_nginx_modsecurity_crs]="http://127.0.0.1:$MSC_PORT/orders"
  [c_portcullis]="http://127.0.0.1:$PC_PORT/plain/orders"
  [d_portcullis_openapi_firewall]="http://127.0.0.1:$PC_PORT/orders"
)
ORDER=(a_nginx b_nginx_modsecurity_crs c_portcullis d_portcullis_openapi_firewall)

post() { curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' --data-binary "@$2" "$1"; }
# Both firewalls must pass the benign order and block the injected one, or the numbers mean
# nothing.
for name in b_nginx_modsecurity_crs d_portcullis_openapi_firewall; do
  ok=$(post "${URL[$name]}" "$WORK/body.json")
  bad=$(post "${URL[$name]}" "$WORK/attack.json")
  echo "$name: benign -> $ok, injected -> $bad"
  if [ "$ok" != 200 ] || [ "$bad" != 403 ]; then
    echo "$name does not behave as a blocking firewall here" >&2
    tail -20 "$WORK/error.log" "$WORK/portcullis.log" >&2
    exit 1
  fi
done

cat > "$WORK/post.lua" <<LUA
local f = io.open("$WORK/body.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v }'; }
declare -A RPS P50 P99
for name in "${ORDER[@]}"; do RPS[$name]=0; P50[$name]=""; P99[$name]=""; done
for round in $(seq 1 "$ROUNDS"); do
  for name in "${ORDER[@]}"; do
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/post.lua" "${URL[$name]}")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')")
    p99=$(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')")
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    echo "round $round $name: ${rps} req/s p50 ${p50} ms p99 ${p99} ms ${non2xx:+non-2xx: $non2xx}"
    [ -z "$non2xx" ] || { echo "$name answered non-2xx under load" >&2; exit 1; }
    RPS[$name]=$(awk -v a="${RPS[$name]}" -v b="$rps" 'BEGIN{print a+b}')
    P50[$name]="${P50[$name]} $p50"
    P99[$name]="${P99[$name]} $p99"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
mkdir -p bench/results
{
  echo "| setup (10 KB JSON POST) | req/s (mean of $ROUNDS) | p50 ms (median) | p99 ms (median) |"
  echo "|---|---:|---:|---:|"
  for name in "${ORDER[@]}"; do
    mean=$(awk -v a="${RPS[$name]}" -v n="$ROUNDS" 'BEGIN{printf "%.0f", a/n}')
    echo "| $name | $mean | $(echo "${P50[$name]}" | median) | $(echo "${P99[$name]}" | median) |"
  done
  echo
  echo "portcullis (OpenAPI + detection) vs nginx + ModSecurity + CRS: $(awk -v a="${RPS[d_portcullis_openapi_firewall]}" -v b="${RPS[b_nginx_modsecurity_crs]}" 'BEGIN{printf "%.2f", a/b}')x"
  echo "portcullis (OpenAPI + detection) vs plain portcullis: $(awk -v a="${RPS[d_portcullis_openapi_firewall]}" -v b="${RPS[c_portcullis]}" 'BEGIN{printf "%.2f", a/b}')x"
  echo "nginx + ModSecurity + CRS vs plain nginx: $(awk -v a="${RPS[b_nginx_modsecurity_crs]}" -v b="${RPS[a_nginx]}" 'BEGIN{printf "%.2f", a/b}')x"
  echo
  echo "wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS alternating rounds, $(nproc) cores, $(date -u +%Y-%m-%d), nginx $(nginx -v 2>&1 | sed 's|.*/||'), libmodsecurity $(dpkg-query -W -f='${Version}' libmodsecurity3 2>/dev/null), modsecurity-crs $(dpkg-query -W -f='${Version}' modsecurity-crs 2>/dev/null), portcullis $(target/release/portcullis --version | awk '{print $2}')"
} | tee bench/results/firewall-latest.md
