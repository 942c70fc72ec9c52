// SPDX-License-Identifier: Apache-2.0
#pragma once

// Heap allocations per benchmark iteration, per thread: C++ operator new in
// every form (replaced in alloc_counter.cpp, linked into each benchmark that
// counts) and OpenSSL's allocator. STEK_BENCH_TRACE_ALLOCS=N prints the call
// stacks of the first N allocations made inside a counted loop.
#include <benchmark/benchmark.h>

#include <cstdint>

namespace stek::bench {

// Route OpenSSL's allocations through the counter and read
// STEK_BENCH_TRACE_ALLOCS. Call first thing in main: OpenSSL takes allocator
// hooks only before its first allocation. Return false, having said why on
// stderr under `program`'s name, if that is too late.
bool start_counting_allocations(const char* program);

// Counts this thread's allocations from construction (right before the
// timed loop) to report().
class AllocationCount {
public:
  AllocationCount();
  AllocationCount(const AllocationCount&) = delete;
  AllocationCount& operator=(const AllocationCount&) = delete;

  // Set `state.counters[counter]` to the allocations per iteration (summed
  // over the threads, divided by all their iterations); stop tracing.
  void report(benchmark::State& state, const char* counter) const;

private:
  std::uint64_t m_before;
};

} // namespace stek::bench
