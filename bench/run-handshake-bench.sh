#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run-handshake-bench.sh: resumed TLS handshakes per second through
# examples/stek-server with its keys from the provider (a keystore file),
# against the same server given the same key through OpenSSL's built-in
# SSL_CTX_set_tlsext_ticket_keys (the 80-byte `stekctl export --format
# openssl`). The client is `openssl s_time -reuse` for both, and the two
# servers are measured in alternating rounds in one run, so machine noise
# hits both alike.
#
# Usage:
#   bench/run-handshake-bench.sh [BUILD_DIR [RESULTS_FILE]]
#
#   BUILD_DIR     a build with stekctl and stek-server, ideally Release, e.g.
#                   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#                     -DSTEK_BUILD_BENCH=ON -DSTEK_BUILD_TESTS=OFF -DSTEK_BUILD_MAN=OFF
#                   cmake --build build-bench -j2
#   RESULTS_FILE  Markdown file the results go to
#                 (default BUILD_DIR/handshake-bench-results.md)
#
# Environment:
#   STEK_BENCH_ROUNDS   alternating rounds per protocol (default 5)
#   STEK_BENCH_SECONDS  seconds per s_time run (default 4)
set -euo pipefail

build=${1:-build-bench}
results=${2:-$build/handshake-bench-results.md}
rounds=${STEK_BENCH_ROUNDS:-5}
seconds=${STEK_BENCH_SECONDS:-4}
stekctl=$build/cli/stekctl
server=$build/examples/stek-server/stek-server
for tool in "$stekctl" "$server"; do
  [ -x "$tool" ] || { echo "run-handshake-bench.sh: $tool not built" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=bench.example \
  -days 2 2>/dev/null
"$stekctl" --quiet generate "$work/ks.json"
"$stekctl" --quiet export --format openssl --out "$work/openssl.key" "$work/ks.json"

# Start a server in the background (in this shell, so cleanup knows its
# pid) and wait for its "listening on HOST:PORT" line.
start() {
  local log=$1; shift
  "$server" --listen 127.0.0.1:0 --vhost "bench.example=$work/cert.pem,$work/key.pem" \
    --quiet "$@" > "$log" 2> "$log.err" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "listening on" "$log" 2>/dev/null && return
    sleep 0.05
  done
  echo "run-handshake-bench.sh: server did not start: $(cat "$log.err")" >&2
  exit 1
}
port_of() { sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1"; }
start "$work/provider.log" --keystore "$work/ks.json"
start "$work/builtin.log" --openssl-keys "$work/openssl.key"
provider_port=$(port_of "$work/provider.log")
builtin_port=$(port_of "$work/builtin.log")

# Resumed connections per second from one s_time run (real time).
rate() {
  local port=$1 proto=$2 www=()
  # TLS 1.3 tickets arrive after the handshake: s_time reads them only
  # when it requests a page.
  [ "$proto" = -tls1_3 ] && www=(-www /)
  openssl s_time -connect "127.0.0.1:$port" -reuse -time "$seconds" "$proto" \
    "${www[@]}" 2>/dev/null |
    awk '/connections in [0-9]+ real seconds/ { printf "%.1f\n", $1 / $4 }' |
    tail -n 1
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

{
  echo "# Resumed handshakes per second, stek-server (openssl s_time -reuse)"
  echo
  echo "$rounds alternating rounds of ${seconds} s each per protocol; medians."
  echo
  echo "| protocol | provider (keystore) | OpenSSL built-in keys | ratio |"
  echo "|---|---:|---:|---:|"
} > "$results"
for proto in -tls1_2 -tls1_3; do
  : > "$work/p" ; : > "$work/b"
  for _ in $(seq "$rounds"); do
    rate "$provider_port" "$proto" >> "$work/p"
    rate "$builtin_port" "$proto" >> "$work/b"
  done
  p=$(median < "$work/p"); b=$(median < "$work/b")
  ratio=$(awk -v p="$p" -v b="$b" 'BEGIN { printf "%.3f", p / b }')
  echo "| ${proto#-} | $p/s | $b/s | $ratio |" >> "$results"
  echo "${proto#-}: provider $(tr '\n' ' ' < "$work/p")| builtin $(tr '\n' ' ' < "$work/b")" >&2
done
cat "$results"
