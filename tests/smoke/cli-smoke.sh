#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The CLI smoke run: every command once, and its common error paths, with
# the exit status each must give. $STEKCTL may carry a wrapper, e.g.
#   STEKCTL="valgrind --error-exitcode=99 ... /path/stekctl" cli-smoke.sh SRC
# A wrapper's own failure (exit 99 from valgrind) fails the run, as does
# any unexpected exit status.
# Usage: cli-smoke.sh SOURCE_DIR   (needs $STEKCTL)
set -u
src=$1
corpus=$src/fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
runs=0
failures=0

# expect STATUS ARGS...: run stekctl with ARGS, expecting exit STATUS.
expect() {
  want=$1
  shift
  runs=$((runs + 1))
  # shellcheck disable=SC2086 # $STEKCTL is a command line on purpose
  $STEKCTL "$@" >out.txt 2>err.txt </dev/null
  got=$?
  if [ "$got" -ne "$want" ]; then
    failures=$((failures + 1))
    echo "FAILED (exit $got, wanted $want): stekctl $*"
    sed 's/^/  /' err.txt | tail -n 40
  fi
}

t0=2026-11-28T14:00:00Z
later=2026-11-29T11:49:00Z

expect 0 --version
expect 0 --help
expect 0 --at $t0 generate ks.json
expect 0 --at $t0 list ks.json
expect 0 --json --at $t0 list ks.json
expect 0 --at $later rotate ks.json --dry-run
expect 0 --at $later rotate ks.json
expect 0 --at $later rotate ks.json --force
for format in nginx nginx48 envoy; do
  expect 0 --at $later export ks.json --format $format --out "exp-$format"
done
for format in haproxy haproxy48 apache openssl go s2n k8s-secret; do
  expect 0 --at $later export ks.json --format $format --out "exp-$format"
done
expect 0 --at $later export ks.json --format haproxy --sni www.example.com --out sni.keys
expect 0 --at $later export ks.json --format go --out -
for format in haproxy haproxy48 apache openssl go s2n; do
  expect 0 --at $later import "imp-$format.json" --format $format "exp-$format"
done
expect 0 --at $later import imp-nginx.json --format nginx exp-nginx/*.key
expect 0 --at $later import imp-envoy.json --format envoy exp-envoy/*.key
id=$(sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' ks.json | head -n 1)
expect 0 --at $later revoke ks.json "$id" --reason "smoke test"
expect 0 --json --at $later list ks.json
expect 0 --at $later check ks.json
expect 0 --at $later check --prometheus ks.json
expect 4 --json --at 2026-12-30T00:00:00Z check ks.json
expect 0 inspect "$corpus/ticket_input/hex"
expect 0 --json inspect "$corpus/ticket_input/base64"
expect 0 inspect --keystore ks.json "$corpus/pem_session/tls13-tls12"
expect 0 inspect --keystore ks.json --summary "$corpus/capture_reader/loopback-tls12-tls13.pcap"
expect 0 --json inspect --keystore ks.json "$corpus/capture_reader/loopback-tls12-tls13.pcapng"
expect 0 inspect --keylog "$corpus/keylog/openssl-s_client" "$corpus/capture_reader/openssl-tls12-tls13.pcap"
expect 0 completion bash
expect 0 completion zsh
expect 0 completion fish

# Error paths: each must fail with 1 (bad input) or 2 (bad command line).
expect 2 frobnicate
expect 2 generate
expect 1 --at $t0 generate ks.json
expect 1 list missing.json
printf '{"version": 1, "keys": [' >broken.json
chmod 600 broken.json
expect 1 list broken.json
cp ks.json open.json
chmod 644 open.json
expect 1 list open.json
expect 4 --at $later check open.json
expect 1 check --prometheus broken.json
expect 1 --at $later revoke ks.json 00000000000000000000000000000000 --reason none
expect 1 export ks.json --format nosuch --out x
expect 1 export ks.json --format nginx --out missing-dir/sub/x
printf 'too short' >short.key
expect 1 import imp-short.json --format nginx short.key
expect 0 inspect "$corpus/capture_reader/cut-short.pcap"
printf "zz" >junk.bin
expect 1 inspect junk.bin
expect 1 inspect missing.pcap
expect 1 inspect --keylog "$corpus/keylog/bad-hex" "$corpus/capture_reader/openssl-tls12-tls13.pcap"
expect 2 completion tcsh
expect 2 --json completion bash

echo "cli smoke: $runs runs, $failures failed"
[ "$failures" -eq 0 ]
