#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run-cli-bench.sh: time the stekctl binary on keystores of 10, 1,000 and
# 10,000 keys with hyperfine, and measure each command's peak RSS with GNU
# time.
#
# Usage:
#   bench/run-cli-bench.sh [BUILD_DIR [RESULTS_FILE]]
#
#   BUILD_DIR     a build with STEK_BUILD_BENCH=ON (default ./build-bench), e.g.
#                   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release \
#                     -DSTEK_BUILD_BENCH=ON -DSTEK_BUILD_TESTS=OFF \
#                     -DSTEK_BUILD_MAN=OFF
#                   cmake --build build-bench -j2
#                 This script builds nothing itself.
#   RESULTS_FILE  Markdown file the results go to
#                 (default BUILD_DIR/cli-bench-results.md)
#
# Environment:
#   STEK_BENCH_SIZES     key counts (default "10 1000 10000")
#   STEK_BENCH_AT        the fixed instant passed as --at, so every run does
#                        the same work (default 2026-01-01T00:00:00Z)
#   STEK_BENCH_WARMUP    hyperfine warm-up runs (default 3)
#   STEK_BENCH_MIN_RUNS  hyperfine minimum runs (default 10)
#   STEK_BENCH_RSS_RUNS  runs under /usr/bin/time, the largest is kept
#                        (default 3)
#
# For each size N, stek_bench_fixture writes a keystore of N keys that are
# all live at STEK_BENCH_AT (one active, its pending successor, the rest
# decrypt-only). Then it measures:
#   generate        stekctl generate --force on a fresh path (removed before
#                   each run; independent of N, kept as the baseline)
#   list --json     stekctl list --json KS, output to /dev/null
#   rotate --force  stekctl rotate --force KS, the fixture restored before
#                   each run (hyperfine --prepare) so each run adds one key
#                   to exactly N
#   rotate (no-op)  stekctl rotate KS with nothing due: load, plan, no write
#
# Needs hyperfine and GNU time (Debian: apt-get install hyperfine time).
# The results file holds hyperfine's Markdown tables and a summary of mean
# +- sigma and peak RSS per command and N; the summary is printed at the end.

set -euo pipefail

build_dir=${1:-./build-bench}
results=${2:-$build_dir/cli-bench-results.md}
sizes=${STEK_BENCH_SIZES:-10 1000 10000}
at=${STEK_BENCH_AT:-2026-01-01T00:00:00Z}
warmup=${STEK_BENCH_WARMUP:-3}
min_runs=${STEK_BENCH_MIN_RUNS:-10}
rss_runs=${STEK_BENCH_RSS_RUNS:-3}

# shellcheck source=bench/hyperfine-common.sh
source "$(dirname "$0")/hyperfine-common.sh"

stekctl=$build_dir/cli/stekctl
fixture=$build_dir/bench/stek_bench_fixture
[[ -x $stekctl ]] || die "no $stekctl; build with -DSTEK_BUILD_BENCH=ON first"
[[ -x $fixture ]] || die "no $fixture; build with -DSTEK_BUILD_BENCH=ON first"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"

stekctl=$(realpath "$stekctl")
fixture=$(realpath "$fixture")
work=$(mktemp -d "${TMPDIR:-/tmp}/stek-cli-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Print the largest peak RSS (KiB) of `rss_runs` runs of the command after
# "--", running the command before "--" before each.
peak_rss() {
  local setup=() max=0 kib i
  while [[ $1 != -- ]]; do setup+=("$1"); shift; done
  shift
  for ((i = 0; i < rss_runs; ++i)); do
    "${setup[@]}"
    /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/rss.err" ||
      { cat "$work/rss.err" >&2; die "failed: $*"; }
    kib=$(tail -n 1 "$work/rss")
    ((kib > max)) && max=$kib
  done
  echo "$max"
}

# Append one row per command of the hyperfine CSV export `csv` to the
# summary: N, command, mean +- sigma, min, max, mean user+system CPU (ms;
# CPU time is the steadier figure on a busy machine), peak RSS.
summary=$work/summary
add_rows() {
  local n=$1 csv=$2 rss=$3
  awk -F, -v n="$n" -v rss="$rss" 'NR > 1 {
    printf "| %s | %s | %.2f ± %.2f | %.2f | %.2f | %.2f | %.1f |\n",
      n, $1, $2 * 1000, $3 * 1000, $7 * 1000, $8 * 1000, ($5 + $6) * 1000,
      rss / 1024
  }' "$csv" >>"$summary"
}

: >"$summary"
write_results_header "stekctl CLI benchmark"


for n in $sizes; do
  fx=$work/fixture-$n.json
  ks=$work/ks-$n.json
  gen=$work/generated-$n.json
  "$fixture" --at "$at" "$n" "$fx"
  cp -p "$fx" "$ks"
  echo "== $n keys: $(stat -c %s "$fx") bytes"

  base="$(q "$stekctl") --at $(q "$at")"
  restore="cp -p $(q "$fx") $(q "$ks")"
  # One hyperfine run per command, each with its own --prepare.
  for name in generate "list --json" "rotate --force" "rotate (no-op)"; do
    case $name in
      generate)
        prepare="rm -f $(q "$gen")"
        cmd="$base generate --force $(q "$gen")"
        rss_prepare=(rm -f "$gen")
        rss_cmd=("$stekctl" --at "$at" generate --force "$gen") ;;
      "list --json")
        prepare=$restore
        cmd="$base list --json $(q "$ks")"
        rss_prepare=(cp -p "$fx" "$ks")
        rss_cmd=("$stekctl" --at "$at" list --json "$ks") ;;
      "rotate --force")
        prepare=$restore
        cmd="$base rotate --force $(q "$ks")"
        rss_prepare=(cp -p "$fx" "$ks")
        rss_cmd=("$stekctl" --at "$at" rotate --force "$ks") ;;
      "rotate (no-op)")
        prepare=$restore
        cmd="$base rotate $(q "$ks")"
        rss_prepare=(cp -p "$fx" "$ks")
        rss_cmd=("$stekctl" --at "$at" rotate "$ks") ;;
    esac
    csv=$work/run.csv
    md=$work/run.md
    "${hf[@]}" --output null --prepare "$prepare" -n "$name" \
      --export-csv "$csv" --export-markdown "$md" "$cmd"
    rss=$(peak_rss "${rss_prepare[@]}" -- "${rss_cmd[@]}")
    add_rows "$n" "$csv" "$rss"
    {
      echo "## $n keys: $name"
      echo
      cat "$md"
      echo
      echo "Peak RSS: $rss KiB"
      echo
    } >>"$results"
  done
  # A no-op rotate must leave the fixture byte-identical.
  cp -p "$fx" "$ks"
  "$stekctl" --at "$at" --quiet rotate "$ks"
  cmp -s "$fx" "$ks" || die "rotate changed the $n-key fixture although nothing was due"
done

table=$work/table
{
  echo "## Summary"
  echo
  echo "| keys | command | mean ± σ (ms) | min (ms) | max (ms) | user+sys (ms) | peak RSS (MiB) |"
  echo "|---:|:---|---:|---:|---:|---:|---:|"
  cat "$summary"
} >"$table"
cat "$table" >>"$results"

echo
cat "$table"
echo
echo "results written to $results"
