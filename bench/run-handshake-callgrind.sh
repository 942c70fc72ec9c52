#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run-handshake-callgrind.sh: the server's CPU instructions per resumed
# handshake, stek-server on the provider against the same server on
# OpenSSL's built-in keys, counted by valgrind's callgrind. Instruction
# counts do not depend on what else the machine runs, so this settles what
# run-handshake-bench.sh's timings cannot on a shared machine. Each mode is
# run for 51 and for 251 connections of `openssl s_time -reuse`; the
# difference over 200 cancels start-up and the one full handshake.
#
# Usage: bench/run-handshake-callgrind.sh [BUILD_DIR]   (default build-bench)
set -euo pipefail

build=$(cd "${1:-build-bench}" && pwd)
server=$build/examples/stek-server/stek-server
stekctl=$build/cli/stekctl
command -v valgrind > /dev/null || { echo "needs valgrind" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout key.pem -out cert.pem -subj /CN=bench.example -days 2 2>/dev/null
"$stekctl" --quiet generate ks.json
"$stekctl" --quiet export --format openssl --out openssl.key ks.json 2>/dev/null

# Instructions of one server run serving $1 connections; then the mode.
instructions() {
  local connections=$1 proto=$2; shift 2
  valgrind --tool=callgrind --callgrind-out-file=cg.out "$server" \
    --listen 127.0.0.1:0 --vhost "bench.example=cert.pem,key.pem" --quiet \
    --max-connections "$connections" "$@" > out.txt 2> err.txt &
  local pid=$!
  for _ in $(seq 300); do grep -q listening out.txt 2>/dev/null && break; sleep 0.1; done
  local port www=()
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' out.txt)
  [ "$proto" = -tls1_3 ] && www=(-www /)
  openssl s_time -connect "127.0.0.1:$port" -reuse -time 600 "$proto" "${www[@]}" \
    > /dev/null 2>&1 &
  local client=$!
  wait "$pid"
  kill "$client" 2> /dev/null || true
  wait "$client" 2> /dev/null || true
  awk '/^(summary|totals):/ { print $2; exit }' cg.out
}

printf '| protocol | provider | built-in keys | built-in / provider |\n|---|---:|---:|---:|\n'
for proto in -tls1_2 -tls1_3; do
  per() { echo $(( ($(instructions 251 "$proto" "$@") - $(instructions 51 "$proto" "$@")) / 200 )); }
  p=$(per --keystore ks.json)
  b=$(per --openssl-keys openssl.key)
  printf '| %s | %d | %d | %s |\n' "${proto#-}" "$p" "$b" \
    "$(awk -v p="$p" -v b="$b" 'BEGIN { printf "%.4f", b / p }')"
done
