#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run-inspect-bench.sh: time `stekctl inspect --summary` on a big capture of
# real TLS handshakes, beside tshark extracting the same three ticket kinds
# and `tcpdump -r` (the floor: reading the file and nothing more).
#
# Usage:
#   bench/run-inspect-bench.sh [BUILD_DIR]
#
#   BUILD_DIR  a Release build holding cli/stekctl (default ./build-bench), e.g.
#                cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#                  -DSTEK_BUILD_TESTS=OFF -DSTEK_BUILD_MAN=OFF
#                cmake --build build-bench -j2 --target stekctl
#              This script builds nothing itself.
#
# Environment:
#   STEKCTL        the stekctl binary (default BUILD_DIR/cli/stekctl)
#   SIZE_MIB       size of the capture to build, MiB (default 300)
#   SEED_ROUNDS    rounds of real handshakes in the seed capture; each round
#                  is 4 connections: TLS 1.2 full + resumed, TLS 1.3 full +
#                  resumed (default 100)
#   CONCURRENCY    copies of the seed whose connections interleave in the
#                  big capture (default 32)
#   RUNS           timed runs per tool, the fastest is kept (default 1)
#   CAPTURE        use this capture instead of building one (then the ticket
#                  count is not checked); must have TLS on port 443
#   KEEP           1: keep the work directory (default 0)
#   RESULTS        Markdown file for the results (default: only printed)
#   TMPDIR         where the work directory goes (needs ~2x SIZE_MIB)
#
# What it does:
#   1. Starts nginx 1.22 on a free loopback port (TLS 1.2 and 1.3, an
#      80-byte ssl_session_ticket_key) and captures, with tcpdump on lo,
#      SEED_ROUNDS x 4 `openssl s_client` connections: TLS 1.2
#      NewSessionTickets and ClientHello session_ticket extensions, TLS 1.3
#      ClientHello pre_shared_key identities (and encrypted TLS 1.3 NSTs).
#   2. Grows it with bench/inspect-replicate.py (stdlib Python) to about
#      SIZE_MIB: each copy gets its own client address and ports (distinct
#      4-tuples), server port 443, shifted timestamps, and copies
#      interleave CONCURRENCY at a time.
#   3. With the file in the page cache, times under /usr/bin/time:
#        stekctl --json inspect --summary FILE
#        stekctl --json inspect --summary --keystore KS FILE   (KS: nginx's
#          key imported; every ticket verified, decrypted, decoded; only
#          when the capture was built here)
#        tshark -r FILE -Y 'tls.handshake.type == 4 ||
#               tls.handshake.extension.type == 35 ||
#               tls.handshake.extension.type == 41' -T fields -e ...
#        tcpdump -r FILE -w /dev/null
#      and prints wall time, throughput and peak RSS of each and the ratios.
#   4. Checks that stekctl and tshark found every ticket: the seed's
#      count (stekctl and tshark on the seed must agree) times the copies.
#
# Needs root (tcpdump on lo), nginx, openssl, tcpdump, tshark, python3, GNU
# time (Debian: apt-get install nginx tcpdump tshark time).

set -euo pipefail

build_dir=${1:-./build-bench}
stekctl=${STEKCTL:-$build_dir/cli/stekctl}
size_mib=${SIZE_MIB:-300}
seed_rounds=${SEED_ROUNDS:-100}
concurrency=${CONCURRENCY:-32}
runs=${RUNS:-1}
keep=${KEEP:-0}
results=${RESULTS:-}
here=$(cd "$(dirname "$0")" && pwd)

die() {
  echo "run-inspect-bench.sh: error: $*" >&2
  exit 1
}
note() {
  echo "run-inspect-bench.sh: $*" >&2
}

# --- prerequisites ---------------------------------------------------------
for program in openssl tshark python3; do
  command -v "$program" >/dev/null || die "$program not found"
done
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) not found (apt-get install time)"
tcpdump=$(command -v tcpdump || true)
[ -n "$tcpdump" ] || tcpdump=/usr/sbin/tcpdump
[ -x "$tcpdump" ] || die "tcpdump not found"
[ -x "$stekctl" ] || die "no stekctl at $stekctl (give BUILD_DIR or STEKCTL)"
"$stekctl" inspect --help >/dev/null 2>&1 || die "$stekctl has no working 'inspect' command"
[[ "$size_mib" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SIZE_MIB must be a number"
[[ "$seed_rounds" =~ ^[1-9][0-9]*$ ]] || die "SEED_ROUNDS must be a positive integer"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
if [ -z "${CAPTURE:-}" ]; then
  [ "$(id -u)" = 0 ] || die "tcpdump on lo needs root (or give CAPTURE=FILE)"
  nginx=$(command -v nginx || true)
  [ -n "$nginx" ] || nginx=/usr/sbin/nginx
  [ -x "$nginx" ] || die "nginx not found"
fi

# --- work directory and clean-up -------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/stek-inspect-bench.XXXXXX")
nginx_pid=""
tcpdump_pid=""
cleanup() {
  local rc=$?
  if [ -n "$tcpdump_pid" ] && kill -0 "$tcpdump_pid" 2>/dev/null; then
    kill -INT "$tcpdump_pid" 2>/dev/null || true
    wait "$tcpdump_pid" 2>/dev/null || true
  fi
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then
    note "kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# Count tickets in tshark -T fields output of
#   -e tls.handshake.session_ticket -e tls.handshake.extensions.psk.identity.identity
#   -e tls.handshake.extension.type -e tls.handshake.extension.len
# (separator ';', aggregator ','): NSTs + non-empty extension 35 + PSK
# identities. The extension types and lengths of a frame line up.
count_tshark_tickets() {
  awk -F';' '
    function items(s,   n, a) { if (s == "") return 0; return split(s, a, ","); }
    {
      nst += items($(NF - 3)); psk += items($(NF - 2));
      nt = split($(NF - 1), types, ","); split($NF, lens, ",");
      for (i = 1; i <= nt; i++) if (types[i] == 35 && lens[i] > 0) ch35++;
    }
    END { printf "%d %d %d %d\n", nst + ch35 + psk, nst, ch35, psk }'
}

tshark_fields=(-T fields -E separator=';' -E aggregator=',' -e frame.number
               -e tls.handshake.session_ticket -e tls.handshake.extensions.psk.identity.identity
               -e tls.handshake.extension.type -e tls.handshake.extension.len)
tshark_filter='tls.handshake.type == 4 || tls.handshake.extension.type == 35 || tls.handshake.extension.type == 41'

# --- 1. the seed: real handshakes ------------------------------------------
expected=""
if [ -n "${CAPTURE:-}" ]; then
  [ -r "$CAPTURE" ] || die "cannot read $CAPTURE"
  big=$CAPTURE
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 -subj /CN=a.example \
    -addext subjectAltName=DNS:a.example 2>/dev/null || die "cannot make a certificate"
  head -c 80 /dev/urandom >"$work/ticket.key"
  port=$(free_port)
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
error_log $work/nginx/error.log notice;
pid $work/nginx/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/nginx/cb; proxy_temp_path $work/nginx/p;
  fastcgi_temp_path $work/nginx/f; uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  server {
    listen 127.0.0.1:$port ssl;
    server_name a.example;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_timeout 1h;
    ssl_session_tickets on;
    ssl_session_ticket_key $work/ticket.key;
    location / { return 200 "ok\n"; }
  }
}
EOF
  "$nginx" -p "$work/nginx/" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" \
    -g 'daemon off; master_process on;' >"$work/nginx/output.log" 2>&1 &
  nginx_pid=$!
  wait_for_port "$port" 20 || die "nginx did not start: $(cat "$work/nginx/error.log" "$work/nginx/output.log")"

  # --immediate-mode: otherwise packets libpcap still buffers are lost on
  # SIGINT; -B: no kernel drops; -Z root: write into the work directory.
  "$tcpdump" -i lo -n --immediate-mode -U -B 65536 -Z root -w "$work/seed.pcap" \
    "tcp port $port" 2>"$work/tcpdump.log" &
  tcpdump_pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$work/tcpdump.log" && break
    kill -0 "$tcpdump_pid" 2>/dev/null || die "tcpdump failed: $(cat "$work/tcpdump.log")"
    sleep 0.1
  done
  grep -q "listening on" "$work/tcpdump.log" || die "tcpdump did not start"
  sleep 0.2

  note "seed: $seed_rounds rounds of 4 handshakes with nginx on port $port"
  request=$'GET / HTTP/1.0\r\nHost: a.example\r\n\r\n'
  client() { # version [s_client options...]
    local version=$1
    shift
    printf '%s' "$request" | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
      -servername a.example "$version" -ign_eof "$@" >/dev/null 2>&1
  }
  for round in $(seq "$seed_rounds"); do
    s12=$work/s12-$round.pem
    s13=$work/s13-$round.pem
    client -tls1_2 -sess_out "$s12" || die "TLS 1.2 handshake failed"
    client -tls1_2 -sess_in "$s12" || die "TLS 1.2 resumption failed"
    client -tls1_3 -sess_out "$s13" || die "TLS 1.3 handshake failed"
    client -tls1_3 -sess_in "$s13" || die "TLS 1.3 resumption failed"
    rm -f "$s12" "$s13"
  done
  sleep 0.3
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  tcpdump_pid=""
  grep -q "^0 packets dropped by kernel" "$work/tcpdump.log" ||
    die "tcpdump dropped packets: $(cat "$work/tcpdump.log")"
  kill -TERM "$nginx_pid"
  wait "$nginx_pid" || true
  nginx_pid=""

  # The seed's tickets, by tshark and by stekctl: they must agree.
  read -r seed_tshark seed_nst seed_ch35 seed_psk < <(
    tshark -r "$work/seed.pcap" -n -d "tcp.port==$port,tls" -Y "$tshark_filter" \
      "${tshark_fields[@]}" 2>/dev/null | count_tshark_tickets)
  seed_stekctl=$("$stekctl" --json inspect --summary "$work/seed.pcap" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["tickets"])')
  note "seed: $(stat -c %s "$work/seed.pcap") bytes; tshark: $seed_tshark tickets" \
    "($seed_nst NST, $seed_ch35 ClientHello session_ticket, $seed_psk PSK identities);" \
    "stekctl: $seed_stekctl"
  [ "$seed_tshark" = "$seed_stekctl" ] ||
    die "stekctl and tshark disagree on the seed ($seed_stekctl vs $seed_tshark); kept with KEEP=1"

  # The server's key in a keystore, valid from before the seed.
  keystore=$work/ks.json
  "$stekctl" --quiet --at "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
    import "$keystore" --format nginx "$work/ticket.key" 2>/dev/null ||
    die "stekctl import failed"

  # --- 2. replicate ----------------------------------------------------------
  big=$work/big.pcap
  copies=$(python3 "$here/inspect-replicate.py" "$work/seed.pcap" "$big" "$size_mib" \
    --server-port "$port" --concurrency "$concurrency")
  expected=$((seed_tshark * copies))
fi

bytes=$(stat -c %s "$big")
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
packets=$("$tcpdump" -r "$big" --count 2>/dev/null | awk '{ print $1; exit }' || true)
note "capture: $big, $mib MiB, ${packets:-?} packets${expected:+, $expected tickets expected}"

# --- 3. timings --------------------------------------------------------------
cat "$big" >/dev/null # page cache: every tool reads from memory

# measure NAME OUTPUT CMD...: the best wall time of RUNS runs (bash's
# EPOCHREALTIME, microseconds: GNU time's %e has only 10 ms) and the largest
# peak RSS (GNU time's %M), into the arrays below.
declare -A wall rss
measure() {
  local name=$1 output=$2
  shift 2
  local best="" peak=0 start end e m
  for _ in $(seq "$runs"); do
    start=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$output" 2>"$work/$name.err" ||
      die "$name failed: $(tail -5 "$work/$name.err")"
    end=$EPOCHREALTIME
    e=$(awk -v a="${start/,/.}" -v b="${end/,/.}" 'BEGIN { printf "%.4f", b - a }')
    read -r _ m <"$work/time.txt"
    if [ -z "$best" ] || awk -v a="$e" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$e
    fi
    [ "$m" -gt "$peak" ] && peak=$m
  done
  wall[$name]=$best
  rss[$name]=$peak
  note "$name: ${best}s, peak RSS $((peak / 1024)) MiB"
}

measure stekctl "$work/summary.json" "$stekctl" --json inspect --summary "$big"
tools="stekctl"
if [ -n "${keystore:-}" ]; then
  # With the server's key: every ticket verified, decrypted and decoded.
  measure stekctl-keystore "$work/summary-keystore.json" \
    "$stekctl" --json inspect --summary --keystore "$keystore" "$big"
  tools="$tools stekctl-keystore"
fi
measure tshark "$work/tshark.txt" tshark -r "$big" -n -Y "$tshark_filter" "${tshark_fields[@]}"
measure tcpdump /dev/null "$tcpdump" -r "$big" -w /dev/null

# --- 4. did they find every ticket? -------------------------------------------
found_stekctl=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tickets"])' \
  "$work/summary.json")
read -r found_tshark _ < <(count_tshark_tickets <"$work/tshark.txt")
status=0
if [ -n "$expected" ]; then
  if [ "$found_stekctl" != "$expected" ] || [ "$found_tshark" != "$expected" ]; then
    note "ticket counts differ: expected $expected, stekctl $found_stekctl, tshark $found_tshark"
    status=1
  fi
fi

if [ -n "${keystore:-}" ]; then
  read -r found_keystore keystore_notes < <(python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
flags = {}
for f in doc.get("flags", []):
    flags[f["flag"]] = flags.get(f["flag"], 0) + 1
unknown = sum(1 for k in doc.get("by_key", []) if not k.get("known"))
print(doc["tickets"], "flags:" + (",".join("%s=%d" % kv for kv in sorted(flags.items())) or "none")
      + ";unknown_keys=%d" % unknown)' "$work/summary-keystore.json")
  note "with --keystore: $found_keystore tickets, $keystore_notes"
  if [ -n "$expected" ] && [ "$found_keystore" != "$expected" ]; then
    note "ticket count with --keystore differs: expected $expected, found $found_keystore"
    status=1
  fi
fi

report() {
  local r
  echo "## stekctl inspect --summary vs tshark vs tcpdump -r"
  echo
  echo "Capture: $mib MiB ($bytes bytes), ${packets:-?} packets; tickets: stekctl $found_stekctl," \
    "tshark $found_tshark${expected:+, expected $expected}${found_keystore:+; with --keystore $found_keystore ($keystore_notes)}."
  echo "stekctl: $stekctl ($("$stekctl" --version 2>/dev/null | head -1))."
  echo "$(nproc) CPUs; best of $runs run(s); file in page cache."
  echo
  echo "| tool | wall (s) | throughput (MiB/s) | peak RSS (MiB) |"
  echo "|---|---:|---:|---:|"
  for tool in $tools tshark tcpdump; do
    awk -v t="$tool" -v w="${wall[$tool]}" -v r="${rss[$tool]}" -v b="$bytes" 'BEGIN {
      printf "| %s | %.3f | %.1f | %.1f |\n", t, w, (w > 0 ? b / 1048576 / w : 0), r / 1024 }'
  done
  echo
  awk -v s="${wall[stekctl]}" -v t="${wall[tshark]}" -v d="${wall[tcpdump]}" 'BEGIN {
    printf "wall: stekctl / tshark = %.3f (stekctl %.1fx faster than tshark); ", s / t, t / s
    printf "stekctl / tcpdump = %.2f\n", (d > 0 ? s / d : 0) }'
  awk -v s="${rss[stekctl]}" -v t="${rss[tshark]}" -v d="${rss[tcpdump]}" 'BEGIN {
    printf "peak RSS: stekctl / tshark = %.3f; stekctl / tcpdump = %.2f\n", s / t, s / d }'
}
report | tee ${results:+"$results"}
exit "$status"
