#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run-derived-bench.sh: what a MAC oracle costs a cron export. Times the
# stekctl binary with hyperfine on a plain keystore and on derived keystores
# with the same policy and the same 4 live keys, and counts the oracle calls
# each export makes.
#
# Usage:
#   bench/run-derived-bench.sh [BUILD_DIR [RESULTS_FILE]]
#
#   BUILD_DIR     a build with stekctl and, for the PKCS#11 rows,
#                 stek-test-hsm (STEK_BUILD_TESTS=ON; default ./build-bench),
#                 e.g.
#                   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#                     -DSTEK_BUILD_BENCH=ON -DSTEK_BUILD_TESTS=ON \
#                     -DSTEK_BUILD_MAN=OFF
#                   cmake --build build-bench -j2 --target stekctl stek-test-hsm
#                 This script builds nothing itself.
#   RESULTS_FILE  Markdown file the results go to
#                 (default BUILD_DIR/derived-bench-results.md)
#
# Environment:
#   STEK_BENCH_WARMUP    hyperfine warm-up runs (default 3)
#   STEK_BENCH_MIN_RUNS  hyperfine minimum runs (default 10)
#   STEK_TEST_HSM        stek-test-hsm (default: found in BUILD_DIR)
#   STEK_SOFTHSM2_MODULE SoftHSM2 (default /usr/lib/softhsm/libsofthsm2.so)
#
# The keystores (policy: a key every 1h, published 10m ahead, encrypting 1h,
# decrypting 2h more, SNI binding on), all read at the fixed instant
# 2026-01-02T00:55:00Z, when 4 keys are live (2 decrypt-only, 1 encrypting,
# 1 pending):
#   plain    stekctl generate, then rotate every hour up to the instant
#   command  generate --derive with the command oracle
#            `echo call >> calls.log; openssl mac -digest SHA256 ... HMAC`
#            (hex): a fork and exec of sh and openssl per call; the echo
#            counts the calls
#   pkcs11   generate --derive with the PKCS#11 oracle on a SoftHSM2 token
#            made here with stek-test-hsm (a generated, non-extractable
#            key); a session, login, sign and logout per call, and the
#            module loaded once per process. Its calls are counted in one
#            more run through OpenSC's pkcs11-spy (C_Sign), if installed.
# and measures, with output to a directory (nginx) or /dev/null (list):
#   export --format nginx --sni www.example   the 4 keys; after the first
#                                             run the files are unchanged,
#                                             as for a cron job
#   list                                      no oracle call (ids are public)
#
# Needs hyperfine and openssl (Debian: apt-get install hyperfine openssl),
# and softhsm2 for the PKCS#11 rows (skipped without it). The results file
# holds hyperfine's Markdown tables and a summary of mean +- sigma, user+sys
# CPU (children included) and oracle calls per run; the summary is printed
# at the end.

set -euo pipefail

build_dir=${1:-./build-bench}
results=${2:-$build_dir/derived-bench-results.md}
warmup=${STEK_BENCH_WARMUP:-3}
min_runs=${STEK_BENCH_MIN_RUNS:-10}
module=${STEK_SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
spy=/usr/lib/x86_64-linux-gnu/pkcs11-spy.so
at=2026-01-02T00:55:00Z
hex_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# shellcheck source=bench/hyperfine-common.sh
source "$(dirname "$0")/hyperfine-common.sh"

stekctl=$build_dir/cli/stekctl
[[ -x $stekctl ]] || die "no $stekctl; build stekctl first"
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
hsm_tool=${STEK_TEST_HSM:-$build_dir/tests/derived/stek-test-hsm}
pkcs11=yes
if [[ ! -x $hsm_tool || ! -r $module ]]; then
  echo "run-derived-bench.sh: no stek-test-hsm or SoftHSM2; skipping the PKCS#11 rows" >&2
  pkcs11=no
fi

stekctl=$(realpath "$stekctl")
results=$(realpath -m "$results")
[[ $pkcs11 == yes ]] && hsm_tool=$(realpath "$hsm_tool")
work=$(mktemp -d "${TMPDIR:-/tmp}/stek-derived-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

policy=(--rotate-every 1h --publish-ahead 10m --decrypt-for 2h)

# plain: one key at 21:00, then rotate keeps 4 live at $at.
"$stekctl" generate --quiet --at 2026-01-01T21:00:00Z "${policy[@]}" plain.json
for t in 2026-01-01T21:50:00Z 2026-01-01T22:50:00Z 2026-01-01T23:50:00Z 2026-01-02T00:50:00Z; do
  "$stekctl" rotate --quiet --at "$t" plain.json
done

oracle_command="echo call >> $(q "$work/calls.log"); openssl mac -digest SHA256 -macopt hexkey:$hex_key HMAC"
"$stekctl" generate --quiet --at "$at" "${policy[@]}" command.json --derive \
  --fleet bench --oracle-command "$oracle_command" --oracle-output hex

keystores=(plain command)
if [[ $pkcs11 == yes ]]; then
  mkdir -m 700 hsm
  printf 'bench-user-pin\n' >hsm/pin
  printf 'bench-so-pin\n' >hsm/so-pin
  chmod 600 hsm/pin hsm/so-pin
  conf=$("$hsm_tool" init --dir "$work/hsm" --token bench --pin-file hsm/pin \
    --so-pin-file hsm/so-pin --module "$module")
  export SOFTHSM2_CONF=$conf
  "$hsm_tool" create-key --module "$module" --token bench --pin-file hsm/pin \
    --label stek --generate
  pkcs11_args=(--pkcs11-token bench --pkcs11-key stek --pkcs11-pin-file "$work/hsm/pin")
  "$stekctl" generate --quiet --at "$at" "${policy[@]}" pkcs11.json --derive \
    --fleet bench --pkcs11-module "$module" "${pkcs11_args[@]}"
  keystores+=(pkcs11)
fi

# Oracle calls of one run of `stekctl $1` on keystore $2: export (in a
# fresh directory, so the files are written: the same calls as an unchanged
# export) or list.
count_calls() {
  local what=$1 ks=$2 n
  local run=(export --format nginx --out count-out --sni www.example)
  [[ $what == list ]] && run=(list)
  rm -rf count-out calls.log spy.log
  mkdir count-out
  case $ks in
    plain) n=0 ;;
    command)
      "$stekctl" --quiet --at "$at" "${run[0]}" command.json "${run[@]:1}" >/dev/null
      n=0
      [[ -e calls.log ]] && n=$(wc -l <calls.log) ;;
    pkcs11)
      if [[ -r $spy ]]; then
        # The same token and key through the spy, which logs every call.
        [[ -e spy.json ]] ||
          "$stekctl" generate --quiet --at "$at" "${policy[@]}" spy.json \
            --derive --fleet bench --pkcs11-module "$spy" "${pkcs11_args[@]}" \
            --no-oracle-check
        PKCS11SPY=$module PKCS11SPY_OUTPUT=$work/spy.log \
          "$stekctl" --quiet --at "$at" "${run[0]}" spy.json "${run[@]:1}" >/dev/null
        n=0
        [[ -e spy.log ]] && n=$(grep -c ' C_Sign$' spy.log || true)
      else
        n="n/a (no pkcs11-spy)"
      fi ;;
  esac
  echo "$n"
}

summary=$work/summary
: >"$summary"
write_results_header "stekctl derived keystore benchmark"


for what in export list; do
  cmds=()
  for ks in "${keystores[@]}"; do
    case $what in
      export)
        mkdir -p "out-$ks"
        cmds+=(-n "export nginx: $ks"
               "$(q "$stekctl") --quiet --at $at export $(q "$ks.json") --format nginx --out $(q "out-$ks") --sni www.example") ;;
      list)
        cmds+=(-n "list: $ks"
               "$(q "$stekctl") --at $at list $(q "$ks.json")") ;;
    esac
  done
  echo "== $what"
  "${hf[@]}" --output null --export-csv run.csv --export-markdown run.md "${cmds[@]}"
  {
    echo "## $what"
    echo
    cat run.md
    echo
  } >>"$results"
  # One row per keystore: command, mean +- sigma, min, max, user+sys,
  # oracle calls of one run.
  i=0
  tail -n +2 run.csv | while IFS=, read -r name mean stddev median user system min max; do
    ks=${keystores[i]}
    calls=$(count_calls "$what" "$ks")
    awk -v name="$name" -v calls="$calls" -v mean="$mean" -v sd="$stddev" \
        -v min="$min" -v max="$max" -v cpu="$user+$system" 'BEGIN {
      split(cpu, c, "+")
      printf "| %s | %.2f ± %.2f | %.2f | %.2f | %.2f | %s |\n",
        name, mean * 1000, sd * 1000, min * 1000, max * 1000,
        (c[1] + c[2]) * 1000, calls
    }' >>"$summary"
    i=$((i + 1))
  done
done

table=$work/table
{
  echo "## Summary"
  echo
  echo "| command | mean ± σ (ms) | min (ms) | max (ms) | user+sys (ms) | oracle calls |"
  echo "|:---|---:|---:|---:|---:|---:|"
  cat "$summary"
} >"$table"
cat "$table" >>"$results"

echo
cat "$table"
echo
echo "results written to $results"
