#!/bin/sh
# Build every libFuzzer target with clang 14 (ASan+UBSan), replay its seed
# corpus in fuzz/corpus/<name>/, then fuzz it for FUZZ_SECONDS (default 20)
# each. New inputs go to the build directory, never into the repository; a
# crash stops the run, and its input is left in BUILD/findings/<name>/ to be
# fixed and then added to the corpus as a regression input.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
build=${FUZZ_BUILD_DIR:-build-fuzz}
CXX=${FUZZ_CXX:-clang++-14} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=CI \
  -DSTEK_BUILD_FUZZ=ON -DSTEK_SANITIZE=address,undefined \
  -DSTEK_BUILD_TESTS=OFF -DSTEK_BUILD_CLI=OFF -DSTEK_BUILD_MAN=OFF \
  -DSTEK_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}"
for source in fuzz/targets/*.cpp; do
  name=$(basename "$source" .cpp)
  corpus=fuzz/corpus/$name
  work=$build/work/$name
  findings=$build/findings/$name
  mkdir -p "$work" "$findings" "$corpus"
  echo "== fuzz_$name: corpus $(ls "$corpus" | wc -l) inputs, ${seconds}s"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 \
      "$work" "$corpus" 2>"$build/fuzz_$name.log" || {
    tail -n 60 "$build/fuzz_$name.log"
    echo "fuzz_$name: FAILED; inputs in $findings" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units|cov: " "$build/fuzz_$name.log" | tail -n 2
done
echo "all fuzz targets ran clean"
