# SPDX-License-Identifier: Apache-2.0
# Sourced by the run-*-bench.sh scripts that time stekctl with hyperfine:
# their shared error exit, quoting, results header and hyperfine command.
# The caller sets stekctl, at, warmup, min_runs and results first.

die() {
  echo "${0##*/}: error: $*" >&2
  exit 1
}

command -v hyperfine >/dev/null || die "hyperfine not found (apt-get install hyperfine)"

# Quote for hyperfine's command splitting (it runs the commands without a
# shell: -N).
q() { printf '%q' "$1"; }

# Start the results file with TITLE and what the numbers were taken with.
write_results_header() {
  {
    echo "# $1"
    echo
    echo "- stekctl: $stekctl ($("$stekctl" --version))"
    echo "- host: $(uname -srm), $(nproc) CPUs"
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); --at $at"
    echo "- hyperfine $(hyperfine --version | awk '{print $2}'), warm-up $warmup, at least $min_runs runs"
    echo
  } >"$results"
}

# hyperfine as every benchmark runs it: no shell, times in milliseconds.
hf=(hyperfine -N --style basic --warmup "$warmup" --min-runs "$min_runs"
    --time-unit millisecond)
