// SPDX-License-Identifier: Apache-2.0
#include "alloc_counter.hpp"

#include <openssl/crypto.h>

#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

// Per thread, so that a 2-thread run counts each thread's own work and
// nothing of a watcher's, a provider's or the framework's threads.
thread_local std::uint64_t t_allocations = 0;
// Set while this thread is in a counted loop, if tracing was asked for.
thread_local bool t_tracing = false;
std::atomic<int> g_traces_left{0};

void trace_allocation(std::size_t size) {
  t_tracing = false; // what follows must not trace itself
  if (g_traces_left.fetch_sub(1) > 0) {
    // Neither snprintf into a buffer nor backtrace_symbols_fd allocates.
    std::array<char, 80> line{};
    const int n = std::snprintf(line.data(), line.size(),
                                "allocation of %zu bytes in a timed loop:\n", size);
    [[maybe_unused]] auto written = ::write(2, line.data(), static_cast<std::size_t>(n));
    std::array<void*, 32> frames{};
    const int depth = backtrace(frames.data(), static_cast<int>(frames.size()));
    backtrace_symbols_fd(frames.data(), depth, 2);
  }
  t_tracing = true;
}

void count_allocation(std::size_t size) {
  ++t_allocations;
  if (t_tracing) {
    trace_allocation(size);
  }
}

void* counted_malloc(std::size_t size, const char*, int) {
  count_allocation(size);
  return std::malloc(size);
}
void* counted_realloc(void* p, std::size_t size, const char*, int) {
  count_allocation(size);
  return std::realloc(p, size);
}
void counted_free(void* p, const char*, int) { std::free(p); }

} // namespace

// libstdc++'s array and nothrow forms call these, so they count too. The
// aligned form matters: the providers' snapshot cells have 128-byte aligned
// members.
void* operator new(std::size_t size) {
  count_allocation(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  count_allocation(size);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const auto a = static_cast<std::size_t>(align);
  const std::size_t rounded = (std::max<std::size_t>(size, 1) + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace stek::bench {

bool start_counting_allocations(const char* program) {
  // If OpenSSL has allocated already, its allocations would silently go
  // uncounted.
  if (CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free) != 1) {
    std::fprintf(stderr,
                 "%s: OpenSSL allocated before main; cannot count its "
                 "allocations\n",
                 program);
    return false;
  }
  if (const char* traces = std::getenv("STEK_BENCH_TRACE_ALLOCS")) {
    // backtrace() loads libgcc_s, allocating, on first use: not in a loop.
    std::array<void*, 1> frame{};
    backtrace(frame.data(), 1);
    g_traces_left = std::atoi(traces);
  }
  return true;
}

AllocationCount::AllocationCount() : m_before(t_allocations) {
  t_tracing = g_traces_left.load() > 0;
}

void AllocationCount::report(benchmark::State& state, const char* counter) const {
  t_tracing = false;
  state.counters[counter] = benchmark::Counter(static_cast<double>(t_allocations - m_before),
                                               benchmark::Counter::kAvgIterations);
}

} // namespace stek::bench
