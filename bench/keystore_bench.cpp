// SPDX-License-Identifier: Apache-2.0
// stek_bench: Google Benchmark timings of the keystore library at 10, 1,000
// and 10,000 keys (fixtures of fixture.hpp, built in memory):
//
//   Parse      parse_native_keystore of a serialized keystore (with validate)
//   Serialize  serialize_native_keystore
//   Validate   Keystore::validate
//   RotateForce  stek::rotate with force (adds one key); the copy it works
//                on is made outside the timed region
//   RotateNoop   stek::rotate when nothing is due (the cron case)
//
// Each benchmark reports a fitted complexity (BigO) over N; run with e.g.
//   stek_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include "fixture.hpp"

#include <stek/formats/native_keystore.hpp>
#include <stek/rotation.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>

namespace {

stek::Timestamp fixture_time() {
  static const stek::Timestamp at = *stek::parse_time(stek::bench::k_default_at);
  return at;
}

std::size_t keys_of(const benchmark::State& state) {
  return static_cast<std::size_t>(state.range(0));
}

// One keystore per size, built once and shared by every benchmark.
const stek::Keystore& fixture(std::size_t count) {
  static std::map<std::size_t, stek::Keystore> cache;
  auto it = cache.find(count);
  if (it == cache.end()) {
    auto made = stek::bench::make_chain(count, fixture_time());
    if (!made) {
      std::cerr << "stek_bench: " << made.error().message << "\n";
      std::abort();
    }
    it = cache.emplace(count, std::move(made).value()).first;
  }
  return it->second;
}

void require(bool ok, benchmark::State& state, const char* what) {
  if (!ok) {
    state.SkipWithError(what);
  }
}

void finish(benchmark::State& state) {
  state.SetComplexityN(state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_Parse(benchmark::State& state) {
  const auto bytes = stek::formats::serialize_native_keystore(
    fixture(keys_of(state)));
  for (auto _ : state) {
    auto parsed = stek::formats::parse_native_keystore(bytes.view(), "bench");
    require(parsed.ok(), state, "parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  finish(state);
  state.counters["file_bytes"] =
    benchmark::Counter(static_cast<double>(bytes.size()));
}

void BM_Serialize(benchmark::State& state) {
  const auto& ks = fixture(keys_of(state));
  for (auto _ : state) {
    auto bytes = stek::formats::serialize_native_keystore(ks);
    benchmark::DoNotOptimize(bytes);
  }
  finish(state);
}

void BM_Validate(benchmark::State& state) {
  const auto& ks = fixture(keys_of(state));
  for (auto _ : state) {
    auto valid = ks.validate();
    require(valid.ok(), state, "validate failed");
    benchmark::DoNotOptimize(valid);
  }
  finish(state);
}

void BM_RotateForce(benchmark::State& state) {
  const auto& base = fixture(keys_of(state));
  const auto at = fixture_time();
  stek::RotateRequest request;
  request.force = true;
  std::optional<stek::Keystore> ks;
  for (auto _ : state) {
    state.PauseTiming();
    ks.reset();
    ks.emplace(base.clone());
    state.ResumeTiming();
    auto report = stek::rotate(*ks, at, request);
    require(report.ok() && report->added.size() == 1, state,
            "rotate --force did not add exactly one key");
    benchmark::DoNotOptimize(report);
  }
  finish(state);
}

void BM_RotateNoop(benchmark::State& state) {
  // Nothing is due, so the keystore is not changed and can be reused.
  auto ks = fixture(keys_of(state)).clone();
  const auto at = fixture_time();
  for (auto _ : state) {
    auto report = stek::rotate(ks, at);
    require(report.ok() && !report->changed(), state,
            "rotate changed a keystore with nothing due");
    benchmark::DoNotOptimize(report);
  }
  finish(state);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : {10, 1000, 10000}) {
    b->Arg(n);
  }
  b->ArgName("keys")->Unit(benchmark::kMicrosecond)->Complexity();
}

} // namespace

BENCHMARK(BM_Parse)->Apply(sizes);
BENCHMARK(BM_Serialize)->Apply(sizes);
BENCHMARK(BM_Validate)->Apply(sizes);
BENCHMARK(BM_RotateForce)->Apply(sizes);
BENCHMARK(BM_RotateNoop)->Apply(sizes);

BENCHMARK_MAIN();
