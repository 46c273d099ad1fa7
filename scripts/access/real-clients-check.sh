#!/usr/bin/env bash
# Real clients against infersight's TLS, basic auth, tokens and client
# certificates (issue 20, acceptance 1): a real Prometheus remote-writes over
# TLS with basic auth, promtool and curl query with a bearer token, and a
# wrong password, an expired or unknown token and a client without a
# required certificate are refused.
#
#   scripts/access/real-clients-check.sh            # builds the release binary if needed
#   INFERSIGHT=target/debug/infersight scripts/access/real-clients-check.sh
#
# Needs prometheus and promtool (Debian's `prometheus` package, installed
# here when missing), openssl and curl. Prints one line per check and exits 1
# if any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  echo "== installing prometheus (Debian package)"
  sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_ apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
BIN="${INFERSIGHT:-target/release/infersight}"
if [ ! -x "$BIN" ]; then
  echo "== building $BIN"
  cargo build --release -p infersight
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
MTLS_PORT="$(free_port)"
PROM_PORT="$(free_port)"

echo "== certificates (a CA, a server certificate for localhost, a client certificate)"
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=infersight check CA" \
  -keyout ca-key.pem -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=prometheus" -keyout client-key.pem -out client.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
  -extfile client.ext -out client.pem 2>/dev/null
cd - >/dev/null

PROM_PASSWORD="prom-$(openssl rand -hex 8)"
TOKEN="grafana-$(openssl rand -hex 12)"
EXPIRED="expired-$(openssl rand -hex 12)"
PROM_HASH="$(printf '%s\n' "$PROM_PASSWORD" | "$BIN" hash-password)"
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

cat > "$WORK/web.yml" <<EOF
tls_server_config:
  cert_file: server.pem
  key_file: server-key.pem
basic_auth_users:
  prometheus: '$PROM_HASH'
EOF
cat > "$WORK/web-mtls.yml" <<EOF
tls_server_config:
  cert_file: server.pem
  key_file: server-key.pem
  client_ca_file: ca.pem
  client_auth_type: RequireAndVerifyClientCert
EOF
config() { # $1 listen port, $2 web.yml, $3 data dir; then users and tokens, if $4 is "auth"
  printf '[server]\nlisten = "127.0.0.1:%s"\nweb_config = "%s"\n\n[storage]\npath = "%s"\n' "$1" "$WORK/$2" "$3"
  [ "${4:-}" = auth ] || return 0
  cat <<EOF

[auth.users]
prometheus = ["ingest", "metrics"]

[[auth.token]]
name = "grafana"
hash = "sha256:$(sha "$TOKEN")"
roles = ["metrics"]

[[auth.token]]
name = "retired"
hash = "sha256:$(sha "$EXPIRED")"
roles = ["metrics"]
expires = "2020-01-01T00:00:00Z"
EOF
}
config "$PORT" web.yml "$WORK/data" auth > "$WORK/infersight.toml"
config "$MTLS_PORT" web-mtls.yml "$WORK/data-mtls" > "$WORK/infersight-mtls.toml"

"$BIN" serve --config "$WORK/infersight.toml" > "$WORK/infersight.log" 2>&1 &
PIDS+=($!)
"$BIN" serve --config "$WORK/infersight-mtls.toml" > "$WORK/infersight-mtls.log" 2>&1 &
PIDS+=($!)

cat > "$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  external_labels:
    replica: check
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PROM_PORT"]
remote_write:
  - url: https://localhost:$PORT/api/v1/write
    basic_auth:
      username: prometheus
      password: $PROM_PASSWORD
    tls_config:
      ca_file: $WORK/ca.pem
    queue_config:
      batch_send_deadline: 1s
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

CURL=(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" --max-time 5)
BASE="https://localhost:$PORT"
for _ in $(seq 1 60); do
  [ "$("${CURL[@]}" "$BASE/-/ready")" = 200 ] && break
  sleep 0.5
done

FAILED=0
check() { # $1 what, $2 expected, $3 got
  if [ "$2" = "$3" ]; then echo "ok    $1: $3"; else echo "FAIL  $1: expected $2, got $3"; FAILED=1; fi
}

echo "== a real Prometheus remote-writes over TLS with basic auth"
samples=""
for _ in $(seq 1 60); do
  samples="$(curl -s --cacert "$WORK/ca.pem" -H "Authorization: Bearer $TOKEN" \
    --data-urlencode 'query=count({job="prometheus",replica="check"})' "$BASE/api/v1/query" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')"
  [ -n "$samples" ] && [ "$samples" -gt 0 ] && break
  sleep 1
done
check "series written by Prometheus, read with a bearer token (curl)" yes "$([ -n "$samples" ] && [ "$samples" -gt 0 ] && echo yes || echo "no (${samples:-none})")"
echo "      ($samples series of job=\"prometheus\"; Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3))"

echo "== promtool: the web.yml is Prometheus's own format, and a query over TLS"
check "promtool check web-config web.yml" yes "$(cd "$WORK" && promtool check web-config web.yml web-mtls.yml >/dev/null 2>&1 && echo yes || echo no)"
# promtool takes an HTTP client config (--http.config.file, so a bearer
# token) from Prometheus 2.43 on; an older one sends basic auth from the URL.
if promtool query instant --help 2>&1 | grep -q -- '--http.config.file'; then
  cat > "$WORK/http.yml" <<EOF
authorization:
  credentials: $TOKEN
tls_config:
  ca_file: $WORK/ca.pem
EOF
  how="bearer token"
  promtool_out="$(promtool query instant --http.config.file="$WORK/http.yml" "$BASE" 'up{job="prometheus"}' 2>&1 || true)"
else
  how="basic auth; this promtool cannot send a token"
  promtool_out="$(SSL_CERT_FILE="$WORK/ca.pem" promtool query instant "https://prometheus:$PROM_PASSWORD@localhost:$PORT" 'up{job="prometheus"}' 2>&1 || true)"
fi
check "promtool query instant ($how)" yes "$(grep -q 'up{' <<<"$promtool_out" && echo yes || echo "no: $promtool_out")"

echo "== refusals"
check "no credentials" 401 "$("${CURL[@]}" "$BASE/api/v1/query?query=up")"
check "wrong password" 401 "$("${CURL[@]}" -u "prometheus:not-$PROM_PASSWORD" "$BASE/api/v1/query?query=up")"
check "unknown token" 401 "$("${CURL[@]}" -H "Authorization: Bearer unknown-$TOKEN" "$BASE/api/v1/query?query=up")"
check "expired token" 401 "$("${CURL[@]}" -H "Authorization: Bearer $EXPIRED" "$BASE/api/v1/query?query=up")"
check "metrics token on the exchange API" 403 "$("${CURL[@]}" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/infersight/exchanges")"
check "metrics token writing" 403 "$("${CURL[@]}" -H "Authorization: Bearer $TOKEN" -X POST "$BASE/api/v1/write")"
check "plain HTTP to the TLS listener" 000 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://localhost:$PORT/api/v1/query?query=up" || true)"

MTLS="https://localhost:$MTLS_PORT"
for _ in $(seq 1 60); do
  [ "$("${CURL[@]}" --cert "$WORK/client.pem" --key "$WORK/client-key.pem" "$MTLS/-/ready")" = 200 ] && break
  sleep 0.5
done
no_cert="$("${CURL[@]}" "$MTLS/api/v1/query?query=up" || true)"
check "a client without the required certificate" 000 "$no_cert"
check "a client with a certificate of the CA" 200 \
  "$("${CURL[@]}" --cert "$WORK/client.pem" --key "$WORK/client-key.pem" "$MTLS/api/v1/query?query=up")"

echo "== no secret in the logs"
leaks=0
for secret in "$PROM_PASSWORD" "$TOKEN" "$EXPIRED"; do
  if grep -qF "$secret" "$WORK/infersight.log" "$WORK/infersight-mtls.log"; then leaks=$((leaks + 1)); fi
done
check "secrets found in infersight's logs" 0 "$leaks"

exit "$FAILED"
